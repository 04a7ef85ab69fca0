// Multipliers by name for the command line and the worker: the built-in library, or table files
// (with an optional metrics.csv beside them for published power).
import type { UnsignedMultiplierTable, MultiplierTable } from './table';
import { builtinLibrary } from './library';
import { factorise, factoriseProduct, multiplierMetrics } from './metrics';
import type { SimMultiplier } from './simulate';

/** Above this many rank-one terms the direct lookup is faster than the stacked convolution. */
export const MAX_FAST_RANK = 16;

export interface CatalogueEntry {
  id: string;
  name: string;
  /** A built-in family (trunc, bam, …) or 'imported'. */
  family: string;
  table: MultiplierTable;
  /** Power relative to the exact multiplier, when known, with where it comes from. */
  power: { relative: number | null; source: string; formula?: string };
}

export const builtinCatalogue = (): CatalogueEntry[] =>
  builtinLibrary().map((m) => ({ id: m.id, name: m.name, family: m.family, get table() { return m.table; }, power: m.power }));

/** Looks a multiplier up by id or name, case-insensitively. */
export function findMultiplier<T extends { id: string; name: string }>(entries: T[], key: string): T {
  const k = key.toLowerCase();
  const hit = entries.find((e) => e.id.toLowerCase() === k || e.name.toLowerCase() === k);
  if (!hit) throw new Error(`no multiplier "${key}"; known: ${entries.map((e) => e.id).join(', ')}`);
  return hit;
}

/**
 * The form the simulation runs: factors at the float rank when short enough (of the product table
 * where that has no more terms than the error table, else of the error), else direct lookup.
 * With `rank` the error table is truncated to that many terms instead: an approximation of the
 * multiplier, whose residual (largest per-product error, share of the error left out) comes back.
 */
export function simMultiplier(entry: CatalogueEntry, options: { rank?: number; floatRank?: number | null } = {}): SimMultiplier & { residual?: { maxAbs: number; relative: number } } {
  if (entry.table.signed) throw new Error(`${entry.name} is a signed table; the quantised layers use unsigned codes`);
  const table = entry.table as UnsignedMultiplierTable;
  if (options.rank !== undefined) {
    const f = factorise(table, options.rank);
    // The lookup table must match what is computed: the truncated reconstruction, rounded.
    return { id: `${entry.id}@rank${options.rank}`, table: truncatedTable(f.u, f.v), factors: { u: f.u, v: f.v }, residual: { maxAbs: f.maxAbsResidual, relative: f.relativeResidual } };
  }
  // Callers that already hold the table's metrics pass its float rank: one SVD fewer.
  const float_rank = options.floatRank !== undefined ? options.floatRank : multiplierMetrics(table).float_rank;
  // The product table's own factors when they are no more than the error's: a convolution then
  // reads R channels per input channel plus one, instead of R + 1. AM = a·b + E has rank at least
  // rank(E) − 1, so a table whose error needs more than MAX_FAST_RANK + 1 terms (or has no float-
  // exact factorisation) is not worth a second 256×256 decomposition.
  const hopeful = float_rank !== null && float_rank > 0 && float_rank <= MAX_FAST_RANK + 1;
  const product = hopeful ? factoriseProduct(table, Math.min(float_rank, MAX_FAST_RANK)) : null;
  if (product) return { id: entry.id, table: table.values, factors: { ...product, form: 'product' } };
  const factors = float_rank !== null && float_rank <= MAX_FAST_RANK ? factorise(table, float_rank) : null;
  return { id: entry.id, table: table.values, factors: factors && { u: factors.u, v: factors.v } };
}

export interface SimulationForm {
  /** error: a·b plus R error terms; product: R terms of AM itself; lookup: every product looked up. */
  form: 'error' | 'product' | 'lookup';
  terms: number;
}

/**
 * How the fast simulation runs a multiplier (null for signed tables, which the quantised layers do
 * not use). `floatRank`: the table's float rank where its metrics are already known.
 */
export function simulationForm(entry: CatalogueEntry, floatRank?: number | null): SimulationForm | null {
  if (entry.table.signed) return null;
  const { factors } = simMultiplier(entry, { floatRank });
  return factors ? { form: factors.form ?? 'error', terms: factors.u.length } : { form: 'lookup', terms: 0 };
}

/** a·b + Σ_r u_r[a]·v_r[b], rounded: the multiplier a truncated factorisation actually simulates. */
function truncatedTable(u: Float32Array[], v: Float32Array[]): Int32Array {
  const out = new Int32Array(65536);
  for (let a = 0; a < 256; a++)
    for (let b = 0; b < 256; b++) {
      let e = 0;
      for (let r = 0; r < u.length; r++) e += u[r][a] * v[r][b];
      out[a * 256 + b] = a * b + Math.round(e);
    }
  return out;
}
