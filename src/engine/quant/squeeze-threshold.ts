// Double-stage Squeeze-and-Threshold (ST) activation quantisation, inserted before a convolution.
//
// What the paper's abstract says (notes/algorithms.md §6): an attention mechanism quantises the
// activations, it is inserted before the convolution, "double-stage", 3-bit models reach the
// full-precision accuracy. Everything below beyond that is RECONSTRUCTED here (the full text was not
// available) and is labelled so wherever the studio reports it:
//
// Stage 1, threshold → code. Each channel c has K = 2^b − 1 learned thresholds τ_c,0 < … < τ_c,K−1,
// kept sorted by construction (τ_0 free, the gaps exp(·) > 0). An activation's code is the number of
// thresholds it exceeds: 0 … K, monotone in the input.
// Stage 2, code → value. Each channel has K + 1 learned output levels l_c,0 < … < l_c,K (l_0 free, or
// pinned at 0 when the input is never negative, the steps exp(·) > 0): the quantised activation is
// l_c,code. Thresholds and levels start as a uniform quantiser over the channel's 0.1 %–99.9 %
// calibration range (thresholds midway between levels); training makes both non-uniform.
//
// Squeeze and attention (training only). A squeeze (global average pool per channel, [B, C]) feeds a
// squeeze-and-excitation style attention: dense C → max(1, C/r) with ReLU, dense → C, 2·sigmoid,
// so a gain a_b,c ∈ (0, 2), exactly 1 at the start (last layer zero-initialised). While training,
// the thresholds compare against the attended features x·a (equivalently, per-sample thresholds
// τ/a). The thresholds the deployed quantiser uses are the momentum averages (0.9, as BatchNorm's
// statistics) of the effective thresholds mean_b(τ_c,j / a_b,c) over training batches: at inference
// there is no attention, no squeeze, only a fixed comparison per threshold, so the attention costs
// nothing. `freeze()` (the second training stage in the wrapper, insert.ts) switches to those fixed
// thresholds; the weights and the levels then keep training against them.
//
// Gradients. The step function is passed straight through: the attended input x·a gets dy where it
// lies within [l_0, l_K], 0 outside (clipped STE), which reaches x (times a) and the attention (times
// x, then through the squeeze and the two dense layers). Levels get their exact gradient (the sum of
// dy over the activations mapped to each level). Thresholds get the gradient of a relaxation: each
// step of the staircase l_0 + Σ_j (l_j+1 − l_j)·[x > τ_j] replaced by a linear ramp of half-width w
// (half the channel's initial step) centred on τ_j, so dL/dτ_j = −(l_j+1 − l_j)/(2w) · Σ dy over the
// activations within w of τ_j. Each activation touches at most the two thresholds around it, so a
// step costs O(activations), not O(activations × 2^b): 8 bits (255 thresholds) train as cheaply as 2.
import * as tf from '@tensorflow/tfjs';
import { calibrateRange, variableFrom, type ActivationQuantiser, type Bits } from './quantiser';

export interface SqueezeThresholdOptions {
  /** Attention reduction ratio r (hidden units max(1, round(C / r))). */
  reduction?: number;
  /** Momentum of the inference thresholds' moving averages. */
  momentum?: number;
  /** Half-width of the ramp that relaxes each step (thresholds' gradient), as a fraction of the initial step. */
  rampWidth?: number;
  /** Calibration quantile cut off each end. */
  tail?: number;
  /** Seed for the attention's first layer. */
  seed?: number;
  /** Whether to squeeze and attend (4-D inputs only; Dense inputs never do). */
  attention?: boolean;
}

/** Index of the first of `k` sorted thresholds at `base` in `th` not below `v`: how many `v` exceeds. */
function search(th: Float32Array, base: number, k: number, v: number): number {
  let lo = 0;
  let hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (th[base + mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Codes of channels-last values (channel = index mod C) against per-channel sorted thresholds [C, K]. */
export function encode(xs: Float32Array, th: Float32Array, channels: number, k: number): Uint8Array {
  const codes = new Uint8Array(xs.length);
  for (let i = 0, c = 0; i < xs.length; i++) {
    codes[i] = search(th, c * k, k, xs[i]);
    if (++c === channels) c = 0;
  }
  return codes;
}

interface Staircase {
  /** Deployed quantiser, or training without attention. */
  plain(x: tf.Tensor, thresholds: tf.Tensor, levels: tf.Tensor): tf.Tensor;
  /** Training with attention: codes of x·gain (gain [B, C] per sample and channel of NHWC x). */
  attended(x: tf.Tensor, gain: tf.Tensor, thresholds: tf.Tensor, levels: tf.Tensor): tf.Tensor;
}

/**
 * The double-stage staircase on channels-last inputs: value l[c, code], code = #{j: τ[c, j] < x·a}
 * (a = 1 without attention). Gradients as described at the top of this file; `halfWidth` (the
 * ramps' half-width) has one entry per channel.
 *
 * Written as plain loops over the tensors' values: tfjs-backend-wasm's gather, integer arithmetic
 * and broadcasting are slow here (tens of ms for 10^5 elements), while these loops stay linear in
 * the activations whatever the bit width (binary search over 2^b − 1 thresholds), and fuse the
 * attention's scaling and its gradient into the same pass.
 */
function staircase(halfWidth: Float32Array): Staircase {
  const run = (x: tf.Tensor, gain: tf.Tensor | null, thresholds: tf.Tensor, levels: tf.Tensor) => {
    const [channels, k] = thresholds.shape as [number, number];
    const xs = x.dataSync() as Float32Array;
    const gs = gain ? (gain.dataSync() as Float32Array) : null;
    const th = thresholds.dataSync() as Float32Array;
    const lv = levels.dataSync() as Float32Array;
    const samples = gs ? x.shape[0] : 1;
    const pixels = xs.length / samples / channels;
    const codes = new Uint8Array(xs.length);
    const out = new Float32Array(xs.length);
    for (let s = 0, i = 0; s < samples; s++) {
      for (let p = 0; p < pixels; p++) {
        for (let c = 0; c < channels; c++, i++) {
          const code = search(th, c * k, k, gs ? xs[i] * gs[s * channels + c] : xs[i]);
          codes[i] = code;
          out[i] = lv[c * (k + 1) + code];
        }
      }
    }
    const gradients = (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const dx = new Float32Array(xs.length);
      const dGain = gs ? new Float32Array(gs.length) : null;
      const dTh = new Float64Array(channels * k);
      const dLv = new Float64Array(channels * (k + 1));
      for (let s = 0, i = 0; s < samples; s++) {
        for (let p = 0; p < pixels; p++) {
          for (let c = 0; c < channels; c++, i++) {
            const a = gs ? gs[s * channels + c] : 1;
            const v = xs[i] * a;
            const code = codes[i];
            const row = c * (k + 1);
            const gi = g[i];
            // Clipped straight-through: the identity on x·a within the levels' range.
            if (v >= lv[row] && v <= lv[row + k]) {
              dx[i] = gi * a;
              if (dGain) dGain[s * channels + c] += gi * xs[i];
            }
            dLv[row + code] += gi;
            // Relaxation: each step a linear ramp of half-width t around its threshold, so the two
            // thresholds bounding the bin (code − 1 below, code above) get −dy·gap/(2t) when within t.
            const t = halfWidth[c];
            if (code > 0 && v - th[c * k + code - 1] < t) dTh[c * k + code - 1] -= (gi * (lv[row + code] - lv[row + code - 1])) / (2 * t);
            if (code < k && th[c * k + code] - v < t) dTh[c * k + code] -= (gi * (lv[row + code + 1] - lv[row + code])) / (2 * t);
          }
        }
      }
      const dThresholds = tf.tensor2d(Float32Array.from(dTh), [channels, k]);
      const dLevels = tf.tensor2d(Float32Array.from(dLv), [channels, k + 1]);
      const dInput = tf.tensor(dx, x.shape);
      return dGain ? [dInput, tf.tensor2d(dGain, gain!.shape as [number, number]), dThresholds, dLevels] : [dInput, dThresholds, dLevels];
    };
    return { value: tf.tensor(out, x.shape), gradFunc: gradients };
  };
  type Fn = Parameters<typeof tf.customGrad>[0];
  return {
    plain: tf.customGrad(((x: tf.Tensor, th: tf.Tensor, lv: tf.Tensor) => run(x, null, th, lv)) as unknown as Fn) as unknown as Staircase['plain'],
    attended: tf.customGrad(((x: tf.Tensor, gain: tf.Tensor, th: tf.Tensor, lv: tf.Tensor) => run(x, gain, th, lv)) as unknown as Fn) as unknown as Staircase['attended'],
  };
}

/** Squeeze: the mean over H and W of NHWC x, [B, C]; its gradient spread back in one loop (wasm's broadcasting is slow). */
const squeeze = tf.customGrad(((x: tf.Tensor) => {
  const [b, h, w, c] = x.shape;
  return {
    value: tf.mean(x, [1, 2]),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync();
      const hw = h * w;
      const out = new Float32Array(x.size);
      for (let s = 0, i = 0; s < b; s++) for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) out[i++] = g[s * c + ch] / hw;
      return tf.tensor(out, x.shape);
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor2D;

/** Ascending values [C, n] from a first column [C, 1] and log-gaps [C, n − 1]. */
function ascending(first: tf.Tensor, logGaps: tf.Tensor | null): tf.Tensor {
  // Always a new tensor: callers own (and dispose) what this returns, never the variable itself.
  if (!logGaps) return tf.clone(first);
  return tf.concat([first, tf.add(first, tf.cumsum(tf.exp(logGaps), 1))], 1);
}

function glorot(rows: number, cols: number, seed: number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (rows + cols));
  return tf.randomUniform([rows, cols], -limit, limit, 'float32', seed) as tf.Tensor2D;
}

export class SqueezeThresholdQuantiser implements ActivationQuantiser {
  readonly method = 'st' as const;
  /** Thresholds per channel: 2^b − 1. */
  readonly k: number;
  private readonly thresholdBase: tf.Variable;
  private readonly thresholdGaps: tf.Variable | null;
  private readonly levelBase: tf.Variable | tf.Tensor;
  private readonly levelSteps: tf.Variable;
  private readonly attention: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable } | null;
  /** Momentum averages of the effective thresholds: what inference compares against. */
  private readonly running: tf.Variable;
  private readonly halfWidth: Float32Array;
  private readonly stair: Staircase;
  /** This step's effective thresholds mean_b(τ / a), [C, K] row-major, for the moving average. */
  private pending: Float32Array | null = null;
  private isFrozen = false;
  private steps = 0;
  readonly momentum: number;

  private constructor(
    readonly bits: Bits,
    readonly channels: number,
    readonly signed: boolean,
    lo: Float32Array,
    hi: Float32Array,
    attention: boolean,
    options: SqueezeThresholdOptions,
  ) {
    const k = (this.k = 2 ** bits - 1);
    const c = channels;
    this.momentum = options.momentum ?? 0.9;
    const step = Float32Array.from(hi, (h, i) => (h - lo[i]) / k);
    // Uniform start: levels lo + i·Δ, thresholds midway between them.
    this.thresholdBase = variableFrom(tf.tensor2d(Float32Array.from(lo, (l, i) => l + step[i] / 2), [c, 1]));
    this.thresholdGaps = k > 1 ? variableFrom(tf.tensor2d(Float32Array.from({ length: c * (k - 1) }, (_, n) => Math.log(step[Math.floor(n / (k - 1))])), [c, k - 1])) : null;
    this.levelBase = signed ? variableFrom(tf.tensor2d(lo, [c, 1])) : tf.keep(tf.zeros([c, 1]));
    this.levelSteps = variableFrom(tf.tensor2d(Float32Array.from({ length: c * k }, (_, n) => Math.log(step[Math.floor(n / k)])), [c, k]));
    this.halfWidth = Float32Array.from(step, (s) => s * (options.rampWidth ?? 0.5));
    this.running = variableFrom(tf.tidy(() => this.thresholds()), false);
    this.stair = staircase(this.halfWidth);
    if (attention) {
      const hidden = Math.max(1, Math.round(c / (options.reduction ?? 4)));
      const seed = options.seed ?? 1;
      this.attention = {
        w1: variableFrom(glorot(c, hidden, seed)),
        b1: variableFrom(tf.zeros([hidden])),
        // Zero: the gain starts at exactly 1, so the calibrated quantiser is where training starts.
        w2: variableFrom(tf.zeros([hidden, c])),
        b2: variableFrom(tf.zeros([c])),
      };
    } else this.attention = null;
  }

  /** Thresholds and levels from `calibration`: the activations this quantiser will see (channels last). */
  static calibrate(calibration: tf.Tensor, bits: Bits, options: SqueezeThresholdOptions = {}): SqueezeThresholdQuantiser {
    const r = calibrateRange(calibration, true, options.tail);
    const attention = (options.attention ?? true) && calibration.rank === 4;
    return new SqueezeThresholdQuantiser(bits, calibration.shape[calibration.shape.length - 1], r.signed, r.lo, r.hi, attention, options);
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  get hasAttention(): boolean {
    return this.attention !== null;
  }

  /** The learned thresholds [C, K] (sorted by construction). */
  thresholds(): tf.Tensor2D {
    return ascending(this.thresholdBase, this.thresholdGaps) as tf.Tensor2D;
  }

  /** The learned levels [C, K + 1] (sorted by construction). */
  levels(): tf.Tensor2D {
    return ascending(this.levelBase, this.levelSteps) as tf.Tensor2D;
  }

  /** The thresholds inference uses [C, K]: momentum averages of the effective training thresholds. */
  inferenceThresholds(): tf.Tensor2D {
    return this.running.clone() as tf.Tensor2D;
  }

  /** The attention's gain a ∈ (0, 2) per sample and channel [B, C] for NHWC `x`. */
  gain(x: tf.Tensor): tf.Tensor2D {
    const a = this.attention;
    if (!a || x.rank !== 4) throw new Error('this quantiser has no attention');
    return tf.tidy(() => {
      const squeezed = squeeze(x);
      const hidden = tf.relu(tf.add(tf.matMul(squeezed, a.w1), a.b1));
      return tf.mul(2, tf.sigmoid(tf.add(tf.matMul(hidden, a.w2), a.b2))) as tf.Tensor2D;
    });
  }

  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      if (!training || this.isFrozen) return this.stair.plain(x, this.running, this.levels());
      const thresholds = this.thresholds();
      if (!this.attention || x.rank !== 4) {
        this.pending = Float32Array.from(thresholds.dataSync());
        return this.stair.plain(x, thresholds, this.levels());
      }
      const gain = this.gain(x);
      this.collect(thresholds.dataSync() as Float32Array, gain.dataSync() as Float32Array, x.shape[0]);
      return this.stair.attended(x, gain, thresholds, this.levels());
    });
  }

  /** Effective thresholds on the unscaled input, τ / a, averaged over the batch. */
  private collect(th: Float32Array, gain: Float32Array, samples: number): void {
    const c = this.channels;
    const k = this.k;
    const eff = new Float32Array(c * k);
    for (let s = 0; s < samples; s++) {
      for (let ch = 0; ch < c; ch++) {
        const a = gain[s * c + ch];
        for (let j = 0; j < k; j++) eff[ch * k + j] += th[ch * k + j] / a / samples;
      }
    }
    this.pending = eff;
  }

  codes(x: tf.Tensor): tf.Tensor {
    return tf.tensor(Int32Array.from(encode(x.dataSync() as Float32Array, this.running.dataSync() as Float32Array, this.channels, this.k)), x.shape, 'int32');
  }

  /** The parameters by role (for inspection and tests). */
  parameters(): { thresholdBase: tf.Variable; thresholdGaps: tf.Variable | null; levelBase: tf.Variable | null; levelSteps: tf.Variable; attention: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable } | null } {
    return {
      thresholdBase: this.thresholdBase,
      thresholdGaps: this.thresholdGaps,
      levelBase: this.signed ? (this.levelBase as tf.Variable) : null,
      levelSteps: this.levelSteps,
      attention: this.attention,
    };
  }

  trainableVariables(): tf.Variable[] {
    const levels = this.signed ? [this.levelBase as tf.Variable, this.levelSteps] : [this.levelSteps];
    if (this.isFrozen) return levels;
    const thresholds = this.thresholdGaps ? [this.thresholdBase, this.thresholdGaps] : [this.thresholdBase];
    const a = this.attention;
    return [...thresholds, ...levels, ...(a ? [a.w1, a.b1, a.w2, a.b2] : [])];
  }

  afterStep(): void {
    const pending = this.pending;
    this.pending = null;
    if (!pending || this.isFrozen) return;
    this.steps++;
    // Bias-corrected start: the first batches set the average rather than nudge the calibration.
    const weight = Math.max(1 - this.momentum, 1 / this.steps);
    // Stays sorted: a > 0 keeps each sample's τ / a in order, and averages of sorted rows are sorted.
    const running = this.running.dataSync();
    const next = Float32Array.from(running, (r, i) => r * (1 - weight) + pending[i] * weight);
    tf.tidy(() => this.running.assign(tf.tensor2d(next, this.running.shape as [number, number])));
  }

  /** Stage 2: the momentum-averaged thresholds become the fixed ones; attention is switched off. */
  freeze(): void {
    this.pending = null;
    this.isFrozen = true;
  }

  staircase(): { thresholds: number[][]; levels: number[][] } {
    return tf.tidy(() => ({ thresholds: this.running.arraySync() as number[][], levels: this.levels().arraySync() as number[][] }));
  }

  summary(): Record<string, unknown> {
    const round = (v: number) => Number(v.toPrecision(4));
    return tf.tidy(() => {
      const th = this.running.arraySync() as number[][];
      const lv = this.levels().arraySync() as number[][];
      const spread = (rows: number[][]) => {
        const flat = rows.flat();
        return { min: round(Math.min(...flat)), max: round(Math.max(...flat)) };
      };
      return {
        method: this.method,
        reconstruction: 'Squeeze-and-Threshold as reconstructed from the paper abstract (src/engine/quant/squeeze-threshold.ts)',
        bits: this.bits,
        channels: this.channels,
        signed: this.signed,
        attention: this.attention !== null,
        frozen: this.isFrozen,
        thresholds_per_channel: this.k,
        thresholds: spread(th),
        levels: spread(lv),
        // Channel 0 in full, as an example of the non-uniform staircase.
        channel0: { thresholds: th[0].slice(0, 15).map(round), levels: lv[0].slice(0, 16).map(round) },
      };
    });
  }

  dispose(): void {
    const a = this.attention;
    tf.dispose([this.thresholdBase, this.levelBase, this.levelSteps, this.running, ...(this.thresholdGaps ? [this.thresholdGaps] : []), ...(a ? [a.w1, a.b1, a.w2, a.b2] : [])]);
    this.pending = null;
  }
}
