// Learning how much noise each layer tolerates (algorithms.md §2, agn-approx): every multiply
// layer's output gets additive Gaussian noise ε·std(y)·σ_l during training, with σ_l trained by
// backpropagation against a reward for noise weighted by the layer's share of multiplications:
//   loss = CE − λ·Σ_l (ops_l/ops)·min(|σ_l|, σ_max).
// The network's weights train along with σ (they learn to live with the noise), so this runs on a
// copy of the model.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../train/loss';
import { layerBias, layerKernel, layerStrides, MULTIPLY_LAYERS } from '../approx/simulate';
import type { Batchable } from '../data/tensors';
import { runGraph } from '../models/graph';
import { layerMacs } from '../models/macs';
import { GaussianSource } from '../util/gaussian';
import { mulberry32, shuffleInPlace } from '../util/random';
import { yieldToEventLoop } from '../util/yield';

export interface ToleranceOptions {
  /** Weight of the noise reward (λ). */
  lambda?: number;
  sigmaInit?: number;
  sigmaMax?: number;
  epochs?: number;
  batchSize?: number;
  /** Adam rate for the network's weights. */
  learningRate?: number;
  /** Adam rate for the σ_l: they have to travel from σ_init towards σ_max within a few epochs. */
  sigmaLearningRate?: number;
  seed?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: ToleranceProgress) => void;
  progressEveryMs?: number;
}

export interface ToleranceProgress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  loss: number;
  crossEntropy: number;
  sigmas: Record<string, number>;
  elapsedMs: number;
  etaMs: number;
}

export interface LayerTolerance {
  name: string;
  /** ops_l / ops over the multiply layers. */
  opsShare: number;
  macs: number;
  /** |σ_l| learned: tolerated noise std relative to the layer output's std. */
  sigma: number;
}

export interface ToleranceResult {
  layers: LayerTolerance[];
  steps: number;
  cancelled: boolean;
  history: { step: number; loss: number; crossEntropy: number; sigmas: number[] }[];
}

export const TOLERANCE_DEFAULTS = { lambda: 0.2, sigmaInit: 0.1, sigmaMax: 0.5, epochs: 2, batchSize: 64, learningRate: 1e-4, sigmaLearningRate: 0.01 };

type Activation = { apply(x: tf.Tensor): tf.Tensor } | undefined;

/** The layer's output before its activation, from its live variables (so gradients reach them). */
function linear(layer: tf.layers.Layer, input: tf.Tensor): tf.Tensor {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as { padding?: 'same' | 'valid'; dilationRate?: number | number[] };
  // A SincConv's kernel is built from its cut-offs here, inside the gradient tape: they train too.
  const kernel = layerKernel(layer);
  const bias = layerBias(layer);
  let y: tf.Tensor;
  if (cls === 'Dense') {
    const flat = tf.reshape(input, [-1, kernel.shape[0]]);
    y = tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...input.shape.slice(0, -1), kernel.shape[1] as number]);
  } else {
    const strides = layerStrides(layer);
    const dilations = (cfg.dilationRate ?? 1) as [number, number] | number;
    y = cls === 'DepthwiseConv2D'
      ? tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, strides, cfg.padding ?? 'valid', 'NHWC', dilations)
      : tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, strides, cfg.padding ?? 'valid', 'NHWC', dilations);
  }
  return bias ? tf.add(y, bias) : y;
}

/** Multiply layers in model order with their share of the multiplications. */
export function multiplyShares(model: tf.LayersModel): { name: string; macs: number; opsShare: number }[] {
  const layers = model.layers.filter((l) => MULTIPLY_LAYERS.has(l.getClassName())).map((l) => ({ name: l.name, macs: layerMacs(l) }));
  const total = layers.reduce((s, l) => s + l.macs, 0);
  return layers.map((l) => ({ ...l, opsShare: total ? l.macs / total : 0 }));
}

export async function learnTolerance(model: tf.LayersModel, data: Batchable, options: ToleranceOptions = {}): Promise<ToleranceResult> {
  const o = { ...TOLERANCE_DEFAULTS, ...options };
  if (!(o.lambda >= 0)) throw new RangeError(`λ must be ≥ 0, got ${o.lambda}`);
  if (!(o.sigmaMax > 0) || !(o.sigmaInit >= 0)) throw new RangeError('σ_max must be > 0 and σ_init ≥ 0');
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new RangeError(`epochs must be a whole number ≥ 1, got ${o.epochs}`);
  const shares = multiplyShares(model);
  if (shares.length === 0) throw new Error('the model has no Conv2D, DepthwiseConv2D, SincConv or Dense layer to learn a tolerance for');
  const index = new Map(shares.map((s, i) => [s.name, i]));
  const sigmas = shares.map((s) => {
    // tf.variable keeps its initial tensor registered beside itself: free it.
    const init = tf.scalar(o.sigmaInit);
    const v = tf.variable(init, true, `sigma_${s.name}_${Math.random().toString(36).slice(2)}`);
    init.dispose();
    return v;
  });
  const opsShare = tf.tensor1d(shares.map((s) => s.opsShare));
  const weightOptimizer = tf.train.adam(o.learningRate);
  const sigmaOptimizer = tf.train.adam(o.sigmaLearningRate);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const random = mulberry32(o.seed ?? 1);
  const noise = new GaussianSource(o.seed ?? 1);
  const batches = Math.ceil(data.count / o.batchSize);
  const totalSteps = o.epochs * batches;
  const history: ToleranceResult['history'] = [];
  const started = performance.now();
  let lastReport = -Infinity;
  let step = 0;
  let cancelled = false;

  const forward = (xb: tf.Tensor) =>
    runGraph(
      model,
      xb,
      (layer, input) => {
        const i = index.get(layer.name);
        if (i === undefined) return null;
        const y = linear(layer, input);
        // std over the whole batch output, not detached: the gradient sees that noise scales with it.
        const std = tf.sqrt(tf.add(tf.moments(y).variance, 1e-12));
        const eps = tf.tensor(noise.fill(new Float32Array(y.size)), y.shape);
        const noisy = tf.add(y, tf.mul(eps, tf.mul(std, sigmas[i])));
        const act = (layer as unknown as { activation?: Activation }).activation;
        return act ? act.apply(noisy) : noisy;
      },
      { training: true },
    );

  try {
    for (let epoch = 1; epoch <= o.epochs && !cancelled; epoch++) {
      const order = shuffleInPlace(Array.from({ length: data.count }, (_, i) => i), random);
      for (let b = 0; b < batches; b++) {
        if (o.shouldStop?.()) {
          cancelled = true;
          break;
        }
        const idx = tf.tensor1d(order.slice(b * o.batchSize, (b + 1) * o.batchSize), 'int32');
        const xb = tf.gather(data.x, idx);
        const yb = tf.gather(data.y, idx);
        let ce = 0;
        const { value, grads } = tf.variableGrads(() => {
          const c = crossEntropy(forward(xb), yb);
          ce = c.dataSync()[0];
          const reward = tf.sum(tf.mul(opsShare, tf.minimum(tf.abs(tf.stack(sigmas)), o.sigmaMax)));
          return tf.sub(c, tf.mul(reward, o.lambda)) as tf.Scalar;
        }, [...weights, ...sigmas]);
        const sigmaNames = new Set(sigmas.map((s) => s.name));
        const named = Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
        weightOptimizer.applyGradients(named.filter((g) => !sigmaNames.has(g.name)));
        sigmaOptimizer.applyGradients(named.filter((g) => sigmaNames.has(g.name)));
        const loss = (await value.data())[0];
        tf.dispose([value, idx, xb, yb, ...Object.values(grads)]);
        step++;
        const current = sigmas.map((s) => Math.abs(s.dataSync()[0]));
        history.push({ step, loss, crossEntropy: ce, sigmas: current });
        const now = performance.now();
        if (o.onProgress && (now - lastReport >= (o.progressEveryMs ?? 100) || step === totalSteps)) {
          lastReport = now;
          const elapsedMs = now - started;
          o.onProgress({ epoch, epochs: o.epochs, step, totalSteps, loss, crossEntropy: ce, sigmas: Object.fromEntries(shares.map((s, i) => [s.name, current[i]])), elapsedMs, etaMs: (elapsedMs / step) * (totalSteps - step) });
        }
        await yieldToEventLoop();
      }
    }
    const final = sigmas.map((s) => Math.abs(s.dataSync()[0]));
    return { layers: shares.map((s, i) => ({ ...s, sigma: final[i] })), steps: step, cancelled, history };
  } finally {
    weightOptimizer.dispose();
    sigmaOptimizer.dispose();
    tf.dispose([...sigmas, opsShare]);
  }
}
