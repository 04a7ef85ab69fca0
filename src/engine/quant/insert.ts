// Activation quantisers in front of every convolution (Conv2D, DepthwiseConv2D; optionally Dense)
// of any LayersModel, inserted through runGraph's hook: the model itself is not rebuilt. The wrapper
// fine-tunes the model's weights and the quantisers' parameters together (straight-through), in the
// project's seeded batch loop, then freezes the quantisers and re-measures BatchNorm statistics
// through the quantised network.
//
// Fine-tuning: Adam on the weights (default 1e-3) and, separately, on the quantisers (5e-3), both
// annealed with a cosine to 2 % over the run; Squeeze-and-Threshold's last 25 % of the steps are its
// second stage (thresholds frozen at their momentum averages, attention off). It changes the wrapped
// model's weights in place: clone it first (cloneModel) to keep the float model.
import * as tf from '@tensorflow/tfjs';
import { remeasureBatchNorm } from '../train/batchnorm-stats';
import { runBatches } from '../approx/retrain';
import type { ApproxSimulation } from '../approx/simulate';
import type { Batchable } from '../data/tensors';
import { runGraph, type LayerHook } from '../models/graph';
import { modelFromArtifacts, modelToArtifacts } from '../models/io';
import { crossEntropy } from '../train/loss';
import { cosineFactor, setLearningRate } from '../train/schedule';
import type { ActivationQuantiser, Bits, QuantMethod } from './quantiser';
import { SqueezeThresholdQuantiser, type SqueezeThresholdOptions } from './squeeze-threshold';
import { UniformQuantiser, type UniformOptions } from './uniform';

export const CONV_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D']);

export interface QuantiseOptions {
  method: QuantMethod;
  bits: Bits;
  /** Also quantise what enters Dense layers (default: convolutions only, as the paper inserts them). */
  dense?: boolean;
  /** Seeds the attention layers (layer i gets seed + i). */
  seed?: number;
  st?: SqueezeThresholdOptions;
  uniform?: UniformOptions;
}

export interface FineTuneOptions {
  epochs: number;
  batchSize?: number;
  /** Adam rate for the model's weights (annealed with a cosine to 2 % over the run, as train.ts's 'cosine'). */
  learningRate?: number;
  /** Adam rate for the quantisers' thresholds, levels, ranges and attention (annealed alike). */
  quantiserLearningRate?: number;
  seed?: number;
  /**
   * Squeeze-and-Threshold: the share of the steps run as the second stage, with thresholds frozen at
   * their momentum averages and attention off (weights and levels keep training). Uniform: unused.
   */
  secondStage?: number;
  /** Training samples BatchNorm statistics are re-measured on afterwards (0: not at all). */
  recalibrationSamples?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: { epoch: number; step: number; totalSteps: number; loss: number }) => void;
}

export interface FineTuneResult {
  stepsCompleted: number;
  firstStageSteps: number;
  cancelled: boolean;
  losses: number[];
}

export interface QuantisedEvaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/** A copy of a model with its own weights (through the project's artifacts round trip). */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  return modelFromArtifacts(await modelToArtifacts(model));
}

export class QuantisedModel {
  private constructor(
    readonly model: tf.LayersModel,
    readonly quantisers: Map<string, ActivationQuantiser>,
    readonly method: QuantMethod,
    readonly bits: Bits,
  ) {}

  /**
   * Calibrates one quantiser per target layer on `calibration` (a batch of model inputs): each sees
   * its layer's input with every quantiser upstream already in place.
   */
  static create(model: tf.LayersModel, calibration: tf.Tensor, options: QuantiseOptions): QuantisedModel {
    const targets = new Set(CONV_LAYERS);
    if (options.dense) targets.add('Dense');
    const quantisers = new Map<string, ActivationQuantiser>();
    const seed = options.seed ?? 1;
    try {
      tf.dispose(
        runGraph(model, calibration, (layer, input) => {
          if (!targets.has(layer.getClassName())) return null;
          const q =
            options.method === 'st'
              ? SqueezeThresholdQuantiser.calibrate(input, options.bits, { ...options.st, seed: seed + quantisers.size })
              : UniformQuantiser.calibrate(input, options.bits, options.uniform);
          quantisers.set(layer.name, q);
          return layer.apply(q.apply(input, false)) as tf.Tensor;
        }),
      );
    } catch (e) {
      for (const q of quantisers.values()) q.dispose();
      throw e;
    }
    if (quantisers.size === 0) throw new Error(`model ${model.name} has no layer to quantise (${[...targets].join(', ')})`);
    return new QuantisedModel(model, quantisers, options.method, options.bits);
  }

  private hook(training: boolean, tap?: LayerHook): LayerHook {
    return (layer, input) => {
      const tapped = tap?.(layer, input);
      if (tapped) return tapped;
      const q = this.quantisers.get(layer.name);
      if (!q) return null;
      return layer.apply(q.apply(input, training), training ? { training: true } : {}) as tf.Tensor;
    };
  }

  /** The quantised network's output. `training`: straight-through path, BatchNorm on batch statistics. */
  run(x: tf.Tensor, training = false): tf.Tensor {
    return runGraph(this.model, x, this.hook(training), { training });
  }

  /** Inference with the deployed (fixed) quantisers. */
  predict(x: tf.Tensor): tf.Tensor {
    return this.run(x, false);
  }

  /** The model's trainable weights. */
  weightVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** The quantisers' trainable parameters (fewer once frozen). */
  quantiserVariables(): tf.Variable[] {
    return [...this.quantisers.values()].flatMap((q) => q.trainableVariables());
  }

  /** Everything fine-tuning trains: model weights and quantiser parameters. */
  get trainableVariables(): tf.Variable[] {
    return [...this.weightVariables(), ...this.quantiserVariables()];
  }

  get frozen(): boolean {
    return [...this.quantisers.values()].every((q) => q.frozen);
  }

  freeze(): void {
    for (const q of this.quantisers.values()) q.freeze();
  }

  /**
   * Fine-tunes weights and quantisers together with straight-through estimation (seeded shuffles,
   * the project's batch loop), freezes the quantisers (Squeeze-and-Threshold: after the first stage,
   * then the second stage trains on against the fixed thresholds), and re-measures BatchNorm.
   */
  async fineTune(data: Batchable, options: FineTuneOptions): Promise<FineTuneResult> {
    const { epochs, batchSize = 64, learningRate = 1e-3, quantiserLearningRate = 5e-3, seed = 1, recalibrationSamples = 1024 } = options;
    const secondStage = this.method === 'st' ? (options.secondStage ?? 0.25) : 0;
    if (!(secondStage >= 0 && secondStage < 1)) throw new RangeError(`secondStage must be in [0, 1), got ${secondStage}`);
    const totalSteps = epochs * Math.ceil(data.count / batchSize);
    const firstStageSteps = Math.max(1, Math.round(totalSteps * (1 - secondStage)));
    const weightOptimizer = tf.train.adam(learningRate);
    // tfjs's Adam keys its moments by position in the gradient list: when the freeze shrinks the
    // quantisers' list, the second stage starts a fresh optimiser for them.
    let quantiserOptimizer = tf.train.adam(quantiserLearningRate);
    let quantiserCount = -1;
    const weights = this.weightVariables();
    const weightNames = new Set(weights.map((v) => v.name));
    let steps = 0;
    // runBatches re-quantises its simulation after every step: here, the quantisers' own bookkeeping.
    const afterStep = {
      requantise: () => {
        for (const q of this.quantisers.values()) q.afterStep();
        if (++steps === firstStageSteps) this.freeze();
      },
    } as unknown as ApproxSimulation;
    let result;
    try {
      result = await runBatches(afterStep, data, { epochs, batchSize, seed, shouldStop: options.shouldStop, onProgress: options.onProgress }, (xb, yb, at) => {
        const quantiserVariables = this.quantiserVariables();
        if (quantiserCount >= 0 && quantiserVariables.length !== quantiserCount) {
          quantiserOptimizer.dispose();
          quantiserOptimizer = tf.train.adam(quantiserLearningRate);
        }
        quantiserCount = quantiserVariables.length;
        const anneal = cosineFactor(at.step, at.totalSteps);
        setLearningRate(weightOptimizer, learningRate * anneal);
        setLearningRate(quantiserOptimizer, quantiserLearningRate * anneal);
        const variables = [...weights, ...quantiserVariables];
        const { value, grads } = tf.variableGrads(() => crossEntropy(this.run(xb, true), yb), variables);
        const forWeights: { name: string; tensor: tf.Tensor }[] = [];
        const forQuantisers: { name: string; tensor: tf.Tensor }[] = [];
        for (const [name, tensor] of Object.entries(grads)) (weightNames.has(name) ? forWeights : forQuantisers).push({ name, tensor });
        weightOptimizer.applyGradients(forWeights);
        if (forQuantisers.length) quantiserOptimizer.applyGradients(forQuantisers);
        return value;
      });
    } finally {
      weightOptimizer.dispose();
      quantiserOptimizer.dispose();
    }
    this.freeze();
    if (recalibrationSamples > 0 && result.stepsCompleted > 0 && this.model.layers.some((l) => l.getClassName() === 'BatchNormalization')) {
      const x = data.x.slice(0, Math.min(recalibrationSamples, data.count));
      try {
        await this.recalibrateBatchNorm(x);
      } finally {
        x.dispose();
      }
    }
    return { ...result, firstStageSteps: Math.min(firstStageSteps, result.stepsCompleted) };
  }

  /**
   * Re-estimates every BatchNorm's moving mean and variance from what reaches it through the
   * deployed quantisers (mean of batch means; variance = mean of (var + mean²) − mean²), as
   * ApproxSimulation does for approximate multipliers. Returns how many layers were updated.
   */
  async recalibrateBatchNorm(x: tf.Tensor, batchSize = 128): Promise<number> {
    // BatchNorm on batch statistics (the observing hook), quantisers deployed; dropout on.
    return remeasureBatchNorm(this.model, x, (batch, observe) => runGraph(this.model, batch, this.hook(false, observe), { training: true }), { batchSize });
  }

  /** Cross-entropy and accuracy of the deployed quantised network over a whole set, in batches. */
  async evaluate(data: Batchable, batchSize = 500): Promise<QuantisedEvaluation> {
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < data.count; start += batchSize) {
      const size = Math.min(batchSize, data.count - start);
      const [l, c] = tf.tidy(() => {
        const y = data.y.slice(start, size);
        const p = tf.clipByValue(this.predict(data.x.slice(start, size)), 1e-7, 1);
        return [tf.neg(tf.sum(tf.mul(y, tf.log(p)))), tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'))];
      });
      const [lv, cv] = await Promise.all([l.data(), c.data()]);
      tf.dispose([l, c]);
      lossSum += lv[0];
      correct += cv[0];
    }
    return { loss: lossSum / data.count, accuracy: correct / data.count, count: data.count };
  }

  /** Per quantised layer: its quantiser's description. */
  summary(): Array<Record<string, unknown>> {
    return [...this.quantisers].map(([layer, q]) => ({ layer, type: this.model.getLayer(layer).getClassName(), ...q.summary() }));
  }

  /** Releases the quantisers (the model stays the caller's). */
  dispose(): void {
    for (const q of this.quantisers.values()) q.dispose();
    this.quantisers.clear();
  }
}

export interface QuantiseRun {
  quantised: QuantisedModel;
  calibrated: QuantisedEvaluation | null;
  fineTune: FineTuneResult | null;
}

/**
 * Calibrate on the first `calibrationSamples` training samples, optionally measure the calibrated
 * (not yet trained) quantised model on `test`, fine-tune for `epochs` (0: none, then freeze).
 */
export async function quantiseModel(
  model: tf.LayersModel,
  train: Batchable,
  options: QuantiseOptions & Partial<FineTuneOptions> & { calibrationSamples?: number; test?: Batchable },
): Promise<QuantiseRun> {
  const x = train.x.slice(0, Math.min(options.calibrationSamples ?? 256, train.count));
  let quantised: QuantisedModel;
  try {
    quantised = QuantisedModel.create(model, x, options);
  } finally {
    x.dispose();
  }
  const calibrated = options.test ? await quantised.evaluate(options.test) : null;
  let fineTune: FineTuneResult | null = null;
  if ((options.epochs ?? 0) > 0) fineTune = await quantised.fineTune(train, { ...options, epochs: options.epochs! });
  else quantised.freeze();
  return { quantised, calibrated, fineTune };
}
