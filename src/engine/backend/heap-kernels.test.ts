import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileKernels, KERNEL_MODULE } from '../../../scripts/build-kernels';
import { builtinCatalogue, findMultiplier, simMultiplier } from '../approx/catalogue';
import { disposeKernel, fastLayer, prepareKernel, stackFloats } from '../approx/fast';
import type { PreparedKernel } from '../approx/fast';
import { quantiseWeights } from '../approx/quantise';
import { ApproxSimulation, type LayerMode } from '../approx/simulate';
import { addRelativeNoise } from '../noise/inject';
import { GaussianSource } from '../util/gaussian';
import { heapKernels, setHeapKernelsEnabled } from './heap-kernels';
import { writableStorage } from './host-memory';
import { initNodeBackend } from './node';

beforeAll(() => initNodeBackend('wasm'));
afterEach(() => setHeapKernelsEnabled(true));

/** Bit patterns, so that −0, NaN and the last ulp all count. */
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Activations that reach every branch of the quantiser: below 0, exact .5 boundaries, past 255, NaN. */
function activations(n: number, seed: number): Float32Array {
  const values = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const pick = s % 11;
    values[i] = pick === 0 ? NaN : pick === 1 ? -0.7 : pick === 2 ? 1.3 : pick === 3 ? (s % 256) / 255 + 0.5 / 255 : ((s >>> 8) % 100000) / 100000;
  }
  return values;
}

/** An operand map shaped as prepareKernel's: in error form each row starts with code − z_x. */
function prepared(blocks: number, summed: boolean, form: 'error' | 'product', zx: number, seed: number): Pick<PreparedKernel, 'blocks' | 'form' | 'operandMap' | 'sumMap'> {
  const operandMap = Float32Array.from({ length: 256 * blocks }, (_, i) => (form === 'error' && i % blocks === 0 ? i / blocks - zx : Math.sin(i * 0.37 + seed) * 1000));
  // Summed columns: code − z_x, and values whose float64 sum rounds differently from a float32 one.
  const sumMap = summed ? Float32Array.from({ length: 512 }, (_, i) => (i % 2 === 0 ? (i >> 1) - zx : Math.cos(i * 0.11 + seed) * 77.7)) : null;
  return { blocks, form, operandMap, sumMap };
}

describe('heap kernels', () => {
  it('are the compiled form of heap-kernels.wat', async () => {
    expect(readFileSync(KERNEL_MODULE, 'utf8')).toBe(await compileKernels());
  });

  it('run on the wasm backend here, and not on cpu', async () => {
    expect(heapKernels()).not.toBeNull();
    await tf.setBackend('cpu');
    expect(heapKernels()).toBeNull();
    await tf.setBackend('wasm');
  });

  // Shapes where the vector copy's overrun meets the end of the output: one pixel, one channel,
  // a single block, and blocks that are and are not multiples of 4.
  it.each([
    [[1, 1, 1, 1], 1, false, 'error'],
    [[1, 1, 1, 3], 3, false, 'error'],
    [[2, 3, 5, 16], 7, true, 'product'],
    [[2, 4, 4, 16], 3, false, 'error'],
    [[1, 2, 2, 5], 17, true, 'product'],
    [[3, 7, 7, 2], 4, false, 'error'],
    [[1, 1, 3, 1], 2, true, 'product'],
  ] as const)('stack %j with %i blocks (summed %s) writes what the JavaScript pass writes, bit for bit', (shape, blocks, summed, form) => {
    const x = tf.tensor4d(activations(shape.reduce((a: number, b: number) => a * b, 1), blocks), [...shape]);
    const act = { scale: 1 / 255, zeroPoint: 3 };
    const k = prepared(blocks, summed, form, act.zeroPoint, shape[3]) as PreparedKernel;
    const before = tf.memory().numTensors;
    const fast = stackFloats(x, act, k);
    setHeapKernelsEnabled(false);
    const plain = stackFloats(x, act, k);
    expect(fast.shape).toEqual(plain.shape);
    expect(bits(fast)).toEqual(bits(plain));
    tf.dispose([fast, plain]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('stack writes nothing past the end of its output', () => {
    const kernels = heapKernels()!;
    for (const [pixels, channels, blocks, summed] of [
      [1, 1, 1, false],
      [5, 1, 1, false],
      [4, 2, 5, false],
      [3, 3, 7, true],
    ] as const) {
      const width = channels * blocks + (summed ? 2 : 0);
      const src = tf.tensor1d(activations(pixels * channels, 5));
      const dst = tf.fill([pixels * width + 8], -1);
      const srcView = writableStorage(src)!;
      const all = writableStorage(dst)!;
      const map = Float32Array.from({ length: 256 * blocks }, (_, i) => i);
      const sums = summed ? Float32Array.from({ length: 512 }, (_, i) => i) : null;
      expect(kernels.stack(srcView, all.subarray(0, pixels * width), channels, 255, 0.5, map, blocks, sums)).toBe(true);
      expect(Array.from(all.subarray(pixels * width))).toEqual(new Array(8).fill(-1));
      tf.dispose([src, dst]);
    }
  });

  it('refuse views outside the backend memory, writing nothing', () => {
    const kernels = heapKernels()!;
    const out = new Float32Array(4).fill(7);
    expect(kernels.stack(new Float32Array(4), out, 1, 1, 0.5, new Float32Array(256), 1, null)).toBe(false);
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
    expect(kernels.moments(new Float32Array(4))).toBeNull();
  });

  it.each([['linear'], ['relu'], ['relu6']] as const)('the noise pass (%s) perturbs exactly as the JavaScript pass, odd lengths too', (activation) => {
    const values = Float32Array.from(activations(3 * 5 * 7 * 9, 11), (v) => (Number.isNaN(v) ? 0.25 : v * 8 - 3));
    const run = () => {
      const y = addRelativeNoise(tf.tensor(values, [3, 5, 7, 9]), 0.3, new GaussianSource(4), activation);
      const out = bits(y);
      y.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    const fast = run();
    setHeapKernelsEnabled(false);
    const plain = run();
    expect(fast).toEqual(plain);
    expect(tf.memory().numTensors).toBe(before);
    // The noise is there at all: most values moved.
    const moved = fast.filter((b, i) => b !== new Uint32Array(values.buffer)[i]).length;
    expect(moved).toBeGreaterThan(values.length * 0.5);
  });

  it('run a 3×3 stride-1 layer by Winograd, the same output as the direct convolution, and leak nothing', () => {
    // 150 images: three batch slices of at most 73 (14,256 transformed floats each), the last one short.
    const x = tf.tensor4d(Float32Array.from(activations(150 * 9 * 11 * 6, 3), (v) => (Number.isNaN(v) ? 0 : v)), [150, 9, 11, 6]);
    const act = { scale: 1 / 255, zeroPoint: 0 };
    const { codes, q } = quantiseWeights(Float32Array.from({ length: 9 * 6 * 10 }, (_, i) => Math.sin(i * 1.7)), 10, true);
    const m = simMultiplier(findMultiplier(builtinCatalogue(), 'trunc-8')!);
    const bias = tf.tensor1d(Array.from({ length: 10 }, (_, i) => i * 0.1 - 0.4));
    const run = (k: PreparedKernel) => {
      const y = fastLayer(x, act, k, { kh: 3, kw: 3, strides: [1, 1], padding: 'same' }, { bias, activation: 'relu' });
      const values = Float32Array.from(y.dataSync());
      y.dispose();
      return values;
    };
    const viaWinograd = prepareKernel({ codes, shape: [3, 3, 6, 10], q }, m.factors!, false, act);
    const first = run(viaWinograd);
    expect(viaWinograd.winograd?.u).toHaveLength(36);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(run(viaWinograd)).toEqual(first);
    expect(tf.memory().numTensors).toBe(before);
    setHeapKernelsEnabled(false);
    const direct = prepareKernel({ codes, shape: [3, 3, 6, 10], q }, m.factors!, false, act);
    const plain = run(direct);
    expect(direct.winograd).toBeUndefined();
    const maxAbs = plain.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expect(maxAbs).toBeGreaterThan(0);
    for (let i = 0; i < plain.length; i++) expect(Math.abs(first[i] - plain[i])).toBeLessThanOrEqual(maxAbs * 1e-5);
    disposeKernel(viaWinograd);
    disposeKernel(direct);
    tf.dispose([x, bias]);
  });

  it('look products up (a table without factors) as the lookup loop does, bit for bit, in conv, depthwise and dense layers', () => {
    const input = tf.input({ shape: [9, 10, 3] });
    const a = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'a', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw', depthwiseInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(a) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 6, kernelSize: [2, 3], padding: 'valid', name: 'b', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(dw) as tf.SymbolicTensor;
    const c = tf.layers.dense({ units: 4, name: 'c', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(tf.layers.flatten().apply(b) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: c });
    const x = tf.randomUniform([3, 9, 10, 3], -1, 1, 'float32', 4);
    const sim = ApproxSimulation.calibrate(model, x);
    const mitchell = simMultiplier(findMultiplier(builtinCatalogue(), 'mitchell')!);
    expect(mitchell.factors).toBeNull();
    const modes: Record<string, LayerMode> = Object.fromEntries(['a', 'dw', 'b', 'c'].map((n) => [n, { kind: 'approx', multiplier: mitchell }]));
    const run = () => {
      const y = sim.run(x, modes);
      const out = bits(y);
      y.dispose();
      return out;
    };
    const compiled = run();
    const before = tf.memory().numTensors;
    expect(run()).toEqual(compiled);
    expect(tf.memory().numTensors).toBe(before);
    setHeapKernelsEnabled(false);
    expect(run()).toEqual(compiled);
    // And both are the per-product reference's classes.
    const ref = sim.run(x, modes, 'reference');
    const fast = sim.run(x, modes);
    expect(tf.tidy(() => Array.from(tf.argMax(ref, 1).dataSync()))).toEqual(tf.tidy(() => Array.from(tf.argMax(fast, 1).dataSync())));
    tf.dispose([ref, fast]);
    sim.dispose();
    model.dispose();
    x.dispose();
  });
});
