// Multiply-accumulates per inference, per layer: the per-layer axis every later analysis weighs by.
import type * as tf from '@tensorflow/tfjs';

export interface LayerInfo {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
  macs: number;
}

/** Shape of one sample (batch dim dropped). */
const sampleShape = (shape: (number | null)[]) => shape.slice(1) as number[];
const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Layers with several inputs or outputs report a list of shapes; the first is the one that counts. */
function firstShape(shape: tf.Shape | tf.Shape[]): (number | null)[] {
  return Array.isArray(shape[0]) ? (shape as tf.Shape[])[0] : (shape as tf.Shape);
}

/**
 * MACs of one layer for one sample. Only multiplications in weight layers count (conv, depthwise,
 * separable, dense): those are what an approximate multiplier replaces. Pooling, BatchNorm folded at
 * inference, additions and activations count 0.
 */
export function layerMacs(layer: tf.layers.Layer): number {
  const cls = layer.getClassName();
  const out = sampleShape(firstShape(layer.outputShape));
  const input = Array.isArray(layer.input) ? layer.input[0] : layer.input;
  const inShape = sampleShape(input.shape);
  const cfg = layer.getConfig() as Record<string, unknown>;
  const kernel = (cfg.kernelSize as number[] | number | undefined) ?? 1;
  const k = Array.isArray(kernel) ? product(kernel) : kernel * kernel;
  switch (cls) {
    case 'Dense': {
      // Dense applies to the last axis; any leading axes repeat it.
      const inUnits = inShape[inShape.length - 1];
      return product(out) * inUnits;
    }
    case 'Conv2D':
    case 'Conv1D': {
      const inC = inShape[inShape.length - 1];
      const kk = cls === 'Conv1D' ? (Array.isArray(kernel) ? kernel[0] : kernel) : k;
      return product(out) * kk * inC;
    }
    case 'SincConv':
      // A 1-D filter bank over a mono signal: one kernel-long window per output element.
      return product(out) * (cfg.kernelSize as number);
    case 'DepthwiseConv2D':
      // Each output element is one k×k window of one input channel.
      return product(out) * k;
    case 'SeparableConv2D': {
      const inC = inShape[inShape.length - 1];
      const mult = (cfg.depthMultiplier as number) ?? 1;
      const spatial = product(out.slice(0, -1));
      return spatial * inC * mult * k + product(out) * inC * mult;
    }
    default:
      return 0;
  }
}

export function describeLayers(model: tf.LayersModel): LayerInfo[] {
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((layer) => ({
      name: layer.name,
      type: layer.getClassName(),
      outputShape: firstShape(layer.outputShape),
      params: layer.countParams(),
      macs: layerMacs(layer),
    }));
}

export const totalMacs = (layers: LayerInfo[]) => layers.reduce((s, l) => s + l.macs, 0);
