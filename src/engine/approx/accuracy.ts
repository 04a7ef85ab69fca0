import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { yieldToEventLoop } from '../util/yield';
import type { ApproxSimulation, LayerMode } from './simulate';

/** Share of `data` the simulated network classifies right with these layer modes. */
export async function accuracyOf(sim: ApproxSimulation, modes: Record<string, LayerMode>, data: Batchable, batch = 250): Promise<number> {
  let hits = 0;
  for (let start = 0; start < data.count; start += batch) {
    const size = Math.min(batch, data.count - start);
    const h = tf.tidy(() => {
      const labels = tf.argMax(data.y.slice(start, size), 1);
      return tf.sum(tf.cast(tf.equal(tf.argMax(sim.run(data.x.slice(start, size), modes), 1), labels), 'float32'));
    });
    hits += (await h.data())[0];
    h.dispose();
    await yieldToEventLoop();
  }
  return hits / data.count;
}
