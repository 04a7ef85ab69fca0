// Times one approximate convolution the size of a LeNet layer on 256 digits: float, quantised-exact,
// factorised at several ranks, and direct lookup, in one run, as ratios to float.
import * as tf from '@tensorflow/tfjs';
import { median } from './timing';
import { initNodeBackend } from '../src/engine/backend/node';
import { disposeKernel, fastConv, prepareKernel } from '../src/engine/approx/fast';
import { lookupConv, prepareLookup } from '../src/engine/approx/lookup';
import { quantiseWeights } from '../src/engine/approx/quantise';
import { lowRankMultiplier } from '../src/engine/approx/testing';
import type { Window } from '../src/engine/approx/geometry';

await initNodeBackend((process.env.BACKEND as 'wasm' | 'cpu') ?? 'wasm');
const [B, H, W, C, O] = [256, 28, 28, 16, 32];
const win: Window = { kh: 3, kw: 3, strides: [1, 1], padding: 'same' };
const xf = tf.randomUniform([B, H, W, C], 0, 1, 'float32', 1) as tf.Tensor4D;
const wf = tf.randomUniform([3, 3, C, O], -1, 1, 'float32', 2) as tf.Tensor4D;
const codes = tf.tidy(() => tf.cast(tf.round(tf.mul(xf, 255)), 'int32')) as tf.Tensor4D;
const act = { scale: 1 / 255, zeroPoint: 0 };
const { codes: wCodes, q } = quantiseWeights(wf.dataSync() as Float32Array, O, true);
const kernelShape: [number, number, number, number] = [3, 3, C, O];

/** Median time of f, waiting for a returned tensor's data and freeing it. */
const time = (f: () => tf.Tensor | Promise<unknown>, runs = 3) =>
  median(runs, async () => {
    const r = await f();
    if (r instanceof tf.Tensor) {
      await r.data();
      r.dispose();
    }
  });

const float = await time(() => tf.conv2d(xf, wf, 1, 'same'));
const results: Record<string, number> = { float_ms: float };
for (const rank of [0, 1, 2, 8]) {
  const { factors } = lowRankMultiplier(rank, 5);
  const k = prepareKernel({ codes: wCodes, shape: kernelShape, q }, factors, false);
  results[`factorised_rank${rank}_ratio`] = (await time(() => fastConv(codes, act, k, win))) / float;
  disposeKernel(k);
}
const { table } = lowRankMultiplier(3, 6);
const lk = prepareLookup(wCodes, kernelShape, q, false);
const hostCodes = codes.dataSync() as Int32Array;
results.lookup_ratio = (await time(async () => lookupConv({ codes: hostCodes, shape: codes.shape, ...act }, lk, win, table), 1)) / float;
console.log(JSON.stringify({ backend: tf.getBackend(), shape: { batch: B, size: H, in: C, out: O, kernel: 3 }, ...results }, null, 2));
