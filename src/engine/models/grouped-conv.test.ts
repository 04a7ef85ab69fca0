import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { groupedPointwise, groupedPointwiseParams } from './grouped-conv';

beforeAll(() => initNodeBackend('wasm'));

describe('groupedPointwise', () => {
  it('computes a 1x1 convolution with a block-diagonal kernel, as plain Conv2D layers', () => {
    const input = tf.input({ shape: [1, 7, 6] });
    const model = tf.model({ inputs: input, outputs: groupedPointwise(input, { name: 'pw', filters: 9, groups: 3, seed: 1 }) });
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
    expect(convs.map((l) => l.name)).toEqual(['pw_g1', 'pw_g2', 'pw_g3']);
    expect(model.countParams()).toBe(groupedPointwiseParams(6, 9, 3));
    // Assemble the equivalent dense kernel: group g maps inputs 2g..2g+1 to outputs 3g..3g+2.
    const dense = tf.buffer([1, 1, 6, 9]);
    convs.forEach((l, g) => {
      const k = l.getWeights()[0].arraySync() as number[][][][];
      for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) dense.set(k[0][0][i][o], 0, 0, 2 * g + i, 3 * g + o);
    });
    const x = tf.randomNormal([2, 1, 7, 6], 0, 1, 'float32', 3);
    const got = model.predict(x) as tf.Tensor;
    const want = tf.conv2d(x as tf.Tensor4D, dense.toTensor() as tf.Tensor4D, 1, 'valid');
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, got, want]);
    model.dispose();
  });

  it('is a single Conv2D for one group and refuses channels that do not split', () => {
    const input = tf.input({ shape: [1, 5, 4] });
    const one = groupedPointwise(input, { name: 'pw', filters: 6, groups: 1, seed: 1 });
    expect(tf.model({ inputs: input, outputs: one }).layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D']);
    expect(() => groupedPointwise(input, { name: 'bad', filters: 6, groups: 3, seed: 1 })).toThrow(/3 groups/);
  });
});
