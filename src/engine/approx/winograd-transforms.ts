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

/** The nearest multiple of 2⁻¹⁰ where `x` is within float64 rounding of one (the inverse's noise), else `x`; never −0. */
function snap(x: number): number {
  const k = Math.round(x * 1024) / 1024 + 0;
  return Math.abs(x - k) < 1e-9 ? k : x;
}

/**
 * A straight-line program for a 1-D transform, sharing sums between its rows: each step sets `to`
 * (a temporary, or output `o<i>`) to Σ coefficient·term over inputs `i<j>` and earlier steps.
 */
export type TransformProgram = { to: string; sum: [number, string][] }[];

/** The matrix a program computes (rows: outputs o0…, columns: inputs i0…), to check it against the transform's. */
export function programMatrix(program: TransformProgram, inputs: number, outputs: number): number[][] {
  return Array.from({ length: outputs }, (_, o) => {
    const row: number[] = [];
    for (let j = 0; j < inputs; j++) {
      const values = new Map<string, number>(Array.from({ length: inputs }, (_, i) => [`i${i}`, i === j ? 1 : 0]));
      for (const { to, sum } of program)
        values.set(
          to,
          sum.reduce((a, [c, term]) => {
            const v = values.get(term);
            if (v === undefined) throw new Error(`transform program reads ${term} before it is set`);
            return a + c * v;
          }, 0),
        );
      const out = values.get(`o${o}`);
      if (out === undefined) throw new Error(`transform program never sets o${o}`);
      row.push(out);
    }
    return row;
  });
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
 * F(4×4, 3×3) on the points 0, ±1, −½, 2: with the centred product form its float32 error over all 70
 * tables is 2.4–2.7× smaller than with Lavin's 0, ±1, ±2 (2.7·10⁻⁶ against 6.3·10⁻⁶ at 16 input
 * channels, 3.5·10⁻⁶ against 9.2·10⁻⁶ at 64; `npx tsx bench/winograd-emulation.ts`).
 */
export const F4X4_3X3 = toomCook([0, 1, -1, -0.5, 2], 4, 3);

/**
 * Bᵀ of F4X4_3X3 in 23 operations instead of 35, through p = i4 − i2, q = i1 − i3 and the sum and
 * difference of i2, i3 (winograd-wat.ts checks it against Bᵀ before writing the kernel).
 */
export const F4X4_INPUT_PROGRAM: TransformProgram = [
  { to: 'p', sum: [[1, 'i4'], [-1, 'i2']] },
  { to: 'q', sum: [[1, 'i1'], [-1, 'i3']] },
  { to: 'o3', sum: [[1, 'p'], [2, 'q']] },
  { to: 'o4', sum: [[1, 'p'], [-0.5, 'q']] },
  { to: 's', sum: [[1, 'i2'], [-1, 'i3']] },
  { to: 't', sum: [[1, 'i2'], [1, 'i3']] },
  { to: 'pq', sum: [[1, 'p'], [1, 'q']] },
  { to: 'o2', sum: [[1, 'pq'], [1.5, 's']] },
  { to: 'pmq', sum: [[1, 'p'], [-1, 'q']] },
  { to: 'o1', sum: [[1, 'pmq'], [-1.5, 't']] },
  { to: 'o0', sum: [[1, 'i0'], [-1, 'i2'], [1, 'p'], [1.5, 'q']] },
  { to: 'o5', sum: [[1, 'i5'], [1, 'i1'], [-2, 'i3'], [-1.5, 'p']] },
];
