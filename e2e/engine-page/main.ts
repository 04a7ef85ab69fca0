// Engine code that only runs in a browser (WebGL programs, GPU-side operand mapping), exercised in
// real Chromium: each check returns plain numbers for the Playwright spec to assert on.
import * as tf from '@tensorflow/tfjs';
import { builtinCatalogue, findMultiplier, simMultiplier } from '../../src/engine/approx/catalogue';
import { disposeKernel, fastLayer, prepareKernel, quantiseOnDevice } from '../../src/engine/approx/fast';
import type { Window } from '../../src/engine/approx/geometry';
import { lookupConvWebGL, prepareWebGLLookup, webglLookupTensors } from '../../src/engine/approx/lookup-webgl';
import { quantiseWeights } from '../../src/engine/approx/quantise';
import { referenceConv } from '../../src/engine/approx/reference';
import { ApproxSimulation, type LayerMode } from '../../src/engine/approx/simulate';
import { addRelativeNoise } from '../../src/engine/noise/inject';
import { GaussianSource } from '../../src/engine/util/gaussian';
import { mulberry32 } from '../../src/engine/util/random';
import { configureWasm } from '../../workers/wasm-paths';

const layers: { name: string; x: [number, number, number, number]; w: [number, number, number, number]; win: Window; depthwise: boolean }[] = [
  { name: 'conv 3x3 same stride 2', x: [2, 9, 9, 8], w: [3, 3, 8, 6], win: { kh: 3, kw: 3, strides: [2, 2], padding: 'same' }, depthwise: false },
  { name: 'conv 5x5 valid', x: [2, 10, 10, 3], w: [5, 5, 3, 4], win: { kh: 5, kw: 5, strides: [1, 1], padding: 'valid' }, depthwise: false },
  { name: 'depthwise 3x3 same', x: [2, 8, 8, 6], w: [3, 3, 6, 1], win: { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, depthwise: true },
  { name: 'dense 120→10', x: [4, 1, 1, 120], w: [1, 1, 120, 10], win: { kh: 1, kw: 1, strides: [1, 1], padding: 'valid' }, depthwise: false },
];

function operands(l: (typeof layers)[number], seed: number) {
  const r = mulberry32(seed);
  const act = { scale: 0.01, zeroPoint: 17 };
  const codes = Int32Array.from({ length: l.x.reduce((a, b) => a * b) }, () => Math.floor(r() * 256));
  const { codes: wCodes, q } = quantiseWeights(Float32Array.from({ length: l.w.reduce((a, b) => a * b) }, () => r() * 2 - 0.9), l.depthwise ? l.w[2] : l.w[3], true);
  return { act, codes, w: { codes: wCodes, shape: l.w, q } };
}

/** max |got − reference| / max |reference| over the layer's outputs. */
function relativeError(got: ArrayLike<number>, ref: Float32Array): number {
  let diff = 0;
  let max = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    max = Math.max(max, Math.abs(ref[i]));
  }
  return diff / max;
}

const checks = {
  async backend(name: 'webgl' | 'wasm') {
    if (name === 'wasm') configureWasm();
    const ok = await tf.setBackend(name);
    await tf.ready();
    return { ok, backend: tf.getBackend() };
  },

  /** The WebGL lookup program against the per-product reference, for a high-rank table. */
  lookupWebGL(multiplier = 'mitchell') {
    const table = findMultiplier(builtinCatalogue(), multiplier).table.values as Int32Array;
    const tableTensor = tf.tensor2d(Float32Array.from(table), [256, 256]);
    const before = tf.memory().numTensors;
    const results = layers.map((l, i) => {
      const { act, codes, w } = operands(l, 10 + i);
      const ref = referenceConv({ codes, shape: l.x, ...act }, w, l.win, table, l.depthwise);
      const k = prepareWebGLLookup(w.codes, w.shape, w.q, l.depthwise);
      const x = tf.tensor4d(Float32Array.from(codes), l.x);
      const y = lookupConvWebGL(x, act, k, l.win, tableTensor);
      const result = { name: l.name, shape: y.shape, refShape: ref.shape, relativeError: relativeError(y.dataSync(), ref.values) };
      tf.dispose([x, y, ...webglLookupTensors(k)]);
      return result;
    });
    const leaked = tf.memory().numTensors - before;
    tableTensor.dispose();
    return { backend: tf.getBackend(), results, leaked };
  },

  /** The factorised layer with operands quantised and mapped on the GPU, against the reference. */
  fastOnDevice(multiplier = 'tm-2') {
    const m = simMultiplier(findMultiplier(builtinCatalogue(), multiplier));
    const before = tf.memory().numTensors;
    const results = layers.map((l, i) => {
      const { act, codes, w } = operands(l, 20 + i);
      const ref = referenceConv({ codes, shape: l.x, ...act }, w, l.win, m.table, l.depthwise);
      const k = prepareKernel(w, m.factors!, l.depthwise, act);
      const x = tf.tensor4d(Float32Array.from(codes, (c) => (c - act.zeroPoint) * act.scale), l.x);
      const requantised = quantiseOnDevice(x, act);
      const sameCodes = Array.from(requantised.dataSync()).every((c, j) => c === codes[j]);
      const y = fastLayer(x, act, k, l.win, {}, 'device');
      const result = { name: l.name, sameCodes, relativeError: relativeError(y.dataSync(), ref.values) };
      tf.dispose([x, y, requantised]);
      disposeKernel(k);
      return result;
    });
    return { backend: tf.getBackend(), rank: m.factors!.u.length, form: m.factors!.form ?? 'error', results, leaked: tf.memory().numTensors - before };
  },

  /** A small conv net (conv, depthwise, dense; ReLU, ReLU6, softmax) through the simulation, fast against reference. */
  simulation(multipliers: string[]) {
    const input = tf.input({ shape: [12, 12, 3] });
    let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), name: 'conv' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }), name: 'dw' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), name: 'dense' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomUniform([16, 12, 12, 3], 0, 1, 'float32', 4);
    const sim = ApproxSimulation.calibrate(model, x);
    const catalogue = builtinCatalogue();
    const before = tf.memory().numTensors;
    const results = multipliers.map((id) => {
      const mode: LayerMode = { kind: 'approx', multiplier: simMultiplier(findMultiplier(catalogue, id)) };
      const modes = Object.fromEntries(sim.multiplyLayers().map((n) => [n, mode]));
      return tf.tidy(() => {
        const fast = sim.run(x, modes, 'fast');
        const reference = sim.run(x, modes, 'reference');
        const sameClasses = Array.from(tf.argMax(fast, 1).dataSync()).join() === Array.from(tf.argMax(reference, 1).dataSync()).join();
        return { multiplier: id, relativeError: relativeError(fast.dataSync(), reference.dataSync() as Float32Array), sameClasses };
      });
    });
    sim.dispose();
    const leaked = tf.memory().numTensors - before;
    tf.dispose([x]);
    model.dispose();
    return { backend: tf.getBackend(), results, leaked };
  },

  /** Noise on the GPU path: relative std of what was added, and a ReLU applied after. */
  noise(relStd = 0.25) {
    const y = tf.randomNormal([32, 8, 8, 16], 1, 2, 'float32', 3);
    const noisy = addRelativeNoise(y, relStd, new GaussianSource(5));
    const relu = addRelativeNoise(y, relStd, new GaussianSource(5), 'relu');
    const ratio = tf.tidy(() => Math.sqrt(tf.moments(tf.sub(noisy, y)).variance.dataSync()[0] / tf.moments(y).variance.dataSync()[0]));
    const minRelu = tf.min(relu).dataSync()[0];
    tf.dispose([y, noisy, relu]);
    return { backend: tf.getBackend(), ratio, minRelu };
  },
};

(window as unknown as { engineChecks: typeof checks }).engineChecks = checks;
document.body.dataset.ready = 'yes';
