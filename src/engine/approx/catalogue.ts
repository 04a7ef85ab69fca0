// Multipliers by name for the command line and the worker: the built-in library, or table files
// (with an optional metrics.csv beside them for published power).
import type { UnsignedMultiplierTable, MultiplierTable } from './table';
import { builtinLibrary } from './library';
import { factorise, multiplierMetrics } from './metrics';
import type { SimMultiplier } from './simulate';

/** Above this many rank-one terms the direct lookup is faster than the stacked convolution. */
export const MAX_FAST_RANK = 16;

export interface CatalogueEntry {
  id: string;
  name: string;
  table: MultiplierTable;
  /** Power relative to the exact multiplier, when known, with where it comes from. */
  power: { relative: number | null; source: string; formula?: string };
}

export const builtinCatalogue = (): CatalogueEntry[] =>
  builtinLibrary().map((m) => ({ id: m.id, name: m.name, get table() { return m.table; }, power: m.power }));

/** Looks a multiplier up by id or name, case-insensitively. */
export function findMultiplier(entries: CatalogueEntry[], key: string): CatalogueEntry {
  const k = key.toLowerCase();
  const hit = entries.find((e) => e.id.toLowerCase() === k || e.name.toLowerCase() === k);
  if (!hit) throw new Error(`no multiplier "${key}"; known: ${entries.map((e) => e.id).join(', ')}`);
  return hit;
}

/** The form the simulation runs: factors at the float rank when short enough, else direct lookup. */
export function simMultiplier(entry: CatalogueEntry): SimMultiplier {
  if (entry.table.signed) throw new Error(`${entry.name} is a signed table; the quantised layers use unsigned codes`);
  const { float_rank } = multiplierMetrics(entry.table);
  const factors = float_rank !== null && float_rank <= MAX_FAST_RANK ? factorise(entry.table as UnsignedMultiplierTable, float_rank) : null;
  return { id: entry.id, table: entry.table.values, factors: factors && { u: factors.u, v: factors.v } };
}
