// BatchNorm's moving averages (momentum 0.99) lag far behind the weights after a short training:
// measuring them afresh on training data gives the model the statistics it actually sees.
import * as tf from '@tensorflow/tfjs';
import { ApproxSimulation } from '../approx/simulate';
import type { Batchable } from '../data/tensors';
import { evaluate } from './evaluate';

/** Values of input measured at once: the simulation keeps every layer's output for them (audio is long). */
const INPUT_BUDGET = 4_000_000;

/** Re-measures every BatchNorm's statistics on up to 1,024 training samples (fewer for long inputs); returns the test accuracy after. */
export async function settleBatchNorm(model: tf.LayersModel, train: Batchable, test: Batchable): Promise<number> {
  const size = train.x.size / train.count;
  const x = train.x.slice(0, Math.min(1024, Math.floor(INPUT_BUDGET / size), train.count));
  const sim = ApproxSimulation.calibrate(model, x);
  await sim.recalibrateBatchNorm(x, {});
  sim.dispose();
  x.dispose();
  return (await evaluate(model, test)).accuracy;
}
