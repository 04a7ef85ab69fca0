// The Sinc filters are a multiply layer like any convolution (the keyword model's largest: 45 % of its
// MACs): the noise tolerance, the simulation and the operating points must all see them, take their
// kernel from the cut-offs, and never mistake a cut-off for a bias. And a signed input (raw audio,
// zero point ≈ 128) must not turn a multiplier's error into a constant offset of every filter.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { LogCompression, SincConv } from '../models/sinc-conv';
import { learnTolerance, multiplyShares } from '../noise/tolerance';
import { OperatingPointNetwork } from '../qos/network';
import { mulberry32 } from '../util/random';
import { builtinCatalogue, findMultiplier, simMultiplier } from './catalogue';
import { quantiseWeights } from './quantise';
import { ApproxSimulation, zeroInputCorrection, type LayerMode } from './simulate';

const T = 256;

function sincNet(): tf.LayersModel {
  const input = tf.input({ shape: [1, T, 1] });
  let h = new SincConv({ name: 'sinc', filters: 4, kernelSize: 15, strides: 2, sampleRate: 16_000, unitHz: 100 }).apply(input) as tf.SymbolicTensor;
  h = new LogCompression({ name: 'log' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'fc', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Signed signals: a tone per class, with noise, in about [-1, 1]. */
function tones(count: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D; count: number } {
  const random = mulberry32(seed);
  const x = new Float32Array(count * T);
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const f = [500, 2000, 6000][i % 3];
    for (let t = 0; t < T; t++) x[i * T + t] = 0.6 * Math.sin((2 * Math.PI * f * t) / 16_000 + i) + 0.2 * (random() - 0.5);
    y[i * 3 + (i % 3)] = 1;
  }
  return { x: tf.tensor4d(x, [count, 1, T, 1]), y: tf.tensor2d(y, [count, 3]), count };
}

let data: ReturnType<typeof tones>;
beforeAll(async () => {
  await initNodeBackend('wasm');
  data = tones(24, 1);
});
afterAll(() => tf.dispose([data.x, data.y]));

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('SincConv as a multiply layer', () => {
  it('counts in the multiply layers with its MACs, and its noise tolerance trains with its cut-offs', async () => {
    const model = sincNet();
    const shares = multiplyShares(model);
    expect(shares.map((s) => s.name)).toEqual(['sinc', 'fc']);
    expect(shares[0].macs).toBe(4 * (Math.floor((T - 15) / 2) + 1) * 15);
    const cutoffs = model.getLayer('sinc').getWeights()[0].dataSync().slice();
    const r = await learnTolerance(model, data, { epochs: 1, batchSize: 12, learningRate: 1e-2 });
    expect(r.layers.map((l) => l.name)).toEqual(['sinc', 'fc']);
    expect(Number.isFinite(r.history[0].loss)).toBe(true);
    // The kernel was built from the cut-offs inside the tape: they moved.
    expect(Array.from(model.getLayer('sinc').getWeights()[0].dataSync()).some((v, i) => v !== cutoffs[i])).toBe(true);
    model.dispose();
  });

  it('is simulated with its kernel from the cut-offs and strides along time only, no cut-off taken for a bias', () => {
    const model = sincNet();
    const sim = ApproxSimulation.calibrate(model, data.x);
    expect(sim.multiplyLayers()).toEqual(['sinc', 'fc']);
    const float = model.predict(data.x) as tf.Tensor;
    const exact = sim.run(data.x, { sinc: { kind: 'exact' }, fc: { kind: 'exact' } });
    expect(maxAbs(float, exact)).toBeLessThan(0.05);
    const m = simMultiplier(findMultiplier(builtinCatalogue(), 'TRUNC(4)'));
    const modes: Record<string, LayerMode> = { sinc: { kind: 'approx', multiplier: m } };
    const fast = sim.run(data.x, modes, 'fast');
    const reference = sim.run(data.x, modes, 'reference');
    expect(maxAbs(fast, reference)).toBeLessThan(1e-4);
    const noisy = sim.run(data.x, { sinc: { kind: 'noise', relStd: 0.01 } });
    expect(maxAbs(noisy, float)).toBeLessThan(0.1);
    tf.dispose([float, exact, fast, reference, noisy]);

    // Operating points keep their own biases and BatchNorm, never a copy of the Sinc cut-offs.
    const points = new OperatingPointNetwork(sim, [{}, {}]);
    expect(points.parameterOverhead().perPointTrainable).toBe(2 * 4 + 3);
    points.dispose();
    model.dispose();
  });

  it('folds the multiplier’s error on a zero input into the bias: silence through an approximate layer stays silence', () => {
    const model = sincNet();
    const sim = ApproxSimulation.calibrate(model, data.x);
    const zx = sim.affines().sinc.zeroPoint;
    expect(zx).toBeGreaterThan(100); // a signed input: zero sits mid-range
    const m = simMultiplier(findMultiplier(builtinCatalogue(), 'BAM(1,6)'));
    const silence = tf.zeros([2, 1, T, 1]);
    const sincOut = (modes: Record<string, LayerMode>, method: 'fast' | 'reference') => {
      let out: tf.Tensor | null = null;
      tf.dispose(sim.run(silence, modes, method, { hook: (layer, input) => void (layer.name === 'log' && (out = tf.keep(input.clone()))) }));
      return out! as tf.Tensor;
    };
    const exact = sincOut({ sinc: { kind: 'exact' } }, 'fast');
    expect(tf.max(tf.abs(exact)).dataSync()[0]).toBe(0);
    for (const method of ['fast', 'reference'] as const) {
      const approx = sincOut({ sinc: { kind: 'approx', multiplier: m } }, method);
      expect(maxAbs(approx, exact)).toBeLessThan(1e-6);
      approx.dispose();
    }
    // The uncorrected error there would be large: Σ_k E[z_x][w_k] is far from 0 for BAM(1,6).
    const layer = model.getLayer('sinc') as SincConv;
    const kernel = layer.kernel();
    const { codes, q } = quantiseWeights(kernel.dataSync() as Float32Array, 4, true);
    const correction = zeroInputCorrection(codes, kernel.shape as [number, number, number, number], false, q, sim.affines().sinc, m.table)!;
    expect(Math.max(...Array.from(correction, Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([silence, exact, kernel]);
    sim.dispose();
    model.dispose();
  });
});
