// BatchNorm statistics measured from what actually reaches each BatchNorm layer (through approximate
// multipliers, or quantisers): the estimates average over all batches — mean of the batch means,
// variance = mean of (var + mean²) − mean² — and either replace the layers' moving averages or are
// handed to a forward pass that normalises with them, leaving the model as it is.
import * as tf from '@tensorflow/tfjs';
import type { LayerHook } from '../models/graph';

export interface Moments {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Statistics to normalise with in place of BatchNorm layers' moving ones, by layer name. */
export type BatchNormStatistics = Map<string, Moments>;

const isBatchNorm = (layer: tf.layers.Layer) => layer.getClassName() === 'BatchNormalization';

/**
 * A BatchNorm layer's inference output with the given statistics instead of its moving ones: its own
 * γ, β and ε. The layer's weights are γ (if it scales), β (if it centres), moving mean, moving variance.
 */
export function batchNormWith(layer: tf.layers.Layer, input: tf.Tensor, stats: Moments): tf.Tensor {
  const config = layer.getConfig() as { center?: boolean; scale?: boolean; epsilon?: number };
  const weights = layer.getWeights();
  const gamma = config.scale !== false ? weights[0] : undefined;
  const beta = config.center !== false ? weights[config.scale !== false ? 1 : 0] : undefined;
  return tf.batchNorm(input, stats.mean, stats.variance, beta as tf.Tensor1D | undefined, gamma as tf.Tensor1D | undefined, config.epsilon ?? 1e-3);
}

/** A runGraph hook that normalises every BatchNorm layer with `statistics` (others run as they are). */
export function normaliseWith(statistics: BatchNormStatistics): LayerHook {
  return (layer, input) => {
    const own = isBatchNorm(layer) ? statistics.get(layer.name) : undefined;
    return own ? batchNormWith(layer, input, own) : null;
  };
}

export class BatchNormStats {
  private readonly sums = new Map<string, { mean: Float64Array; square: Float64Array; batches: number }>();

  /**
   * A runGraph hook (call it inside a tidy): each BatchNorm layer normalises by its batch's own
   * moments, which are recorded. BatchNorm is done here rather than by tfjs's training mode, which
   * would also move the layers' moving averages, and so the model, while it is being measured.
   */
  readonly observe: LayerHook = (layer, input) => {
    if (!isBatchNorm(layer)) return null;
    const axes = input.shape.slice(0, -1).map((_, i) => i);
    const moments = tf.moments(input, axes) as Moments;
    const m = moments.mean.dataSync();
    const v = moments.variance.dataSync();
    const acc = this.sums.get(layer.name) ?? { mean: new Float64Array(m.length), square: new Float64Array(m.length), batches: 0 };
    for (let c = 0; c < m.length; c++) {
      acc.mean[c] += m[c];
      acc.square[c] += v[c] + m[c] * m[c];
    }
    acc.batches++;
    this.sums.set(layer.name, acc);
    return batchNormWith(layer, input, moments);
  };

  /** The estimates as tensors, by layer name; the caller disposes them. */
  statistics(): BatchNormStatistics {
    const out: BatchNormStatistics = new Map();
    for (const [name, acc] of this.sums) {
      const mean = acc.mean.map((v) => v / acc.batches);
      const variance = acc.square.map((v, c) => Math.max(v / acc.batches - mean[c] * mean[c], 0));
      out.set(name, { mean: tf.tensor1d(Float32Array.from(mean)), variance: tf.tensor1d(Float32Array.from(variance)) });
    }
    return out;
  }

  /** Writes the estimates into the model's BatchNorm layers; returns how many were updated. */
  apply(model: tf.LayersModel): number {
    const statistics = this.statistics();
    for (const [name, { mean, variance }] of statistics) {
      const layer = model.getLayer(name);
      // Moving mean and variance are the last two weights, whatever of γ, β the layer has.
      layer.setWeights([...layer.getWeights().slice(0, -2), mean, variance]);
    }
    disposeStatistics(statistics);
    return statistics.size;
  }
}

export function disposeStatistics(statistics: BatchNormStatistics): void {
  tf.dispose([...statistics.values()].flatMap((s) => [s.mean, s.variance]));
}

/**
 * Measures every BatchNorm's statistics on the first `count` rows of `x`, batch by batch, yielding
 * between batches. `forward` runs one batch through runGraph with `observe` in its hook (its result
 * is the layer's output wherever it returns one); the model is not changed.
 */
export async function measureBatchNorm(x: tf.Tensor, forward: (batch: tf.Tensor, observe: LayerHook) => tf.Tensor, options: { count?: number; batchSize?: number } = {}): Promise<BatchNormStats> {
  const stats = new BatchNormStats();
  const { batchSize = 128 } = options;
  const count = Math.min(options.count ?? x.shape[0], x.shape[0]);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    tf.dispose(tf.tidy(() => forward(x.slice(start, size), stats.observe)));
    await new Promise((r) => setTimeout(r, 0));
  }
  return stats;
}

/** measureBatchNorm, then the estimates written into `model`'s BatchNorm layers; returns how many. */
export async function remeasureBatchNorm(model: tf.LayersModel, x: tf.Tensor, forward: (batch: tf.Tensor, observe: LayerHook) => tf.Tensor, options: { count?: number; batchSize?: number } = {}): Promise<number> {
  return (await measureBatchNorm(x, forward, options)).apply(model);
}
