// Grouped 1x1 convolution for tfjs, which has none: the input channels are cut into g contiguous
// slices, each slice gets its own ordinary Conv2D, and the outputs are concatenated.
//
// Why not one Conv2D whose kernel is masked block-diagonal: every part of the studio that handles
// Conv2D (approximate simulation, noise tolerance, QoS fine-tuning, retraining, MAC counts) reads the
// kernel with getWeights() and convolves it itself, or updates it as a plain variable. A mask living
// in a custom layer's call() would be ignored there, and tfjs applies weight constraints only on
// LayerVariable.write, never after an optimiser step, so the off-block weights would grow back in
// the studio's own training loops; params and MACs would count the masked zeros too (the KWS net
// would report ~124k instead of ~62k parameters), and an approximate multiplier would be charged
// for products with weights that a grouped convolution never computes. With split / concat every
// group is a genuine Conv2D of exactly the grouped size; the only unfamiliar layer is the channel
// slice, which multiplies nothing.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface ChannelSliceArgs extends LayerArgs {
  begin: number;
  size: number;
}

/** Channels [begin, begin + size) of a channels-last tensor. */
export class ChannelSlice extends tf.layers.Layer {
  static className = 'ChannelSlice';
  readonly begin: number;
  readonly size: number;

  constructor(args: ChannelSliceArgs) {
    super(args);
    this.begin = args.begin;
    this.size = args.size;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels != null && this.begin + this.size > channels) {
      throw new Error(`ChannelSlice ${this.name}: channels ${this.begin}…${this.begin + this.size - 1} of ${channels}`);
    }
    return [...shape.slice(0, -1), this.size];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const begin = x.shape.map((_, i) => (i === x.rank - 1 ? this.begin : 0));
    const size = x.shape.map((_, i) => (i === x.rank - 1 ? this.size : -1));
    return tf.slice(x, begin, size);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), begin: this.begin, size: this.size };
  }
}
tf.serialization.registerClass(ChannelSlice);

export interface GroupedPointwiseOptions {
  /** The concatenated output's name (the single Conv2D's name when groups is 1). */
  name: string;
  filters: number;
  groups: number;
  /** Group i's kernel initialiser is seeded with seed + i. */
  seed: number;
}

/**
 * A 1x1 convolution with `groups` groups and no bias. Layers: `${name}_in${i}` (slices),
 * `${name}_g${i}` (Conv2D, cin/g → filters/g), `${name}` (Concatenate); a plain Conv2D `${name}`
 * when groups is 1.
 */
export function groupedPointwise(x: tf.SymbolicTensor, o: GroupedPointwiseOptions): tf.SymbolicTensor {
  const cin = x.shape[x.shape.length - 1];
  if (cin == null || cin % o.groups !== 0 || o.filters % o.groups !== 0) {
    throw new RangeError(`grouped pointwise ${o.name}: ${cin} input and ${o.filters} output channels do not split into ${o.groups} groups`);
  }
  const conv = (input: tf.SymbolicTensor, name: string, filters: number, seed: number) =>
    tf.layers
      .conv2d({ name, filters, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.heNormal({ seed }) })
      .apply(input) as tf.SymbolicTensor;
  if (o.groups === 1) return conv(x, o.name, o.filters, o.seed);
  const [inPer, outPer] = [cin / o.groups, o.filters / o.groups];
  const outputs = Array.from({ length: o.groups }, (_, i) => {
    const slice = new ChannelSlice({ name: `${o.name}_in${i + 1}`, begin: i * inPer, size: inPer }).apply(x) as tf.SymbolicTensor;
    return conv(slice, `${o.name}_g${i + 1}`, outPer, o.seed + i);
  });
  return tf.layers.concatenate({ name: o.name, axis: -1 }).apply(outputs) as tf.SymbolicTensor;
}

/** Weights of a bias-free grouped 1x1 convolution: cin·cout/g. */
export const groupedPointwiseParams = (cin: number, cout: number, groups: number) => (cin * cout) / groups;
