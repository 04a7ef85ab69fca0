// BatchNorm's moving averages (momentum 0.99) lag far behind the weights after a short training:
// measuring them afresh on training data gives the model the statistics it actually sees.
import * as tf from '@tensorflow/tfjs';
import { ApproxSimulation } from '../approx/simulate';
import type { Batchable } from '../data/tensors';

/** Re-measures every BatchNorm's statistics on up to 1,024 training samples; returns the test accuracy after. */
export async function settleBatchNorm(model: tf.LayersModel, train: Batchable, test: Batchable): Promise<number> {
  const x = train.x.slice(0, Math.min(1024, train.count));
  const sim = ApproxSimulation.calibrate(model, x);
  await sim.recalibrateBatchNorm(x, {});
  sim.dispose();
  x.dispose();
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(test.x) as tf.Tensor, 1), tf.argMax(test.y, 1)), 'float32')).dataSync()[0]);
}
