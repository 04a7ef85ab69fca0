// Accuracy against bits on a real model: the plan, the pictures, cancelling, memory.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { sliceDigits } from '../data/digits';
import { loadDigitsFromDisk } from '../data/digits-node';
import { disposeBatchable, sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { channelHistograms, quantisationStudy, studyPlan } from './study';

let train: Batchable;
let test: Batchable;
let model: tf.LayersModel;

beforeAll(async () => {
  await initNodeBackend('wasm');
  const digits = await loadDigitsFromDisk();
  train = sliceToTensors(sliceDigits(digits, 'train', 256), [28, 28, 1]);
  const all = sliceToTensors(sliceDigits(digits, 'test'), [28, 28, 1]);
  test = { x: all.x.slice(0, 300), y: all.y.slice(0, 300), count: 300 };
  disposeBatchable(all);
  model = await loadShippedModel('lenet');
});

afterAll(() => {
  disposeBatchable(train);
  disposeBatchable(test);
  model.dispose();
});

describe('the plan', () => {
  it('runs each method over its bit widths in ascending order, once each', () => {
    expect(studyPlan({ methods: ['st', 'uniform'], bits: [4, 2, 4] })).toEqual([
      { method: 'st', bits: 2 },
      { method: 'st', bits: 4 },
      { method: 'uniform', bits: 2 },
      { method: 'uniform', bits: 4 },
    ]);
    expect(() => studyPlan({ methods: [], bits: [2] })).toThrow(/at least one/);
  });
});

describe('channel histograms', () => {
  it('counts values per channel over a range that takes in the thresholds, zeros apart', () => {
    // Two channels interleaved: channel 0 = 0, 1, 2, 3; channel 1 = −1, 0, 0, 5.
    const values = Float32Array.from([0, -1, 1, 0, 2, 0, 3, 5]);
    const [a, b] = channelHistograms(values, 2, 4, (c) => (c === 0 ? [4.5] : [-3]));
    expect(a).toMatchObject({ lo: 0, hi: 4.5, zeros: 1, total: 4 });
    expect(a.counts).toEqual([1, 1, 1, 0]); // 1, 2, 3 in [0, 1.125), [1.125, 2.25), [2.25, 3.375)
    expect(b).toMatchObject({ lo: -3, hi: 5, zeros: 2, total: 4 });
    expect(b.counts).toEqual([0, 1, 0, 1]); // −1 in [−1, 1), 5 in the last bin
  });
});

describe('accuracy against bits on LeNet', () => {
  it('measures every run, describes each layer, and leaves the model and memory as they were', async () => {
    const before = tf.memory().numTensors;
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    const progress: number[] = [];
    const study = await quantisationStudy(model, train, test, { methods: ['st', 'uniform'], bits: [2, 8], epochs: 0 }, { onProgress: (p) => progress.push(p.run) });
    expect(study.runs.map((r) => `${r.method}${r.bits}`)).toEqual(['st2', 'st8', 'uniform2', 'uniform8']);
    expect(new Set(progress)).toEqual(new Set([0, 1, 2, 3]));
    expect(study.cancelled).toBe(false);
    expect(study.floatAccuracy).toBeGreaterThan(0.9);
    // Eight bits, as calibrated, answer as the float model does.
    for (const r of study.runs.filter((r) => r.bits === 8)) expect(Math.abs(r.accuracy - study.floatAccuracy)).toBeLessThanOrEqual(0.01);
    for (const r of study.runs) {
      expect(r.accuracy).toBe(r.calibratedAccuracy); // no fine-tuning asked for
      expect(r.layers.map((l) => l.layer)).toEqual(['conv1', 'conv2']);
      for (const l of r.layers) {
        expect(l.thresholds.length).toBe(r.method === 'st' ? l.channels : 1);
        for (const row of l.thresholds) {
          expect(row.length).toBe(2 ** r.bits - 1);
          expect(row.every((t, i) => i === 0 || t > row[i - 1])).toBe(true);
        }
        expect(l.levels.every((row) => row.length === 2 ** r.bits)).toBe(true);
        expect(l.histograms.length).toBe(l.channels);
        // 128 test digits of 28 × 28 (conv1) or conv2's input map, per channel.
        const perChannel = l.histograms[0].total;
        expect(perChannel % 128).toBe(0);
        l.histograms.forEach((h, c) => {
          expect(h.total).toBe(perChannel);
          expect(h.counts.reduce((s, n) => s + n, 0) + h.zeros).toBe(h.total);
          // The range takes in this channel's own thresholds, so each can be drawn over it.
          const own = l.thresholds[Math.min(c, l.thresholds.length - 1)];
          expect(h.lo).toBeLessThanOrEqual(own[0]);
          expect(h.hi).toBeGreaterThanOrEqual(own[own.length - 1]);
        });
      }
    }
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('stops on request, keeping only the runs that finished', async () => {
    const before = tf.memory().numTensors;
    let started = 0;
    const study = await quantisationStudy(
      model,
      train,
      test,
      { methods: ['st'], bits: [2, 3, 4], epochs: 1, batchSize: 32 },
      {
        floatAccuracy: 0.5,
        onProgress: (p) => {
          if (p.step === 0) started = p.run + 1;
        },
        // Stop in the middle of the second run's fine-tune.
        shouldStop: () => started >= 2,
      },
    );
    expect(study.cancelled).toBe(true);
    expect(study.runs.map((r) => r.bits)).toEqual([2]);
    expect(study.runs[0].steps).toBe(8);
    expect(study.floatAccuracy).toBe(0.5);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
