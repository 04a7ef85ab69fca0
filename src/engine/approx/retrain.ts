// Retraining through approximate layers: forward passes compute what the chosen multipliers compute,
// gradients are those of the exact layers (straight-through), and the weights are re-quantised
// after every step so the next forward pass sees them as the hardware would.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../train/loss';
import type { Batchable } from '../data/tensors';
import { mulberry32, shuffleInPlace } from '../util/random';
import { yieldToEventLoop } from '../util/yield';
import type { ApproxSimulation, LayerMode, Method } from './simulate';

export interface RetrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed?: number;
  method?: Method;
  shouldStop?: () => boolean;
  onProgress?: (p: { epoch: number; step: number; totalSteps: number; loss: number }) => void;
}

export interface RetrainResult {
  stepsCompleted: number;
  cancelled: boolean;
  losses: number[];
}

/** Training samples BatchNorm statistics are re-estimated on after retraining. */
export const RECALIBRATION_SAMPLES = 1024;

export async function retrainApproximate(sim: ApproxSimulation, modes: Record<string, LayerMode>, data: Batchable, options: RetrainOptions): Promise<RetrainResult> {
  const { epochs, batchSize, learningRate, seed = 1, method = 'fast', shouldStop = () => false, onProgress } = options;
  const optimizer = tf.train.adam(learningRate);
  const variables = sim.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const random = mulberry32(seed);
  const batches = Math.ceil(data.count / batchSize);
  const losses: number[] = [];
  let step = 0;
  let cancelled = false;
  try {
    for (let epoch = 1; epoch <= epochs && !cancelled; epoch++) {
      const order = shuffleInPlace(Array.from({ length: data.count }, (_, i) => i), random);
      for (let b = 0; b < batches; b++) {
        if (shouldStop()) {
          cancelled = true;
          break;
        }
        const loss = tf.tidy(() => {
          const idx = tf.tensor1d(order.slice(b * batchSize, (b + 1) * batchSize), 'int32');
          const xb = tf.gather(data.x, idx);
          const yb = tf.gather(data.y, idx);
          return optimizer.minimize(() => crossEntropy(sim.runForTraining(xb, modes, method), yb), true, variables)!;
        });
        losses.push((await loss.data())[0]);
        loss.dispose();
        sim.requantise();
        step++;
        onProgress?.({ epoch, step, totalSteps: epochs * batches, loss: losses[losses.length - 1] });
        await yieldToEventLoop();
      }
    }
  } finally {
    optimizer.dispose();
  }
  // BatchNorm's moving statistics lag far behind a few hundred steps (momentum 0.99): measure them
  // afresh through the approximate layers, as the deployed network will see them.
  if (step > 0) {
    const x = data.x.slice(0, Math.min(RECALIBRATION_SAMPLES, data.count));
    try {
      await sim.recalibrateBatchNorm(x, modes, 128, method);
    } finally {
      x.dispose();
    }
  }
  return { stepsCompleted: step, cancelled, losses };
}
