// Table files from disk for the command line: a .bin (or a folder of them) with the metrics.csv
// that may sit beside it, as EvoApprox ships them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CatalogueEntry } from './catalogue';
import { importMultipliers, type MultiplierDtype } from './import';
import type { NamedBytes } from '../models/io';

/** The table file(s), and the metrics.csv beside them when there is one, as an upload would bring them. */
export function multiplierFilesAt(target: string): NamedBytes[] {
  const isDir = statSync(target).isDirectory();
  const dir = isDir ? target : path.dirname(target);
  const names = isDir ? readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [path.basename(target)];
  if (existsSync(path.join(dir, 'metrics.csv'))) names.push('metrics.csv');
  return names.map((name) => {
    const b = readFileSync(path.join(dir, name));
    return { name, bytes: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
  });
}

export function loadMultiplierFiles(target: string, dtype?: MultiplierDtype): CatalogueEntry[] {
  const files = multiplierFilesAt(target);
  const csv = files.find((f) => f.name === 'metrics.csv');
  const tables = files.filter((f) => f !== csv).map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) }));
  return importMultipliers(tables, csv && new TextDecoder().decode(csv.bytes), dtype).map((m) => ({
    id: m.id,
    name: m.name,
    family: 'imported',
    table: m.table,
    power: { relative: m.power?.relative ?? null, source: m.power ? m.power.source : 'unknown' },
  }));
}
