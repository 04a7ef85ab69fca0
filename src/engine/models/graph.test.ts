import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { runGraph } from './graph';
import { ZOO } from './zoo';
import { TASK_SHAPES } from '../data/tasks';

beforeAll(() => initNodeBackend('wasm'));

describe('runGraph', () => {
  for (const entry of ZOO) {
    it(`reproduces predict() for ${entry.name} (residual adds, BatchNorm, pooling)`, () => {
      const model = entry.build(4);
      const x = tf.randomUniform([3, ...TASK_SHAPES[entry.task].sampleShape], 0, 1, 'float32', 7);
      const a = model.predict(x) as tf.Tensor;
      const before = tf.memory().numTensors;
      const b = runGraph(model, x);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
      tf.dispose([x, a, b]);
      model.dispose();
    });
  }

  it('lets a hook replace a layer', () => {
    const model = ZOO[0].build(1);
    const x = tf.zeros([1, 28, 28, 1]);
    const seen: string[] = [];
    const y = runGraph(model, x, (layer, input) => {
      seen.push(layer.name);
      return layer.name === 'fc3' ? tf.fill([input.shape[0], 10], 0.1) : null;
    });
    expect(seen).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'fc2', 'fc3']);
    expect(Array.from(y.dataSync())).toEqual(Array(10).fill(0.1).map(Math.fround));
    tf.dispose([x, y]);
    model.dispose();
  });
});
