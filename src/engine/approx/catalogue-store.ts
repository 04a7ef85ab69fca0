// The studio's multiplier catalogue: the built-in library plus the tables a user imported, kept in
// the browser's storage, each with its metrics (computed once, then remembered).
import type { KeyValueStore } from '../session';
import type { NamedBytes } from '../models/io';
import { builtinCatalogue, simulationForm, type CatalogueEntry, type SimulationForm } from './catalogue';
import { importMultipliers, MultiplierFileError } from './import';
import { errorTable, type MultiplierTable } from './table';
import { multiplierMetrics, type MultiplierMetrics } from './metrics';

export type { SimulationForm } from './catalogue';

export interface MultiplierSummary {
  id: string;
  name: string;
  family: string;
  signed: boolean;
  metrics: MultiplierMetrics;
  power: CatalogueEntry['power'];
}

interface StoredImport {
  name: string;
  signed: boolean;
  values: Int32Array;
  power: CatalogueEntry['power'];
}

const IMPORT_PREFIX = 'multiplier/';
const METRICS_PREFIX = 'multiplier-metrics/v1/';

export class MultiplierCatalogue {
  private readonly builtins = builtinCatalogue();

  constructor(private readonly storage: KeyValueStore) {}

  private async imported(): Promise<CatalogueEntry[]> {
    const keys = (await this.storage.keys()).filter((k) => k.startsWith(IMPORT_PREFIX)).sort();
    const stored = await Promise.all(keys.map((k) => this.storage.get<StoredImport>(k)));
    return stored.flatMap((s) =>
      s ? [{ id: `imported:${s.name}`, name: s.name, family: 'imported', table: { name: s.name, signed: s.signed, values: s.values } as MultiplierTable, power: s.power }] : [],
    );
  }

  async entries(): Promise<CatalogueEntry[]> {
    return [...this.builtins, ...(await this.imported())];
  }

  async entry(id: string): Promise<CatalogueEntry> {
    const hit = (await this.entries()).find((e) => e.id === id);
    if (!hit) throw new Error(`no multiplier "${id}" in the catalogue`);
    return hit;
  }

  /** Metrics are a few seconds of SVD for high-rank tables: computed once per table, then stored. */
  private async metrics(entry: CatalogueEntry): Promise<MultiplierMetrics> {
    const key = METRICS_PREFIX + entry.id;
    const known = await this.storage.get<MultiplierMetrics>(key);
    if (known) return known;
    const computed = multiplierMetrics(entry.table);
    await this.storage.set(key, computed);
    return computed;
  }

  async list(onProgress?: (done: number, total: number) => void): Promise<MultiplierSummary[]> {
    const entries = await this.entries();
    const out: MultiplierSummary[] = [];
    for (const e of entries) {
      out.push({ id: e.id, name: e.name, family: e.family, signed: e.table.signed, metrics: await this.metrics(e), power: e.power });
      onProgress?.(out.length, entries.length);
    }
    return out;
  }

  /** Adds .bin tables (with an optional metrics .csv among the files); nothing is kept if any file is bad. */
  async import(files: NamedBytes[]): Promise<MultiplierSummary[]> {
    const csvs = files.filter((f) => f.name.toLowerCase().endsWith('.csv'));
    if (csvs.length > 1) throw new MultiplierFileError('choose at most one metrics .csv');
    const tables = files.filter((f) => !f.name.toLowerCase().endsWith('.csv'));
    if (tables.length === 0) throw new MultiplierFileError('no table file among the files: choose .bin tables (65,536 values each)');
    const csv = csvs[0] ? new TextDecoder().decode(csvs[0].bytes) : undefined;
    const parsed = importMultipliers(tables.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })), csv);
    for (const m of parsed) {
      await this.storage.set(IMPORT_PREFIX + m.name, {
        name: m.name,
        signed: m.table.signed,
        values: m.table.values,
        power: { relative: m.power?.relative ?? null, source: m.power?.source ?? 'unknown' },
      } satisfies StoredImport);
    }
    const ids = new Set(parsed.map((m) => m.id));
    return (await this.list()).filter((s) => ids.has(s.id));
  }

  async remove(id: string): Promise<void> {
    if (!id.startsWith('imported:')) throw new Error('built-in multipliers cannot be removed');
    const name = id.slice('imported:'.length);
    await this.storage.del(IMPORT_PREFIX + name);
    await this.storage.del(METRICS_PREFIX + id);
  }

  /** How the fast simulation runs the multiplier (see simulationForm). */
  async simulation(id: string): Promise<SimulationForm | null> {
    const entry = await this.entry(id);
    return entry.table.signed ? null : simulationForm(entry, (await this.metrics(entry)).float_rank);
  }

  /** E = AM − a·b in the table's own index order, for the heat map. */
  async errorTable(id: string): Promise<Int32Array> {
    return errorTable((await this.entry(id)).table);
  }
}
