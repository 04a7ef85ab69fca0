// Sinc-convolution front end for raw audio (algorithms.md §5, after SincNet): each of the layer's
// filters is a Hamming-windowed band-pass whose only parameters are its two cut-offs. The taps are
// rebuilt from the cut-offs on every forward pass, inside the graph, so gradients reach them.
//
// The layer works on the studio's 2-D layout for 1-D signals, [B, 1, T, 1] (as the ECG model), and
// its kernel is an ordinary [1, K, 1, F] convolution kernel, so it can be frozen into a Conv2D.
//
// The cut-off parameters are in units of `unitHz` Hz (1 by default, as in SincNet). Adam moves a
// parameter by about its learning rate per step whatever the gradient's scale, so in Hz at a rate of
// 1e-3 the cut-offs would move ~1e-3 Hz per step and never reshape the filters; the keyword model
// counts them in units of 100 Hz, so they move with the rest of the network.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface SincConvArgs extends LayerArgs {
  filters: number;
  /** Odd, so that the filters are symmetric about a centre tap (zero-phase, linear-phase). */
  kernelSize: number;
  strides?: number;
  sampleRate: number;
  /** f₁ = |f₁'| + minLowHz. */
  minLowHz?: number;
  /** f₂ = f₁ + |b'| + minBandHz. */
  minBandHz?: number;
  padding?: 'valid' | 'same';
  /** Hz per unit of the trainable cut-off parameters. */
  unitHz?: number;
}

export interface PassBand {
  lowHz: number;
  highHz: number;
}

export const SINC_DEFAULTS = { strides: 1, minLowHz: 50, minBandHz: 50, padding: 'valid' as const };

const toMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const fromMel = (mel: number) => 700 * (10 ** (mel / 2595) - 1);

/**
 * SincNet's initialisation: F+1 edges evenly spaced on the mel scale from 30 Hz up to where the
 * last filter's f₂ lands exactly on Nyquist; filter i gets f₁' = edge[i], b' = edge[i+1] − edge[i].
 * With the 50 Hz floors added this gives f₁ = edge[i] + 50, f₂ = edge[i+1] + 100: mel-spaced bands
 * that overlap their neighbours by 50 Hz and together cover 80 Hz … Nyquist.
 */
export function melInitialCutoffs(filters: number, sampleRate: number, minLowHz = SINC_DEFAULTS.minLowHz, minBandHz = SINC_DEFAULTS.minBandHz): { low: Float32Array; band: Float32Array } {
  const top = sampleRate / 2 - (minLowHz + minBandHz);
  const [m0, m1] = [toMel(30), toMel(top)];
  const edges = Array.from({ length: filters + 1 }, (_, i) => fromMel(m0 + ((m1 - m0) * i) / filters));
  return {
    low: Float32Array.from(edges.slice(0, -1)),
    band: Float32Array.from(edges.slice(1).map((e, i) => e - edges[i])),
  };
}

/** Each filter's pass band [f₁, f₂] in Hz from the raw trainable parameters (f₁', b'). */
export function sincPassBands(lowParam: ArrayLike<number>, bandParam: ArrayLike<number>, minLowHz = SINC_DEFAULTS.minLowHz, minBandHz = SINC_DEFAULTS.minBandHz): PassBand[] {
  return Array.from({ length: lowParam.length }, (_, i) => {
    const lowHz = Math.abs(lowParam[i]) + minLowHz;
    return { lowHz, highHz: lowHz + Math.abs(bandParam[i]) + minBandHz };
  });
}

interface Grid {
  /** Tap times in seconds, the centre replaced by 1 s so that no division by zero reaches the graph. */
  safeTimes: Float32Array;
  /** 1 at the centre tap, else 0. */
  centre: Float32Array;
  /** Hamming window divided by the sample rate. */
  scaledWindow: Float32Array;
}

function grid(kernelSize: number, sampleRate: number): Grid {
  const half = (kernelSize - 1) / 2;
  const safeTimes = new Float32Array(kernelSize);
  const centre = new Float32Array(kernelSize);
  const scaledWindow = new Float32Array(kernelSize);
  for (let k = 0; k < kernelSize; k++) {
    safeTimes[k] = k === half ? 1 : (k - half) / sampleRate;
    centre[k] = k === half ? 1 : 0;
    scaledWindow[k] = (0.54 - 0.46 * Math.cos((2 * Math.PI * k) / (kernelSize - 1))) / sampleRate;
  }
  return { safeTimes, centre, scaledWindow };
}

/**
 * The [1, K, 1, F] kernel from the cut-off parameters, as tensors (differentiable in both).
 *
 * g[n] = 2f₂·sinc(2πf₂n) − 2f₁·sinc(2πf₁n) = (sin 2πf₂n − sin 2πf₁n) / (πn), n in seconds, and
 * 2(f₂ − f₁) at n = 0, where the quotient form would be 0/0 (its gradient NaN). The taps are
 * g[n]·Ts: a continuous impulse response sampled every Ts = 1/fs has that factor in its discrete
 * counterpart, which makes the pass-band gain about 1 for every filter. (SincNet divides by
 * 2(f₂ − f₁) instead, which gives a 100 Hz filter a gain of fs/200; the BatchNorm after the log
 * compression absorbs either.)
 */
export function sincKernel(lowParam: tf.Tensor1D, bandParam: tf.Tensor1D, args: Pick<SincConvArgs, 'kernelSize' | 'sampleRate' | 'minLowHz' | 'minBandHz'>): tf.Tensor4D {
  const { kernelSize, sampleRate, minLowHz = SINC_DEFAULTS.minLowHz, minBandHz = SINC_DEFAULTS.minBandHz } = args;
  if (kernelSize % 2 !== 1) throw new RangeError(`SincConv kernel size must be odd, got ${kernelSize}`);
  const g = grid(kernelSize, sampleRate);
  return tf.tidy(() => {
    const f1 = tf.add(tf.abs(lowParam), minLowHz).reshape([-1, 1]);
    const f2 = tf.add(tf.add(f1, tf.abs(bandParam).reshape([-1, 1])), minBandHz);
    const n = tf.tensor2d(g.safeTimes, [1, kernelSize]);
    const centre = tf.tensor2d(g.centre, [1, kernelSize]);
    const twoPiN = tf.mul(n, 2 * Math.PI);
    const offCentre = tf.div(tf.sub(tf.sin(tf.mul(f2, twoPiN)), tf.sin(tf.mul(f1, twoPiN))), tf.mul(n, Math.PI));
    const atCentre = tf.mul(tf.sub(f2, f1), 2);
    const taps = tf.add(tf.mul(offCentre, tf.sub(1, centre)), tf.mul(atCentre, centre)); // [F, K]
    const windowed = tf.mul(taps, tf.tensor2d(g.scaledWindow, [1, kernelSize]));
    return tf.transpose(windowed).reshape([1, kernelSize, 1, -1]) as tf.Tensor4D;
  });
}

export class SincConv extends tf.layers.Layer {
  static className = 'SincConv';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly sampleRate: number;
  readonly minLowHz: number;
  readonly minBandHz: number;
  readonly padding: 'valid' | 'same';
  readonly unitHz: number;
  private low: tf.LayerVariable | null = null;
  private band: tf.LayerVariable | null = null;

  constructor(args: SincConvArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? SINC_DEFAULTS.strides;
    this.sampleRate = args.sampleRate;
    this.minLowHz = args.minLowHz ?? SINC_DEFAULTS.minLowHz;
    this.minBandHz = args.minBandHz ?? SINC_DEFAULTS.minBandHz;
    this.padding = args.padding ?? SINC_DEFAULTS.padding;
    this.unitHz = args.unitHz ?? 1;
    if (this.kernelSize % 2 !== 1) throw new RangeError(`SincConv kernel size must be odd, got ${this.kernelSize}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length !== 4 || shape[1] !== 1 || shape[3] !== 1) {
      throw new Error(`SincConv takes [B, 1, T, 1] (one mono signal per row), got [${shape.join(', ')}]`);
    }
    const init = melInitialCutoffs(this.filters, this.sampleRate, this.minLowHz, this.minBandHz);
    // Written after creation: a custom initialiser would have to be serialisable too, and loading
    // overwrites these values anyway.
    this.low = this.addWeight('low_hz', [this.filters], 'float32', tf.initializers.zeros());
    this.band = this.addWeight('band_hz', [this.filters], 'float32', tf.initializers.zeros());
    tf.tidy(() => {
      this.low!.write(tf.tensor1d(init.low.map((v) => v / this.unitHz)));
      this.band!.write(tf.tensor1d(init.band.map((v) => v / this.unitHz)));
    });
    this.built = true;
  }

  /** The current [1, K, 1, F] kernel (the caller disposes it). */
  kernel(): tf.Tensor4D {
    if (!this.low || !this.band) throw new Error(`SincConv ${this.name} is not built yet`);
    const u = this.unitHz;
    return tf.tidy(() => sincKernel(tf.mul(this.low!.read(), u) as tf.Tensor1D, tf.mul(this.band!.read(), u) as tf.Tensor1D, this));
  }

  /** The filters' current pass bands in Hz. */
  passBands(): PassBand[] {
    if (!this.low || !this.band) throw new Error(`SincConv ${this.name} is not built yet`);
    const u = this.unitHz;
    return sincPassBands(Array.from(this.low.read().dataSync(), (v) => v * u), Array.from(this.band.read().dataSync(), (v) => v * u), this.minLowHz, this.minBandHz);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const t = shape[2];
    const out = t == null ? null : this.padding === 'same' ? Math.ceil(t / this.strides) : Math.floor((t - this.kernelSize) / this.strides) + 1;
    return [shape[0], 1, out, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => tf.conv2d(x, this.kernel(), [1, this.strides], this.padding));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      sampleRate: this.sampleRate,
      minLowHz: this.minLowHz,
      minBandHz: this.minBandHz,
      padding: this.padding,
      unitHz: this.unitHz,
    };
  }
}
tf.serialization.registerClass(SincConv);

/** log(|x| + 1): the compression after the Sinc filters, a layer so that the graph names it. */
export class LogCompression extends tf.layers.Layer {
  static className = 'LogCompression';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.log1p(tf.abs(x)));
  }
}
tf.serialization.registerClass(LogCompression);
