// Quantisers inserted before the convolutions of whole models: every zoo model, 8 bits against float,
// memory, and a short fine-tune on a small digit subset.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { sliceDigits } from '../data/digits';
import { loadDigitsFromDisk } from '../data/digits-node';
import { TASK_SHAPES } from '../data/tasks';
import { disposeBatchable, sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { ZOO } from '../models/zoo';
import { cloneModel, CONV_LAYERS, QuantisedModel, quantiseModel } from './insert';
import { SqueezeThresholdQuantiser } from './squeeze-threshold';

let train: Batchable;
let test: Batchable;

beforeAll(async () => {
  await initNodeBackend('wasm');
  const digits = await loadDigitsFromDisk();
  train = sliceToTensors(sliceDigits(digits, 'train', 512), [28, 28, 1]);
  // 500 test digits keep the suite fast.
  const all = sliceToTensors(sliceDigits(digits, 'test'), [28, 28, 1]);
  test = { x: all.x.slice(0, 500), y: all.y.slice(0, 500), count: 500 };
  disposeBatchable(all);
});

afterAll(() => {
  disposeBatchable(train);
  disposeBatchable(test);
});

/** Agreement of the two models' top-1 answers and the mean absolute probability difference. */
function compare(a: tf.Tensor, b: tf.Tensor): { agreement: number; meanDiff: number } {
  return tf.tidy(() => ({
    agreement: tf.mean(tf.cast(tf.equal(tf.argMax(a, 1), tf.argMax(b, 1)), 'float32')).dataSync()[0],
    meanDiff: tf.mean(tf.abs(tf.sub(a, b))).dataSync()[0],
  }));
}

describe('quantisers inserted before convolutions', () => {
  for (const entry of ZOO) {
    it(`covers every convolution of ${entry.name} and keeps its output shape`, () => {
      const model = entry.build(3);
      const x = tf.randomUniform([2, ...TASK_SHAPES[entry.task].sampleShape], 0, 1, 'float32', 5);
      const q = QuantisedModel.create(model, x, { method: 'st', bits: 4 });
      const convs = model.layers.filter((l) => CONV_LAYERS.has(l.getClassName())).map((l) => l.name);
      expect([...q.quantisers.keys()]).toEqual(convs);
      const y = q.predict(x);
      expect(y.shape).toEqual((model.predict(x) as tf.Tensor).shape);
      tf.dispose([x, y]);
      q.dispose();
      model.dispose();
    });
  }

  for (const name of ['lenet', 'mobilenet']) {
    for (const method of ['st', 'uniform'] as const) {
      it(`at 8 bits ${name} (${method}) answers as the float model does`, async () => {
        const model = await loadShippedModel(name);
        const before = model.getWeights().map((w) => w.dataSync().slice());
        const q = QuantisedModel.create(model, train.x.slice(0, 64), { method, bits: 8 });
        const x = test.x.slice(0, name === 'mobilenet' ? 100 : 500);
        const float = model.predict(x) as tf.Tensor;
        const quant = q.predict(x);
        const { agreement, meanDiff } = compare(float, quant);
        expect(agreement).toBeGreaterThanOrEqual(0.99);
        expect(meanDiff).toBeLessThan(0.005);
        // Inserting quantisers leaves the weights alone.
        model.getWeights().forEach((w, i) => expect(w.dataSync()).toEqual(before[i]));
        tf.dispose([x, float, quant]);
        q.dispose();
        model.dispose();
      });
    }
  }

  it('adds quantisers before Dense layers on request', () => {
    const model = ZOO[0].build(1);
    const q = QuantisedModel.create(model, train.x.slice(0, 16), { method: 'uniform', bits: 4, dense: true });
    expect([...q.quantisers.keys()]).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
    q.dispose();
    model.dispose();
  });

  it('keeps the tensor count stable across repeated predict and evaluate calls', async () => {
    const model = await loadShippedModel('mobilenet');
    const q = QuantisedModel.create(model, train.x.slice(0, 64), { method: 'st', bits: 3 });
    const x = test.x.slice(0, 32);
    const small = { x: test.x.slice(0, 50), y: test.y.slice(0, 50), count: 50 };
    tf.dispose(q.predict(x));
    await q.evaluate(small, 25);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      tf.dispose(q.predict(x));
      await q.evaluate(small, 25);
      expect(tf.memory().numTensors).toBe(start);
    }
    tf.dispose([x]);
    disposeBatchable(small);
    q.dispose();
    model.dispose();
  });

  it('fine-tunes lenet on 512 digits for one epoch (both methods), freezes, and leaks nothing', async () => {
    const baseline = tf.memory().numTensors;
    const model = await loadShippedModel('lenet');
    for (const method of ['st', 'uniform'] as const) {
      const copy = await cloneModel(model);
      const weightsBefore = copy.getWeights()[0].dataSync().slice();
      const losses: number[] = [];
      const { quantised, calibrated, fineTune } = await quantiseModel(copy, train, {
        method,
        bits: 2,
        epochs: 1,
        seed: 2,
        test,
        onProgress: (p) => losses.push(p.loss),
      });
      expect(fineTune!.stepsCompleted).toBe(8);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(quantised.frozen).toBe(true);
      if (method === 'st') {
        // Six steps with attention and learned thresholds, two against the frozen thresholds.
        expect(fineTune!.firstStageSteps).toBe(6);
        for (const q of quantised.quantisers.values()) expect((q as SqueezeThresholdQuantiser).summary()).toMatchObject({ frozen: true, thresholds_per_channel: 3 });
      }
      // The weights moved, and the quantised model still reads digits.
      expect(copy.getWeights()[0].dataSync()).not.toEqual(weightsBefore);
      const after = await quantised.evaluate(test);
      expect(calibrated!.accuracy).toBeGreaterThan(0.9);
      expect(after.accuracy).toBeGreaterThan(0.9);
      // The shipped model itself is untouched by fine-tuning a clone.
      quantised.dispose();
      copy.dispose();
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
