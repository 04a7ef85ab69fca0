// Additive Gaussian noise standing in for multiplier error (algorithms.md §2): y + ε·std(y)·σ with
// std over the whole batch output. On CPU-side backends typed-array passes measure the std and add
// the noise, where tfjs would spend several elementwise ops and a normal generator ten times slower;
// on webgl the data stay on the GPU.
import * as tf from '@tensorflow/tfjs';
import { applyActivation, type FusedActivation } from '../approx/fast';
import type { GaussianSource } from '../util/gaussian';

export function addRelativeNoise(y: tf.Tensor, relStd: number, source: GaussianSource, activation: FusedActivation = 'linear'): tf.Tensor {
  if (tf.getBackend() === 'webgl') {
    return tf.tidy(() => {
      const std = tf.sqrt(tf.moments(y).variance);
      const eps = tf.tensor(source.fill(new Float32Array(y.size)), y.shape);
      return applyActivation(tf.add(y, tf.mul(eps, tf.mul(std, relStd))), activation);
    });
  }
  // A fresh copy of the output: perturbed in place.
  const values = y.dataSync() as Float32Array;
  // Two accumulators each: the adds do not wait on one another.
  let [sum0, sum1, sq0, sq1] = [0, 0, 0, 0];
  const even = values.length & ~1;
  for (let i = 0; i < even; i += 2) {
    const a = values[i];
    const b = values[i + 1];
    sum0 += a;
    sum1 += b;
    sq0 += a * a;
    sq1 += b * b;
  }
  if (even < values.length) {
    sum0 += values[even];
    sq0 += values[even] * values[even];
  }
  const mean = (sum0 + sum1) / values.length;
  const std = Math.sqrt(Math.max((sq0 + sq1) / values.length - mean * mean, 0));
  // The activation runs in tfjs: a clamp in the JavaScript loop costs more than the noise.
  return tf.tidy(() => applyActivation(tf.tensor(source.addScaled(values, std * relStd), y.shape), activation));
}
