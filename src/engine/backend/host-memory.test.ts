import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productInto, readableStorage, tensorWrittenBy, writableStorage } from './host-memory';
import { initNodeBackend } from './node';

beforeAll(() => initNodeBackend('wasm'));

describe.each(['wasm', 'cpu'])('host memory on %s', (backend) => {
  beforeAll(() => tf.setBackend(backend));
  afterAll(() => tf.setBackend('wasm'));

  it('tensorWrittenBy makes a tensor holding what the writer wrote, and nothing leaks', () => {
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      const t = tensorWrittenBy([2, 3, 4], (out) => {
        for (let i = 0; i < out.length; i++) out[i] = i * 0.5 - 3;
      });
      expect(t.shape).toEqual([2, 3, 4]);
      expect(Array.from(t.dataSync())).toEqual(Array.from({ length: 24 }, (_, i) => i * 0.5 - 3));
      // The tensor works in ops like any other.
      expect(tf.tidy(() => tf.sum(t).dataSync()[0])).toBeCloseTo(24 * (11.5 * 0.5 - 3), 5);
      t.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('readableStorage sees the values; writableStorage refuses storage shared with another tensor', () => {
    const a = tf.tensor([1, 2, 3, 4], [2, 2]);
    expect(Array.from(readableStorage(a))).toEqual([1, 2, 3, 4]);
    const view = writableStorage(a);
    expect(view).not.toBeNull();
    view![0] = 10;
    expect(Array.from(a.dataSync())).toEqual([10, 2, 3, 4]);
    const b = tf.reshape(a, [4]);
    expect(writableStorage(a)).toBeNull();
    expect(writableStorage(b)).toBeNull();
    b.dispose();
    expect(writableStorage(a)).not.toBeNull();
    const codes = tf.tensor([1], [1], 'int32');
    expect(writableStorage(codes)).toBeNull();
    tf.dispose([a, codes]);
  });
});

describe('productInto', () => {
  it('writes the first rows of a·b into out on wasm, as tf.matMul computes them, and nothing past them', () => {
    const a = tf.randomUniform([7, 5], -1, 1, 'float32', 1);
    const b = tf.randomUniform([5, 6], -1, 1, 'float32', 2) as tf.Tensor2D;
    const out = tf.fill([7, 6], 42);
    const before = tf.memory().numTensors;
    expect(productInto(a, 4, b, out)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const want = tf.matMul(a.slice([0, 0], [4, 5]), b).dataSync();
    const got = out.dataSync();
    expect(Array.from(got.subarray(0, 24))).toEqual(Array.from(want));
    expect(Array.from(got.subarray(24))).toEqual(new Array(18).fill(42));
    tf.dispose([a, b, out]);
  });

  it('refuses shapes that do not fit, and other backends', async () => {
    const a = tf.zeros([3, 5]);
    const b = tf.zeros([5, 2]) as tf.Tensor2D;
    expect(productInto(a, 4, b, tf.zeros([4, 2]))).toBe(false);
    expect(productInto(a, 3, b, tf.zeros([3, 3]))).toBe(false);
    await tf.setBackend('cpu');
    expect(productInto(tf.zeros([3, 5]), 3, tf.zeros([5, 2]) as tf.Tensor2D, tf.zeros([3, 2]))).toBe(false);
    await tf.setBackend('wasm');
  });
});
