import { beforeAll, describe, expect, it } from 'vitest';
import { builtinLibrary, type LibraryMultiplier } from './library';
import { factorise, multiplierMetrics, type MultiplierMetrics } from './metrics';

const RANK_BOUND: Record<string, number> = { trunc: 8, bam: 8, perforation: 1, tm: 2, drum: 2, kulkarni: 4, exact: 0 };

describe('built-in library', () => {
  const library = builtinLibrary();
  let metrics: Map<string, MultiplierMetrics>;
  beforeAll(() => {
    metrics = new Map(library.map((m) => [m.id, multiplierMetrics(m.table)]));
  });
  const of = (m: LibraryMultiplier) => metrics.get(m.id)!;

  it('holds about 30 designs with unique ids, the exact one included', () => {
    expect(library.length).toBeGreaterThanOrEqual(28);
    expect(library.length).toBeLessThanOrEqual(34);
    expect(new Set(library.map((m) => m.id)).size).toBe(library.length);
    const exact = library.find((m) => m.id === 'exact')!;
    expect(exact.power.relative).toBe(1);
    expect(of(exact).mae_pct).toBe(0);
  });

  it('spreads MAE% from 0.002 or less to 3 or more', () => {
    const mae = library.filter((m) => m.id !== 'exact').map((m) => of(m).mae_pct);
    expect(Math.min(...mae)).toBeLessThanOrEqual(0.002);
    expect(Math.max(...mae)).toBeGreaterThanOrEqual(3);
    expect(mae.filter((x) => x < 0.01).length).toBeGreaterThanOrEqual(4);
    expect(mae.filter((x) => x > 1).length).toBeGreaterThanOrEqual(4);
  });

  it('labels every power as an estimate with its formula, relative in (0, 1]', () => {
    for (const m of library) {
      expect(m.power.source).toBe('estimate');
      expect(m.power.relative, m.id).toBeGreaterThan(0);
      expect(m.power.relative, m.id).toBeLessThanOrEqual(1);
      expect(m.power.formula.length).toBeGreaterThan(10);
    }
    const t8 = library.find((m) => m.id === 'trunc-8')!;
    expect(t8.power.relative).toBeCloseTo((28 / 64) ** 1.3, 12);
    expect(t8.power.formula).toMatch(/f\^1\.3/);
  });

  it('has ranks within each family bound, and factorises exactly at exact_rank', () => {
    for (const m of library) {
      const { rank, exact_rank } = of(m);
      if (m.family in RANK_BOUND) expect(rank, m.id).toBeLessThanOrEqual(RANK_BOUND[m.family]);
      expect(exact_rank, m.id).not.toBeNull();
      expect(factorise(m.table, exact_rank!).maxAbsResidual, m.id).toBeLessThan(0.5);
      if (exact_rank! > 0) expect(factorise(m.table, exact_rank! - 1).maxAbsResidual, m.id).toBeGreaterThanOrEqual(0.5);
    }
  });
});
