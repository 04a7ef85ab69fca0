// Training loop shared by the worker, the command line and the zoo script.
import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { mulberry32, shuffleInPlace } from '../util/random';
import { yieldToEventLoop } from '../util/yield';
import { evaluate, type Evaluation } from './evaluate';
import { scheduledRate, setLearningRate, type Schedule } from './schedule';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed?: number;
  /** 'cosine' anneals the learning rate to 2 % of its start over the run; the default keeps it. */
  schedule?: Schedule;
  /** Checked between batches; returning true stops after the current batch. */
  shouldStop?: () => boolean;
  onProgress?: (p: TrainProgress) => void;
  /** Minimum time between 'batch' progress reports (epoch reports always go out). */
  progressEveryMs?: number;
}

export interface TrainProgress {
  kind: 'batch' | 'epoch';
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  step: number;
  totalSteps: number;
  /**
   * Batch loss and accuracy smoothed across batches (exponential moving average, bias-corrected, as
   * TensorBoard draws them).
   */
  loss: number;
  accuracy: number;
  /** Epoch reports: the epoch's mean training loss and accuracy. */
  epochLoss?: number;
  epochAccuracy?: number;
  elapsedMs: number;
  etaMs: number;
  test?: Evaluation;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  testLoss: number;
  testAccuracy: number;
}

export interface TrainResult {
  stepsCompleted: number;
  epochsCompleted: number;
  cancelled: boolean;
  /** Loss went non-finite: the weights from the start of that epoch were restored. */
  diverged: boolean;
  test: Evaluation;
  history: EpochRecord[];
  elapsedMs: number;
}

export function validateTrainOptions(o: Pick<TrainOptions, 'epochs' | 'batchSize' | 'learningRate'>): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1 || o.epochs > 1000) throw new RangeError(`epochs must be a whole number from 1 to 1000, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 4096) throw new RangeError(`batch size must be a whole number from 1 to 4096, got ${o.batchSize}`);
  if (!(o.learningRate > 0 && o.learningRate <= 1)) throw new RangeError(`learning rate must be in (0, 1], got ${o.learningRate}`);
}

export async function train(model: tf.LayersModel, trainSet: Batchable, testSet: Batchable, options: TrainOptions): Promise<TrainResult> {
  validateTrainOptions(options);
  const { epochs, batchSize, learningRate, seed = 1, schedule = 'constant', shouldStop = () => false, onProgress, progressEveryMs = 100 } = options;
  const optimizer = tf.train.adam(learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const random = mulberry32(seed);
  const batches = Math.ceil(trainSet.count / batchSize);
  const totalSteps = epochs * batches;
  const started = performance.now();
  const history: EpochRecord[] = [];
  let step = 0;
  let cancelled = false;
  let diverged = false;
  let lastReport = -Infinity;
  // Smoothing over about the last 20 batches; unlike an epoch mean it does not restart each epoch.
  const SMOOTHING = 0.95;
  let emaLoss = 0;
  let emaAcc = 0;

  try {
    for (let epoch = 1; epoch <= epochs && !cancelled && !diverged; epoch++) {
      const order = shuffleInPlace(Array.from({ length: trainSet.count }, (_, i) => i), random);
      const snapshot = model.getWeights().map((w) => w.clone());
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        if (shouldStop()) {
          cancelled = true;
          break;
        }
        setLearningRate(optimizer, scheduledRate(learningRate, schedule, step, totalSteps));
        const idx = order.slice(b * batchSize, (b + 1) * batchSize);
        const indices = tf.tensor1d(idx, 'int32');
        const xb = tf.gather(trainSet.x, indices);
        const yb = tf.gather(trainSet.y, indices);
        const [loss, acc] = (await model.trainOnBatch(xb, yb)) as number[];
        tf.dispose([indices, xb, yb]);
        if (!Number.isFinite(loss)) {
          model.setWeights(snapshot);
          diverged = true;
          break;
        }
        step++;
        emaLoss = SMOOTHING * emaLoss + (1 - SMOOTHING) * loss;
        emaAcc = SMOOTHING * emaAcc + (1 - SMOOTHING) * acc;
        const debias = 1 - SMOOTHING ** step;
        lossSum += loss * idx.length;
        accSum += acc * idx.length;
        seen += idx.length;
        const now = performance.now();
        if (onProgress && now - lastReport >= progressEveryMs) {
          lastReport = now;
          const elapsedMs = now - started;
          onProgress({
            kind: 'batch', epoch, epochs, batch: b + 1, batches, step, totalSteps,
            loss: emaLoss / debias, accuracy: emaAcc / debias, elapsedMs, etaMs: (elapsedMs / step) * (totalSteps - step),
          });
        }
        await yieldToEventLoop();
      }
      tf.dispose(snapshot);
      if (seen === 0 || cancelled || diverged) continue;
      const test = await evaluate(model, testSet);
      history.push({ epoch, loss: lossSum / seen, accuracy: accSum / seen, testLoss: test.loss, testAccuracy: test.accuracy });
      const elapsedMs = performance.now() - started;
      onProgress?.({
        kind: 'epoch', epoch, epochs, batch: batches, batches, step, totalSteps,
        loss: emaLoss / (1 - SMOOTHING ** step), accuracy: emaAcc / (1 - SMOOTHING ** step),
        epochLoss: lossSum / seen, epochAccuracy: accSum / seen, elapsedMs, etaMs: (elapsedMs / step) * (totalSteps - step), test,
      });
    }
  } finally {
    optimizer.dispose();
  }
  const test = await evaluate(model, testSet);
  return { stepsCompleted: step, epochsCompleted: history.length, cancelled, diverged, test, history, elapsedMs: performance.now() - started };
}
