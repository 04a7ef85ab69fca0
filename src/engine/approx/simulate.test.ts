import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { sliceDigits } from '../data/digits';
import { loadDigitsFromDisk } from '../data/digits-node';
import { sliceToTensors, type Batchable } from '../data/tensors';
import { loadShippedModel } from '../models/io-node';
import { builtinCatalogue, findMultiplier, simMultiplier, type CatalogueEntry } from './catalogue';
import { readEvoApproxFiles } from './evoapprox-fixtures';
import { mappedPerChannel } from './fast';
import { LOOKUP_BEYOND } from './lookup-threshold';
import { importMultipliers } from './import';
import { ApproxSimulation, type LayerMode, type Method } from './simulate';
import { lowRankMultiplier, truncatedOperands } from './testing';
import { disposeStatistics, normaliseWith } from '../train/batchnorm-stats';

let calib: Batchable;
let test: Batchable;

beforeAll(async () => {
  await initNodeBackend('wasm');
  const digits = await loadDigitsFromDisk();
  calib = sliceToTensors(sliceDigits(digits, 'train', 256), [28, 28, 1]);
  test = sliceToTensors(sliceDigits(digits, 'test', 500), [28, 28, 1]);
});
afterAll(() => tf.dispose([calib.x, calib.y, test.x, test.y]));

const accuracy = (probs: tf.Tensor, labels: tf.Tensor) =>
  tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), tf.argMax(labels, 1)), 'float32')).dataSync()[0]);
const everywhere = (sim: ApproxSimulation, mode: LayerMode) => Object.fromEntries(sim.multiplyLayers().map((n) => [n, mode]));

describe('ApproxSimulation', () => {
  for (const name of ['lenet', 'mobilenet']) {
    it(`${name}: 8-bit quantised with the exact multiplier stays within 1 pp of float`, async () => {
      const model = await loadShippedModel(name);
      const sim = ApproxSimulation.calibrate(model, calib.x);
      const float = model.predict(test.x) as tf.Tensor;
      const quantised = sim.run(test.x, everywhere(sim, { kind: 'exact' }));
      const [fa, qa] = [accuracy(float, test.y), accuracy(quantised, test.y)];
      expect(fa).toBeGreaterThan(0.96);
      expect(Math.abs(fa - qa)).toBeLessThanOrEqual(0.01);
      tf.dispose([float, quantised]);
      sim.dispose();
      model.dispose();
    });
  }

  it('fast and reference approximate runs agree on the whole model, and calls do not leak', async () => {
    const model = await loadShippedModel('lenet');
    const sim = ApproxSimulation.calibrate(model, calib.x);
    const { table, factors } = lowRankMultiplier(2, 9, 30);
    const modes = everywhere(sim, { kind: 'approx', multiplier: { id: 'low-rank', table, factors } });
    const x = test.x.slice(0, 8);
    const fast = sim.run(x, modes, 'fast');
    const reference = sim.run(x, modes, 'reference');
    expect(Array.from(tf.argMax(fast, 1).dataSync())).toEqual(Array.from(tf.argMax(reference, 1).dataSync()));
    expect(tf.max(tf.abs(tf.sub(fast, reference))).dataSync()[0]).toBeLessThan(1e-4);
    const lookup = sim.run(x, modes, 'lookup');
    expect(tf.max(tf.abs(tf.sub(lookup, reference))).dataSync()[0]).toBeLessThan(1e-6);
    // A multiplier without factors (too high a rank) takes the lookup path under 'fast' too.
    const unfactored = sim.run(x, everywhere(sim, { kind: 'approx', multiplier: { id: 'no-factors', table, factors: null } }), 'fast');
    expect(tf.max(tf.abs(tf.sub(unfactored, reference))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([lookup, unfactored]);
    // The multiplier really changes the result.
    const exact = sim.run(x, everywhere(sim, { kind: 'exact' }));
    expect(tf.max(tf.abs(tf.sub(fast, exact))).dataSync()[0]).toBeGreaterThan(1e-3);
    const before = tf.memory().numTensors;
    tf.dispose(sim.run(x, modes, 'fast'));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, fast, reference, exact]);
    sim.dispose();
    model.dispose();
  });

  it('noise mode: zero noise is the float model, large noise costs accuracy', async () => {
    const model = await loadShippedModel('lenet');
    const sim = ApproxSimulation.calibrate(model, calib.x);
    const float = model.predict(test.x) as tf.Tensor;
    const quiet = sim.run(test.x, everywhere(sim, { kind: 'noise', relStd: 0 }));
    expect(tf.max(tf.abs(tf.sub(float, quiet))).dataSync()[0]).toBeLessThan(1e-5);
    const loud = sim.run(test.x, everywhere(sim, { kind: 'noise', relStd: 2 }));
    expect(accuracy(loud, test.y)).toBeLessThan(accuracy(float, test.y) - 0.1);
    tf.dispose([float, quiet, loud]);
    sim.dispose();
    model.dispose();
  });
});

describe('approximate retraining', () => {
  it('tells each step where it sits in the run, so schedules can anneal over every epoch', async () => {
    const { runBatches } = await import('./retrain');
    const data: Batchable = { x: tf.zeros([10, 2]), y: tf.zeros<tf.Rank.R2>([10, 1]), count: 10 };
    let requantised = 0;
    const seen: [number, number][] = [];
    const result = await runBatches({ requantise: () => requantised++ } as unknown as ApproxSimulation, data, { epochs: 2, batchSize: 4 }, (xb, _yb, at) => {
      seen.push([at.step, at.totalSteps]);
      return tf.sum(xb);
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((s) => [s, 6]));
    expect(result.stepsCompleted).toBe(6);
    expect(requantised).toBe(6);
    tf.dispose([data.x, data.y]);
  });

  it('recovers accuracy lost to a coarse multiplier, with straight-through gradients', async () => {
    const { retrainApproximate } = await import('./retrain');
    const model = await loadShippedModel('lenet');
    const sim = ApproxSimulation.calibrate(model, calib.x);
    const { table, factors } = truncatedOperands(2);
    const modes = everywhere(sim, { kind: 'approx', multiplier: { id: 'tm2', table, factors } });
    const approxAccuracy = () => {
      const p = sim.run(test.x, modes);
      const a = accuracy(p, test.y);
      p.dispose();
      return a;
    };
    const before = approxAccuracy();
    const digits = await loadDigitsFromDisk();
    const train = sliceToTensors(sliceDigits(digits, 'train', 1024), [28, 28, 1]);
    const tensors = tf.memory().numTensors;
    const result = await retrainApproximate(sim, modes, train, { epochs: 1, batchSize: 64, learningRate: 1e-3 });
    const after = approxAccuracy();
    // Same tensors as before: the optimiser's state is gone, the re-quantised kernels are cached again.
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.stepsCompleted).toBe(16);
    expect(before).toBeLessThan(0.9);
    expect(after).toBeGreaterThan(before + 0.05);
    tf.dispose([train.x, train.y]);
    sim.dispose();
    model.dispose();
  });

  it('keeps the latest epoch within 1 pp of the best held-out score', async () => {
    const { keptEpoch } = await import('./retrain');
    // A dip within the margin does not undo a retraining; a drop beyond it does.
    expect(keptEpoch([0.988, 0.986])).toBe(1);
    expect(keptEpoch([0.991, 0.96])).toBe(0);
    // A later best raises the bar for the epochs before it, not for those after.
    expect(keptEpoch([0.98, 0.995, 0.988])).toBe(2);
    expect(keptEpoch([0.98, 0.995, 0.984])).toBe(1);
    expect(keptEpoch([0.97])).toBe(0);
  });

  it('keeps the weights that score best on held-out digits: before retraining when a harmful rate wrecks them, the last epoch when it helps', async () => {
    const { retrainApproximate } = await import('./retrain');
    const digits = await loadDigitsFromDisk();
    const train = sliceToTensors(sliceDigits(digits, 'train', 512), [28, 28, 1]);
    // Training digits the retraining never sees (the test digits stay out of every choice).
    const all = sliceToTensors(sliceDigits(digits, 'train', 1024), [28, 28, 1]);
    const validation: Batchable = { x: all.x.slice(512, 512), y: all.y.slice(512, 512), count: 512 };
    const { table, factors } = truncatedOperands(2);
    const run = async (learningRate: number, epochs: number) => {
      const model = await loadShippedModel('lenet');
      const sim = ApproxSimulation.calibrate(model, calib.x);
      const modes = everywhere(sim, { kind: 'approx', multiplier: { id: 'tm2', table, factors } });
      const weightsBefore = model.getWeights().map((w) => w.dataSync().slice());
      const tensors = tf.memory().numTensors;
      const result = await retrainApproximate(sim, modes, train, { epochs, batchSize: 64, learningRate, schedule: 'constant', validation });
      expect(tf.memory().numTensors).toBe(tensors);
      const p = sim.run(validation.x, modes);
      const kept = accuracy(p, validation.y);
      p.dispose();
      const unchanged = model.getWeights().every((w, i) => w.dataSync().every((v, j) => v === weightsBefore[i][j]));
      sim.dispose();
      model.dispose();
      return { selection: result.selection!, kept, unchanged };
    };
    // A rate of 0.05 with Adam throws the weights far off: the held-out digits say so, the start is kept.
    const wrecked = await run(0.05, 2);
    expect(wrecked.selection.accuracies).toHaveLength(3);
    expect(Math.max(...wrecked.selection.accuracies.slice(1))).toBeLessThan(wrecked.selection.accuracies[0] - 0.05);
    expect(wrecked.selection.keptEpoch).toBe(0);
    expect(wrecked.selection.samples).toBe(512);
    expect(wrecked.unchanged).toBe(true);
    expect(wrecked.kept).toBeCloseTo(wrecked.selection.accuracies[0], 5);
    // A sensible rate recovers what TM(2) costs: the retrained weights are kept, and score as recorded.
    const helped = await run(1e-3, 1);
    expect(helped.selection.accuracies[1]).toBeGreaterThan(helped.selection.accuracies[0] + 0.05);
    expect(helped.selection.keptEpoch).toBe(1);
    expect(helped.unchanged).toBe(false);
    expect(helped.kept).toBeCloseTo(helped.selection.accuracies[1], 5);
    tf.dispose([train.x, train.y, all.x, all.y, validation.x, validation.y]);
  });

  it('re-estimates BatchNorm statistics from what reaches each layer, and recovers what a biased multiplier costs', async () => {
    const model = await loadShippedModel('resnet');
    const sim = ApproxSimulation.calibrate(model, calib.x);
    const bn = model.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
    // The first training-mode pass makes tfjs-layers cache a few constants of its own.
    const few = calib.x.slice(0, 8);
    await sim.recalibrateBatchNorm(few, {}, 8);
    few.dispose();
    const before = tf.memory().numTensors;
    // Float: the re-estimate is the mean of the layer's input over the data, batch by batch.
    let input: tf.Tensor | null = null;
    tf.dispose(sim.run(calib.x, {}, 'fast', { hook: (layer, x) => void (layer === bn && (input = tf.keep(tf.mean(x, [0, 1, 2])))) }));
    expect(await sim.recalibrateBatchNorm(calib.x, {}, 64)).toBeGreaterThan(3);
    const movingMean = bn.getWeights()[bn.getWeights().length - 2];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(movingMean, input!))).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose(input!);
    expect(tf.memory().numTensors).toBe(before);
    // A truncating multiplier shifts every output down; with statistics re-measured through it the
    // network recovers most of the accuracy it lost.
    const trunc = { kind: 'approx', multiplier: { id: 'tm3', ...truncatedOperands(3), factors: truncatedOperands(3).factors } } as LayerMode;
    const modes = everywhere(sim, trunc);
    const stale = accuracy(sim.run(test.x, modes), test.y);
    // Measured without writing: the model keeps its statistics, and running with the measured ones
    // gives what writing them would.
    const ownMean = () => Array.from(bn.getWeights()[bn.getWeights().length - 2].dataSync());
    const own = ownMean();
    const statistics = await sim.batchNormStatistics(calib.x, modes, 64);
    expect(ownMean()).toEqual(own);
    const passed = sim.run(test.x, modes, 'fast', { hook: normaliseWith(statistics) });
    await sim.recalibrateBatchNorm(calib.x, modes, 64);
    const written = sim.run(test.x, modes);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(passed, written))).dataSync()[0])).toBeLessThan(1e-4);
    const fresh = accuracy(written, test.y);
    expect(fresh).toBeGreaterThan(stale + 0.02);
    expect(ownMean()).not.toEqual(own);
    tf.dispose([passed, written]);
    disposeStatistics(statistics);
    sim.dispose();
    model.dispose();
  }, 60_000);
});

describe("fast picks the compiled lookup where a long factorisation's stacked convolution is slower", () => {
  const evo: CatalogueEntry[] = importMultipliers(readEvoApproxFiles()).map((m) => ({ id: m.id, name: m.name, family: 'imported', table: m.table, power: { relative: null, source: 'user' } }));
  // One layer each: 5×5 and strided 3×3 (direct convolution), 3×3 stride 1 (Winograd).
  const layers = [
    { name: '5×5', kernelSize: 5, strides: 1 },
    { name: '3×3 stride 2', kernelSize: 3, strides: 2 },
    { name: '3×3 stride 1', kernelSize: 3, strides: 1 },
  ];
  const outputs = (sim: ApproxSimulation, mode: LayerMode, x: tf.Tensor) =>
    Object.fromEntries((['fast', 'factors', 'lookup'] as Method[]).map((method) => [method, tf.tidy(() => Array.from(sim.run(x, { conv: mode }, method).dataSync()))]));

  for (const l of layers)
    it(l.name, () => {
      const input = tf.input({ shape: [12, 12, 4] });
      const conv = tf.layers.conv2d({ filters: 6, kernelSize: l.kernelSize, strides: l.strides, padding: 'same', activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) });
      const model = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
      const x = tf.randomUniform([3, 12, 12, 4], 0, 1, 'float32', 5);
      const sim = ApproxSimulation.calibrate(model, x);
      const long = simMultiplier(findMultiplier(evo, 'mul8u_JV3'));
      const short = simMultiplier(findMultiplier(builtinCatalogue(), 'trunc-8'));
      expect(mappedPerChannel(long.factors!)).toBeGreaterThan(LOOKUP_BEYOND);
      expect(mappedPerChannel(short.factors!)).toBeLessThanOrEqual(LOOKUP_BEYOND);
      const a = outputs(sim, { kind: 'approx', multiplier: long }, x);
      // The two ways round differently, so which one ran shows bit for bit.
      expect(a.factors).not.toEqual(a.lookup);
      expect(a.fast).toEqual(l.name === '3×3 stride 1' ? a.factors : a.lookup);
      const b = outputs(sim, { kind: 'approx', multiplier: short }, x);
      expect(b.fast).toEqual(b.factors);
      sim.dispose();
      model.dispose();
      x.dispose();
    });
});
