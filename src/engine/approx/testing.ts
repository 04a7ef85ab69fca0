// Test multipliers with a known factorisation: AM = a·b + Σ_r u_r[a]·v_r[b] with small integer factors.
import { mulberry32 } from '../util/random';
import type { Factors } from './fast';

/**
 * With form 'product' the table is Σ_r u_r[a]·v_r[b] alone (no exact part): a multiplier whose
 * product table has that rank, simulated in the product form.
 */
export function lowRankMultiplier(rank: number, seed: number, spread = 40, form: 'error' | 'product' = 'error'): { table: Int32Array; factors: Factors } {
  const random = mulberry32(seed);
  const vector = () => Float32Array.from({ length: 256 }, () => Math.round(random() * spread - spread / 2));
  const u = Array.from({ length: rank }, vector);
  const v = Array.from({ length: rank }, vector);
  const table = new Int32Array(65536);
  for (let a = 0; a < 256; a++)
    for (let b = 0; b < 256; b++) {
      let e = 0;
      for (let r = 0; r < rank; r++) e += u[r][a] * v[r][b];
      table[a * 256 + b] = (form === 'error' ? a * b : 0) + e;
    }
  return { table, factors: { u, v, form } };
}

/**
 * Operand truncation TM(t), (a & ~m)·(b & ~m) with m = 2^t − 1, whose error has an exact rank-3
 * factorisation: with r_a = a & m, E = −a·r_b − r_a·b + r_a·r_b.
 */
export function truncatedOperands(t: number): { table: Int32Array; factors: Factors } {
  const m = (1 << t) - 1;
  const idx = Float32Array.from({ length: 256 }, (_, a) => a);
  const low = Float32Array.from({ length: 256 }, (_, a) => a & m);
  const table = new Int32Array(65536);
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) table[a * 256 + b] = (a & ~m) * (b & ~m);
  const neg = (v: Float32Array) => v.map((x) => -x);
  return { table, factors: { u: [idx, neg(low), low], v: [neg(low), idx, low] } };
}
