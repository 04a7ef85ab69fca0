import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { builtinCatalogue } from '../approx/catalogue';
import { Session } from '../session';
import { nodeHost } from '../host-node';
import { candidatesFrom, cheapestGain, chooseMultipliers, energyOf, stepBack, type ErrorPair } from './mapping';
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

    // One step back: the cheapest multiplier with at most half the error variance of a's choice.
    const back = stepBack(layers[0], pairs, c)!;
    const less = c.filter((m) => 2000 * (1 - m.relativePower) <= layers[0].predicted / Math.SQRT2);
    expect(less.length).toBeLessThan(c.filter((m) => 2000 * (1 - m.relativePower) < layers[0].predicted).length);
    expect(back.multiplier).toBe(less[0].id);
    expect(back.predicted).toBeLessThan(layers[0].predicted);
    expect(back.relativePower).toBeGreaterThan(layers[0].relativePower);
    expect(back.sigmaTol).toBe(layers[0].sigmaTol);
    // Nothing is more accurate than exact.
    expect(stepBack(layers[1], pairs, c)).toBeNull();
  });
});

describe('the guard\'s step', () => {
  it('buys the most accuracy per energy among steps that gain at least half the best gain', () => {
    const at = { accuracy: 0.8, energy: 0.3 };
    const big = { name: 'big', accuracy: 0.9, energy: 0.4 }; // +10 pp for 0.1
    const lean = { name: 'lean', accuracy: 0.86, energy: 0.31 }; // +6 pp for 0.01
    const tiny = { name: 'tiny', accuracy: 0.82, energy: 0.3001 }; // +2 pp for 0.0001: too little to trust
    expect(cheapestGain([big, lean, tiny], at.accuracy, at.energy).name).toBe('lean');
    expect(cheapestGain([big, tiny], at.accuracy, at.energy).name).toBe('big');
    // Nothing gains: the least harmful step, the cheaper one on a tie.
    const worse = { name: 'worse', accuracy: 0.7, energy: 0.31 };
    const flat = { name: 'flat', accuracy: 0.8, energy: 0.35 };
    const flatCheap = { name: 'flat-cheap', accuracy: 0.8, energy: 0.32 };
    expect(cheapestGain([worse, flat, flatCheap], at.accuracy, at.energy).name).toBe('flat-cheap');
  });
});

describe('mapping through the session', () => {
  it('leaves excluded multipliers out of the candidates, never the exact one', async () => {
    const session = new Session(nodeHost());
    const all = await session.mappingCandidates('builtin');
    const some = await session.mappingCandidates('builtin', ['bam-2-8', 'trunc-8', 'exact']);
    expect(some.map((c) => c.id)).toEqual(all.map((c) => c.id).filter((id) => id !== 'bam-2-8' && id !== 'trunc-8'));
    expect(some.some((c) => c.exact)).toBe(true);
    const every = all.filter((c) => !c.exact).map((c) => c.id);
    await expect(session.mappingCandidates('builtin', every)).rejects.toThrow('nothing to choose');
  });

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
    // 256 training digits leave the rest of the 8,000 for checking: 1,000 of them.
    expect(r.guard?.samples).toBe(1000);
    expect(r.retrained.selection?.accuracies).toHaveLength(2);
    const after = await session.evaluate();
    expect(after.accuracy).toBe(before.accuracy);
    expect(after.loss).toBe(before.loss);
  }, 120_000);
});

describe('the guard', () => {
  it('steps layers of a choice that loses too much on held-out digits back to more accurate multipliers, which holds on the test digits too', async () => {
    const session = new Session(nodeHost());
    await session.open({ kind: 'zoo', name: 'lenet' });
    // The session keeps the test digits once loaded.
    await session.evaluate();
    const tensors = tf.memory().numTensors;
    // λ = 0.8 buys more noise than LeNet's first layers take from real multipliers.
    const request = { epochs: 1, trainLimit: 1024, testLimit: 1000, batchSize: 32, lambda: 0.8, retrainEpochs: 0, baselines: false, referenceCount: 64 };
    const unguarded = await session.mapMultipliers({ ...request, guard: 0 });
    const guarded = await session.mapMultipliers({ ...request, guard: 0.02 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(unguarded.guard).toBeUndefined();
    const g = guarded.guard!;
    expect(g.samples).toBe(1000);
    // Both runs learnt the same tolerances (same seed): the guard started from the same choice.
    expect(guarded.layers.map((l) => l.sigmaTol)).toEqual(unguarded.layers.map((l) => l.sigmaTol));
    expect(g.exactAccuracy - g.chosenAccuracy).toBeGreaterThan(0.02);
    expect(g.steps.length).toBeGreaterThan(0);
    const last = g.steps[g.steps.length - 1];
    expect(g.exactAccuracy - last.validationAccuracy).toBeLessThanOrEqual(0.02);
    expect(last.relativeEnergy).toBeCloseTo(guarded.mapped.relativeEnergy, 10);
    expect(guarded.mapped.relativeEnergy).toBeGreaterThan(unguarded.mapped.relativeEnergy);
    // Each step moved one layer to a multiplier of at most half the predicted error variance.
    const predicted = (layer: string, id: string) => guarded.pairs.find((p) => p.layer === layer && p.multiplier === id)!.predicted;
    for (const st of g.steps) if (st.to !== 'exact') expect(predicted(st.layer, st.to)).toBeLessThanOrEqual(predicted(st.layer, st.from) / Math.SQRT2);
    // Chosen on training digits, it pays on the test digits.
    expect(guarded.mapped.accuracy).toBeGreaterThan(unguarded.mapped.accuracy + 0.02);
  }, 180_000);
});
