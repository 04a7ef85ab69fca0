// Conv / depthwise-conv gradients on the wasm backend against a float64 reference written here.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../util/random';
import { initNodeBackend } from './node';
import { forwardOnlyGradients, registerWasmTrainingGradients } from './wasm-gradients';

// ---------------------------------------------------------------------------------------------
// Reference convolution in plain TypeScript (float64, NHWC), independent of tfjs.

type Pad = 'same' | 'valid' | number;

interface Case {
  depthwise: boolean;
  b: number;
  h: number;
  w: number;
  cin: number;
  k: number;
  /** Output channels (conv2d) or channel multiplier (depthwise). */
  m: number;
  s: number;
  pad: Pad;
  d: number;
}

interface Dims {
  outH: number;
  outW: number;
  top: number;
  left: number;
  cout: number;
}

/** TensorFlow's output size / padding rules, written out independently of tfjs. */
function axis(size: number, k: number, s: number, d: number, pad: Pad): { out: number; before: number } {
  const eff = (k - 1) * d + 1;
  if (pad === 'same') {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + eff - size, 0);
    return { out, before: Math.floor(total / 2) };
  }
  if (pad === 'valid') return { out: Math.ceil((size - eff + 1) / s), before: 0 };
  return { out: Math.floor((size + 2 * pad - eff) / s) + 1, before: pad };
}

function dims(c: Case): Dims {
  const y = axis(c.h, c.k, c.s, c.d, c.pad);
  const x = axis(c.w, c.k, c.s, c.d, c.pad);
  return { outH: y.out, outW: x.out, top: y.before, left: x.before, cout: c.depthwise ? c.cin * c.m : c.m };
}

/**
 * Visits every (output, tap) pair: fn(yIndex, xIndex, wIndex). Output channel co of a depthwise
 * conv is ci*M + mm and uses filter[i, j, ci, mm]; a conv2d sums over all ci.
 */
function forEachTap(c: Case, fn: (yi: number, xi: number, wi: number) => void): void {
  const { outH, outW, top, left, cout } = dims(c);
  const { b: B, h: H, w: W, cin: C, k: K, m: M } = c;
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let co = 0; co < cout; co++) {
          const yi = ((b * outH + oy) * outW + ox) * cout + co;
          for (let i = 0; i < K; i++) {
            const iy = oy * c.s + i * c.d - top;
            if (iy < 0 || iy >= H) continue;
            for (let j = 0; j < K; j++) {
              const ix = ox * c.s + j * c.d - left;
              if (ix < 0 || ix >= W) continue;
              if (c.depthwise) {
                const ci = Math.floor(co / M);
                const mm = co % M;
                fn(yi, ((b * H + iy) * W + ix) * C + ci, ((i * K + j) * C + ci) * M + mm);
              } else {
                for (let ci = 0; ci < C; ci++) fn(yi, ((b * H + iy) * W + ix) * C + ci, ((i * K + j) * C + ci) * M + co);
              }
            }
          }
        }
}

function refForward(c: Case, x: Float64Array, f: Float64Array): Float64Array {
  const { outH, outW, cout } = dims(c);
  const y = new Float64Array(c.b * outH * outW * cout);
  forEachTap(c, (yi, xi, wi) => (y[yi] += x[xi] * f[wi]));
  return y;
}

/** Exact gradients of loss = sum(conv(x, f) * r) (the adjoint of the reference forward). */
function refGrads(c: Case, x: Float64Array, f: Float64Array, r: Float64Array): { dx: Float64Array; df: Float64Array } {
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  forEachTap(c, (yi, xi, wi) => {
    dx[xi] += f[wi] * r[yi];
    df[wi] += x[xi] * r[yi];
  });
  return { dx, df };
}

function loss(c: Case, x: Float64Array, f: Float64Array, r: Float64Array): number {
  const y = refForward(c, x, f);
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i] * r[i];
  return sum;
}

function randomArray(n: number, random: () => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = random() * 2 - 1;
  return a;
}

/** max |a - b| / max |b|: relative error in the max norm. */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return err / Math.max(scale, 1e-12);
}

interface Problem {
  c: Case;
  x: Float64Array;
  f: Float64Array;
  r: Float64Array;
  xShape: [number, number, number, number];
  fShape: [number, number, number, number];
  yShape: [number, number, number, number];
}

function problem(c: Case, seed: number): Problem {
  const random = mulberry32(seed);
  const { outH, outW, cout } = dims(c);
  const xShape: Problem['xShape'] = [c.b, c.h, c.w, c.cin];
  const fShape: Problem['fShape'] = [c.k, c.k, c.cin, c.m];
  const yShape: Problem['yShape'] = [c.b, outH, outW, cout];
  return {
    c,
    xShape,
    fShape,
    yShape,
    x: randomArray(c.b * c.h * c.w * c.cin, random),
    f: randomArray(c.k * c.k * c.cin * c.m, random),
    r: randomArray(c.b * outH * outW * cout, random),
  };
}

function tfConv(c: Case, x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D {
  return c.depthwise
    ? tf.depthwiseConv2d(x, f, c.s, c.pad, 'NHWC', c.d)
    : tf.conv2d(x, f, c.s, c.pad, 'NHWC', c.d);
}

/** Forward output and both gradients (of sum(conv * r)) on the active backend. */
async function tfResults(p: Problem): Promise<{ y: Float32Array; dx: Float32Array; df: Float32Array }> {
  const x = tf.tensor4d(Float32Array.from(p.x), p.xShape);
  const f = tf.tensor4d(Float32Array.from(p.f), p.fShape);
  const r = tf.tensor4d(Float32Array.from(p.r), p.yShape);
  const y = tfConv(p.c, x, f);
  const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tfConv(p.c, a as tf.Tensor4D, b as tf.Tensor4D), r)))([
    x,
    f,
  ]);
  const out = { y: (await y.data()) as Float32Array, dx: (await dx.data()) as Float32Array, df: (await df.data()) as Float32Array };
  tf.dispose([x, f, r, y, dx, df]);
  return out;
}

const TOLERANCE = 1e-3;

function label(c: Case): string {
  const kind = c.depthwise ? `depthwise(x${c.m})` : `conv2d(->${c.m})`;
  return `${kind} ${c.h}x${c.w}x${c.cin} k${c.k} s${c.s} d${c.d} pad=${c.pad}`;
}

const grid: Case[] = [];
for (const depthwise of [false, true])
  for (const s of [1, 2])
    for (const pad of ['same', 'valid'] as const)
      for (const size of [7, 8])
        for (const k of [3, 5])
          grid.push({ depthwise, b: 2, h: size, w: size, cin: 3, k, m: depthwise ? 1 : 4, s, pad, d: 1 });

const extras: Case[] = [
  // 1x1 kernels (matmul path for the filter gradient), strided too.
  { depthwise: false, b: 2, h: 7, w: 7, cin: 5, k: 1, m: 3, s: 1, pad: 'same', d: 1 },
  { depthwise: false, b: 2, h: 8, w: 7, cin: 3, k: 1, m: 6, s: 2, pad: 'valid', d: 1 },
  { depthwise: false, b: 2, h: 7, w: 8, cin: 3, k: 1, m: 2, s: 2, pad: 1, d: 1 },
  // Non-square inputs, explicit numeric padding.
  { depthwise: false, b: 2, h: 7, w: 9, cin: 3, k: 3, m: 4, s: 2, pad: 'same', d: 1 },
  { depthwise: false, b: 2, h: 8, w: 6, cin: 2, k: 3, m: 3, s: 2, pad: 1, d: 1 },
  { depthwise: true, b: 2, h: 9, w: 7, cin: 3, k: 3, m: 1, s: 2, pad: 2, d: 1 },
  // Channel multiplier > 1.
  { depthwise: true, b: 2, h: 7, w: 7, cin: 3, k: 3, m: 2, s: 1, pad: 'same', d: 1 },
  { depthwise: true, b: 2, h: 8, w: 8, cin: 2, k: 5, m: 3, s: 2, pad: 'valid', d: 1 },
  // Dilations (stride 1), which tfjs' own gradients reject.
  { depthwise: false, b: 2, h: 8, w: 8, cin: 3, k: 3, m: 4, s: 1, pad: 'same', d: 2 },
  { depthwise: false, b: 2, h: 9, w: 8, cin: 2, k: 3, m: 3, s: 1, pad: 'valid', d: 2 },
  { depthwise: true, b: 2, h: 8, w: 8, cin: 3, k: 3, m: 1, s: 1, pad: 'same', d: 2 },
  { depthwise: true, b: 2, h: 9, w: 7, cin: 2, k: 3, m: 2, s: 1, pad: 'valid', d: 3 },
];

// tfjs' own gradient, captured before initNodeBackend registers the replacement.
const stockBatchNormGrad = tf.getGradient('FusedBatchNorm')!;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

describe('float64 reference', () => {
  it('its gradients match central finite differences', () => {
    const random = mulberry32(7);
    for (const c of [grid[9], grid[27], extras[2], extras[7], extras[11]]) {
      const p = problem(c, 11);
      const { dx, df } = refGrads(c, p.x, p.f, p.r);
      const eps = 1e-4;
      for (const [values, grad] of [
        [p.x, dx],
        [p.f, df],
      ] as const) {
        for (let n = 0; n < 12; n++) {
          const i = Math.floor(random() * values.length);
          const saved = values[i];
          values[i] = saved + eps;
          const plus = loss(c, p.x, p.f, p.r);
          values[i] = saved - eps;
          const minus = loss(c, p.x, p.f, p.r);
          values[i] = saved;
          expect(Math.abs((plus - minus) / (2 * eps) - grad[i])).toBeLessThan(1e-7);
        }
      }
    }
  });
});

describe('conv gradients on wasm match the reference', () => {
  it.each([...grid, ...extras].map((c, i) => [label(c), c, i] as const))('%s', async (_name, c, i) => {
    expect(tf.getBackend()).toBe('wasm');
    const p = problem(c, 100 + i);
    const got = await tfResults(p);
    const want = refGrads(c, p.x, p.f, p.r);
    // The forward pass pins the padding convention the reference uses.
    expect(relError(got.y, refForward(c, p.x, p.f))).toBeLessThan(1e-5);
    expect(relError(got.dx, want.dx)).toBeLessThan(TOLERANCE);
    expect(relError(got.df, want.df)).toBeLessThan(TOLERANCE);
  });

  it.each([
    ['conv2d', { depthwise: false, b: 2, h: 8, w: 7, cin: 3, k: 3, m: 4, s: 2, pad: 'same', d: 1 }],
    ['depthwiseConv2d', { depthwise: true, b: 2, h: 7, w: 8, cin: 3, k: 3, m: 2, s: 2, pad: 'valid', d: 1 }],
  ] as const)('fused %s (kept fused while training when linear) has working gradients', async (_name, c) => {
    // tf.fused.* use their own custom gradients, which call the backprop kernels directly.
    const p = problem(c, 5);
    const want = refGrads(c, p.x, p.f, p.r);
    const x = tf.tensor4d(Float32Array.from(p.x), p.xShape);
    const f = tf.tensor4d(Float32Array.from(p.f), p.fShape);
    const r = tf.tensor4d(Float32Array.from(p.r), p.yShape);
    const bias = tf.zeros([p.yShape[3]]);
    const fused = (a: tf.Tensor4D, b: tf.Tensor4D) => {
      const args = { x: a, filter: b, strides: c.s, pad: c.pad, bias };
      return c.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    };
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fused(a as tf.Tensor4D, b as tf.Tensor4D), r)))([
      x,
      f,
    ]);
    expect(relError(await dx.data(), want.dx)).toBeLessThan(TOLERANCE);
    expect(relError(await df.data(), want.df)).toBeLessThan(TOLERANCE);
    tf.dispose([x, f, r, bias, dx, df]);
  });

  it('the forward-only formulations agree with the reference too', async () => {
    for (const c of [grid[13], grid[29], extras[1], extras[7]]) {
      const p = problem(c, 3);
      const want = refGrads(c, p.x, p.f, p.r);
      const x = tf.tensor4d(Float32Array.from(p.x), p.xShape);
      const f = tf.tensor4d(Float32Array.from(p.f), p.fShape);
      const r = tf.tensor4d(Float32Array.from(p.r), p.yShape);
      const params = { strides: c.s, pad: c.pad, dilations: c.d };
      const g = c.depthwise ? forwardOnlyGradients.depthwiseFilter : forwardOnlyGradients.conv2dFilter;
      const gi = c.depthwise ? forwardOnlyGradients.depthwiseInput : forwardOnlyGradients.conv2dInput;
      const df = g(x, r, p.fShape, params);
      const dx = gi(p.xShape, r, f, params);
      expect(relError(await dx.data(), want.dx)).toBeLessThan(TOLERANCE);
      expect(relError(await df.data(), want.df)).toBeLessThan(TOLERANCE);
      tf.dispose([x, f, r, dx, df]);
    }
  });
});

describe('other backends are unaffected', () => {
  it('cpu still matches the reference (stock kernels, and the forward-only path for dilations)', async () => {
    await tf.setBackend('cpu');
    try {
      for (const c of [grid[5], grid[21], extras[6], extras[8], extras[10]]) {
        const p = problem(c, 42);
        const got = await tfResults(p);
        const want = refGrads(c, p.x, p.f, p.r);
        expect(relError(got.dx, want.dx), label(c)).toBeLessThan(TOLERANCE);
        expect(relError(got.df, want.df), label(c)).toBeLessThan(TOLERANCE);
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

describe('batch norm gradient without tf.tile', () => {
  it("equals tfjs' own FusedBatchNorm gradient", () => {
    const ours = tf.getGradient('FusedBatchNorm')!;
    expect(ours).not.toBe(stockBatchNormGrad);
    const random = mulberry32(9);
    const t = (shape: number[], lo = -1, hi = 1) =>
      tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * random()), shape);
    for (const withScale of [true, false]) {
      tf.tidy(() => {
        const x = t([3, 5, 6, 4]);
        const dy = t([3, 5, 6, 4]);
        const mean = t([4]);
        const variance = t([4], 0.5, 2);
        const scale = withScale ? t([4]) : undefined;
        const saved = [x, mean, variance, scale] as tf.Tensor[];
        const attrs = { varianceEpsilon: 1e-3 };
        const want = stockBatchNormGrad.gradFunc(dy, saved, attrs);
        const got = ours.gradFunc(dy, saved, attrs);
        for (const key of ['x', 'mean', 'variance', 'scale', 'offset']) {
          const a = got[key]();
          const b = want[key]();
          expect(a.shape, key).toEqual(b.shape);
          expect(relError(a.dataSync(), b.dataSync()), key).toBeLessThan(1e-6);
        }
      });
    }
  });
});

describe('registration', () => {
  it('is idempotent', () => {
    const grads = ['Conv2D', 'DepthwiseConv2dNative', 'FusedBatchNorm'].map((k) => tf.getGradient(k));
    const kernels = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'].map((k) => tf.getKernel(k, 'wasm'));
    registerWasmTrainingGradients();
    registerWasmTrainingGradients();
    expect(['Conv2D', 'DepthwiseConv2dNative', 'FusedBatchNorm'].map((k) => tf.getGradient(k))).toEqual(grads);
    expect(['Conv2DBackpropFilter', 'Conv2DBackpropInput'].map((k) => tf.getKernel(k, 'wasm'))).toEqual(kernels);
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]) {
      expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    }
  });
});

describe('no leaks', () => {
  it('repeated gradient calls leave tensor and wasm buffer counts unchanged', async () => {
    const cases = [grid[12], grid[28], extras[1], extras[7], extras[8], extras[11]];
    const problems = cases.map((c, i) => problem(c, 200 + i));
    await tfResults(problems[0]); // warm-up
    const before = tf.memory().numTensors;
    const buffersBefore = tf.backend().numDataIds();
    for (let round = 0; round < 3; round++) for (const p of problems) await tfResults(p);
    // Kernel-level calls too (these are what fused convs and the stock gradients use).
    for (let round = 0; round < 3; round++) {
      tf.tidy(() => {
        const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
        const dy = tf.randomNormal([2, 4, 4, 3]) as tf.Tensor4D;
        const f = tf.randomNormal([3, 3, 3, 1]) as tf.Tensor4D;
        const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) =>
          tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap);
        const common = { strides: 2, pad: 'same', dilations: 1, dataFormat: 'NHWC' };
        run('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [3, 3, 3, 3] });
        run('Conv2DBackpropInput', { dy, filter: tf.randomNormal([3, 3, 3, 3]) }, { ...common, inputShape: x.shape });
        run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape: f.shape });
        run('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { ...common, inputShape: x.shape });
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(buffersBefore);
  });
});

describe('training a small conv net on wasm', () => {
  it('one fit() epoch of conv2d + depthwiseConv2d + batchNormalization + dense lowers the loss', async () => {
    const random = mulberry32(3);
    const n = 192;
    const size = 12;
    // Two classes: horizontal vs vertical stripes of random phase, plus noise.
    const xs = new Float32Array(n * size * size);
    const ys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const cls = i % 2;
      const phase = Math.floor(random() * 3);
      ys[i] = cls;
      for (let r = 0; r < size; r++)
        for (let c = 0; c < size; c++) {
          const stripe = ((cls ? r : c) + phase) % 3 === 0 ? 1 : 0;
          xs[(i * size + r) * size + c] = stripe + 0.3 * (random() - 0.5);
        }
    }
    const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const model = tf.sequential({
      layers: [
        // Linear conv2d without bias: stays fused while training (FusedConv2D custom gradient).
        tf.layers.conv2d({ inputShape: [size, size, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: seed(1) }),
        tf.layers.batchNormalization(),
        tf.layers.reLU(),
        // Depthwise, strided (DepthwiseConv2dNative gradient).
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthwiseInitializer: seed(2) }),
        tf.layers.batchNormalization(),
        tf.layers.reLU(),
        // Conv with a non-linear activation: run unfused while training (Conv2D gradient).
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: seed(3) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: seed(4) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor4d(xs, [n, size, size, 1]);
    const y = tf.tensor2d(Float32Array.from(ys), [n, 1]);
    const batchLosses: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 1,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: { onBatchEnd: async (_batch, logs) => void batchLosses.push(logs?.loss ?? NaN) },
    });
    expect(batchLosses).toHaveLength(n / 16);
    expect(batchLosses.every(Number.isFinite)).toBe(true);
    const head = (batchLosses[0] + batchLosses[1]) / 2;
    const tail = (batchLosses.at(-1)! + batchLosses.at(-2)!) / 2;
    expect(tail).toBeLessThan(head * 0.8);
    expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
    // A further epoch (optimizer state now exists) leaves the tensor count unchanged.
    const before = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});
