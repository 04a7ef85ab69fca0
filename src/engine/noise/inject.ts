// Additive Gaussian noise standing in for multiplier error (algorithms.md §2): y + ε·std(y)·σ with
// std over the whole batch output. On CPU-side backends two typed-array passes over the output's own
// storage measure the std, then add the noise and apply a ReLU/ReLU6 — where tfjs would spend several
// elementwise ops, two copies and a normal generator ten times slower. On webgl the data stay on the GPU.
import * as tf from '@tensorflow/tfjs';
import { applyActivation, type FusedActivation } from '../approx/fast';
import { heapKernels, type HeapKernels } from '../backend/heap-kernels';
import { writableStorage } from '../backend/host-memory';
import type { GaussianSource } from '../util/gaussian';

/** The activations the noise pass applies itself, as the cap of a clamp to [0, cap] (null: none). */
const CAPS: Partial<Record<FusedActivation, number | null>> = { linear: null, relu: Infinity, relu6: 6 };

/** Mean and population std in one pass; four accumulator pairs so the adds do not wait on one another. */
function moments(values: Float32Array, kernels: HeapKernels | null): { mean: number; std: number } {
  const sums = kernels?.moments(values);
  if (sums) {
    const mean = sums.sum / values.length;
    return { mean, std: Math.sqrt(Math.max(sums.squares / values.length - mean * mean, 0)) };
  }
  let [s0, s1, s2, s3, q0, q1, q2, q3] = [0, 0, 0, 0, 0, 0, 0, 0];
  const n4 = values.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    const a = values[i];
    const b = values[i + 1];
    const c = values[i + 2];
    const d = values[i + 3];
    s0 += a;
    s1 += b;
    s2 += c;
    s3 += d;
    q0 += a * a;
    q1 += b * b;
    q2 += c * c;
    q3 += d * d;
  }
  for (let i = n4; i < values.length; i++) {
    s0 += values[i];
    q0 += values[i] * values[i];
  }
  const mean = (s0 + s1 + s2 + s3) / values.length;
  return { mean, std: Math.sqrt(Math.max((q0 + q1 + q2 + q3) / values.length - mean * mean, 0)) };
}

/**
 * y + ε·std(y)·relStd, then the activation. Consumes `y`: where the backend allows, its storage is
 * perturbed in place and `y` itself is returned, so callers pass a tensor they own and do not read
 * it afterwards (a tensor sharing storage with another is copied instead).
 */
export function addRelativeNoise(y: tf.Tensor, relStd: number, source: GaussianSource, activation: FusedActivation = 'linear'): tf.Tensor {
  if (tf.getBackend() === 'webgl') {
    return tf.tidy(() => {
      const std = tf.sqrt(tf.moments(y).variance);
      const eps = tf.tensor(source.fill(new Float32Array(y.size)), y.shape);
      return applyActivation(tf.add(y, tf.mul(eps, tf.mul(std, relStd))), activation);
    });
  }
  const inPass = activation in CAPS;
  const cap = CAPS[activation] ?? null;
  const kernels = heapKernels();
  const storage = writableStorage(y);
  if (storage) {
    source.addScaled(storage, moments(storage, kernels).std * relStd, cap, kernels ? (...args) => kernels.addNoisePairs(...args) : undefined);
    return inPass ? y : tf.tidy(() => applyActivation(y, activation));
  }
  // wasm's dataSync copies; cpu's hands out the shared storage itself.
  const read = y.dataSync() as Float32Array;
  const values = tf.getBackend() === 'cpu' ? read.slice() : read;
  source.addScaled(values, moments(values, null).std * relStd, cap);
  return tf.tidy(() => applyActivation(tf.tensor(values, y.shape), inPass ? 'linear' : activation));
}
