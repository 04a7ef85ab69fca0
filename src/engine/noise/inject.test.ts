import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { GaussianSource } from '../util/gaussian';
import { addRelativeNoise } from './inject';

beforeAll(() => initNodeBackend('wasm'));

describe('addRelativeNoise', () => {
  let y: tf.Tensor;
  let stdY: number;
  beforeAll(() => {
    y = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([64, 8, 8, 4], 0, 1, 'float32', 5), 3), 1));
    stdY = tf.tidy(() => Math.sqrt(tf.moments(y).variance.dataSync()[0]));
  });

  it('adds zero-mean noise whose std is relStd times the output std', () => {
    const before = tf.memory().numTensors;
    const noisy = addRelativeNoise(y, 0.2, new GaussianSource(1));
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
    const relu6 = addRelativeNoise(y, 0.5, new GaussianSource(2), 'relu6');
    const values = relu6.dataSync();
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(6);
    const clean = addRelativeNoise(y, 0, new GaussianSource(2));
    expect(Array.from(clean.dataSync())).toEqual(Array.from(y.dataSync()));
    tf.dispose([relu6, clean]);
  });

  it('is reproducible from its source seed', () => {
    const a = addRelativeNoise(y, 0.3, new GaussianSource(9));
    const b = addRelativeNoise(y, 0.3, new GaussianSource(9));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });
});
