// The fast simulation against the per-product reference, for every built-in multiplier and every
// EvoApprox circuit: conv, depthwise and dense layers, and whole-model predictions.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { sliceDigits } from '../data/digits';
import { loadDigitsFromDisk } from '../data/digits-node';
import { sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { mulberry32 } from '../util/random';
import { builtinCatalogue, simMultiplier, type CatalogueEntry } from './catalogue';
import { readEvoApproxFiles } from './evoapprox-fixtures';
import { disposeKernel, fastConv, prepareKernel } from './fast';
import type { Window } from './geometry';
import { importMultipliers } from './import';
import { lookupConv, prepareLookup } from './lookup';
import { quantiseWeights } from './quantise';
import { referenceConv, type QuantisedInput, type QuantisedKernel } from './reference';
import { ApproxSimulation, type LayerMode } from './simulate';

const entries: CatalogueEntry[] = [
  ...builtinCatalogue(),
  ...importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } })),
];

function input(shape: [number, number, number, number], seed: number): QuantisedInput {
  const r = mulberry32(seed);
  return { codes: Int32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.floor(r() * 256)), shape, scale: 0.01, zeroPoint: 17 };
}
function kernel(shape: [number, number, number, number], channels: number, seed: number): QuantisedKernel {
  const r = mulberry32(seed);
  const { codes, q } = quantiseWeights(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() * 2 - 0.9), channels, true);
  return { codes, shape, q };
}

const layers: { name: string; x: QuantisedInput; w: QuantisedKernel; win: Window; depthwise: boolean }[] = [
  { name: 'conv 3x3 stride 2', x: input([2, 9, 9, 8], 1), w: kernel([3, 3, 8, 6], 6, 2), win: { kh: 3, kw: 3, strides: [2, 2], padding: 'same' }, depthwise: false },
  // Stride 1: on wasm by Winograd F(4×4, 3×3), odd sizes and channel counts to reach the edges of its tiles.
  { name: 'conv 3x3 stride 1 same', x: input([2, 7, 9, 5], 7), w: kernel([3, 3, 5, 6], 6, 8), win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: false },
  { name: 'conv 3x3 stride 1 valid', x: input([1, 8, 7, 3], 9), w: kernel([3, 3, 3, 5], 5, 10), win: { kh: 3, kw: 3, strides: [1, 1], padding: 'valid' }, depthwise: false },
  // As many input channels as the benchmark layer: the transforms' rounding over a long sum.
  { name: 'conv 3x3 stride 1, 16 channels', x: input([1, 10, 10, 16], 11), w: kernel([3, 3, 16, 8], 8, 12), win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: false },
  // Longer sums still: the product form's terms are each about x·w; uncentred, they cancelled inside
  // the convolution and its rounding broke the bound here (1.3·10⁻⁵ of the largest output).
  { name: 'conv 3x3 stride 1, 64 channels', x: input([1, 8, 8, 64], 61), w: kernel([3, 3, 64, 8], 8, 62), win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: false },
  { name: 'depthwise 3x3', x: input([2, 8, 8, 6], 3), w: kernel([3, 3, 6, 1], 6, 4), win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: true },
  { name: 'dense 120→10', x: input([4, 1, 1, 120], 5), w: kernel([1, 1, 120, 10], 10, 6), win: { kh: 1, kw: 1, strides: [1, 1], padding: 'valid' }, depthwise: false },
];

beforeAll(() => initNodeBackend('wasm'));

describe('every multiplier: fast layers agree with the per-product reference', () => {
  it(`covers the ${entries.length} tables (built-in and EvoApprox)`, () => {
    expect(entries.length).toBeGreaterThanOrEqual(34 + 36);
  });

  for (const entry of entries) {
    it(entry.name, () => {
      const m = simMultiplier(entry);
      for (const l of layers) {
        const ref = referenceConv(l.x, l.w, l.win, m.table, l.depthwise);
        let got: Float32Array;
        if (m.factors) {
          const k = prepareKernel(l.w, m.factors, l.depthwise, l.x);
          const y = fastConv(l.x, k, l.win);
          got = y.dataSync() as Float32Array;
          y.dispose();
          disposeKernel(k);
        } else {
          got = lookupConv(l.x, prepareLookup(l.w.codes, l.w.shape, l.w.q, l.depthwise), l.win, m.table).values;
        }
        const maxAbs = ref.values.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        const maxDiff = got.reduce((a, v, i) => Math.max(a, Math.abs(v - ref.values[i])), 0);
        expect(maxDiff, `${l.name}: max |fast − reference| ${maxDiff} of ${maxAbs}`).toBeLessThanOrEqual(maxAbs * 1e-5);
      }
    });
  }
});

describe('every multiplier: the whole model predicts the same classes fast and by reference', () => {
  let model: tf.LayersModel;
  let sim: ApproxSimulation;
  let data: Batchable;
  beforeAll(async () => {
    const digits = await loadDigitsFromDisk();
    model = await loadShippedModel('lenet');
    const calib = sliceToTensors(sliceDigits(digits, 'train', 256), [28, 28, 1]);
    sim = ApproxSimulation.calibrate(model, calib.x);
    tf.dispose([calib.x, calib.y]);
    data = sliceToTensors(sliceDigits(digits, 'test', 16), [28, 28, 1]);
  });
  afterAll(() => {
    sim.dispose();
    model.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('on LeNet with each multiplier in every layer', () => {
    for (const entry of entries) {
      const m = simMultiplier(entry);
      const modes: Record<string, LayerMode> = Object.fromEntries(sim.multiplyLayers().map((n) => [n, { kind: 'approx', multiplier: m }]));
      // 'factors', not 'fast': LeNet's 5×5 layers would run the longest factorisations by lookup.
      const [fast, reference] = tf.tidy(() => [tf.argMax(sim.run(data.x, modes, 'factors'), 1).dataSync(), tf.argMax(sim.run(data.x, modes, 'reference'), 1).dataSync()]);
      expect(Array.from(fast), entry.name).toEqual(Array.from(reference));
    }
  });
});

describe('the ResNet (3×3 stride-1 layers by Winograd on wasm) predicts the same classes fast and by reference', () => {
  it.each(['TRUNC(8)', 'TM(2)', 'mul8u_12N4'])('with %s in every layer', async (name) => {
    const digits = await loadDigitsFromDisk();
    const model = await loadShippedModel('resnet');
    const calib = sliceToTensors(sliceDigits(digits, 'train', 128), [28, 28, 1]);
    const sim = ApproxSimulation.calibrate(model, calib.x);
    const data = sliceToTensors(sliceDigits(digits, 'test', 8), [28, 28, 1]);
    const m = simMultiplier(entries.find((e) => e.name === name)!);
    const modes: Record<string, LayerMode> = Object.fromEntries(sim.multiplyLayers().map((n) => [n, { kind: 'approx', multiplier: m }]));
    // Classes, not logits: across layers a rounding difference can move an activation across a
    // quantisation step, so whole-model logits differ by more than rounding (layers are checked above).
    const [fast, reference] = tf.tidy(() => [tf.argMax(sim.run(data.x, modes, 'fast'), 1).dataSync(), tf.argMax(sim.run(data.x, modes, 'reference'), 1).dataSync()]);
    expect(Array.from(fast)).toEqual(Array.from(reference));
    sim.dispose();
    model.dispose();
    tf.dispose([calib.x, calib.y, data.x, data.y]);
  });
});
