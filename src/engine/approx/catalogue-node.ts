// Table files from disk for the command line: a .bin (or a folder of them) with the metrics.csv
// that may sit beside it, as EvoApprox ships them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CatalogueEntry } from './catalogue';
import { importMultipliers, type MultiplierDtype } from './import';

export function loadMultiplierFiles(target: string, dtype?: MultiplierDtype): CatalogueEntry[] {
  const isDir = statSync(target).isDirectory();
  const dir = isDir ? target : path.dirname(target);
  const files = (isDir ? readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [path.basename(target)]).map((name) => ({
    name,
    bytes: new Uint8Array(readFileSync(path.join(dir, name))),
  }));
  const csvPath = path.join(dir, 'metrics.csv');
  const csv = existsSync(csvPath) ? readFileSync(csvPath, 'utf8') : undefined;
  return importMultipliers(files, csv, dtype).map((m) => ({
    id: m.id,
    name: m.name,
    table: m.table,
    power: { relative: m.power?.relative ?? null, source: m.power ? m.power.source : 'unknown' },
  }));
}
