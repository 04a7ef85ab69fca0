import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/** Cross-entropy and accuracy over a whole set, in batches so large sets do not spike memory. */
export async function evaluate(model: tf.LayersModel, data: Batchable, batchSize = 500): Promise<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const size = Math.min(batchSize, data.count - start);
    const [l, c] = tf.tidy(() => {
      const x = data.x.slice(start, size);
      const y = data.y.slice(start, size);
      const p = (model.predict(x) as tf.Tensor2D).clipByValue(1e-7, 1);
      const loss = tf.neg(tf.sum(tf.mul(y, tf.log(p))));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'));
      return [loss, hits];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    l.dispose();
    c.dispose();
    lossSum += lv[0];
    correct += cv[0];
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count, count: data.count };
}
