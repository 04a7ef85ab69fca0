import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { LogCompression, SincConv, melInitialCutoffs, sincKernel, sincPassBands } from './sinc-conv';

beforeAll(() => initNodeBackend('wasm'));

const FS = 16_000;
const toMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);

/** The filter straight from the formula, in float64: 2f₂·sinc(2πf₂n) − 2f₁·sinc(2πf₁n), Hamming, ·Ts. */
function formulaTaps(f1: number, f2: number, k: number, fs: number): number[] {
  const sinc = (x: number) => (x === 0 ? 1 : Math.sin(x) / x);
  return Array.from({ length: k }, (_, i) => {
    const n = (i - (k - 1) / 2) / fs;
    const g = 2 * f2 * sinc(2 * Math.PI * f2 * n) - 2 * f1 * sinc(2 * Math.PI * f1 * n);
    return (g * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (k - 1)))) / fs;
  });
}

/** |H(f)| of real taps. */
function gainAt(taps: number[], hz: number, fs: number): number {
  let re = 0;
  let im = 0;
  taps.forEach((t, i) => {
    re += t * Math.cos((2 * Math.PI * hz * i) / fs);
    im -= t * Math.sin((2 * Math.PI * hz * i) / fs);
  });
  return Math.hypot(re, im);
}

const built = (filters: number, kernelSize = 101, strides = 8, length = 2000) => {
  const layer = new SincConv({ name: 'sinc', filters, kernelSize, strides, sampleRate: FS });
  layer.apply(tf.input({ shape: [1, length, 1] }));
  return layer;
};

describe('SincConv filters', () => {
  it('match the formula evaluated directly, for any sign of the raw parameters', () => {
    const low = [-120, 0, 950.5, 3100];
    const band = [60, -400, 10, 2500];
    const kernel = sincKernel(tf.tensor1d(low), tf.tensor1d(band), { kernelSize: 101, sampleRate: FS });
    expect(kernel.shape).toEqual([1, 101, 1, 4]);
    const taps = kernel.arraySync()[0].map((row) => row[0]); // [K][F]
    sincPassBands(low, band).forEach(({ lowHz, highHz }, f) => {
      const expected = formulaTaps(lowHz, highHz, 101, FS);
      const got = taps.map((row) => row[f]);
      const err = Math.max(...got.map((v, i) => Math.abs(v - expected[i])));
      expect(err).toBeLessThan(2e-5);
    });
    expect(sincPassBands(low, band)[1]).toEqual({ lowHz: 50, highHz: 500 });
  });

  it('pass their band with gain about 1 and stop far outside it', () => {
    const taps = formulaTaps(1000, 2000, 101, FS);
    expect(gainAt(taps, 1500, FS)).toBeCloseTo(1, 1);
    expect(gainAt(taps, 4000, FS)).toBeLessThan(0.01);
    expect(gainAt(taps, 100, FS)).toBeLessThan(0.01);
  });

  it('start mel-spaced from 80 Hz up to Nyquist, neighbours overlapping by 50 Hz', () => {
    const layer = built(40);
    const bands = layer.passBands();
    expect(bands).toHaveLength(40);
    expect(bands[0].lowHz).toBeCloseTo(80, 3);
    expect(bands[39].highHz).toBeCloseTo(FS / 2, 1);
    const melSteps = bands.map((b) => toMel(b.lowHz - 50)).slice(1).map((m, i) => m - toMel(bands[i].lowHz - 50));
    for (const step of melSteps) expect(step).toBeCloseTo(melSteps[0], 2);
    for (let i = 1; i < 40; i++) expect(bands[i - 1].highHz - bands[i].lowHz).toBeCloseTo(50, 2);
    // What the UI plots comes from the same raw numbers as the layer's weights.
    const init = melInitialCutoffs(40, FS);
    expect(sincPassBands(init.low, init.band)).toEqual(bands);
    layer.dispose();
  });

  it('have an output length as a valid or same convolution', () => {
    const valid = built(4, 101, 8, 16000);
    expect(valid.computeOutputShape([null, 1, 16000, 1])).toEqual([null, 1, 1988, 4]);
    const same = new SincConv({ filters: 4, kernelSize: 101, strides: 8, sampleRate: FS, padding: 'same' });
    expect(same.computeOutputShape([null, 1, 16000, 1])).toEqual([null, 1, 2000, 4]);
    expect(() => new SincConv({ filters: 4, kernelSize: 100, sampleRate: FS })).toThrow(/odd/);
    const y = valid.apply(tf.zeros([2, 1, 16000, 1])) as tf.Tensor;
    expect(y.shape).toEqual([2, 1, 1988, 4]);
    tf.dispose(y);
    valid.dispose();
  });
});

describe('SincConv gradients', () => {
  it('reach the cut-offs and agree with finite differences', () => {
    const layer = built(3, 101, 4, 600);
    const x = tf.randomNormal([2, 1, 600, 1], 0, 1, 'float32', 5);
    const w = tf.randomNormal([2, 1, 125, 3], 0, 1, 'float32', 6);
    const objective = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, w)) as tf.Scalar;
    const [low, band] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    const { grads } = tf.variableGrads(objective, [low, band]);
    const analytic = [grads[low.name].arraySync() as number[], grads[band.name].arraySync() as number[]];
    const h = 2; // Hz
    [low, band].forEach((v, which) => {
      const base = v.arraySync() as number[];
      for (let f = 0; f < 3; f++) {
        const at = (d: number) => {
          v.assign(tf.tensor1d(base.map((b, i) => (i === f ? b + d : b))));
          return tf.tidy(() => objective().dataSync()[0]);
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(analytic[which][f])).toBeGreaterThan(0);
        expect(Math.abs(analytic[which][f] - numeric)).toBeLessThan(0.01 * Math.abs(numeric));
      }
      v.assign(tf.tensor1d(base));
    });
    tf.dispose([x, w, grads[low.name], grads[band.name]]);
    layer.dispose();
  });

  it('let Adam move a filter onto the tone it must pass and off the one it must stop', async () => {
    // Only the cut-offs learn: a fixed readout calls "class 0" whenever the filter's log energy
    // is high. Class 0 is a 1200 Hz tone, class 1 a 500 Hz tone; the filter starts on 300-800 Hz.
    const T = 2000;
    const tone = (hz: number, phase: number) => Array.from({ length: T }, (_, t) => 0.5 * Math.sin((2 * Math.PI * hz * t) / FS + phase));
    const labels = Array.from({ length: 8 }, (_, i) => i % 2);
    const x = tf.tensor4d(labels.flatMap((c, i) => tone(c ? 500 : 1200, i)), [8, 1, T, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2).toFloat();
    const sinc = new SincConv({ name: 'sinc', filters: 1, kernelSize: 101, strides: 8, sampleRate: FS, inputShape: [1, T, 1] });
    const model = tf.sequential({
      layers: [sinc, new LogCompression({ name: 'log' }), tf.layers.globalAveragePooling2d({ name: 'gap' }), tf.layers.dense({ name: 'readout', units: 2, activation: 'softmax', trainable: false })],
    });
    tf.tidy(() => {
      model.getLayer('readout').setWeights([tf.tensor2d([[20, -20]]), tf.tensor1d([-2, 2])]);
      sinc.setWeights([tf.tensor1d([250]), tf.tensor1d([450])]);
    });
    expect(sinc.passBands()).toEqual([{ lowHz: 300, highHz: 800 }]);
    model.compile({ optimizer: tf.train.adam(50), loss: 'categoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 20, batchSize: 8, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(0.05 * losses[0]);
    const [{ lowHz, highHz }] = sinc.passBands();
    expect(lowHz).toBeGreaterThan(800);
    expect(lowHz).toBeLessThan(1150);
    expect(highHz).toBeGreaterThan(1300);
    tf.dispose([x, y]);
    model.dispose();
  });
});
