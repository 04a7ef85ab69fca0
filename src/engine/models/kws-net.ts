// Keyword spotting from one second of raw 16 kHz audio (algorithms.md §5, after Mittermaier et al.,
// "Small-footprint keyword spotting on raw audio data with sinc-convolutions"): Sinc filters, log
// compression, then five grouped depthwise-separable blocks and a 12-way classifier. Laid out as
// [B, 1, 16000, 1] like the ECG model, so the studio's Conv2D / DepthwiseConv2D analyses apply.
//
// Reading of "depthwise kernel 25 stride 2, then kernel 9": the first block's depthwise convolution
// has kernel 25 and stride 2 (it still sees a long, finely sampled sequence), the other four have
// kernel 9 and stride 1; the AvgPool of every block does the remaining downsampling. Lengths:
// 16000 → sinc (valid, stride 8) 1988 → pool 994 → block1 497 → 248 → 124 → 62 → 31 → 15 → GAP.
//
// Convolutions before BatchNorm have no bias (BatchNorm's offset makes it redundant); with that the
// count is 62,488 parameters, the paper's "62k" (see kwsParameterCount).
import * as tf from '@tensorflow/tfjs';
import { groupedPointwise, groupedPointwiseParams } from './grouped-conv';
import { LogCompression, SincConv } from './sinc-conv';

export const KWS_SAMPLE_RATE = 16_000;
export const KWS_SAMPLES = 16_000;
/** 10 words, silence, unknown. */
export const KWS_CLASSES = 12;

export interface KwsBlock {
  kernel: number;
  stride: number;
  groups: number;
}

export interface KwsSpec {
  sincFilters: number;
  sincKernel: number;
  sincStride: number;
  /** Channels of every block's output. */
  channels: number;
  blocks: KwsBlock[];
  dropout: number;
  classes: number;
}

export const KWS_SPEC: KwsSpec = {
  sincFilters: 40,
  sincKernel: 101,
  sincStride: 8,
  channels: 162,
  blocks: [
    { kernel: 25, stride: 2, groups: 1 },
    { kernel: 9, stride: 1, groups: 2 },
    { kernel: 9, stride: 1, groups: 3 },
    { kernel: 9, stride: 1, groups: 2 },
    { kernel: 9, stride: 1, groups: 3 },
  ],
  dropout: 0.1,
  classes: KWS_CLASSES,
};

type Sym = tf.SymbolicTensor;

/** Pool by 2 along time only (the height axis has size 1). */
const timePool = (x: Sym, name: string) => tf.layers.averagePooling2d({ name, poolSize: [1, 2], strides: [1, 2] }).apply(x) as Sym;

export function kwsNet(seed: number, spec: KwsSpec = KWS_SPEC): tf.LayersModel {
  const input = tf.input({ name: 'audio', shape: [1, KWS_SAMPLES, 1] });
  let x = new SincConv({ name: 'sinc', filters: spec.sincFilters, kernelSize: spec.sincKernel, strides: spec.sincStride, sampleRate: KWS_SAMPLE_RATE, unitHz: 100 }).apply(input) as Sym;
  x = new LogCompression({ name: 'sinc_log' }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ name: 'sinc_bn' }).apply(x) as Sym;
  x = timePool(x, 'sinc_pool');
  spec.blocks.forEach((b, i) => {
    const name = `block${i + 1}`;
    const s = seed + 10 * (i + 1);
    x = tf.layers
      .depthwiseConv2d({ name: `${name}_dw`, kernelSize: [1, b.kernel], strides: [1, b.stride], padding: 'same', useBias: false, depthwiseInitializer: tf.initializers.heNormal({ seed: s }) })
      .apply(x) as Sym;
    x = groupedPointwise(x, { name: `${name}_pw`, filters: spec.channels, groups: b.groups, seed: s + 1 });
    x = tf.layers.reLU({ name: `${name}_relu` }).apply(x) as Sym;
    x = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(x) as Sym;
    x = timePool(x, `${name}_pool`);
    x = tf.layers.dropout({ name: `${name}_drop`, rate: spec.dropout, seed: s + 9 }).apply(x) as Sym;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = tf.layers
    .dense({ name: 'fc', units: spec.classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }) })
    .apply(x) as Sym;
  return tf.model({ name: 'kws', inputs: input, outputs: out });
}

export interface KwsParameterCount {
  /** Everything Keras / tf.LayersModel.countParams() counts, BatchNorm moving statistics included. */
  total: number;
  trainable: number;
  /** The total if the pointwise convolutions were not grouped (a dense 1x1, or a masked block-diagonal kernel). */
  ungroupedTotal: number;
}

/** The exact parameter count of kwsNet(·, spec), from the architecture alone. */
export function kwsParameterCount(spec: KwsSpec = KWS_SPEC): KwsParameterCount {
  const c = spec.channels;
  let trainable = 2 * spec.sincFilters + 2 * spec.sincFilters; // cut-offs; BatchNorm γ, β
  let movingStats = 2 * spec.sincFilters;
  let ungroupedExtra = 0;
  let cin = spec.sincFilters;
  for (const b of spec.blocks) {
    const pointwise = groupedPointwiseParams(cin, c, b.groups);
    trainable += cin * b.kernel + pointwise + 2 * c;
    movingStats += 2 * c;
    ungroupedExtra += cin * c - pointwise;
    cin = c;
  }
  trainable += c * spec.classes + spec.classes;
  const total = trainable + movingStats;
  return { total, trainable, ungroupedTotal: total + ungroupedExtra };
}
