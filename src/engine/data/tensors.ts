import * as tf from '@tensorflow/tfjs';
import type { DigitsSlice } from './digits';

export interface Batchable {
  x: tf.Tensor;
  y: tf.Tensor2D;
  count: number;
}

/** Pixels scaled to [0, 1], reshaped to the model's per-sample input shape; labels one-hot. */
export function sliceToTensors(slice: DigitsSlice, inputShape: number[], classes = 10): Batchable {
  return tf.tidy(() => {
    const x = tf.tensor(slice.pixels, [slice.count, ...inputShape], 'int32').toFloat().div(255);
    const y = tf.oneHot(tf.tensor1d(slice.labels, 'int32'), classes).toFloat() as tf.Tensor2D;
    return { x, y, count: slice.count };
  });
}

export function disposeBatchable(b: Batchable): void {
  b.x.dispose();
  b.y.dispose();
}

/** Per-sample input shape of a model, with unknown dims rejected. */
export function modelInputShape(model: tf.LayersModel): number[] {
  return model.inputs[0].shape.slice(1).map((d) => {
    if (d == null) throw new Error('model input has an unknown dimension');
    return d;
  });
}
