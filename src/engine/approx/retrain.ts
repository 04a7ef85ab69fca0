// Retraining through approximate layers: forward passes compute what the chosen multipliers compute,
// gradients are those of the exact layers (straight-through), and the weights are re-quantised
// after every step so the next forward pass sees them as the hardware would.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../train/loss';
import { scheduledRate, setLearningRate, type Schedule } from '../train/schedule';
import type { Batchable } from '../data/tensors';
import { mulberry32, shuffleInPlace } from '../util/random';
import { yieldToEventLoop } from '../util/yield';
import type { ApproxSimulation, LayerMode, Method } from './simulate';

export interface RetrainResult {
  stepsCompleted: number;
  cancelled: boolean;
  losses: number[];
}

/** Training samples BatchNorm statistics are re-estimated on after retraining. */
export const RECALIBRATION_SAMPLES = 1024;

export interface EpochLoopOptions {
  epochs: number;
  batchSize: number;
  seed?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: { epoch: number; step: number; totalSteps: number; loss: number }) => void;
}

export interface RetrainOptions extends EpochLoopOptions {
  learningRate: number;
  /** 'cosine' (the default) anneals the rate to 2 % over the run; 'constant' keeps it. */
  schedule?: Schedule;
  method?: Method;
}

/** Where a step sits in its run, for learning-rate schedules. */
export interface StepPosition {
  step: number;
  totalSteps: number;
}

/**
 * The hand-written training loops' common frame: seeded shuffles per epoch, one `step` per batch
 * (which returns the batch loss and updates the weights), the simulation re-quantised after each
 * update, progress, cancellation between batches, and a yield so the worker stays responsive.
 */
export async function runBatches(sim: ApproxSimulation, data: Batchable, options: EpochLoopOptions, step: (xb: tf.Tensor, yb: tf.Tensor, at: StepPosition) => tf.Scalar): Promise<RetrainResult> {
  const { epochs, batchSize, seed = 1, shouldStop = () => false, onProgress } = options;
  const random = mulberry32(seed);
  const batches = Math.ceil(data.count / batchSize);
  const losses: number[] = [];
  const totalSteps = epochs * batches;
  let done = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffleInPlace(Array.from({ length: data.count }, (_, i) => i), random);
    for (let b = 0; b < batches; b++) {
      if (shouldStop()) return { stepsCompleted: done, cancelled: true, losses };
      const loss = tf.tidy(() => {
        const idx = tf.tensor1d(order.slice(b * batchSize, (b + 1) * batchSize), 'int32');
        return step(tf.gather(data.x, idx), tf.gather(data.y, idx), { step: done, totalSteps });
      });
      losses.push((await loss.data())[0]);
      loss.dispose();
      sim.requantise();
      done++;
      onProgress?.({ epoch, step: done, totalSteps, loss: losses[losses.length - 1] });
      await yieldToEventLoop();
    }
  }
  return { stepsCompleted: done, cancelled: false, losses };
}

export async function retrainApproximate(sim: ApproxSimulation, modes: Record<string, LayerMode>, data: Batchable, options: RetrainOptions): Promise<RetrainResult> {
  const { learningRate, schedule = 'cosine', method = 'fast' } = options;
  const optimizer = tf.train.adam(learningRate);
  const variables = sim.model.trainableWeights.map((w) => w.read() as tf.Variable);
  let result: RetrainResult;
  try {
    result = await runBatches(sim, data, options, (xb, yb, at) => {
      setLearningRate(optimizer, scheduledRate(learningRate, schedule, at.step, at.totalSteps));
      return optimizer.minimize(() => crossEntropy(sim.runForTraining(xb, modes, method), yb), true, variables)!;
    });
  } finally {
    optimizer.dispose();
  }
  // BatchNorm's moving statistics lag far behind a few hundred steps (momentum 0.99): measure them
  // afresh through the approximate layers, as the deployed network will see them.
  if (result.stepsCompleted > 0) {
    const x = data.x.slice(0, Math.min(RECALIBRATION_SAMPLES, data.count));
    try {
      await sim.recalibrateBatchNorm(x, modes, 128, method);
    } finally {
      x.dispose();
    }
  }
  return result;
}
