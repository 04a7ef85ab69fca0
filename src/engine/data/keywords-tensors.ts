import * as tf from '@tensorflow/tfjs';
import type { KeywordSlice } from './keywords';
import type { Batchable } from './tensors';

/** Waveforms as [N, length] floats, labels one-hot over the 12 classes; a model adds its own channel axis. */
export function keywordsToTensors(slice: KeywordSlice, classes = 12): Batchable {
  return tf.tidy(() => ({
    x: tf.tensor2d(slice.x, [slice.count, slice.length]),
    y: tf.oneHot(tf.tensor1d(slice.labels, 'int32'), classes).toFloat() as tf.Tensor2D,
    count: slice.count,
  }));
}
