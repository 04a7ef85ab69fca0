// Test data: the 36 EvoApprox circuits in the shared folder beside the project, read in place
// (never copied into the repository). Node only; imported by tests.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const EVOAPPROX_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/evoapprox');

export interface EvoApproxFile {
  name: string;
  bytes: Uint8Array;
}

export function readEvoApproxFiles(): EvoApproxFile[] {
  return readdirSync(EVOAPPROX_DIR)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(path.join(EVOAPPROX_DIR, name))) }));
}

export const readEvoApproxCsv = (): string => readFileSync(path.join(EVOAPPROX_DIR, 'metrics.csv'), 'utf8');

/** Each row of metrics.csv as printed, column → cell text, to compare at the printed precision. */
export function readPrintedMetrics(): Map<string, Record<string, string>> {
  const [header, ...lines] = readEvoApproxCsv().trim().split(/\r?\n/);
  const columns = header.split(',');
  return new Map(
    lines.map((line) => {
      const cells = line.split(',');
      return [cells[0], Object.fromEntries(columns.map((c, k) => [c, cells[k]]))];
    }),
  );
}

/** Half a unit in the last printed place: '0.00095' → 5e-6, '15608.397e3' → 0.5, '284' → 0.5. */
export function printedHalfUnit(printed: string): number {
  const match = /^-?\d*(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(printed.trim());
  if (!match) throw new Error(`not a printed number: ${printed}`);
  const decimals = match[1]?.length ?? 0;
  const exponent = Number(match[2] ?? 0);
  return 0.5 * 10 ** (exponent - decimals);
}
