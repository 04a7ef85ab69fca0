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
import { accuracyOf } from './accuracy';

export interface RetrainResult {
  stepsCompleted: number;
  cancelled: boolean;
  losses: number[];
  /** With validation digits: their accuracy before retraining ([0]) and after each epoch, and which weights were kept. */
  selection?: Selection;
}

export interface Selection {
  accuracies: number[];
  /** 0: the weights before retraining; n: those after epoch n. */
  keptEpoch: number;
  samples: number;
}

/** Training samples BatchNorm statistics are re-estimated on after retraining. */
export const RECALIBRATION_SAMPLES = 1024;

/** Held-out training samples a retraining picks its best epoch on, unless told otherwise. */
export const VALIDATION_SAMPLES = 1000;

/**
 * How much lower than the best a later epoch may score on the held-out samples and still be kept:
 * about two standard errors of a paired difference on 1,000 digits at 98 % (a few dozen digits
 * change sides), so noise does not undo a retraining that helps.
 */
export const SELECTION_MARGIN = 0.01;

export interface EpochLoopOptions {
  epochs: number;
  batchSize: number;
  seed?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: { epoch: number; step: number; totalSteps: number; loss: number }) => void;
  /** Called after every completed epoch (not after a cancelled one). */
  afterEpoch?: (epoch: number) => Promise<void>;
}

export interface RetrainOptions extends EpochLoopOptions {
  learningRate: number;
  /** 'cosine' (the default) anneals the rate to 2 % over the run; 'constant' keeps it. */
  schedule?: Schedule;
  method?: Method;
  /**
   * Digits the retraining does not train on. When given, the weights before retraining and after
   * every epoch are scored on them, and the latest that scores within SELECTION_MARGIN of the best
   * are kept: a short retraining can lower accuracy, and choosing on these digits never looks at
   * the test set.
   */
  validation?: Batchable;
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
    await options.afterEpoch?.(epoch);
  }
  return { stepsCompleted: done, cancelled: false, losses };
}

/**
 * Which scored epoch to keep: the latest within SELECTION_MARGIN of the best score. Scoring as the
 * epochs come, the newest one is kept exactly when it is this one, so one snapshot suffices.
 */
export function keptEpoch(accuracies: number[]): number {
  const bar = Math.max(...accuracies) - SELECTION_MARGIN;
  return accuracies.findLastIndex((a) => a >= bar);
}

/**
 * Retrains through `modes`. With `validation`, the weights as they stand count as epoch 0: their
 * BatchNorm statistics should already be those measured through `modes`, as every caller measures
 * them for its accuracy before retraining.
 */
export async function retrainApproximate(sim: ApproxSimulation, modes: Record<string, LayerMode>, data: Batchable, options: RetrainOptions): Promise<RetrainResult> {
  const { learningRate, schedule = 'cosine', method = 'fast' } = options;
  const validation = options.epochs > 0 ? options.validation : undefined;
  // BatchNorm's moving statistics lag far behind a few hundred steps (momentum 0.99): measure them
  // afresh through the approximate layers, as the deployed network will see them.
  const remeasure = async () => {
    const x = data.x.slice(0, Math.min(RECALIBRATION_SAMPLES, data.count));
    try {
      await sim.recalibrateBatchNorm(x, modes, 128, method);
    } finally {
      x.dispose();
    }
  };
  const accuracies: number[] = [];
  // Declared wider than its initial null: it is assigned in the scoring closure.
  let kept = null as { epoch: number; weights: tf.Tensor[] } | null;
  const score = async (epoch: number) => {
    accuracies.push(await accuracyOf(sim, modes, validation!));
    if (keptEpoch(accuracies) !== epoch) return;
    if (kept) tf.dispose(kept.weights);
    kept = { epoch, weights: sim.model.getWeights().map((w) => w.clone()) };
  };
  const optimizer = tf.train.adam(learningRate);
  const variables = sim.model.trainableWeights.map((w) => w.read() as tf.Variable);
  let result: RetrainResult;
  try {
    if (validation) await score(0);
    result = await runBatches(sim, data, { ...options, afterEpoch: validation ? async (epoch) => (await remeasure(), await score(epoch)) : undefined }, (xb, yb, at) => {
      setLearningRate(optimizer, scheduledRate(learningRate, schedule, at.step, at.totalSteps));
      return optimizer.minimize(() => crossEntropy(sim.runForTraining(xb, modes, method), yb), true, variables)!;
    });
    if (kept) {
      // The kept epoch's weights, BatchNorm statistics included; a cancelled epoch counts as unscored.
      sim.model.setWeights(kept.weights);
      sim.requantise();
      result.selection = { accuracies, keptEpoch: kept.epoch, samples: validation!.count };
    } else if (result.stepsCompleted > 0) await remeasure();
  } finally {
    optimizer.dispose();
    if (kept) tf.dispose(kept.weights);
  }
  return result;
}
