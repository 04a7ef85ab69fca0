import { describe, expect, it } from 'vitest';
import { builtinCatalogue } from '../approx/catalogue';
import { candidatesFrom, type ErrorPair } from '../noise/mapping';
import { defaultScales, searchOperatingPoints, type QosLayer } from './search';

const catalogue = builtinCatalogue();
const candidates = candidatesFrom(catalogue, catalogue.find((e) => e.id === 'exact')!);

// Eight layers with tolerances spread over two decades; predicted error grows as power falls.
const layers: QosLayer[] = Array.from({ length: 8 }, (_, i) => ({ name: `l${i}`, opsShare: (i + 1) / 36, sigmaTol: 20 * 1.8 ** i }));
const pairs: ErrorPair[] = layers.flatMap((l) => candidates.map((c) => ({ layer: l.name, multiplier: c.id, predicted: c.exact ? 0 : 4000 * (1 - c.relativePower) ** 2 + 1, measured: 0 })));
const predicted = (layer: string, id: string) => pairs.find((p) => p.layer === layer && p.multiplier === id)!.predicted;
const power = new Map(candidates.map((c) => [c.id, c.relativePower]));

describe('operating-point search', () => {
  const result = searchOperatingPoints(layers, pairs, candidates, { instances: 4, scales: [0.3, 1, 2], seed: 3 });

  it('uses at most K instances over all points, and each point assigns every layer', () => {
    expect(result.instances.length).toBeGreaterThan(1);
    expect(result.instances.length).toBeLessThanOrEqual(4);
    const used = new Set(result.points.flatMap((p) => Object.values(p.assignment)));
    expect([...used].sort()).toEqual([...result.instances].sort());
    for (const p of result.points) expect(Object.keys(p.assignment).sort()).toEqual(layers.map((l) => l.name).sort());
  });

  it('orders points from most accurate to cheapest: tolerating more error costs less power', () => {
    expect(result.points.map((p) => p.scale)).toEqual([0.3, 1, 2]);
    const powers = result.points.map((p) => p.relativePower);
    expect(powers[0]).toBeGreaterThan(powers[2]);
    for (let i = 1; i < powers.length; i++) expect(powers[i]).toBeLessThanOrEqual(powers[i - 1]);
    for (const p of result.points) expect(p.relativePower).toBeCloseTo(layers.reduce((s, l) => s + l.opsShare * power.get(p.assignment[l.name])!, 0), 12);
  });

  it('gives the per-layer optimum of each point as the cheapest fitting multiplier, never dearer than needed', () => {
    for (const [i, opt] of result.perLayerOptimal.entries()) {
      const scale = opt.scale;
      for (const l of layers) {
        const chosen = opt.assignment[l.name];
        expect(predicted(l.name, chosen) <= scale * l.sigmaTol || chosen === 'exact').toBe(true);
        const cheaper = candidates.filter((c) => c.relativePower < power.get(chosen)! && !c.exact);
        for (const c of cheaper) expect(predicted(l.name, c.id)).toBeGreaterThan(scale * l.sigmaTol);
      }
      expect(result.points[i].scale).toBe(scale);
    }
    expect(result.perLayerOptimalInstances).toBeGreaterThanOrEqual(result.instances.length);
  });

  it('drops multipliers that fit no (layer, point), and is reproducible from its seed', () => {
    for (const id of result.considered) expect(layers.some((l) => [0.3, 1, 2].some((s) => predicted(l.name, id) <= s * l.sigmaTol))).toBe(true);
    expect(result.considered.length).toBeLessThan(candidates.length);
    expect(searchOperatingPoints(layers, pairs, candidates, { instances: 4, scales: [0.3, 1, 2], seed: 3 })).toEqual(result);
  });

  it('with one instance every layer and point shares one multiplier; with no tolerance all stay exact', () => {
    const one = searchOperatingPoints(layers, pairs, candidates, { instances: 1 });
    expect(one.instances).toHaveLength(1);
    const none = searchOperatingPoints(
      layers.map((l) => ({ ...l, sigmaTol: 0 })),
      pairs,
      candidates,
    );
    expect(none.instances).toEqual(['exact']);
    expect(none.points.every((p) => p.relativePower === 1)).toBe(true);
  });

  it('rejects bad settings with a clear message', () => {
    expect(() => searchOperatingPoints(layers, pairs, candidates, { instances: 0 })).toThrow(/instances/);
    expect(() => searchOperatingPoints(layers, pairs, candidates, { scales: [1, -2] })).toThrow(/scales/);
    expect(() => searchOperatingPoints(layers, pairs.slice(1), candidates)).toThrow(/no predicted error/);
    expect(() => defaultScales(0)).toThrow(/whole number/);
    expect(defaultScales(3)).toEqual([0.3, 1, 2]);
    const five = defaultScales(5);
    expect(five[0]).toBeCloseTo(0.3);
    expect(five[4]).toBeCloseTo(2);
    for (let i = 1; i < 5; i++) expect(five[i]).toBeGreaterThan(five[i - 1]);
  });
});
