// A trained model with its multiply layers (Conv2D, DepthwiseConv2D, Dense) run in one of four
// modes: float, quantised with the exact multiplier, approximate (a multiplier's table, bit-faithful)
// or with additive Gaussian noise. Calibration fixes each layer's activation quantisation once.
import * as tf from '@tensorflow/tfjs';
import { runGraph } from '../models/graph';
import { disposeKernel, fastConv, prepareKernel, type Factors, type PreparedKernel } from './fast';
import type { Window } from './geometry';
import { affineFor, quantiseWeights, type Affine, type AffineVector } from './quantise';
import { referenceConv } from './reference';
import { lookupConv, prepareLookup, type LookupKernel } from './lookup';
import { exactTable } from './table';

/**
 * A multiplier as the simulation needs it: its table, and the table's error factorised, or null
 * when the exact factorisation needs too many terms (then every product is looked up directly).
 */
export interface SimMultiplier {
  id: string;
  table: Int32Array;
  factors: Factors | null;
}

export type LayerMode =
  | { kind: 'float' }
  | { kind: 'exact' }
  | { kind: 'approx'; multiplier: SimMultiplier }
  | { kind: 'noise'; relStd: number };

/** fast: factorised when the multiplier has factors, else direct lookup; lookup: always direct lookup. */
export type Method = 'fast' | 'lookup' | 'reference';

interface MultiplyLayer {
  layer: tf.layers.Layer;
  depthwise: boolean;
  dense: boolean;
  window: Window;
  act: Affine;
  kernelShape: [number, number, number, number];
  codes: Int32Array;
  q: AffineVector;
  /** Built on first use: most runs never look products up directly, and retraining re-quantises every step. */
  lookup?: LookupKernel;
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

let EXACT: Int32Array | null = null;
const NO_FACTORS: Factors = { u: [], v: [] };

export const MULTIPLY_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense']);

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

function describe(layer: tf.layers.Layer, act: Affine, perChannel: boolean): MultiplyLayer {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  const [kernel] = layer.getWeights();
  const dense = cls === 'Dense';
  const depthwise = cls === 'DepthwiseConv2D';
  if (!dense && pair(cfg.dilationRate ?? 1).some((d) => d !== 1)) throw new Error(`layer ${layer.name}: dilated convolutions are not simulated`);
  if (depthwise && (cfg.depthMultiplier ?? 1) !== 1) throw new Error(`layer ${layer.name}: depthwise multiplier ${cfg.depthMultiplier} is not simulated (only 1)`);
  const shape = (dense ? [1, 1, ...kernel.shape] : kernel.shape) as [number, number, number, number];
  const [kh, kw] = shape;
  const channels = depthwise ? shape[2] : shape[3];
  const { codes, q } = quantiseWeights(kernel.dataSync() as Float32Array, channels, perChannel);
  return {
    layer,
    depthwise,
    dense,
    window: { kh, kw, strides: dense ? [1, 1] : pair(cfg.strides ?? 1), padding: dense ? 'valid' : ((cfg.padding as 'same' | 'valid') ?? 'valid') },
    act,
    kernelShape: shape,
    codes,
    q,
    activation: (layer as unknown as { activation?: { apply(x: tf.Tensor): tf.Tensor } }).activation ?? null,
  };
}

export class ApproxSimulation {
  private readonly kernels = new Map<string, PreparedKernel>();

  private constructor(
    readonly model: tf.LayersModel,
    private readonly layers: Map<string, MultiplyLayer>,
  ) {}

  /** Measures each multiply layer's input range on `calibration` (float model) and quantises the weights. */
  static calibrate(model: tf.LayersModel, calibration: tf.Tensor, options: { perChannelWeights?: boolean } = {}): ApproxSimulation {
    const ranges = new Map<string, [number, number]>();
    tf.dispose(
      runGraph(model, calibration, (layer, input) => {
        if (MULTIPLY_LAYERS.has(layer.getClassName())) {
          const [lo, hi] = tf.tidy(() => [tf.min(input).dataSync()[0], tf.max(input).dataSync()[0]]);
          ranges.set(layer.name, [lo, hi]);
        }
        return null;
      }),
    );
    const layers = new Map<string, MultiplyLayer>();
    for (const [name, [lo, hi]] of ranges) {
      layers.set(name, describe(model.getLayer(name), affineFor(lo, hi), options.perChannelWeights ?? true));
    }
    return new ApproxSimulation(model, layers);
  }

  /** Names of the layers whose multiplications can be made approximate, in model order. */
  multiplyLayers(): string[] {
    return [...this.layers.keys()];
  }

  private kernel(l: MultiplyLayer, m: SimMultiplier | null): PreparedKernel {
    const key = `${l.layer.name}\u0000${m?.id ?? 'exact'}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = prepareKernel({ codes: l.codes, shape: l.kernelShape, q: l.q }, m?.factors ?? NO_FACTORS, l.depthwise);
      // Built inside a run's tidy scope, but cached across runs: keep the tensors alive.
      [k.stacked, ...k.u, k.sw].forEach((t) => tf.keep(t));
      this.kernels.set(key, k);
    }
    return k;
  }

  private multiply(l: MultiplyLayer, input: tf.Tensor, mode: Exclude<LayerMode, { kind: 'float' | 'noise' }>, method: Method): tf.Tensor {
    const x4 = (l.dense ? tf.reshape(input, [-1, 1, 1, input.shape[input.shape.length - 1]]) : input) as tf.Tensor4D;
    const codes = tf.clipByValue(tf.add(tf.round(tf.div(x4, l.act.scale)), l.act.zeroPoint), 0, 255).toInt() as tf.Tensor4D;
    const m = mode.kind === 'approx' ? mode.multiplier : null;
    let y: tf.Tensor4D;
    if (method === 'fast' && (!m || m.factors)) {
      y = fastConv(codes, l.act, this.kernel(l, m), l.window);
    } else {
      const table = m?.table ?? (EXACT ??= exactTable().values);
      const input = { codes: codes.dataSync() as Int32Array, shape: codes.shape, ...l.act };
      const out = method === 'reference' ? referenceConv(input, { codes: l.codes, shape: l.kernelShape, q: l.q }, l.window, table, l.depthwise) : lookupConv(input, (l.lookup ??= prepareLookup(l.codes, l.kernelShape, l.q, l.depthwise)), l.window, table);
      y = tf.tensor4d(out.values, out.shape);
    }
    const out = l.dense ? tf.reshape(y, [...input.shape.slice(0, -1), y.shape[3]]) : y;
    return out;
  }

  /**
   * Runs the model with the given mode per multiply layer (float where none is given). Noise mode
   * adds ε·std(y)·relStd to the float layer's output, std over the whole batch output.
   */
  run(x: tf.Tensor, modes: Record<string, LayerMode>, method: Method = 'fast', seed = 1): tf.Tensor {
    let noiseSeed = seed;
    return runGraph(this.model, x, (layer, input) => {
      const l = this.layers.get(layer.name);
      const mode = modes[layer.name];
      if (!l || !mode || mode.kind === 'float') return null;
      let pre: tf.Tensor;
      if (mode.kind === 'noise') {
        pre = this.linearFloat(l, input);
        const std = tf.sqrt(tf.moments(pre).variance);
        pre = tf.add(pre, tf.mul(tf.randomNormal(pre.shape, 0, 1, 'float32', noiseSeed++), tf.mul(std, mode.relStd)));
      } else {
        pre = this.multiply(l, input, mode, method);
        // The layer's own bias variable: current even while retraining changes it.
        const bias = layer.getWeights()[1];
        if (bias) pre = tf.add(pre, bias);
      }
      return l.activation ? l.activation.apply(pre) : pre;
    });
  }

  /**
   * The forward pass for retraining: approximate values, exact gradients (straight-through). Each
   * approximate layer's output is the approximate result, while its gradient is that of the float
   * layer on the same input. Call `requantise()` after each weight update.
   */
  runForTraining(x: tf.Tensor, modes: Record<string, LayerMode>, method: Method = 'fast'): tf.Tensor {
    return runGraph(
      this.model,
      x,
      (layer, input) => {
        const l = this.layers.get(layer.name);
        const mode = modes[layer.name];
        if (!l || !mode || mode.kind === 'float' || mode.kind === 'noise') return null;
        const float = layer.apply(input, { training: true }) as tf.Tensor;
        // A copy off the tape: the approximate path must not be differentiated (round, gather).
        const detached = tf.tensor(input.dataSync(), input.shape);
        let approx = this.multiply(l, detached, mode, method);
        const bias = layer.getWeights()[1];
        if (bias) approx = tf.add(approx, bias);
        if (l.activation) approx = l.activation.apply(approx);
        return straightThrough(float, approx);
      },
      { training: true },
    );
  }

  /** Re-quantises every multiply layer's weights from their current values (after a training step). */
  requantise(perChannelWeights = true): void {
    for (const [name, l] of this.layers) this.layers.set(name, describe(l.layer, l.act, perChannelWeights));
    for (const k of this.kernels.values()) disposeKernel(k);
    this.kernels.clear();
  }

  /** The float layer's output before its activation. */
  private linearFloat(l: MultiplyLayer, input: tf.Tensor): tf.Tensor {
    const [kernel, bias] = l.layer.getWeights();
    const x4 = (l.dense ? tf.reshape(input, [-1, 1, 1, input.shape[input.shape.length - 1]]) : input) as tf.Tensor4D;
    const k4 = tf.reshape(kernel, l.kernelShape) as tf.Tensor4D;
    let y = l.depthwise ? tf.depthwiseConv2d(x4, k4, l.window.strides, l.window.padding) : tf.conv2d(x4, k4, l.window.strides, l.window.padding);
    if (bias) y = tf.add(y, bias);
    return l.dense ? tf.reshape(y, [...input.shape.slice(0, -1), y.shape[3]]) : y;
  }

  dispose(): void {
    for (const k of this.kernels.values()) disposeKernel(k);
    this.kernels.clear();
  }
}

/** Value of `approx`, gradient of `float`: the straight-through estimator. */
const straightThrough = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const approx = args[1] as tf.Tensor;
  return { value: approx.clone(), gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(approx)] };
}) as Parameters<typeof tf.customGrad>[0]) as (float: tf.Tensor, approx: tf.Tensor) => tf.Tensor;
