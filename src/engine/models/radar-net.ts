// A small convolutional classifier for radar range-Doppler maps (six gestures): three blocks of
// convolution, BatchNorm, ReLU and max-pooling, global pooling and a dense classifier.
import * as tf from '@tensorflow/tfjs';
import { DOPPLER_BINS, GESTURES, RANGE_BINS, radarStream } from '../data/radar';
import type { Batchable } from '../data/tensors';

export function radarNet(seed: number): tf.LayersModel {
  const input = tf.input({ name: 'range_doppler', shape: [RANGE_BINS, DOPPLER_BINS, 1] });
  let x: tf.SymbolicTensor = input;
  [16, 32, 48].forEach((filters, i) => {
    x = tf.layers.conv2d({ name: `conv${i + 1}`, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `bn${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `relu${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'fc', units: GESTURES.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 9 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ name: 'radar', inputs: input, outputs: out });
}

/** `frames` consecutive range-Doppler maps as model input, with one-hot gesture labels. */
export function radarBatch(frames: number, seed: number): Batchable & { labels: Int32Array } {
  const s = radarStream({ frames, seed });
  return tf.tidy(() => ({
    x: tf.tensor4d(s.maps, [frames, RANGE_BINS, DOPPLER_BINS, 1]),
    y: tf.oneHot(tf.tensor1d(s.labels, 'int32'), GESTURES.length).toFloat() as tf.Tensor2D,
    count: frames,
    labels: s.labels,
  }));
}
