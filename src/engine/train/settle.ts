// BatchNorm's moving averages (momentum 0.99) lag far behind the weights after a short training:
// measuring them afresh on training data gives the model the statistics it actually sees.
import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { runGraph } from '../models/graph';
import { BatchNormStats } from './batchnorm-stats';
import { evaluate } from './evaluate';

/** Re-measures every BatchNorm's statistics on up to 1,024 training samples, in batches; returns the test accuracy after. */
export async function settleBatchNorm(model: tf.LayersModel, train: Batchable, test: Batchable, batchSize = 128): Promise<number> {
  const stats = new BatchNormStats();
  const count = Math.min(1024, train.count);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    // Training mode: each BatchNorm normalises by its batch while the hook records what reaches it.
    tf.dispose(tf.tidy(() => runGraph(model, train.x.slice(start, size), (layer, input) => (stats.observe(layer, input), null), { training: true })));
    await new Promise((r) => setTimeout(r, 0));
  }
  stats.apply(model);
  return (await evaluate(model, test)).accuracy;
}
