// Learning-rate schedules shared by every training loop. A trained model sits in a minimum its own
// schedule annealed into; a fine-tune at a constant rate shakes it out again and ends wherever its
// last noisy steps left it, so the fine-tunes anneal too.
import type * as tf from '@tensorflow/tfjs';

export type Schedule = 'constant' | 'cosine';

/** Factor on the base rate at `step` of `totalSteps`: a cosine from 1 down to 2 % at the end. */
export function cosineFactor(step: number, totalSteps: number): number {
  return 0.02 + 0.98 * 0.5 * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / Math.max(totalSteps, 1)));
}

export function scheduledRate(base: number, schedule: Schedule, step: number, totalSteps: number): number {
  return schedule === 'cosine' ? base * cosineFactor(step, totalSteps) : base;
}

/** tfjs optimizers read their rate on every step but expose no setter. */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}
