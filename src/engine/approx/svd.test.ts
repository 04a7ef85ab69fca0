import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../util/random';
import { drum, mitchell, trunc } from './families';
import { svd } from './svd';
import { errorTable } from './table';

function reconstructionError(a: ArrayLike<number>, m: number, n: number): number {
  const { values, u, v } = svd(a, m, n);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let r = 0; r < values.length; r++) x += values[r] * u[r][i] * v[r][j];
      worst = Math.max(worst, Math.abs(x - a[i * n + j]));
    }
  }
  return worst;
}

describe('svd', () => {
  it('reconstructs random square and rectangular matrices with orthonormal factors', () => {
    const random = mulberry32(7);
    for (const [m, n] of [[40, 40], [30, 50], [50, 30]]) {
      const a = Float64Array.from({ length: m * n }, () => random() - 0.5);
      expect(reconstructionError(a, m, n)).toBeLessThan(1e-12);
      const { values, u, v } = svd(a, m, n);
      expect(values).toHaveLength(Math.min(m, n));
      for (let r = 1; r < values.length; r++) expect(values[r]).toBeLessThanOrEqual(values[r - 1]);
      const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, xi, i) => s + xi * y[i], 0);
      expect(dot(u[0], u[0])).toBeCloseTo(1, 12);
      expect(dot(u[0], u[3])).toBeCloseTo(0, 12);
      expect(dot(v[2], v[5])).toBeCloseTo(0, 12);
    }
  });

  it('gives zero singular values and vectors for a zero or low-rank matrix', () => {
    expect(svd(new Float64Array(16), 4, 4).values).toEqual(new Float64Array(4));
    // rank 2: outer products of integer vectors
    const a = Float64Array.from({ length: 64 * 64 }, (_, k) => (k >> 6) * (k & 63) - 3 * ((k >> 6) % 5) * ((k & 63) % 7));
    const { values, u } = svd(a, 64, 64);
    expect(values.filter((s) => s > values[0] * 64 * Number.EPSILON)).toHaveLength(2);
    expect(u[10].every((x) => x === 0)).toBe(values[10] === 0);
    expect(reconstructionError(a, 64, 64)).toBeLessThan(1e-9);
  });

  it('agrees with ml-matrix on error tables where ml-matrix terminates', () => {
    // ml-matrix 6.15.1 loops forever on some others (e.g. perforation, Kulkarni, EvoApprox 125K).
    for (const m of [trunc(4), drum(4), mitchell()]) {
      const e = errorTable(m.table);
      const ours = svd(e, 256, 256).values;
      const theirs = new SingularValueDecomposition(Matrix.from1DArray(256, 256, Array.from(e)), {
        computeLeftSingularVectors: false,
        computeRightSingularVectors: false,
      }).diagonal;
      const scale = theirs[0];
      for (let r = 0; r < 256; r++) expect(Math.abs(ours[r] - theirs[r]) / scale, `${m.name} s_${r}`).toBeLessThan(1e-12);
    }
  });
});
