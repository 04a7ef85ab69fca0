// Imports multiplier circuits from TFApprox/EvoApprox lookup-table files and their published metrics.
import { z } from 'zod';
import { TABLE_SIZE, type MultiplierTable } from './table';

/**
 * Storage of the 65,536 little-endian values, first operand major. uint16 and uint32 hold unsigned
 * tables (a, b in 0..255); int16 and int32 hold signed ones (x, w in -128..127, two's-complement byte order).
 */
export type MultiplierDtype = 'uint16' | 'int16' | 'uint32' | 'int32';

const BYTES_PER_VALUE: Record<MultiplierDtype, number> = { uint16: 2, int16: 2, uint32: 4, int32: 4 };
const SIZE_16 = TABLE_SIZE * 2;
const SIZE_32 = TABLE_SIZE * 4;
/** 8x8 products stay below 2^16 in magnitude; twice that leaves room for over-estimating circuits. */
const PLAUSIBLE_LIMIT = 2 ** 17;

export class MultiplierFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultiplierFileError';
  }
}

/** `dir/mul8u_1JFF.bin` → `mul8u_1JFF`. */
export const multiplierName = (fileName: string) => (fileName.split(/[\\/]/).pop() ?? fileName).replace(/\.bin$/i, '');

function readValue(view: DataView, offset: number, dtype: MultiplierDtype): number {
  switch (dtype) {
    case 'uint16':
      return view.getUint16(offset, true);
    case 'int16':
      return view.getInt16(offset, true);
    case 'uint32':
      return view.getUint32(offset, true);
    case 'int32':
      return view.getInt32(offset, true);
  }
}

/**
 * Parses one table file. Without a dtype the size decides: 131,072 bytes → uint16 (EvoApprox's
 * unsigned tables), 262,144 bytes → int32 (signed); an int16 or uint32 file needs its dtype given.
 */
export function parseMultiplierFile(fileName: string, bytes: Uint8Array, dtype?: MultiplierDtype): MultiplierTable {
  const name = multiplierName(fileName);
  if (bytes.length === 0) throw new MultiplierFileError(`${fileName}: the file is empty`);
  if (bytes.length !== SIZE_16 && bytes.length !== SIZE_32) {
    throw new MultiplierFileError(
      `${fileName}: ${bytes.length} bytes is not a 256x256 table; expected ${SIZE_16} bytes (uint16/int16) or ${SIZE_32} bytes (uint32/int32)`,
    );
  }
  const type = dtype ?? (bytes.length === SIZE_16 ? 'uint16' : 'int32');
  const expected = TABLE_SIZE * BYTES_PER_VALUE[type];
  if (bytes.length !== expected) {
    throw new MultiplierFileError(`${fileName}: ${type} tables have ${expected} bytes, this file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Int32Array(TABLE_SIZE);
  const step = BYTES_PER_VALUE[type];
  for (let k = 0; k < TABLE_SIZE; k++) {
    const v = readValue(view, k * step, type);
    if (Math.abs(v) > PLAUSIBLE_LIMIT) {
      const [i, j] = [k >> 8, k & 255];
      throw new MultiplierFileError(
        `${fileName}: value ${v} at operand codes (${i}, ${j}) is out of range for an 8x8 multiplier (|value| ≤ ${PLAUSIBLE_LIMIT}); wrong dtype?`,
      );
    }
    values[k] = v;
  }
  return type === 'int16' || type === 'int32' ? { name, signed: true, values } : { name, signed: false, values };
}

export class MetricsCsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsCsvError';
  }
}

const OPTIONAL_COLUMNS = ['relative_power', 'mae_pct', 'mae', 'wce_pct', 'wce', 'wcre_pct', 'ep_pct', 'mre_pct', 'mse', 'area_um2', 'delay_ns'] as const;

const numberCell = z
  .string()
  .trim()
  .min(1, 'empty')
  .transform((s) => Number(s))
  .refine((x) => Number.isFinite(x), 'not a number');
const optionalNumberCell = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : Number(s)))
  .refine((x) => x === undefined || Number.isFinite(x), 'not a number');

const rowSchema = z.object({
  name: z.string().trim().min(1, 'empty'),
  power_mw: numberCell,
  ...Object.fromEntries(OPTIONAL_COLUMNS.map((c) => [c, optionalNumberCell.optional()])),
});

export type PublishedMetrics = { power_mw: number } & Partial<Record<(typeof OPTIONAL_COLUMNS)[number], number>>;

/**
 * Parses a metrics CSV such as EvoApprox's metrics.csv: a header row with at least `name` and
 * `power_mw`; the optional columns above are kept, others ignored. Plain comma-separated cells, no quoting.
 */
export function parseMetricsCsv(text: string): Map<string, PublishedMetrics> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new MetricsCsvError('the metrics CSV is empty');
  const header = lines[0].split(',').map((h) => h.trim());
  const missing = ['name', 'power_mw'].filter((c) => !header.includes(c));
  if (missing.length > 0) throw new MetricsCsvError(`the metrics CSV lacks the column(s) ${missing.join(', ')}; its header is: ${lines[0]}`);
  const result = new Map<string, PublishedMetrics>();
  lines.slice(1).forEach((line, index) => {
    const cells = line.split(',');
    const record = Object.fromEntries(header.map((h, k) => [h, cells[k] ?? '']));
    const parsed = rowSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MetricsCsvError(`metrics CSV line ${index + 2}: column ${issue.path.join('.')}: ${issue.message} ('${record[String(issue.path[0])]}')`);
    }
    const { name, ...metrics } = parsed.data;
    const defined = Object.entries(metrics).filter(([, v]) => v !== undefined);
    result.set(name, Object.fromEntries(defined) as PublishedMetrics);
  });
  return result;
}

/** EvoApprox's exact 8x8 unsigned multiplier, the reference its published powers are relative to. */
export const EVOAPPROX_EXACT = 'mul8u_1JFF';

export interface ImportedPower {
  mw: number;
  /** mw / reference mw; else the CSV's relative_power; null when neither is known. */
  relative: number | null;
  /** 'published': normalised within a data set that carries its own exact reference; 'user': anything else. */
  source: 'published' | 'user';
}

export interface ImportedMultiplier {
  id: string;
  name: string;
  family: 'imported';
  table: MultiplierTable;
  published: PublishedMetrics | null;
  power: ImportedPower | null;
}

/** Parses table files and attaches the metrics CSV's row of the same name, when a CSV is given. */
export function importMultipliers(files: { name: string; bytes: Uint8Array }[], metricsCsv?: string, dtype?: MultiplierDtype): ImportedMultiplier[] {
  const metrics = metricsCsv === undefined ? new Map<string, PublishedMetrics>() : parseMetricsCsv(metricsCsv);
  const referenceMw = metrics.get(EVOAPPROX_EXACT)?.power_mw;
  return files.map(({ name: fileName, bytes }) => {
    const table = parseMultiplierFile(fileName, bytes, dtype);
    const row = metrics.get(table.name) ?? null;
    let power: ImportedPower | null = null;
    if (row) {
      power =
        referenceMw !== undefined && referenceMw > 0
          ? { mw: row.power_mw, relative: row.power_mw / referenceMw, source: 'published' }
          : { mw: row.power_mw, relative: row.relative_power ?? null, source: 'user' };
    }
    return { id: `imported:${table.name}`, name: table.name, family: 'imported', table, published: row, power };
  });
}
