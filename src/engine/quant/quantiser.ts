// What every activation quantiser of src/engine/quant shares: the interface the model wrapper
// (insert.ts) drives, the bit widths allowed, range calibration on data, and a straight-through round.
import * as tf from '@tensorflow/tfjs';

export const ALLOWED_BITS = [1, 2, 3, 4, 8] as const;
export type Bits = (typeof ALLOWED_BITS)[number];
export type QuantMethod = 'st' | 'uniform';

export function checkBits(bits: number): Bits {
  if (!(ALLOWED_BITS as readonly number[]).includes(bits)) throw new RangeError(`bits must be one of ${ALLOWED_BITS.join(', ')}, got ${bits}`);
  return bits as Bits;
}

/**
 * A b-bit activation quantiser in front of one layer. Inputs are channels-last (NHWC, or [batch,
 * features] before a Dense layer); parameters are per channel or per tensor.
 */
export interface ActivationQuantiser {
  readonly method: QuantMethod;
  readonly bits: Bits;
  readonly channels: number;
  /** Whether the calibration data had negative values (else the lowest level is pinned at 0). */
  readonly signed: boolean;
  /**
   * `training`: the differentiable straight-through path (and, for Squeeze-and-Threshold before the
   * freeze, the attention and statistics collection); otherwise the deployed, fixed quantiser.
   */
  apply(x: tf.Tensor, training: boolean): tf.Tensor;
  /** The b-bit codes (0 … 2^b − 1) the deployed quantiser gives `x` (int32, same shape). */
  codes(x: tf.Tensor): tf.Tensor;
  /** Parameters the optimiser trains (empty once frozen, for those that freeze). */
  trainableVariables(): tf.Variable[];
  /** After every optimiser step (momentum averages). */
  afterStep(): void;
  /** Fixes the inference quantiser; training afterwards only moves what is left trainable. */
  freeze(): void;
  readonly frozen: boolean;
  /** JSON-friendly description: ranges, thresholds, levels. */
  summary(): Record<string, unknown>;
  /**
   * The deployed staircase: per channel, the thresholds (an input above the j-th gets at least code
   * j + 1) and the 2^b output levels. One row when the parameters are shared by all channels.
   */
  staircase(): { thresholds: number[][]; levels: number[][] };
  dispose(): void;
}

/** A variable from a fresh tensor, the tensor itself released (tf.variable keeps it registered otherwise). */
export function variableFrom(init: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** round() forward, identity backward. */
export const roundSte = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  void save;
  return { value: tf.round(x), gradFunc: (dy: tf.Tensor) => dy };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

export interface CalibratedRange {
  lo: Float32Array;
  hi: Float32Array;
  signed: boolean;
}

const MAX_PER_CHANNEL = 20_000;

function quantile(sorted: Float32Array, p: number): number {
  if (sorted.length === 0) return 0;
  const at = Math.min(sorted.length - 1, Math.max(0, p * (sorted.length - 1)));
  const i = Math.floor(at);
  const f = at - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Clipping range per channel (or one for the tensor) from calibration activations: the `tail`
 * and 1 − `tail` quantiles (0 as the low end when nothing is negative: ReLU outputs keep an exact
 * zero). Large inputs are subsampled with a fixed stride, so calibration is deterministic.
 */
export function calibrateRange(x: tf.Tensor, perChannel: boolean, tail = 0.001): CalibratedRange {
  const values = x.dataSync() as Float32Array;
  const channels = x.shape[x.shape.length - 1];
  const rows = values.length / channels;
  let min = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < min) min = values[i];
  const signed = min < -1e-6;
  const groups = perChannel ? channels : 1;
  const lo = new Float32Array(groups);
  const hi = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const count = perChannel ? rows : values.length;
    const budget = perChannel ? MAX_PER_CHANNEL : MAX_PER_CHANNEL * 10;
    const stride = Math.max(1, Math.floor(count / budget));
    const picked = new Float32Array(Math.ceil(count / stride));
    let n = 0;
    for (let r = 0; r < count; r += stride) picked[n++] = perChannel ? values[r * channels + g] : values[r];
    const sorted = picked.subarray(0, n).sort();
    lo[g] = signed ? quantile(sorted, tail) : 0;
    hi[g] = quantile(sorted, 1 - tail);
  }
  // Dead channels (all zero) still get a usable, tiny range.
  let widest = 0;
  for (let g = 0; g < groups; g++) widest = Math.max(widest, hi[g] - lo[g]);
  const floor = Math.max(widest * 1e-3, 1e-4);
  for (let g = 0; g < groups; g++) if (hi[g] - lo[g] < floor) hi[g] = lo[g] + floor;
  return { lo, hi, signed };
}

/** Input as [rows, channels] (channels last). */
export const asRows = (x: tf.Tensor): tf.Tensor2D => tf.reshape(x, [-1, x.shape[x.shape.length - 1]]);
