// BatchNorm statistics measured from what actually reaches each BatchNorm layer (through approximate
// multipliers, or quantisers): the estimates average over all batches — mean of the batch means,
// variance = mean of (var + mean²) − mean² — and replace the layers' moving averages.
import * as tf from '@tensorflow/tfjs';
import type { LayerHook } from '../models/graph';

export class BatchNormStats {
  private readonly sums = new Map<string, { mean: Float64Array; square: Float64Array; batches: number }>();

  /** Call from a runGraph hook with each layer's input; other layers are ignored. */
  observe(layer: tf.layers.Layer, input: tf.Tensor): void {
    if (layer.getClassName() !== 'BatchNormalization') return;
    const axes = input.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.tidy(() => tf.moments(input, axes));
    const m = mean.dataSync();
    const v = variance.dataSync();
    tf.dispose([mean, variance]);
    const acc = this.sums.get(layer.name) ?? { mean: new Float64Array(m.length), square: new Float64Array(m.length), batches: 0 };
    for (let c = 0; c < m.length; c++) {
      acc.mean[c] += m[c];
      acc.square[c] += v[c] + m[c] * m[c];
    }
    acc.batches++;
    this.sums.set(layer.name, acc);
  }

  /** The estimates per BatchNorm layer: mean of the batch means, variance = mean of (var + mean²) − mean². */
  estimates(): Map<string, BatchNormEstimate> {
    const out = new Map<string, BatchNormEstimate>();
    for (const [name, acc] of this.sums) {
      const mean = acc.mean.map((v) => v / acc.batches);
      const variance = acc.square.map((v, c) => Math.max(v / acc.batches - mean[c] * mean[c], 0));
      out.set(name, { mean: Float32Array.from(mean), variance: Float32Array.from(variance) });
    }
    return out;
  }

  /** Writes the estimates into the model's BatchNorm layers; returns how many were updated. */
  apply(model: tf.LayersModel): number {
    const estimates = this.estimates();
    for (const [name, { mean, variance }] of estimates) {
      const layer = model.getLayer(name);
      const fresh = [tf.tensor1d(mean), tf.tensor1d(variance)];
      // Moving mean and variance are the last two weights, whatever of γ, β the layer has.
      layer.setWeights([...layer.getWeights().slice(0, -2), ...fresh]);
      tf.dispose(fresh);
    }
    return estimates.size;
  }
}

export interface BatchNormEstimate {
  mean: Float32Array;
  variance: Float32Array;
}

/** Statistics to normalise with in place of BatchNorm layers' moving ones, by layer name. */
export type BatchNormStatistics = Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

/**
 * A BatchNorm layer's inference output with the given statistics instead of its moving ones: its own
 * γ, β and ε. The layer's weights are γ (if it scales), β (if it centres), moving mean, moving variance.
 */
export function batchNormWith(layer: tf.layers.Layer, input: tf.Tensor, stats: { mean: tf.Tensor1D; variance: tf.Tensor1D }): tf.Tensor {
  const config = layer.getConfig() as { center?: boolean; scale?: boolean; epsilon?: number };
  const weights = layer.getWeights();
  const gamma = config.scale !== false ? weights[0] : undefined;
  const beta = config.center !== false ? weights[config.scale !== false ? 1 : 0] : undefined;
  return tf.batchNorm(input, stats.mean, stats.variance, beta as tf.Tensor1D | undefined, gamma as tf.Tensor1D | undefined, config.epsilon ?? 1e-3);
}

/** Measures every BatchNorm layer's statistics on `x` without writing them anywhere (see remeasureBatchNorm). */
export async function measureBatchNorm(x: tf.Tensor, forward: (batch: tf.Tensor, observe: LayerHook) => tf.Tensor, options: { count?: number; batchSize?: number } = {}): Promise<BatchNormStats> {
  const stats = new BatchNormStats();
  const observe: LayerHook = (layer, input) => {
    stats.observe(layer, input);
    return null;
  };
  const { batchSize = 128 } = options;
  const count = Math.min(options.count ?? x.shape[0], x.shape[0]);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    tf.dispose(tf.tidy(() => forward(x.slice(start, size), observe)));
    await new Promise((r) => setTimeout(r, 0));
  }
  return stats;
}

/**
 * Re-measures every BatchNorm of `model` on the first `count` rows of `x`, batch by batch, yielding
 * between batches. `forward` runs one batch with BatchNorm on batch statistics and calls `observe`
 * from its runGraph hook (it returns null, so the hook changes nothing). Returns how many layers were
 * updated.
 */
export async function remeasureBatchNorm(model: tf.LayersModel, x: tf.Tensor, forward: (batch: tf.Tensor, observe: LayerHook) => tf.Tensor, options: { count?: number; batchSize?: number } = {}): Promise<number> {
  return (await measureBatchNorm(x, forward, options)).apply(model);
}
