import { describe, expect, it } from 'vitest';
import { winogradWat } from '../../../scripts/winograd-wat';
import { mulberry32 } from '../util/random';
import { F4X4_3X3, F4X4_INPUT_PROGRAM, programMatrix, toomCook, type TransformProgram } from './winograd-transforms';

/** Aᵀ·[(G·g) ⊙ (Bᵀ·d)] against the direct correlation, in float64. */
function worstError(t: ReturnType<typeof toomCook>, seed: number): number {
  const random = mulberry32(seed);
  let worst = 0;
  for (let trial = 0; trial < 50; trial++) {
    const d = Array.from({ length: t.n }, () => random() * 2 - 1);
    const g = Array.from({ length: t.r }, () => random() * 2 - 1);
    const Gg = t.G.map((row) => row.reduce((a, v, k) => a + v * g[k], 0));
    const Bd = t.BT.map((row) => row.reduce((a, v, k) => a + v * d[k], 0));
    t.AT.forEach((row, i) => {
      const y = row.reduce((a, v, j) => a + v * Gg[j] * Bd[j], 0);
      const direct = g.reduce((a, w, k) => a + w * d[i + k], 0);
      worst = Math.max(worst, Math.abs(y - direct));
    });
  }
  return worst;
}

describe('Winograd transforms', () => {
  it.each([
    [[0, 1, -1], 2],
    [[0, 1, -1, 2, -2], 4],
    [[0, 1, -1, -0.5, 2], 4],
  ])('points %j: F(%i, 3) computes the correlation', (points, m) => {
    const t = toomCook(points, m, 3);
    expect(t.AT).toHaveLength(m);
    expect(t.BT).toHaveLength(m + 2);
    expect(worstError(t, m)).toBeLessThan(1e-12);
  });

  it("has Lavin's integer Bᵀ for the points 0, ±1, ±2", () => {
    expect(toomCook([0, 1, -1, 2, -2], 4, 3).BT[0]).toEqual([4, 0, -5, 0, 1, 0]);
  });

  it('refuses repeated points or the wrong number of them', () => {
    expect(() => toomCook([0, 1, 1, 2, -2], 4, 3)).toThrow(/distinct/);
    expect(() => toomCook([0, 1, -1], 4, 3)).toThrow(/5 distinct/);
  });

  it("F(4×4, 3×3)'s input program computes its Bᵀ, with fewer operations", () => {
    expect(programMatrix(F4X4_INPUT_PROGRAM, 6, 6)).toEqual(F4X4_3X3.BT);
    const operations = F4X4_INPUT_PROGRAM.reduce((a, { sum }) => a + sum.length - 1 + sum.filter(([c]) => Math.abs(c) !== 1).length, 0);
    const direct = F4X4_3X3.BT.reduce((a, row) => a + row.filter((c) => c !== 0).length - 1 + row.filter((c) => c !== 0 && Math.abs(c) !== 1).length, 0);
    expect(operations).toBeLessThan(direct);
  });

  it('the kernel writer rejects a program that does not compute Bᵀ', () => {
    const wrong: TransformProgram = F4X4_INPUT_PROGRAM.map((s) => (s.to === 'o4' ? { to: 'o4', sum: [[1, 'p'], [0.5, 'q']] } : s));
    expect(() => winogradWat(F4X4_3X3, wrong)).toThrow(/transform program computes/);
    expect(winogradWat(F4X4_3X3, F4X4_INPUT_PROGRAM)).toContain('(func (export "winograd_input")');
  });
});
