import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { sliceDigits } from '../data/digits';
import { loadDigitsFromDisk } from '../data/digits-node';
import { sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { learnTolerance, multiplyShares } from './tolerance';

describe('noise-tolerance training', () => {
  let data: Batchable;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    data = sliceToTensors(sliceDigits(await loadDigitsFromDisk(), 'train', 512), [28, 28, 1]);
  });
  afterAll(() => tf.dispose([data.x, data.y]));

  it('weighs layers by their share of multiplications', async () => {
    const model = await loadShippedModel('lenet');
    const shares = multiplyShares(model);
    expect(shares.map((s) => s.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
    expect(shares.reduce((a, s) => a + s.opsShare, 0)).toBeCloseTo(1, 10);
    expect(shares[1].opsShare).toBeGreaterThan(shares[4].opsShare * 100);
    model.dispose();
  });

  it('a large λ buys noise where multiplications are many; λ = 0 lets σ fall; no tensors leak', async () => {
    const run = async (lambda: number) => {
      const model = await loadShippedModel('lenet');
      const before = tf.memory().numTensors;
      const r = await learnTolerance(model, data, { lambda, epochs: 1, batchSize: 32, seed: 3 });
      // the model's own tensors are unchanged in number: σ, optimiser state and noise are freed
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      return r;
    };
    const free = await run(0);
    const greedy = await run(2);
    expect(free.steps).toBe(16);
    expect(free.history).toHaveLength(16);
    const sigma = (r: typeof free, name: string) => r.layers.find((l) => l.name === name)!.sigma;
    // With no reward, noise only hurts: σ of the big layers goes below its start of 0.1.
    expect(sigma(free, 'conv2')).toBeLessThan(0.1);
    // With a strong reward the layers carrying most multiplications take the most noise.
    expect(sigma(greedy, 'conv2')).toBeGreaterThan(0.2);
    expect(sigma(greedy, 'conv2')).toBeGreaterThan(sigma(greedy, 'fc3'));
    expect(sigma(greedy, 'conv2')).toBeGreaterThan(sigma(free, 'conv2') + 0.1);
  });

  it('rejects bad settings before touching the model', async () => {
    const model = await loadShippedModel('lenet');
    await expect(learnTolerance(model, data, { lambda: -1 })).rejects.toThrow(/λ/);
    await expect(learnTolerance(model, data, { epochs: 0 })).rejects.toThrow(/epochs/);
    model.dispose();
  });

  it('stops when asked, between batches', async () => {
    const model = await loadShippedModel('lenet');
    let steps = 0;
    const r = await learnTolerance(model, data, { epochs: 1, batchSize: 32, shouldStop: () => steps >= 3, onProgress: (p) => (steps = p.step), progressEveryMs: 0 });
    expect(r.cancelled).toBe(true);
    expect(r.steps).toBe(3);
    model.dispose();
  });
});
