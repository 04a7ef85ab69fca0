import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from './csv';

describe('toCsv', () => {
  const cols = [
    { key: 'bits', label: 'Bits' },
    { key: 'acc', label: 'Accuracy' },
  ];

  it('writes a header row of labels then one row per record, CRLF separated', () => {
    const csv = toCsv(
      [
        { bits: 8, acc: 0.97 },
        { bits: 4, acc: 0.9 },
      ],
      cols,
    );
    expect(csv).toBe('Bits,Accuracy\r\n8,0.97\r\n4,0.9\r\n');
  });

  it('writes only a header for empty data', () => {
    expect(toCsv([], cols)).toBe('Bits,Accuracy\r\n');
  });

  it('writes numbers unformatted', () => {
    const csv = toCsv([{ bits: 0.1 + 0.2, acc: 1e-7 }, { bits: -3, acc: 123456789.125 }], cols);
    expect(csv.split('\r\n')[1]).toBe('0.30000000000000004,1e-7');
    expect(csv.split('\r\n')[2]).toBe('-3,123456789.125');
  });

  it('writes null, undefined, missing and non-finite values as empty fields', () => {
    const csv = toCsv(
      [{ bits: null, acc: undefined }, { bits: 2 }, { bits: Number.NaN, acc: Number.POSITIVE_INFINITY }],
      cols,
    );
    expect(csv).toBe('Bits,Accuracy\r\n,\r\n2,\r\n,\r\n');
  });

  it('quotes fields containing commas, quotes and newlines (RFC 4180)', () => {
    const csv = toCsv(
      [
        { bits: 'a,b', acc: 'say "hi"' },
        { bits: 'line1\nline2', acc: 'cr\rlf' },
      ],
      cols,
    );
    expect(csv).toBe('Bits,Accuracy\r\n"a,b","say ""hi"""\r\n"line1\nline2","cr\rlf"\r\n');
  });

  it('quotes header labels too', () => {
    expect(toCsv([], [{ key: 'x', label: 'Energy, mJ' }, { key: 'y', label: 'The "best"' }])).toBe(
      '"Energy, mJ","The ""best"""\r\n',
    );
  });

  it('leaves plain strings unquoted', () => {
    expect(csvField('int8')).toBe('int8');
    expect(csvField('')).toBe('');
  });

  it('uses only the requested columns, in order', () => {
    expect(toCsv([{ acc: 1, bits: 2, extra: 'x' }], [cols[1]!, cols[0]!])).toBe('Accuracy,Bits\r\n1,2\r\n');
  });
});
