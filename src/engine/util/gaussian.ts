// Standard normal samples fast enough to perturb every output of a layer on every batch: Box–Muller
// spends a log, a square root and two trigonometric calls per pair; a table lookup is one read.
// Samples are drawn from 65,536 equiprobable
// quantiles of N(0,1) (midpoints, refined by Newton steps on the error function, then rescaled to
// unit variance), indexed by a seeded xorshift32 stream: a discretised Gaussian, tails cut at ±4.3σ.
import { errorFunction, probit } from 'simple-statistics';

const LEVELS = 1 << 16;
let QUANTILES: Float32Array | null = null;

function quantiles(): Float32Array {
  if (QUANTILES) return QUANTILES;
  const q = new Float64Array(LEVELS);
  for (let i = 0; i < LEVELS; i++) {
    const p = (i + 0.5) / LEVELS;
    let x = probit(p);
    for (let step = 0; step < 3; step++) {
      const cdf = 0.5 * (1 + errorFunction(x / Math.SQRT2));
      x -= (cdf - p) / (Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
    }
    q[i] = x;
  }
  let power = 0;
  for (let i = 0; i < LEVELS; i++) power += q[i] * q[i];
  const norm = Math.sqrt(LEVELS / power);
  QUANTILES = Float32Array.from(q, (v) => v * norm);
  return QUANTILES;
}

/** addScaled's loop over pairs done elsewhere: returns the generator's state after it, or null when it did nothing. */
export type PairKernel = (values: Float32Array, scale: number, cap: number | null, state: number, quantiles: Float32Array) => number | null;

/** A reproducible stream of standard normal samples. */
export class GaussianSource {
  private state: number;

  constructor(seed: number) {
    // xorshift32 must not start at 0; mix the seed so nearby seeds give unrelated streams.
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
  }

  /**
   * values[i] += scale·ε_i in place, in the pass that draws the noise; with `cap`, the result is then
   * clamped to [0, cap] (ReLU for an infinite cap, ReLU6 for 6), which costs less here than a tensor
   * op afterwards. The lower clamp is ½(a + |a|): output signs are random, so a compare-and-branch
   * mispredicts half the time and would cost more than the noise itself. `pairs`, where given, may
   * do the same for the first ⌊n/2⌋ pairs (a compiled kernel): it returns the stream's state after
   * them, or null to leave them to this loop.
   */
  addScaled(values: Float32Array, scale: number, cap: number | null = null, pairs?: PairKernel): Float32Array {
    const table = quantiles();
    let s = this.state;
    const n = values.length;
    const even = n & ~1;
    const after = pairs?.(values, scale, cap, s, table) ?? null;
    if (after !== null) s = after;
    else if (cap === null) {
      for (let i = 0; i < even; i += 2) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        values[i] += table[s & 0xffff] * scale;
        values[i + 1] += table[s >>> 16] * scale;
      }
    } else if (cap === Infinity) {
      for (let i = 0; i < even; i += 2) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const a = values[i] + table[s & 0xffff] * scale;
        const b = values[i + 1] + table[s >>> 16] * scale;
        values[i] = 0.5 * (a + Math.abs(a));
        values[i + 1] = 0.5 * (b + Math.abs(b));
      }
    } else {
      for (let i = 0; i < even; i += 2) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const a = values[i] + table[s & 0xffff] * scale;
        const b = values[i + 1] + table[s >>> 16] * scale;
        values[i] = Math.min(0.5 * (a + Math.abs(a)), cap);
        values[i + 1] = Math.min(0.5 * (b + Math.abs(b)), cap);
      }
    }
    if (even < n) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const a = values[even] + table[s & 0xffff] * scale;
      values[even] = cap === null ? a : Math.min(Math.max(a, 0), cap);
    }
    this.state = s;
    return values;
  }

  /** Overwrites `out` with samples: two per xorshift step, one from each 16-bit half. */
  fill(out: Float32Array): Float32Array {
    const table = quantiles();
    let s = this.state;
    const even = out.length & ~1;
    for (let i = 0; i < even; i += 2) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = table[s & 0xffff];
      out[i + 1] = table[s >>> 16];
    }
    if (even < out.length) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[even] = table[s & 0xffff];
    }
    this.state = s;
    return out;
  }
}
