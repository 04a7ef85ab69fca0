import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { GaussianSource } from '../util/gaussian';
import { addRelativeNoise } from './inject';

beforeAll(() => initNodeBackend('wasm'));

describe.each(['wasm', 'cpu'])('addRelativeNoise on %s', (backend) => {
  let y: tf.Tensor;
  let stdY: number;
  // addRelativeNoise consumes its input: each call gets a fresh tensor of its own.
  const own = () => tf.tidy(() => tf.add(y, 0));
  beforeAll(async () => {
    await tf.setBackend(backend);
    y = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([64, 8, 8, 4], 0, 1, 'float32', 5), 3), 1));
    stdY = tf.tidy(() => Math.sqrt(tf.moments(y).variance.dataSync()[0]));
  });
  afterAll(async () => {
    y.dispose();
    await tf.setBackend('wasm');
  });

  it('adds zero-mean noise whose std is relStd times the output std', () => {
    const before = tf.memory().numTensors;
    const noisy = addRelativeNoise(own(), 0.2, new GaussianSource(1));
    const { mean, variance } = tf.tidy(() => {
      const m = tf.moments(tf.sub(noisy, y));
      return { mean: m.mean.dataSync()[0], variance: m.variance.dataSync()[0] };
    });
    expect(Math.abs(mean)).toBeLessThan(0.02 * stdY);
    expect(Math.sqrt(variance) / stdY).toBeCloseTo(0.2, 2);
    noisy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applies the activation after the noise, and zero noise changes nothing', () => {
    const relu6 = addRelativeNoise(own(), 0.5, new GaussianSource(2), 'relu6');
    const values = relu6.dataSync();
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(6);
    const clean = addRelativeNoise(own(), 0, new GaussianSource(2));
    expect(Array.from(clean.dataSync())).toEqual(Array.from(y.dataSync()));
    // An activation the pass does not clamp itself runs as a tensor op after the noise.
    const noisy = addRelativeNoise(own(), 0.5, new GaussianSource(3));
    const sigmoid = addRelativeNoise(own(), 0.5, new GaussianSource(3), 'sigmoid');
    const expected = tf.tidy(() => tf.sigmoid(noisy).dataSync());
    expect(Array.from(sigmoid.dataSync())).toEqual(Array.from(expected));
    tf.dispose([relu6, clean, noisy, sigmoid]);
  });

  it('is reproducible from its source seed', () => {
    const a = addRelativeNoise(own(), 0.3, new GaussianSource(9));
    const b = addRelativeNoise(own(), 0.3, new GaussianSource(9));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });

  it('perturbs a tensor it owns in place, and copies one whose storage is shared', () => {
    const fresh = own();
    expect(addRelativeNoise(fresh, 0.3, new GaussianSource(4))).toBe(fresh);
    const original = Array.from(y.dataSync());
    // A reshape shares the storage of its source.
    const shared = tf.reshape(y, [-1]);
    const noisy = addRelativeNoise(shared, 0.3, new GaussianSource(4));
    expect(noisy).not.toBe(shared);
    expect(Array.from(y.dataSync())).toEqual(original);
    // Same noise either way.
    expect(Array.from(noisy.dataSync())).toEqual(Array.from(fresh.dataSync()));
    tf.dispose([fresh, shared, noisy]);
  });
});
