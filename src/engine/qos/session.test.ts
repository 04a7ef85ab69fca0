import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { nodeHost } from '../host-node';
import { Session } from '../session';

beforeAll(() => initNodeBackend('wasm'));

describe('operating points through the session', () => {
  it('builds, switches, predicts, survives a new session (reload) and leaks nothing', async () => {
    const host = nodeHost();
    const session = new Session(host);
    await session.open({ kind: 'zoo', name: 'lenet' });
    const before = await session.evaluate();
    await expect(session.restoreOperatingPoints()).resolves.toBeNull();
    expect(() => session.switchOperatingPoint(0)).toThrow(/build them first/);
    const r = await session.buildOperatingPoints({ epochs: 1, trainLimit: 256, testLimit: 300, batchSize: 32, finetuneEpochs: 1, referenceCount: 64, instances: 3 });

    expect(r.points.map((p) => p.scale)).toEqual([0.3, 1, 2]);
    expect(r.instances.length).toBeLessThanOrEqual(3);
    const ids = new Set(r.instances.map((m) => m.id));
    for (const p of r.points) {
      expect(Object.keys(p.assignment)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
      for (const id of Object.values(p.assignment)) expect(ids.has(id)).toBe(true);
    }
    expect(r.points[0].relativePower).toBeGreaterThan(r.points[2].relativePower);
    expect(r.points[0].accuracyAfter).toBeGreaterThan(0.9);
    expect(r.finetune.steps).toBe(8);
    expect(r.overhead.perPointTrainable).toBe(6 + 16 + 120 + 84 + 10);
    // The open model is untouched: the points live on a copy.
    const after = await session.evaluate();
    expect(after.accuracy).toBe(before.accuracy);

    // Switching and classifying at each point; repeated calls leave the tensor count alone.
    const digits = Array.from({ length: 12 }, (_, i) => i);
    const first = await session.operatingPointPredictions(0, digits);
    expect(first.labels).toHaveLength(12);
    expect(first.predictions.filter((p, i) => p === first.labels[i]).length).toBeGreaterThanOrEqual(10);
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) {
      session.switchOperatingPoint(i % 3);
      await session.operatingPointPredictions(i % 3, digits);
    }
    expect(tf.memory().numTensors).toBe(steady);
    expect(session.switchOperatingPoint(1).ms).toBeLessThan(50);
    await expect(session.operatingPointPredictions(0, [5000])).rejects.toThrow(/below 300|below 2000/);
    expect(() => session.switchOperatingPoint(7)).toThrow(/no operating point 7/);

    // A new session over the same storage (a reload) restores the same network.
    const cheapest = await session.operatingPointPredictions(2, digits);
    const later = new Session(host);
    await later.open({ kind: 'zoo', name: 'lenet' });
    const restored = await later.restoreOperatingPoints();
    expect(restored).toEqual(r);
    const again = await later.operatingPointPredictions(2, digits);
    expect(again.predictions).toEqual(cheapest.predictions);
    expect(again.confidences).toEqual(cheapest.confidences);

    await later.deleteOperatingPoints();
    await expect(later.restoreOperatingPoints()).resolves.toBeNull();
    // Opening a model lets go of the network and of every tensor it held.
    const held = tf.memory().numTensors;
    await session.open({ kind: 'zoo', name: 'lenet' });
    expect(() => session.switchOperatingPoint(0)).toThrow(/build them first/);
    expect(tf.memory().numTensors).toBeLessThan(held);
  }, 240_000);
});
