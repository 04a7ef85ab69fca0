// The baseline: a uniform b-bit activation quantiser with a learned clipping range (PACT-style
// clipping, LSQ-style step), per tensor by default or per channel.
//
//   y = lo + Δ · round((clip(x, lo, hi) − lo) / Δ),   Δ = (hi − lo) / (2^b − 1)
//
// The range starts at the 0.1 % / 99.9 % quantiles of calibration activations (lo = 0 and fixed when
// the input is never negative, as after a ReLU). Training differentiates the formula with round()
// passed straight through, which gives x the gradient 1 inside the range and 0 outside, the upper
// (lower) bound the gradient of every clipped value (PACT), and the step the LSQ term round(v) − v
// for values inside the range. Width is parametrised as exp(·) so the range never collapses.
import * as tf from '@tensorflow/tfjs';
import { calibrateRange, roundSte, variableFrom, type ActivationQuantiser, type Bits } from './quantiser';

/** clip(x, lo, hi) as x + relu(lo − x) − relu(x − hi): tfjs's Minimum/Maximum gradients do not broadcast. */
const clip = (x: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor) => tf.sub(tf.add(x, tf.relu(tf.sub(lo, x))), tf.relu(tf.sub(x, hi)));

export interface UniformOptions {
  /** One range per channel instead of one for the whole tensor. */
  perChannel?: boolean;
  /** Calibration quantile cut off each end. */
  tail?: number;
}

export class UniformQuantiser implements ActivationQuantiser {
  readonly method = 'uniform' as const;
  readonly levels: number;
  private readonly lo: tf.Variable | tf.Tensor;
  private readonly logWidth: tf.Variable;
  private isFrozen = false;

  private constructor(
    readonly bits: Bits,
    readonly channels: number,
    readonly signed: boolean,
    readonly perChannel: boolean,
    lo: Float32Array,
    hi: Float32Array,
  ) {
    this.levels = 2 ** bits;
    const width = hi.map((h, i) => Math.log(h - lo[i]));
    this.lo = signed ? variableFrom(tf.tensor1d(lo)) : tf.keep(tf.zeros([lo.length]));
    this.logWidth = variableFrom(tf.tensor1d(width));
  }

  /** Range from `calibration`: the activations this quantiser will see (channels last). */
  static calibrate(calibration: tf.Tensor, bits: Bits, options: UniformOptions = {}): UniformQuantiser {
    const perChannel = options.perChannel ?? false;
    const r = calibrateRange(calibration, perChannel, options.tail);
    return new UniformQuantiser(bits, calibration.shape[calibration.shape.length - 1], r.signed, perChannel, r.lo, r.hi);
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  private parts(): { lo: tf.Tensor; hi: tf.Tensor; step: tf.Tensor } {
    const width = tf.exp(this.logWidth);
    return { lo: this.lo, hi: tf.add(this.lo, width), step: tf.div(width, this.levels - 1) };
  }

  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const { lo, hi, step } = this.parts();
      const v = tf.div(tf.sub(clip(x, lo, hi), lo), step);
      return tf.add(lo, tf.mul(step, training ? roundSte(v) : tf.round(v)));
    });
  }

  codes(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { lo, hi, step } = this.parts();
      return tf.cast(tf.round(tf.div(tf.sub(clip(x, lo, hi), lo), step)), 'int32');
    });
  }

  trainableVariables(): tf.Variable[] {
    if (this.isFrozen) return [];
    return this.signed ? [this.lo as tf.Variable, this.logWidth] : [this.logWidth];
  }

  afterStep(): void {}

  /** The range stays where training left it; freezing only stops it moving. */
  freeze(): void {
    this.isFrozen = true;
  }

  /** Clipping range(s) and step(s). */
  range(): { lo: number[]; hi: number[]; step: number[] } {
    return tf.tidy(() => {
      const { lo, hi, step } = this.parts();
      return { lo: Array.from(lo.dataSync()), hi: Array.from(hi.dataSync()), step: Array.from(step.dataSync()) };
    });
  }

  staircase(): { thresholds: number[][]; levels: number[][] } {
    const r = this.range();
    // round() ties sit half a step above each level: those are the decision thresholds.
    const row = (i: number, offset: number, count: number) => Array.from({ length: count }, (_, k) => r.lo[i] + (k + offset) * r.step[i]);
    return {
      thresholds: r.lo.map((_, i) => row(i, 0.5, this.levels - 1)),
      levels: r.lo.map((_, i) => row(i, 0, this.levels)),
    };
  }

  summary(): Record<string, unknown> {
    const r = this.range();
    const round = (v: number) => Number(v.toPrecision(4));
    return {
      method: this.method,
      bits: this.bits,
      channels: this.channels,
      signed: this.signed,
      per_channel: this.perChannel,
      lo: this.perChannel ? r.lo.map(round) : round(r.lo[0]),
      hi: this.perChannel ? r.hi.map(round) : round(r.hi[0]),
      step: this.perChannel ? r.step.map(round) : round(r.step[0]),
    };
  }

  dispose(): void {
    tf.dispose([this.lo, this.logWidth]);
  }
}
