import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { mulberry32 } from '../util/random';
import { builtinCatalogue, simMultiplier } from './catalogue';
import { disposeKernel, fastConv, fastLayer, prepareKernel } from './fast';
import { lowRankMultiplier, truncatedOperands } from './testing';
import { lookupConv, prepareLookup } from './lookup';
import type { Window } from './geometry';
import { quantiseWeights } from './quantise';
import { referenceConv, type QuantisedInput, type QuantisedKernel } from './reference';

beforeAll(() => initNodeBackend('wasm'));

function randomInput(shape: [number, number, number, number], seed: number): QuantisedInput {
  const random = mulberry32(seed);
  const codes = Int32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.floor(random() * 256));
  return { codes, shape, scale: 0.02, zeroPoint: 37 };
}

function randomKernel(shape: [number, number, number, number], perChannel: boolean, seed: number, depthwise: boolean): QuantisedKernel {
  const random = mulberry32(seed);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => random() * 2 - 0.8);
  const channels = depthwise ? shape[2] : shape[3];
  // Depthwise kernels [kh,kw,C,1] have their channel on axis 2: quantise as if it were last.
  const { codes, q } = quantiseWeights(values, depthwise ? shape[2] : shape[3], perChannel);
  expect(q.scale.length).toBe(perChannel ? channels : 1);
  return { codes, shape, q };
}

const cases: { name: string; input: [number, number, number, number]; kernel: [number, number, number, number]; win: Window; depthwise: boolean }[] = [
  { name: 'conv 3x3 same', input: [2, 7, 7, 3], kernel: [3, 3, 3, 4], win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: false },
  { name: 'conv 3x3 same stride 2, even size', input: [2, 8, 8, 3], kernel: [3, 3, 3, 5], win: { kh: 3, kw: 3, strides: [2, 2], padding: 'same' }, depthwise: false },
  { name: 'conv 5x5 valid', input: [1, 9, 9, 2], kernel: [5, 5, 2, 3], win: { kh: 5, kw: 5, strides: [1, 1], padding: 'valid' }, depthwise: false },
  { name: 'dense as 1x1 conv', input: [4, 1, 1, 20], kernel: [1, 1, 20, 6], win: { kh: 1, kw: 1, strides: [1, 1], padding: 'valid' }, depthwise: false },
  { name: 'depthwise 3x3 same', input: [2, 6, 6, 4], kernel: [3, 3, 4, 1], win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: true },
  { name: 'depthwise 3x3 same stride 2', input: [2, 7, 7, 3], kernel: [3, 3, 3, 1], win: { kh: 3, kw: 3, strides: [2, 2], padding: 'same' }, depthwise: true },
];

describe('fast approximate layers agree with the per-product reference', () => {
  const forms = [
    ...[0, 1, 2, 5].map((rank) => ({ rank, form: 'error' as const })),
    ...[1, 3].map((rank) => ({ rank, form: 'product' as const })),
  ];
  for (const { rank, form } of forms) {
    for (const c of cases) {
      for (const perChannel of [false, true]) {
        it(`${c.name}, ${form} rank ${rank}, ${perChannel ? 'per-channel' : 'per-tensor'} weights`, () => {
          const { table, factors } = lowRankMultiplier(rank, 100 + rank, 40, form);
          const x = randomInput(c.input, 1);
          const w = randomKernel(c.kernel, perChannel, 2, c.depthwise);
          const ref = referenceConv(x, w, c.win, table, c.depthwise);
          const before = tf.memory().numTensors;
          const kernel = prepareKernel(w, factors, c.depthwise, x);
          // The product form reads R channels per input channel and two summed channels (depthwise: R + 1).
          const perInput = form === 'error' || c.depthwise ? rank + 1 : rank;
          expect(kernel.stacked.shape[2]).toBe(c.kernel[2] * perInput + (form === 'product' && !c.depthwise ? 2 : 0));
          const y = fastConv(x, kernel, c.win);
          expect(y.shape).toEqual(ref.shape);
          const fast = y.dataSync();
          let maxDiff = 0;
          let maxAbs = 0;
          for (let i = 0; i < fast.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(fast[i] - ref.values[i]));
            maxAbs = Math.max(maxAbs, Math.abs(ref.values[i]));
          }
          // float32 rounding of sums of ~10^5-sized integer products
          expect(maxDiff).toBeLessThanOrEqual(maxAbs * 2e-6 + 1e-6);
          y.dispose();
          disposeKernel(kernel);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  it('operand truncation TM(3) through its exact rank-3 factors matches the table', () => {
    const { table, factors } = truncatedOperands(3);
    const c = cases[0];
    const x = randomInput(c.input, 21);
    const w = randomKernel(c.kernel, true, 22, false);
    const ref = referenceConv(x, w, c.win, table, false);
    const kernel = prepareKernel(w, factors, false, x);
    const y = fastConv(x, kernel, c.win);
    const got = y.dataSync();
    const maxAbs = Math.max(...ref.values.map(Math.abs));
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - ref.values[i])))).toBeLessThanOrEqual(maxAbs * 2e-6);
    y.dispose();
    disposeKernel(kernel);
  });

  for (const c of cases) {
    it(`direct lookup matches the reference exactly: ${c.name}`, () => {
      const { table } = lowRankMultiplier(7, 3);
      const x = randomInput(c.input, 11);
      const w = randomKernel(c.kernel, true, 12, c.depthwise);
      const ref = referenceConv(x, w, c.win, table, c.depthwise);
      const got = lookupConv(x, prepareLookup(w.codes, w.shape, w.q, c.depthwise), c.win, table);
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    });
  }

  it('the exact multiplier reproduces the float layer on dequantised operands', () => {
    const x = randomInput([1, 6, 6, 2], 5);
    const w = randomKernel([3, 3, 2, 3], true, 6, false);
    const win: Window = { kh: 3, kw: 3, strides: [1, 1], padding: 'same' };
    const kernel = prepareKernel(w, { u: [], v: [] }, false, x);
    const codes = tf.tensor4d(x.codes, x.shape, 'int32');
    const fast = fastConv(x, kernel, win);
    const xf = tf.mul(tf.sub(tf.cast(codes, 'float32'), x.zeroPoint), x.scale) as tf.Tensor4D;
    const wf = tf.mul(tf.sub(tf.tensor4d(w.codes, w.shape, 'float32'), tf.tensor1d(w.q.zeroPoint, 'float32')), tf.tensor1d(w.q.scale)) as tf.Tensor4D;
    const float = tf.conv2d(xf, wf, 1, 'same');
    expect(tf.max(tf.abs(tf.sub(fast, float))).dataSync()[0]).toBeLessThan(1e-4);
    disposeKernel(kernel);
    tf.dispose([fast, codes, xf, wf, float]);
  });

  for (const [c, form] of [[cases[1], 'error'], [cases[3], 'error'], [cases[5], 'error'], [cases[1], 'product'], [cases[5], 'product']] as const) {
    it(`maps operands on the device exactly as on the host, with bias and ReLU fused: ${c.name}, ${form} form`, () => {
      const { table, factors } = lowRankMultiplier(2, 40, 40, form);
      const x = randomInput(c.input, 31);
      const w = randomKernel(c.kernel, true, 32, c.depthwise);
      const channels = c.depthwise ? c.kernel[2] : c.kernel[3];
      const biasValues = Float32Array.from({ length: channels }, (_, i) => (i % 3) - 1);
      const ref = referenceConv(x, w, c.win, table, c.depthwise);
      const expected = ref.values.map((v, i) => Math.max(0, v + biasValues[i % channels]));
      const before = tf.memory().numTensors;
      const kernel = prepareKernel(w, factors, c.depthwise, x);
      const bias = tf.tensor1d(biasValues);
      // Float activations that quantise back to the test's codes.
      const xf = tf.tensor4d(Float32Array.from(x.codes, (q) => (q - x.zeroPoint) * x.scale), x.shape);
      const maxAbs = expected.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      for (const mapOn of ['host', 'device'] as const) {
        const y = fastLayer(xf, x, kernel, c.win, { bias, activation: 'relu' }, mapOn);
        const got = y.dataSync() as Float32Array;
        const maxDiff = got.reduce((a, v, i) => Math.max(a, Math.abs(v - expected[i])), 0);
        expect(maxDiff, mapOn).toBeLessThanOrEqual(maxAbs * 2e-6 + 1e-6);
        y.dispose();
      }
      tf.dispose([bias, xf]);
      disposeKernel(kernel);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('the form the simulation picks', () => {
  const entry = (id: string) => builtinCatalogue().find((e) => e.id === id)!;
  it('factorises the product table where it has no more terms than the error table', () => {
    // Operand truncation and DRUM: a product of mapped operands, rank 1, while their error has rank 2.
    for (const id of ['tm-2', 'drum-4']) {
      const m = simMultiplier(entry(id));
      expect(m.factors?.form, id).toBe('product');
      expect(m.factors?.u.length, id).toBe(1);
    }
    // Result truncation keeps a·b in its product: AM has rank R + 1, the error form stays cheaper.
    const trunc = simMultiplier(entry('trunc-2'));
    expect(trunc.factors?.form ?? 'error').toBe('error');
    expect(trunc.factors?.u.length).toBe(2);
    // The exact multiplier needs no factors at all.
    expect(simMultiplier(entry('exact')).factors?.u.length).toBe(0);
  });
});
