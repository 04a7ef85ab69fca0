import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../host-node';
import { MultiplierCatalogue } from './catalogue-store';
import { EVOAPPROX_DIR } from './evoapprox-fixtures';

const file = (name: string) => {
  const b = readFileSync(path.join(EVOAPPROX_DIR, name));
  return { name, bytes: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
};

describe('MultiplierCatalogue', () => {
  it('lists the built-in library with metrics, and remembers them', async () => {
    const storage = memoryStore();
    const catalogue = new MultiplierCatalogue(storage);
    const progress: number[] = [];
    const list = await catalogue.list((done) => progress.push(done));
    expect(list.length).toBeGreaterThanOrEqual(28);
    expect(progress.at(-1)).toBe(list.length);
    expect(list[0]).toMatchObject({ id: 'exact', family: 'exact', metrics: { mae_pct: 0, rank: 0 }, power: { relative: 1 } });
    const started = performance.now();
    await new MultiplierCatalogue(storage).list();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('says how each multiplier is simulated: product form, error form or direct lookup', async () => {
    const catalogue = new MultiplierCatalogue(memoryStore());
    expect(await catalogue.simulation('tm-2')).toEqual({ form: 'product', terms: 1 });
    expect(await catalogue.simulation('trunc-2')).toEqual({ form: 'error', terms: 2 });
    expect(await catalogue.simulation('exact')).toEqual({ form: 'error', terms: 0 });
    expect(await catalogue.simulation('mitchell')).toEqual({ form: 'lookup', terms: 0 });
  });

  it('imports tables with published power, keeps them, and removes them', async () => {
    const storage = memoryStore();
    const catalogue = new MultiplierCatalogue(storage);
    const added = await catalogue.import([file('mul8u_2AC.bin'), file('mul8u_1JFF.bin'), file('metrics.csv')]);
    expect(added.map((m) => m.id).sort()).toEqual(['imported:mul8u_1JFF', 'imported:mul8u_2AC']);
    const ac = added.find((m) => m.name === 'mul8u_2AC')!;
    expect(ac.power.source).toBe('published');
    expect(ac.power.relative).toBeCloseTo(0.311 / 0.391, 2);
    expect(ac.metrics.mae_pct).toBeCloseTo(0.037, 3);
    const again = new MultiplierCatalogue(storage);
    expect((await again.list()).map((m) => m.id)).toContain('imported:mul8u_2AC');
    expect((await again.errorTable('imported:mul8u_1JFF')).every((e) => e === 0)).toBe(true);
    await again.remove('imported:mul8u_2AC');
    expect((await again.list()).map((m) => m.id)).not.toContain('imported:mul8u_2AC');
  });

  it('rejects bad files and keeps nothing from a failed import', async () => {
    const storage = memoryStore();
    const catalogue = new MultiplierCatalogue(storage);
    const short = { name: 'short.bin', bytes: new ArrayBuffer(1000) };
    await expect(catalogue.import([file('mul8u_2AC.bin'), short])).rejects.toThrow(/short\.bin: 1000 bytes is not a 256x256 table/);
    await expect(catalogue.import([{ name: 'empty.bin', bytes: new ArrayBuffer(0) }])).rejects.toThrow(/empty/);
    await expect(catalogue.import([file('metrics.csv')])).rejects.toThrow(/no table file/);
    expect([...storage.map.keys()].filter((k) => k.startsWith('multiplier/'))).toEqual([]);
  });
});
