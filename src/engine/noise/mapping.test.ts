import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { builtinCatalogue } from '../approx/catalogue';
import { Session } from '../session';
import { nodeHost } from '../host-node';
import { candidatesFrom, chooseMultipliers, energyOf, type ErrorPair } from './mapping';
import type { LayerSample } from './error-model';

beforeAll(() => initNodeBackend('wasm'));

const catalogue = builtinCatalogue();
const exact = catalogue.find((e) => e.id === 'exact')!;

describe('choosing multipliers', () => {
  it('takes candidates with known power, cheapest first, with the exact multiplier always among them', () => {
    const noExact = catalogue.filter((e) => e.id !== 'exact');
    const c = candidatesFrom(noExact, exact);
    expect(c.some((x) => x.id === 'exact')).toBe(true);
    expect(c.map((x) => x.relativePower)).toEqual([...c.map((x) => x.relativePower)].sort((a, b) => a - b));
    expect(c.every((x) => x.relativePower !== null)).toBe(true);
  });

  it('gives each layer the lowest-power multiplier whose predicted error fits its tolerance', () => {
    const c = candidatesFrom(catalogue, exact);
    const samples = [{ name: 'a', outputStd: 1000 }, { name: 'b', outputStd: 1000 }] as LayerSample[];
    // Predicted error grows as power falls: σ̂ = 2000·(1 − P).
    const pairs: ErrorPair[] = samples.flatMap((s) => c.map((m) => ({ layer: s.name, multiplier: m.id, predicted: 2000 * (1 - m.relativePower), measured: 0 })));
    const layers = chooseMultipliers(
      [
        { name: 'a', sigma: 0.5, opsShare: 0.75, macs: 3 },
        { name: 'b', sigma: 0.0, opsShare: 0.25, macs: 1 },
      ],
      samples,
      pairs,
      c,
    );
    // a tolerates 500: the cheapest with 2000·(1 − P) ≤ 500, i.e. P ≥ 0.75
    const fitting = c.filter((m) => 2000 * (1 - m.relativePower) <= 500);
    expect(layers[0].multiplier).toBe(fitting[0].id);
    expect(layers[0].sigmaTol).toBe(500);
    // b tolerates nothing: exact
    expect(layers[1].multiplier).toBe('exact');
    expect(energyOf(layers)).toBeCloseTo(0.75 * fitting[0].relativePower + 0.25, 10);
  });
});

describe('mapping through the session', () => {
  it('learns tolerances and maps LeNet without changing the open model or leaking tensors', async () => {
    const session = new Session(nodeHost());
    await session.open({ kind: 'zoo', name: 'lenet' });
    const before = await session.evaluate();
    const tensors = tf.memory().numTensors;
    const tol = await session.learnTolerance({ epochs: 1, trainLimit: 256, batchSize: 32, lambda: 1 });
    for (const l of tol.layers) expect(l.sigmaTol).toBeCloseTo(l.sigma * l.outputStd, 6);
    const r = await session.mapMultipliers({ epochs: 1, trainLimit: 256, testLimit: 500, batchSize: 32, lambda: 0.2, retrainEpochs: 1, baselines: false, referenceCount: 64 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(r.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
    for (const l of r.layers) expect(l.predicted).toBeLessThanOrEqual(l.sigmaTol);
    expect(r.mapped.relativeEnergy).toBeLessThan(0.9);
    expect(r.mapped.relativeEnergy).toBeCloseTo(energyOf(r.layers), 10);
    expect(r.exact.accuracy).toBeGreaterThan(0.95);
    expect(r.retrained.accuracy).toBeGreaterThan(0.9);
    expect(r.pairs).toHaveLength(5 * r.candidates.length);
    expect(r.correlation).toBeGreaterThan(0.9);
    const after = await session.evaluate();
    expect(after.accuracy).toBe(before.accuracy);
    expect(after.loss).toBe(before.loss);
  }, 120_000);
});
