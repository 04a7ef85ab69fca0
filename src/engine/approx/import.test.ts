import { describe, expect, it } from 'vitest';
import { readEvoApproxCsv, readEvoApproxFiles } from './evoapprox-fixtures';
import { importMultipliers, MetricsCsvError, MultiplierFileError, parseMetricsCsv, parseMultiplierFile } from './import';
import { errorStatistics } from './metrics';
import { exactTable, signMagnitudeTable } from './table';

function encode(values: ArrayLike<number>, bytesPerValue: 2 | 4): Uint8Array {
  const bytes = new Uint8Array(values.length * bytesPerValue);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < values.length; k++) {
    if (bytesPerValue === 2) view.setInt16(k * 2, values[k], true);
    else view.setInt32(k * 4, values[k], true);
  }
  return bytes;
}

describe('multiplier files', () => {
  const files = readEvoApproxFiles();

  it('parse the EvoApprox tables as unsigned, named after the file', () => {
    for (const f of files) {
      const t = parseMultiplierFile(f.name, f.bytes);
      expect(t.signed).toBe(false);
      expect(t.name).toBe(f.name.replace('.bin', ''));
    }
    const exact = parseMultiplierFile('dir/mul8u_1JFF.bin', files.find((f) => f.name === 'mul8u_1JFF.bin')!.bytes);
    expect(exact.name).toBe('mul8u_1JFF');
    expect(exact.values).toEqual(exactTable().values);
  });

  it('read a view into a larger buffer at its own offset', () => {
    const f = files.find((x) => x.name === 'mul8u_1JFF.bin')!;
    const padded = new Uint8Array(f.bytes.length + 3);
    padded.set(f.bytes, 3);
    expect(parseMultiplierFile(f.name, padded.subarray(3)).values[255 * 256 + 255]).toBe(65025);
  });

  it('reject empty, wrongly sized and implausible files with MultiplierFileError', () => {
    expect(() => parseMultiplierFile('e.bin', new Uint8Array(0))).toThrow(MultiplierFileError);
    expect(() => parseMultiplierFile('e.bin', new Uint8Array(0))).toThrow(/empty/);
    expect(() => parseMultiplierFile('x.bin', new Uint8Array(1000))).toThrow(/1000 bytes.*expected 131072 bytes \(uint16\/int16\) or 262144 bytes/);
    expect(() => parseMultiplierFile('x.bin', new Uint8Array(131072), 'int32')).toThrow(/int32 tables have 262144 bytes, this file has 131072/);
    const values = new Int32Array(65536);
    values[3 * 256 + 7] = 2 ** 20;
    expect(() => parseMultiplierFile('big.bin', encode(values, 4))).toThrow(/value 1048576 at operand codes \(3, 7\) is out of range/);
    expect(() => parseMultiplierFile('big.bin', encode(values, 4))).toThrow(MultiplierFileError);
  });

  it('parse a signed table in two’s-complement byte order', () => {
    const signed = signMagnitudeTable(exactTable());
    const t16 = parseMultiplierFile('mul8s_exact.bin', encode(signed.values, 2), 'int16');
    expect(t16.signed).toBe(true);
    expect(t16.values[(-128 & 255) * 256 + (-128 & 255)]).toBe(16384);
    expect(t16.values[(-3 & 255) * 256 + 5]).toBe(-15);
    expect(errorStatistics(t16)).toMatchObject({ mae_pct: 0, wce_pct: 0, ep_pct: 0 });
    // 262,144 bytes without a dtype are int32, signed
    const t32 = parseMultiplierFile('mul8s_exact.bin', encode(signed.values, 4));
    expect(t32.signed).toBe(true);
    expect(errorStatistics(t32).wce_pct).toBe(0);
  });
});

describe('metrics CSV', () => {
  it('parses EvoApprox metrics.csv, with its exponent notation', () => {
    const csv = parseMetricsCsv(readEvoApproxCsv());
    expect(csv.size).toBe(36);
    expect(csv.get('mul8u_1JFF')!.power_mw).toBe(0.391);
    expect(csv.get('mul8u_13QR')!.mse).toBe(15608397);
  });

  it('says which column is missing or which cell is not a number', () => {
    expect(() => parseMetricsCsv('name,area_um2\na,1')).toThrow(MetricsCsvError);
    expect(() => parseMetricsCsv('name,area_um2\na,1')).toThrow(/lacks the column\(s\) power_mw/);
    expect(() => parseMetricsCsv('name,power_mw\na,0.3\nb,n/a')).toThrow(/line 3: column power_mw: not a number \('n\/a'\)/);
    expect(() => parseMetricsCsv('name,power_mw\na,')).toThrow(/line 2: column power_mw/);
    expect(() => parseMetricsCsv('')).toThrow(/empty/);
  });

  it('attaches published power relative to the exact circuit', () => {
    const imported = importMultipliers(readEvoApproxFiles(), readEvoApproxCsv());
    expect(imported).toHaveLength(36);
    const exact = imported.find((m) => m.name === 'mul8u_1JFF')!;
    expect(exact.power).toEqual({ mw: 0.391, relative: 1, source: 'published' });
    const m = imported.find((x) => x.name === 'mul8u_12N4')!;
    expect(m.id).toBe('imported:mul8u_12N4');
    expect(m.power!.relative).toBeCloseTo(0.142 / 0.391, 12);
    expect(m.published!.mae_pct).toBe(0.43);
  });

  it('keeps user figures as given when the CSV has no exact reference', () => {
    const file = readEvoApproxFiles().find((f) => f.name === 'mul8u_12N4.bin')!;
    const [withRelative] = importMultipliers([file], 'name,power_mw,relative_power\nmul8u_12N4,0.2,0.5\n');
    expect(withRelative.power).toEqual({ mw: 0.2, relative: 0.5, source: 'user' });
    const [bare] = importMultipliers([file], 'name,power_mw\nmul8u_12N4,0.2\n');
    expect(bare.power).toEqual({ mw: 0.2, relative: null, source: 'user' });
    const [none] = importMultipliers([file]);
    expect(none.power).toBeNull();
  });
});
