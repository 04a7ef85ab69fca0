// 8-bit affine quantisation in the TFApprox convention: activations unsigned per tensor, weights
// unsigned per tensor or per output channel; approximate products act on the raw codes and the
// zero-point terms are corrected exactly (algorithms.md §1).

export interface Affine {
  scale: number;
  zeroPoint: number;
}

/** Per output channel (length Cout) or per tensor (length 1). */
export interface AffineVector {
  scale: Float32Array;
  zeroPoint: Int32Array;
}

/**
 * Scale and zero point covering [min, max], widened to hold 0 so that zero (padding, ReLU output)
 * is exactly representable.
 */
export function affineFor(min: number, max: number): Affine {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

export const quantiseValue = (x: number, q: Affine) => Math.min(255, Math.max(0, Math.round(x / q.scale) + q.zeroPoint));

/**
 * Activation codes for a whole tensor: the one quantiser every simulation path uses. Rounds half
 * up, as floor(x/s + z + 0.5) truncated to int: several times faster than Math.round in V8, and
 * `quantiseInto` in the fast path repeats exactly this arithmetic.
 */
export function quantiseActivations(values: ArrayLike<number>, q: Affine): Int32Array {
  const out = new Int32Array(values.length);
  const inv = 1 / q.scale;
  const shift = q.zeroPoint + 0.5;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] * inv + shift;
    out[i] = v < 0 ? 0 : v >= 255 ? 255 : v | 0;
  }
  return out;
}

/**
 * Weight codes for a kernel whose last axis is the output channel ([..., Cout], as tfjs stores
 * conv, depthwise (multiplier 1) and dense kernels).
 */
export function quantiseWeights(values: Float32Array, outChannels: number, perChannel: boolean): { codes: Int32Array; q: AffineVector } {
  const groups = perChannel ? outChannels : 1;
  const lo = new Float64Array(groups).fill(Infinity);
  const hi = new Float64Array(groups).fill(-Infinity);
  for (let i = 0; i < values.length; i++) {
    const g = perChannel ? i % outChannels : 0;
    if (values[i] < lo[g]) lo[g] = values[i];
    if (values[i] > hi[g]) hi[g] = values[i];
  }
  const params = Array.from({ length: groups }, (_, g) => affineFor(lo[g], hi[g]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = quantiseValue(values[i], params[perChannel ? i % outChannels : 0]);
  return { codes, q: { scale: Float32Array.from(params, (p) => p.scale), zeroPoint: Int32Array.from(params, (p) => p.zeroPoint) } };
}

/** The parameter of output channel `c`, whichever granularity was used. */
export const channelParam = (q: AffineVector, c: number): Affine => ({
  scale: q.scale[q.scale.length === 1 ? 0 : c],
  zeroPoint: q.zeroPoint[q.zeroPoint.length === 1 ? 0 : c],
});
