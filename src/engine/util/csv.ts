/**
 * RFC 4180 CSV serialisation for figure data. Kept free of DOM and React so it
 * can be unit-tested under Node.
 */

export type CsvCell = number | string | boolean | null | undefined;
export type CsvRow = Record<string, CsvCell>;

export interface CsvColumn {
  key: string;
  label: string;
}

/** Quote a single field when it contains a comma, quote, CR or LF (or edge spaces). */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  let s: string;
  if (typeof value === 'number') {
    // Numbers are written unformatted (full precision); non-finite values are empty.
    s = Number.isFinite(value) ? String(value) : '';
  } else {
    s = String(value);
  }
  if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s)) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

/**
 * Serialise `data` as CSV with a header row of column labels. Records are
 * separated by CRLF as RFC 4180 prescribes; the output ends with a CRLF.
 */
export function toCsv(data: ReadonlyArray<Readonly<CsvRow>>, columns: ReadonlyArray<CsvColumn>): string {
  const lines: string[] = [columns.map((c) => csvField(c.label)).join(',')];
  for (const row of data) {
    lines.push(columns.map((c) => csvField(row[c.key])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
