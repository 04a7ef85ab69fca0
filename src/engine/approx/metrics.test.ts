import { beforeAll, describe, expect, it } from 'vitest';
import { readEvoApproxFiles, readPrintedMetrics, printedHalfUnit } from './evoapprox-fixtures';
import { trunc } from './families';
import { parseMultiplierFile } from './import';
import { FLOAT_TOLERANCE, errorStatistics, factorise, multiplierMetrics, type ErrorStatistics, type MultiplierMetrics } from './metrics';
import { errorTable, exactTable, signMagnitudeTable } from './table';

// Parsed once: the SVD cache is keyed by the table, so later tests reuse the decompositions.
const evo = readEvoApproxFiles().map((f) => parseMultiplierFile(f.name, f.bytes));
const printed = readPrintedMetrics();

const published: [string, (s: ErrorStatistics) => number][] = [
  ['mae_pct', (s) => s.mae_pct],
  ['mae', (s) => (s.mae_pct / 100) * 2 ** 16],
  ['wce_pct', (s) => s.wce_pct],
  ['wce', (s) => (s.wce_pct / 100) * 2 ** 16],
  ['wcre_pct', (s) => s.wcre_pct],
  ['ep_pct', (s) => s.ep_pct],
  ['mre_pct', (s) => s.mre_pct],
  ['mse', (s) => s.mse],
];

describe('error statistics', () => {
  it('reproduce the published figures of all 36 EvoApprox circuits to their printed precision', () => {
    expect(evo).toHaveLength(36);
    const mismatches: string[] = [];
    for (const t of evo) {
      const row = printed.get(t.name);
      expect(row, t.name).toBeDefined();
      const stats = errorStatistics(t);
      for (const [column, value] of published) {
        const cell = row![column];
        // A tie printed either way (round-half-even: 0.625 → '0.62') is within half a unit.
        if (Math.abs(value(stats) - Number(cell)) > printedHalfUnit(cell) * (1 + 1e-9)) {
          mismatches.push(`${t.name} ${column}: computed ${value(stats)}, published ${cell}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('are all 0 for the exact multiplier, with rank 0', () => {
    const m = multiplierMetrics(exactTable());
    expect(m).toEqual({ mae_pct: 0, wce_pct: 0, wcre_pct: 0, mre_pct: 0, ep_pct: 0, mse: 0, error_mean: 0, error_std: 0, rank: 0, exact_rank: 0, float_rank: 0 });
  });

  it('give the mean and population std of E', () => {
    const e = errorTable(trunc(6).table);
    const mean = e.reduce((s, x) => s + x, 0) / e.length;
    const std = Math.sqrt(e.reduce((s, x) => s + (x - mean) ** 2, 0) / e.length);
    const stats = errorStatistics(trunc(6).table);
    expect(stats.error_mean).toBeCloseTo(mean, 9);
    expect(stats.error_std).toBeCloseTo(std, 9);
    expect(stats.mse).toBeCloseTo(std ** 2 + mean ** 2, 6);
  });

  it('measure signed tables over signed operands, relative to 2^16 as well', () => {
    expect(errorStatistics(signMagnitudeTable(exactTable())).mae_pct).toBe(0);
    const signed = signMagnitudeTable(trunc(4).table);
    const e = errorTable(signed);
    // (x, w) = (−3, 100): −TRUNC(4)(3, 100) − (−300)
    expect(e[(-3 & 255) * 256 + 100]).toBe(-trunc(4).table.values[3 * 256 + 100] + 300);
    const stats = errorStatistics(signed);
    const mae = e.reduce((s, x) => s + Math.abs(x), 0) / 65536;
    expect(stats.mae_pct).toBeCloseTo((100 * mae) / 2 ** 16, 12);
  });
});

describe('rank and exact factorisation of the EvoApprox tables', () => {
  let metrics: Map<string, MultiplierMetrics>;
  beforeAll(() => {
    metrics = new Map(evo.map((t) => [t.name, multiplierMetrics(t)]));
  });

  it('agree with the ranks in the notes', () => {
    expect(metrics.get('mul8u_12N4')!.rank).toBe(228);
    const inexact = evo.filter((t) => t.name !== 'mul8u_1JFF');
    expect(inexact.filter((t) => metrics.get(t.name)!.exact_rank! <= 11)).toHaveLength(19);
    expect(inexact.filter((t) => factorise(t, 8).relativeResidual < 0.1)).toHaveLength(28);
  });

  it('factorise exactly at exact_rank and not one below', () => {
    for (const t of evo) {
      const { rank, exact_rank } = metrics.get(t.name)!;
      expect(exact_rank, t.name).not.toBeNull();
      expect(exact_rank!).toBeLessThanOrEqual(rank);
      const at = factorise(t, exact_rank!);
      expect(at.u).toHaveLength(exact_rank!);
      expect(at.maxAbsResidual, t.name).toBeLessThan(0.5);
      if (exact_rank! > 0) expect(factorise(t, exact_rank! - 1).maxAbsResidual, t.name).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('give a float rank, exact to float rounding, wherever float32 factors can get there', () => {
    for (const t of evo) {
      const { exact_rank, float_rank } = metrics.get(t.name)!;
      if (float_rank === null) {
        expect(exact_rank!, t.name).toBeGreaterThan(16);
        continue;
      }
      expect(float_rank, t.name).toBeGreaterThanOrEqual(exact_rank!);
      expect(factorise(t, float_rank).maxAbsResidual, t.name).toBeLessThan(FLOAT_TOLERANCE);
    }
    // The two tables where rounding alone would leave a residual near 0.5 per product.
    expect(metrics.get('mul8u_125K')!.float_rank).toBeGreaterThan(metrics.get('mul8u_125K')!.exact_rank!);
  });

  it('give float32 factors whose rounded sum is E', () => {
    const t = evo.find((x) => x.name === 'mul8u_2AC')!;
    const { exact_rank } = metrics.get(t.name)!;
    const { u, v } = factorise(t, exact_rank!);
    const e = errorTable(t);
    for (const [a, b] of [[0, 0], [1, 1], [37, 200], [255, 255], [128, 3]]) {
      let acc = 0;
      for (let r = 0; r < u.length; r++) acc = Math.fround(acc + Math.fround(u[r][a] * v[r][b]));
      expect(Math.round(acc)).toBe(e[a * 256 + b]);
    }
  });
});
