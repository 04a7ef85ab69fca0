// A trained model with its multiply layers (Conv2D, DepthwiseConv2D, Dense) run in one of four
// modes: float, quantised with the exact multiplier, approximate (a multiplier's table, bit-faithful)
// or with additive Gaussian noise. Calibration fixes each layer's activation quantisation once.
import * as tf from '@tensorflow/tfjs';
import { measureBatchNorm, type BatchNormStatistics } from '../train/batchnorm-stats';
import { runGraph } from '../models/graph';
import { addRelativeNoise } from '../noise/inject';
import type { LayerOperandSource } from '../noise/error-model';
import { GaussianSource } from '../util/gaussian';
import { SincConv } from '../models/sinc-conv';
import { lookupConvWebGL, prepareWebGLLookup, webglLookupTensors, type WebGLLookupKernel } from './lookup-webgl';
import { applyActivation, disposeKernel, fastLayer, kernelTensors, lookupIsFaster, prepareKernel, quantiseOnDevice, type FusedActivation, type Factors, type PreparedKernel } from './fast';
import type { Window } from './geometry';
import { affineFor, quantiseActivations, quantiseWeights, type Affine, type AffineVector } from './quantise';
import { referenceConv } from './reference';
import { lookupConv, lookupConvOnHeap, prepareLookup, type LookupKernel } from './lookup';
import { heapKernels } from '../backend/heap-kernels';
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

/**
 * fast: per layer the faster exact way, factorised where the multiplier has factors unless the
 * compiled lookup is faster there (`lookupIsFaster`), else direct lookup; factors: factorised
 * wherever the multiplier has factors; lookup: always direct lookup; reference: every product
 * looked up in plain TypeScript.
 */
export type Method = 'fast' | 'factors' | 'lookup' | 'reference';

/** Sees each layer's input before the simulation does; a tensor it returns is that layer's output. */
export type SimHook = (layer: tf.layers.Layer, input: tf.Tensor) => tf.Tensor | null | void;

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
  lookupWebGL?: WebGLLookupKernel;
  /** The layer's activation when tfjs can fuse it into the convolution, else null (applied by the layer's own object). */
  fused: FusedActivation | null;
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

const FUSABLE: Record<string, FusedActivation> = { Linear: 'linear', ReLU: 'relu', Relu: 'relu', Relu6: 'relu6', ReLU6: 'relu6', Elu: 'elu', ELU: 'elu', Sigmoid: 'sigmoid' };

let EXACT: Int32Array | null = null;
const NO_FACTORS: Factors = { u: [], v: [] };

/**
 * Layers whose multiplications an approximate multiplier replaces. A SincConv is a convolution whose
 * kernel is built from its cut-offs on every pass: its products are multiplier products like any
 * other convolution's (in the keyword model, 45 % of them).
 */
export const MULTIPLY_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense', 'SincConv']);

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/**
 * A multiply layer's kernel: its first weight, or a SincConv's taps built from its cut-offs (a new
 * tensor, computed in the graph so that gradients reach the cut-offs; the caller's scope frees it).
 */
export function layerKernel(layer: tf.layers.Layer): tf.Tensor {
  return layer instanceof SincConv ? layer.kernel() : layer.getWeights()[0];
}

/** A multiply layer's bias variable, or null (a SincConv's second weight is a cut-off, not a bias). */
export function layerBiasVariable(layer: tf.layers.Layer): tf.LayerVariable | null {
  return layer instanceof SincConv ? null : (layer.weights[1] ?? null);
}

/** A multiply layer's current bias, or undefined. */
export const layerBias = (layer: tf.layers.Layer): tf.Tensor | undefined => layerBiasVariable(layer)?.read();

/** A convolution's strides as [height, width]; a SincConv (a number in its config) strides along time only. */
export function layerStrides(layer: tf.layers.Layer): [number, number] {
  const cfg = layer.getConfig() as Record<string, unknown>;
  return layer instanceof SincConv ? [1, layer.strides] : pair(cfg.strides ?? 1);
}

function describe(layer: tf.layers.Layer, act: Affine, perChannel: boolean): MultiplyLayer {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  const dense = cls === 'Dense';
  const depthwise = cls === 'DepthwiseConv2D';
  if (!dense && pair(cfg.dilationRate ?? 1).some((d) => d !== 1)) throw new Error(`layer ${layer.name}: dilated convolutions are not simulated`);
  if (depthwise && (cfg.depthMultiplier ?? 1) !== 1) throw new Error(`layer ${layer.name}: depthwise multiplier ${cfg.depthMultiplier} is not simulated (only 1)`);
  const kernel = layerKernel(layer);
  const shape = (dense ? [1, 1, ...kernel.shape] : kernel.shape) as [number, number, number, number];
  const values = kernel.dataSync() as Float32Array;
  if (layer instanceof SincConv) kernel.dispose();
  const [kh, kw] = shape;
  const channels = depthwise ? shape[2] : shape[3];
  const { codes, q } = quantiseWeights(values, channels, perChannel);
  const activation = (layer as unknown as { activation?: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string } }).activation ?? null;
  return {
    layer,
    depthwise,
    dense,
    window: { kh, kw, strides: dense ? [1, 1] : layerStrides(layer), padding: dense ? 'valid' : ((cfg.padding as 'same' | 'valid') ?? 'valid') },
    act,
    kernelShape: shape,
    codes,
    q,
    fused: activation ? (FUSABLE[activation.getClassName()] ?? null) : 'linear',
    activation,
  };
}

export class ApproxSimulation {
  private readonly kernels = new Map<string, PreparedKernel>();
  /** Multiplier tables as [256,256] textures for the WebGL lookup program, by multiplier id. */
  private readonly tables = new Map<string, tf.Tensor2D>();
  /** Zero-input error corrections by layer and multiplier id (null: none needed). */
  private readonly corrections = new Map<string, tf.Tensor1D | null>();

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

  /** A simulation with activation quantisation fixed earlier (see `affines()`), e.g. restored from storage. */
  static fromAffines(model: tf.LayersModel, affines: Record<string, Affine>, options: { perChannelWeights?: boolean } = {}): ApproxSimulation {
    const layers = new Map<string, MultiplyLayer>();
    for (const layer of model.layers) {
      if (!MULTIPLY_LAYERS.has(layer.getClassName())) continue;
      const act = affines[layer.name];
      if (!act) throw new Error(`no activation quantisation for layer ${layer.name}`);
      layers.set(layer.name, describe(layer, act, options.perChannelWeights ?? true));
    }
    return new ApproxSimulation(model, layers);
  }

  /** Each multiply layer's activation quantisation. */
  affines(): Record<string, Affine> {
    return Object.fromEntries([...this.layers].map(([name, l]) => [name, { ...l.act }]));
  }

  /**
   * Each multiply layer's quantised operands on `x`, with the float model upstream: what the error
   * model samples its receptive fields from.
   */
  operandSources(x: tf.Tensor): LayerOperandSource[] {
    const sources: LayerOperandSource[] = [];
    tf.dispose(
      runGraph(this.model, x, (layer, input) => {
        const l = this.layers.get(layer.name);
        if (!l) return null;
        const shape = (l.dense ? [input.size / input.shape[input.shape.length - 1], 1, 1, input.shape[input.shape.length - 1]] : input.shape) as [number, number, number, number];
        sources.push({
          name: layer.name,
          depthwise: l.depthwise,
          window: l.window,
          kernelShape: l.kernelShape,
          weightCodes: l.codes,
          weightQ: l.q,
          inputCodes: quantiseActivations(input.dataSync(), l.act),
          inputShape: shape,
          inputZeroPoint: l.act.zeroPoint,
        });
        return null;
      }),
    );
    return sources;
  }

  /** Names of the layers whose multiplications can be made approximate, in model order. */
  multiplyLayers(): string[] {
    return [...this.layers.keys()];
  }

  private kernel(l: MultiplyLayer, m: SimMultiplier | null): PreparedKernel {
    const key = `${l.layer.name}\u0000${m?.id ?? 'exact'}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = prepareKernel({ codes: l.codes, shape: l.kernelShape, q: l.q }, m?.factors ?? NO_FACTORS, l.depthwise, l.act);
      // Built inside a run's tidy scope, but cached across runs: keep the tensors alive.
      kernelTensors(k).forEach((t) => tf.keep(t));
      this.kernels.set(key, k);
    }
    return k;
  }

  /**
   * The bias correction that cancels `m`'s error on inputs of zero, per output channel, or null
   * where that error is 0 (see zeroInputCorrection). Cached with the layer's kernels.
   */
  private zeroInputCorrection(l: MultiplyLayer, m: SimMultiplier): tf.Tensor1D | null {
    const key = `${l.layer.name}\u0000${m.id}`;
    if (!this.corrections.has(key)) {
      const values = zeroInputCorrection(l.codes, l.kernelShape, l.depthwise, l.q, l.act, m.table);
      this.corrections.set(key, values ? tf.keep(tf.tensor1d(values)) : null);
    }
    return this.corrections.get(key)!;
  }

  private webglLookup(l: MultiplyLayer): WebGLLookupKernel {
    if (!l.lookupWebGL) {
      l.lookupWebGL = prepareWebGLLookup(l.codes, l.kernelShape, l.q, l.depthwise);
      webglLookupTensors(l.lookupWebGL).forEach((t) => tf.keep(t));
    }
    return l.lookupWebGL;
  }

  private tableTexture(m: SimMultiplier | null): tf.Tensor2D {
    const id = m?.id ?? 'exact';
    let t = this.tables.get(id);
    if (!t) {
      t = tf.keep(tf.tensor2d(Float32Array.from(m?.table ?? (EXACT ??= exactTable().values)), [256, 256]));
      this.tables.set(id, t);
    }
    return t;
  }

  /** Whether `method` runs this layer's products through the factorised layer (the exact multiplier has nothing to factorise). */
  private factorised(l: MultiplyLayer, m: SimMultiplier | null, method: Method): boolean {
    if (method === 'factors') return !m || m.factors !== null;
    if (method !== 'fast') return false;
    return !m || (m.factors !== null && !lookupIsFaster(m.factors, l.depthwise, l.window));
  }

  /** The layer's output (bias and activation included) with its products made by `mode`. */
  private multiply(l: MultiplyLayer, input: tf.Tensor, mode: Exclude<LayerMode, { kind: 'float' | 'noise' }>, method: Method): tf.Tensor {
    const x4 = (l.dense ? tf.reshape(input, [-1, 1, 1, input.shape[input.shape.length - 1]]) : input) as tf.Tensor4D;
    const m = mode.kind === 'approx' ? mode.multiplier : null;
    // The layer's own bias variable (current even while retraining changes it), with the
    // multiplier's zero-input error folded in.
    const correction = m ? this.zeroInputCorrection(l, m) : null;
    const own = layerBias(l.layer);
    const bias = correction ? (own ? tf.add(own, correction) : correction) : own;
    let y: tf.Tensor4D;
    if (this.factorised(l, m, method)) {
      y = fastLayer(x4, l.act, this.kernel(l, m), l.window, { bias, activation: l.fused ?? 'linear' });
    } else if (method !== 'reference' && tf.getBackend() === 'webgl') {
      y = lookupConvWebGL(quantiseOnDevice(x4, l.act), l.act, this.webglLookup(l), l.window, this.tableTexture(m));
      if (bias) y = tf.add(y, bias);
      if (l.fused) y = applyActivation(y, l.fused);
    } else {
      const table = m?.table ?? (EXACT ??= exactTable().values);
      const lookup = method === 'reference' ? null : (l.lookup ??= prepareLookup(l.codes, l.kernelShape, l.q, l.depthwise));
      const kernels = lookup ? heapKernels() : null;
      const compiled = lookup && kernels ? lookupConvOnHeap(x4, l.act, lookup, l.window, table, kernels) : null;
      if (compiled) {
        y = compiled;
      } else {
        const codes = { codes: quantiseActivations(x4.dataSync(), l.act), shape: x4.shape, ...l.act };
        const out = lookup ? lookupConv(codes, lookup, l.window, table) : referenceConv(codes, { codes: l.codes, shape: l.kernelShape, q: l.q }, l.window, table, l.depthwise);
        y = tf.tensor4d(out.values, out.shape);
      }
      if (bias) y = tf.add(y, bias);
      if (l.fused) y = applyActivation(y, l.fused);
    }
    const out = (l.fused || !l.activation ? y : l.activation.apply(y)) as tf.Tensor4D;
    return l.dense ? tf.reshape(out, [...input.shape.slice(0, -1), out.shape[3]]) : out;
  }

  /**
   * Runs the model with the given mode per multiply layer (float where none is given). Noise mode
   * adds ε·std(y)·relStd to the float layer's output, std over the whole batch output. `hook` sees
   * every layer's input first; where it returns a tensor, that is the layer's output. `training`
   * runs the layers the hook leaves alone in training mode (dropout on).
   */
  run(x: tf.Tensor, modes: Record<string, LayerMode>, method: Method = 'fast', { hook, training = false }: { hook?: SimHook; training?: boolean } = {}): tf.Tensor {
    const noise = new GaussianSource(1);
    return runGraph(
      this.model,
      x,
      (layer, input) => {
        const own = hook?.(layer, input);
        if (own) return own;
        const l = this.layers.get(layer.name);
        const mode = modes[layer.name];
        if (!l || !mode || mode.kind === 'float') return null;
        if (mode.kind !== 'noise') return this.multiply(l, input, mode, method);
        const noisy = addRelativeNoise(this.linearFloat(l, input), mode.relStd, noise, l.fused ?? 'linear');
        return l.fused || !l.activation ? noisy : l.activation.apply(noisy);
      },
      { training },
    );
  }

  /**
   * Re-estimates every BatchNorm layer's moving mean and variance from what reaches it when the
   * model runs with `modes`: deployed hardware folds BatchNorm with statistics of its own,
   * approximate, outputs. Each layer normalises by batch statistics meanwhile, and the estimates
   * average over all of `x` (mean of batch means; variance = mean of (var + mean²) − mean²).
   * Returns how many layers were updated.
   */
  async recalibrateBatchNorm(x: tf.Tensor, modes: Record<string, LayerMode>, batchSize = 128, method: Method = 'fast'): Promise<number> {
    return (await this.measureBatchNorm(x, modes, batchSize, method)).apply(this.model);
  }

  /**
   * The same measurement as recalibrateBatchNorm, returned instead of written into the model: for
   * `run(…, { hook: normaliseWith(statistics) })`, so the model itself (and whatever else reads it
   * meanwhile) keeps its own. The caller disposes the tensors.
   */
  async batchNormStatistics(x: tf.Tensor, modes: Record<string, LayerMode>, batchSize = 128, method: Method = 'fast'): Promise<BatchNormStatistics> {
    return (await this.measureBatchNorm(x, modes, batchSize, method)).statistics();
  }

  // Dropout stays on while measuring, as the mapping and QoS results were measured.
  private measureBatchNorm(x: tf.Tensor, modes: Record<string, LayerMode>, batchSize: number, method: Method) {
    return measureBatchNorm(x, (batch, observe) => this.run(batch, modes, method, { hook: observe, training: true }), { batchSize });
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
        return straightThrough(float, this.multiply(l, detached, mode, method));
      },
      { training: true },
    );
  }

  /** Re-quantises every multiply layer's weights from their current values (after a training step). */
  requantise(perChannelWeights = true): void {
    for (const [name, l] of this.layers) {
      if (l.lookupWebGL) tf.dispose(webglLookupTensors(l.lookupWebGL));
      this.layers.set(name, describe(l.layer, l.act, perChannelWeights));
    }
    for (const k of this.kernels.values()) disposeKernel(k);
    this.kernels.clear();
    this.dropCorrections();
  }

  private dropCorrections(): void {
    tf.dispose([...this.corrections.values()].filter((t): t is tf.Tensor1D => t !== null));
    this.corrections.clear();
  }

  /** The float layer's output before its activation. */
  private linearFloat(l: MultiplyLayer, input: tf.Tensor): tf.Tensor {
    const kernel = layerKernel(l.layer);
    const bias = layerBias(l.layer);
    const x4 = (l.dense ? tf.reshape(input, [-1, 1, 1, input.shape[input.shape.length - 1]]) : input) as tf.Tensor4D;
    const filter = tf.reshape(kernel, l.kernelShape) as tf.Tensor4D;
    const args = { x: x4, filter, strides: l.window.strides, pad: l.window.padding, bias };
    const y = l.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    if (!l.dense) return y;
    // Dropped at once so the output owns its storage, which the noise pass then perturbs in place.
    const out = tf.reshape(y, [...input.shape.slice(0, -1), y.shape[3]]);
    y.dispose();
    return out;
  }

  dispose(): void {
    for (const k of this.kernels.values()) disposeKernel(k);
    this.kernels.clear();
    for (const l of this.layers.values()) {
      if (l.lookupWebGL) tf.dispose(webglLookupTensors(l.lookupWebGL));
      l.lookupWebGL = undefined;
    }
    tf.dispose([...this.tables.values()]);
    this.tables.clear();
    this.dropCorrections();
  }
}

/**
 * −s_x·s_w[c]·Σ_k E[z_x][w_ck] for each output channel c, E = AM − a·b: what the multiplier adds to
 * the layer's output where every input is zero (code z_x, padding included). Hardware folds it into
 * the bias together with the exact zero-point terms, so only the input-dependent part of the error
 * remains. It matters where z_x is far from 0: a signed input such as raw audio sits around z_x ≈ 128,
 * where an approximate multiplier's error on each weight is a constant offset of the filter's output
 * many times the filter's signal (the keyword model's Sinc filters). After a ReLU z_x = 0, and for
 * most multipliers E[0][·] = 0, so there it changes nothing. Null when it is 0 for every channel.
 */
export function zeroInputCorrection(codes: Int32Array, kernelShape: [number, number, number, number], depthwise: boolean, q: AffineVector, act: Affine, table: Int32Array): Float32Array | null {
  const z = act.zeroPoint;
  const cout = depthwise ? kernelShape[2] : kernelShape[3];
  const sums = new Float64Array(cout);
  // Kernel layout [kh][kw][Cin][Cout] (depthwise [kh][kw][C][1]): the output channel is the index mod cout.
  for (let i = 0; i < codes.length; i++) sums[i % cout] += table[z * 256 + codes[i]] - z * codes[i];
  if (sums.every((v) => v === 0)) return null;
  return Float32Array.from(sums, (v, c) => -act.scale * q.scale[q.scale.length === 1 ? 0 : c] * v);
}

/** Value of `approx`, gradient of `float`: the straight-through estimator. */
const straightThrough = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const approx = args[1] as tf.Tensor;
  return { value: approx.clone(), gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(approx)] };
}) as Parameters<typeof tf.customGrad>[0]) as (float: tf.Tensor, approx: tf.Tensor) => tf.Tensor;
