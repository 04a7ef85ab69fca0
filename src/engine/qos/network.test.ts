import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinCatalogue, findMultiplier, simMultiplier } from '../approx/catalogue';
import { ApproxSimulation, type LayerMode } from '../approx/simulate';
import { initNodeBackend } from '../backend/node';
import type { Batchable } from '../data/tensors';
import { zooEntry } from '../models/zoo';
import { mulberry32 } from '../util/random';
import { OperatingPointNetwork } from './network';

beforeAll(() => initNodeBackend('wasm'));

/** Three classes of 8×8 images (a bright row, column or diagonal) with noise. */
function patterns(count: number, seed: number): Batchable {
  const random = mulberry32(seed);
  const x = new Float32Array(count * 64);
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const cls = i % 3;
    const k = Math.floor(random() * 8);
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const on = cls === 0 ? r === k : cls === 1 ? c === k : r === c;
        x[i * 64 + r * 8 + c] = (on ? 0.8 : 0) + random() * 0.3;
      }
    y[i * 3 + cls] = 1;
  }
  return { x: tf.tensor4d(x, [count, 8, 8, 1]), y: tf.tensor2d(y, [count, 3]), count };
}

function smallNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let h = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false, name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn1' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ name: 'r1' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'c2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn2' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU({ name: 'r2' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'fc', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('operating-point network', () => {
  let model: tf.LayersModel;
  let train: Batchable;
  let test: Batchable;
  let net: OperatingPointNetwork;
  const catalogue = builtinCatalogue();
  const approx = (id: string): LayerMode => ({ kind: 'approx', multiplier: simMultiplier(findMultiplier(catalogue, id)) });

  beforeAll(async () => {
    model = smallNet();
    train = patterns(240, 1);
    test = patterns(120, 2);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await model.fit(train.x, train.y, { epochs: 15, batchSize: 32, verbose: 0, shuffle: false });
    const sim = ApproxSimulation.calibrate(model, train.x.slice(0, 64));
    const exact: LayerMode = { kind: 'exact' };
    net = new OperatingPointNetwork(sim, [
      { c1: exact, c2: exact, fc: exact },
      { c1: approx('trunc-3'), c2: approx('trunc-4'), fc: exact },
      { c1: approx('trunc-5'), c2: approx('trunc-6'), fc: approx('trunc-3') },
    ]);
    await net.recalibrate(train.x.slice(0, 128));
  }, 60_000);

  afterAll(() => {
    net.dispose();
    model.dispose();
    tf.dispose([train.x, train.y, test.x, test.y]);
  });

  const bnMean = () => Array.from(model.getLayer('bn2').getWeights()[2].dataSync());

  it('keeps BatchNorm statistics per point, measured through each point’s multipliers, and switching swaps them', async () => {
    net.activate(0);
    const m0 = bnMean();
    net.activate(2);
    const m2 = bnMean();
    expect(m2).not.toEqual(m0);
    net.activate(0);
    expect(bnMean()).toEqual(m0);
    expect(net.activePoint).toBe(0);
    expect(() => net.activate(3)).toThrow(/no operating point 3/);
  });

  it('predicts at each point with that point’s multipliers and parameters, without leaking tensors', async () => {
    const x = test.x.slice(0, 30);
    const p0 = tf.tidy(() => net.predict(x, 0).dataSync().slice());
    // Same as running the simulation by hand with point 0 active.
    net.activate(0);
    const direct = tf.tidy(() => net.sim.run(x, net.modes[0]).dataSync().slice());
    expect(Array.from(p0)).toEqual(Array.from(direct));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(net.predict(x, i % 3));
    for (let i = 0; i < 20; i++) net.activate(i % 3);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('fine-tunes shared weights and every point’s own parameters in one step per batch', async () => {
    const kernel = () => Array.from(model.getLayer('c2').getWeights()[0].dataSync());
    const gammas = () => [0, 1, 2].map((p) => (net.activate(p), Array.from(model.getLayer('bn1').getWeights()[0].dataSync())));
    const k0 = kernel();
    const g0 = gammas();
    expect(g0[1]).toEqual(g0[0]);
    const before = await Promise.all([0, 1, 2].map((p) => net.accuracy(p, test)));
    const tensors = tf.memory().numTensors;
    const run = await net.finetune(train, { epochs: 2, batchSize: 32, learningRate: 3e-3 });
    expect(run.steps).toBe(16);
    expect(run.cancelled).toBe(false);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(kernel()).not.toEqual(k0);
    const g1 = gammas();
    // Each point's γ moved, and differently from the others'.
    for (let p = 0; p < 3; p++) expect(g1[p]).not.toEqual(g0[p]);
    expect(g1[1]).not.toEqual(g1[2]);
    const after = await Promise.all([0, 1, 2].map((p) => net.accuracy(p, test)));
    // The cheapest point is the one that had most to regain.
    expect(after[2]).toBeGreaterThanOrEqual(before[2] - 0.02);
    expect(run.losses.every(Number.isFinite)).toBe(true);
  }, 120_000);

  it('counts the per-point parameters as overhead of the extra points', () => {
    const o = net.parameterOverhead();
    // γ, β of 6 + 8 channels and the dense bias (3); moving mean and variance of 14 channels.
    expect(o.perPointTrainable).toBe(2 * 14 + 3);
    expect(o.perPointStatistics).toBe(2 * 14);
    expect(o.modelParams).toBe(model.countParams());
    expect(o.trainablePct).toBeCloseTo((100 * 2 * 31) / model.countParams(), 10);
    expect(o.withStatisticsPct).toBeCloseTo((100 * 2 * 59) / model.countParams(), 10);
  });

  it('exports and re-imports every point’s own values', async () => {
    const saved = await net.exportPoints();
    net.activate(1);
    const m1 = bnMean();
    const changed = saved.map((vs) => vs.map((v) => v.map((x) => x + 1)));
    net.importPoints(changed);
    net.activate(1);
    expect(bnMean()[0]).toBeCloseTo(m1[0] + 1, 5);
    net.importPoints(saved);
    net.activate(1);
    expect(bnMean()).toEqual(m1);
    expect(() => net.importPoints(saved.slice(1))).toThrow(/do not match/);
  });
});

describe('parameter overhead of three operating points on the zoo MobileNets', () => {
  // What the extra BatchNorm sets cost depends on the model's width, not on the method: the narrow
  // digit MobileNet stops at 32 channels, the wide one follows MobileNetV2's widths on to 160.
  it.each([
    ['mobilenet', 10, 13],
    ['mobilenet-wide', 3, 5],
  ])('%s: between %d and %d %%', (name, low, high) => {
    const model = zooEntry(name).build(1);
    const reference = tf.zeros([2, 28, 28, 1]);
    const sim = ApproxSimulation.calibrate(model, reference);
    reference.dispose();
    const exact = Object.fromEntries(sim.multiplyLayers().map((l) => [l, { kind: 'exact' } as LayerMode]));
    const net = new OperatingPointNetwork(sim, [exact, exact, exact]);
    const o = net.parameterOverhead();
    const bn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const channels = bn.reduce((a, l) => a + (l.getWeights()[0].shape[0] as number), 0);
    // γ and β of every BatchNorm channel and the classifier's bias: the only per-point trainables.
    expect(o.perPointTrainable).toBe(2 * channels + 10);
    expect(o.trainablePct).toBeGreaterThan(low);
    expect(o.trainablePct).toBeLessThan(high);
    net.dispose();
    model.dispose();
  });
});
