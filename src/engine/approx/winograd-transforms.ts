// The matrices of Winograd's minimal filtering F(m, r) (Toom–Cook), built from interpolation points
// plus the point at infinity: y = Aᵀ·[(G·g) ⊙ (Bᵀ·d)] computes the m outputs of an r-tap
// correlation of d (m + r − 1 inputs) with m + r − 1 multiplications. With V the Vandermonde matrix
// of the points (∞ as the row e_{n−1}), Aᵀ = V[:, :m]ᵀ, G = V[:, :r] and Bᵀ = V⁻ᵀ; the factors
// f_j = Π_{l≠j} (p_j − p_l) move from Bᵀ into G so that Bᵀ keeps small dyadic entries, which the
// input transform applies to floats exactly where it can (Lavin & Gray 2016; Barabasz et al.,
// "Error analysis and improving the accuracy of Winograd convolution", 2020, on choosing points).
import { Matrix, inverse } from 'ml-matrix';

export interface WinogradTransforms {
  /** Outputs per tile side. */
  m: number;
  /** Filter taps. */
  r: number;
  /** Transform size, m + r − 1. */
  n: number;
  points: number[];
  AT: number[][];
  G: number[][];
  BT: number[][];
}

/** The nearest multiple of 2⁻¹⁰ where `x` is within float64 rounding of one (the inverse's noise), else `x`. */
function snap(x: number): number {
  const k = Math.round(x * 1024) / 1024;
  return Math.abs(x - k) < 1e-9 ? k : x;
}

export function toomCook(points: number[], m: number, r: number): WinogradTransforms {
  const n = m + r - 1;
  if (points.length !== n - 1 || new Set(points).size !== points.length) throw new Error(`F(${m}, ${r}) takes ${n - 1} distinct finite points`);
  const f = points.map((p, j) => points.reduce((a, q, l) => (l === j ? a : a * (p - q)), 1));
  const powers = (p: number, k: number) => Array.from({ length: k }, (_, e) => p ** e);
  const last = (k: number) => Array.from({ length: k }, (_, e) => (e === k - 1 ? 1 : 0));
  const AT = Array.from({ length: m }, (_, i) => [...points.map((p) => p ** i), i === m - 1 ? 1 : 0]);
  const G = [...points.map((p, j) => powers(p, r).map((v) => v / f[j])), last(r)];
  const V = new Matrix([...points.map((p) => powers(p, n)), last(n)]);
  const BT = inverse(V)
    .transpose()
    .to2DArray()
    .map((row, j) => row.map((v) => snap(v * (j < n - 1 ? f[j] : 1))));
  return { m, r, n, points, AT, G, BT };
}

/**
 * F(4×4, 3×3) on the points 0, ±1, −½, 2: in float32 on the agreement test's layers its error is
 * about half that of Lavin's 0, ±1, ±2 (emulated over all 70 tables; −½ trades the ±2 rows' growth
 * for a smaller Bᵀ).
 */
export const F4X4_3X3 = toomCook([0, 1, -1, -0.5, 2], 4, 3);
