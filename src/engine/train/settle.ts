// BatchNorm's moving averages (momentum 0.99) lag far behind the weights after a short training:
// measuring them afresh on training data gives the model the statistics it actually sees.
import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { runGraph } from '../models/graph';
import { remeasureBatchNorm } from './batchnorm-stats';
import { evaluate } from './evaluate';

/** Re-measures every BatchNorm's statistics on up to 1,024 training samples, in batches; returns the test accuracy after. */
export async function settleBatchNorm(model: tf.LayersModel, train: Batchable, test: Batchable, batchSize = 128): Promise<number> {
  // The hook normalises each BatchNorm by its batch and records what reaches it (the moving averages
  // are not touched on the way); training mode keeps dropout on, as during training.
  await remeasureBatchNorm(model, train.x, (x, observe) => runGraph(model, x, observe, { training: true }), { count: 1024, batchSize });
  return (await evaluate(model, test)).accuracy;
}
