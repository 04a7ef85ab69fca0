// Builders for the models the studio ships: four digit classifiers and two sensor models. Layer names are stable: every per-layer view
// (tolerance, multipliers, operating points) keys on them.
import * as tf from '@tensorflow/tfjs';
import type { TaskName } from '../data/tasks';
import { ecgNet } from './ecg-net';
import { radarNet } from './radar-net';
import { kwsNet } from './kws-net';

export type ZooName = 'lenet' | 'resnet' | 'mobilenet' | 'mobilenet-wide' | 'ecg' | 'radar' | 'kws';

export interface ZooEntry {
  name: ZooName;
  title: string;
  task: TaskName;
  description: string;
  build: (seed: number) => tf.LayersModel;
}

const DIGIT_INPUT: [number, number, number] = [28, 28, 1];

function lenet(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  return tf.sequential({
    name: 'lenet',
    layers: [
      tf.layers.conv2d({ name: 'conv1', inputShape: DIGIT_INPUT, filters: 6, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tf.layers.conv2d({ name: 'conv2', filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ name: 'fc1', units: 120, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ name: 'fc2', units: 84, activation: 'relu', kernelInitializer: init(4) }),
      tf.layers.dense({ name: 'fc3', units: 10, activation: 'softmax', kernelInitializer: init(5) }),
    ],
  });
}

type Sym = tf.SymbolicTensor;

function convBn(x: Sym, name: string, filters: number, kernelSize: number, strides: number, seed: number, activation: 'relu' | 'relu6' | null): Sym {
  let y = tf.layers
    .conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(x) as Sym;
  y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as Sym;
  if (activation) y = tf.layers.activation({ name: `${name}_${activation}`, activation }).apply(y) as Sym;
  return y;
}

/** A small ResNet: stem + three basic blocks (16, 32, 64 channels) = 7 conv layers + classifier. */
function resnet(seed: number): tf.LayersModel {
  const input = tf.input({ name: 'image', shape: DIGIT_INPUT });
  let x = convBn(input, 'stem', 16, 3, 1, seed + 1, 'relu');
  const stages: [string, number, number][] = [['block1', 16, 1], ['block2', 32, 2], ['block3', 64, 2]];
  stages.forEach(([name, filters, strides], i) => {
    const s = seed + 10 * (i + 1);
    let y = convBn(x, `${name}_conv1`, filters, 3, strides, s, 'relu');
    y = convBn(y, `${name}_conv2`, filters, 3, 1, s + 1, null);
    const shortcut = strides === 1 && filters === (x.shape[3] as number) ? x : convBn(x, `${name}_proj`, filters, 1, strides, s + 2, null);
    x = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as Sym;
    x = tf.layers.activation({ name: `${name}_relu`, activation: 'relu' }).apply(x) as Sym;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = tf.layers
    .dense({ name: 'fc', units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }) })
    .apply(x) as Sym;
  return tf.model({ name: 'resnet', inputs: input, outputs: out });
}

/** Inverted residual blocks as [expansion, output channels, stride]. */
type Blocks = readonly (readonly [number, number, number])[];
const MOBILENET_BLOCKS: Blocks = [[1, 16, 1], [6, 24, 2], [6, 24, 1], [6, 32, 2], [6, 32, 1]];
/**
 * MobileNetV2's stage widths on to 160 channels. These wide, low-resolution stages hold most of the
 * parameters and few of the multiplications, as in MobileNetV2 itself, so BatchNorm's γ, β fall to
 * 1.8 % of the parameters (6 % in the narrow model): what per-point BatchNorm sets cost is a matter of width.
 */
const MOBILENET_WIDE_BLOCKS: Blocks = [...MOBILENET_BLOCKS, [6, 96, 2], [6, 160, 1], [6, 160, 1]];

/** MobileNetV2-style: inverted residuals (expand 1x1, depthwise 3x3, linear project 1x1), BatchNorm, ReLU6. */
function mobilenetOf(name: string, blocks: Blocks, head: { channels: number; seed: number }, seed: number): tf.LayersModel {
  const input = tf.input({ name: 'image', shape: DIGIT_INPUT });
  let x = convBn(input, 'stem', 16, 3, 2, seed + 1, 'relu6');
  blocks.forEach(([t, c, s], i) => {
    const name = `ir${i + 1}`;
    const inC = x.shape[3] as number;
    const sd = seed + 10 * (i + 2);
    let y = x;
    if (t !== 1) y = convBn(y, `${name}_expand`, inC * t, 1, 1, sd, 'relu6');
    y = tf.layers
      .depthwiseConv2d({ name: `${name}_dw`, kernelSize: 3, strides: s, padding: 'same', useBias: false, depthwiseInitializer: tf.initializers.heNormal({ seed: sd + 1 }) })
      .apply(y) as Sym;
    y = tf.layers.batchNormalization({ name: `${name}_dw_bn` }).apply(y) as Sym;
    y = tf.layers.activation({ name: `${name}_dw_relu6`, activation: 'relu6' }).apply(y) as Sym;
    y = convBn(y, `${name}_project`, c, 1, 1, sd + 2, null);
    x = s === 1 && inC === c ? (tf.layers.add({ name: `${name}_add` }).apply([x, y]) as Sym) : y;
  });
  x = convBn(x, 'head', head.channels, 1, 1, seed + head.seed, 'relu6');
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = tf.layers
    .dense({ name: 'fc', units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }) })
    .apply(x) as Sym;
  return tf.model({ name, inputs: input, outputs: out });
}

// Head seeds are offsets past the blocks' (block i uses seed + 10(i + 2) … + 2); the narrow model's
// stays at 90, where its shipped weights came from.
const mobilenet = (seed: number) => mobilenetOf('mobilenet', MOBILENET_BLOCKS, { channels: 128, seed: 90 }, seed);
const mobilenetWide = (seed: number) => mobilenetOf('mobilenet_wide', MOBILENET_WIDE_BLOCKS, { channels: 320, seed: 150 }, seed);

export const ZOO: readonly ZooEntry[] = [
  { name: 'lenet', title: 'LeNet-5', task: 'digits', description: 'Two convolutions, two pools, three dense layers', build: lenet },
  { name: 'resnet', title: 'Small ResNet', task: 'digits', description: 'Stem and three residual blocks (16/32/64 channels) with BatchNorm', build: resnet },
  { name: 'mobilenet', title: 'MobileNetV2-style', task: 'digits', description: 'Inverted residual blocks with depthwise convolutions, BatchNorm, ReLU6', build: mobilenet },
  { name: 'mobilenet-wide', title: 'MobileNetV2-style, wide', task: 'digits', description: 'Eight inverted residual blocks up to 160 channels (MobileNetV2\'s stage widths), BatchNorm, ReLU6', build: mobilenetWide },
  { name: 'ecg', title: 'ECG rhythm net', task: 'ecg', description: 'Four 1-D convolution blocks over 2 s ECG windows: normal rhythm or ventricular bigeminy (synthetic ECG)', build: ecgNet },
  { name: 'radar', title: 'Radar gesture net', task: 'radar', description: 'Three convolution blocks over 32 × 32 range-Doppler maps: six hand gestures (synthetic radar)', build: radarNet },
  { name: 'kws', title: 'SincConv keyword spotter', task: 'keywords', description: 'Sinc filters on raw 16 kHz audio, log compression, five grouped depthwise-separable blocks: ten keywords, silence, unknown (synthetic speech)', build: kwsNet },
];

export function zooEntry(name: string): ZooEntry {
  const entry = ZOO.find((e) => e.name === name);
  if (!entry) throw new Error(`unknown model "${name}"; the zoo has ${ZOO.map((e) => e.name).join(', ')}`);
  return entry;
}
