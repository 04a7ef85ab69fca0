import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableStorage, tensorWrittenBy, writableStorage } from './host-memory';
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
