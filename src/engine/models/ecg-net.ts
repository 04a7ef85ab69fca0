// A small 1-D convolutional classifier for ECG windows (normal rhythm against ventricular
// bigeminy), as a 2-D model over [1, 256, 1] so every analysis of the studio applies to it. Four
// blocks (convolution, BatchNorm, ReLU, max-pool): each pooling step ends a block, where an early
// exit can attach.
import * as tf from '@tensorflow/tfjs';
import { ecgWindows, syntheticEcg } from '../data/ecg';
import type { Batchable } from '../data/tensors';

export const ECG_WINDOW = 256;

export function ecgNet(seed: number): tf.LayersModel {
  const input = tf.input({ name: 'ecg', shape: [1, ECG_WINDOW, 1] });
  let x: tf.SymbolicTensor = input;
  [16, 24, 32, 48].forEach((filters, i) => {
    x = tf.layers.conv2d({ name: `conv${i + 1}`, filters, kernelSize: [1, 7], padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `bn${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `relu${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: [1, 4 - (i > 1 ? 2 : 0)], strides: [1, 4 - (i > 1 ? 2 : 0)] }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'fc', units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 9 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ name: 'ecg', inputs: input, outputs: out });
}

/** Windows of a synthetic ECG as model input [N, 1, 256, 1] with one-hot labels. */
export function ecgBatch(seconds: number, seed: number, hop: number): Batchable & { labels: Int32Array } {
  const w = ecgWindows(syntheticEcg({ seconds, seed }), ECG_WINDOW, hop);
  return tf.tidy(() => ({
    x: tf.tensor4d(w.values, [w.count, 1, ECG_WINDOW, 1]),
    y: tf.oneHot(tf.tensor1d(w.labels, 'int32'), 2).toFloat() as tf.Tensor2D,
    count: w.count,
    labels: w.labels,
  }));
}
