// Direct lookup of every product in the multiplier's table, as tight as plain TypeScript allows:
// the fallback for error tables whose exact factorisation needs too many rank-one terms. Patches
// are gathered once per output position. For a convolution the inner loop runs over output
// channels with one activation fixed, so every read falls in the same 1 KB row of the table (L1),
// not anywhere in its 256 KB.
import * as tf from '@tensorflow/tfjs';
import type { HeapKernels } from '../backend/heap-kernels';
import { heapOffset, uninitialisedTensor } from '../backend/host-memory';
import { channelParam, type Affine, type AffineVector } from './quantise';
import { place, type Window } from './geometry';

export interface LookupKernel {
  depthwise: boolean;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  /** [K][Cout] weight codes (conv) or [C][kh·kw] (depthwise). */
  weights: Int32Array;
  sumW: Float64Array;
  q: AffineVector;
}

export function prepareLookup(codes: Int32Array, shape: [number, number, number, number], q: AffineVector, depthwise: boolean): LookupKernel {
  const [kh, kw, cin, kOut] = shape;
  const cout = depthwise ? cin : kOut;
  const K = depthwise ? kh * kw : kh * kw * cin;
  const weights = new Int32Array(cout * K);
  const sumW = new Float64Array(cout);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < kOut; o++) {
        const code = codes[(t * cin + c) * kOut + o];
        const [channel, k] = depthwise ? [c, t] : [o, t * cin + c];
        weights[depthwise ? channel * K + k : k * cout + channel] = code;
        sumW[channel] += code;
      }
  return { depthwise, kh, kw, cin, cout, weights, sumW, q };
}

export function lookupConv(
  x: { codes: Int32Array; shape: [number, number, number, number]; scale: number; zeroPoint: number },
  k: LookupKernel,
  win: Window,
  table: Int32Array,
): { values: Float32Array; shape: [number, number, number, number] } {
  const [B, H, W, C] = x.shape;
  const p = place(H, W, win);
  const [sh, sw] = win.strides;
  const taps = k.kh * k.kw;
  const K = k.depthwise ? taps : taps * C;
  const zx = x.zeroPoint;
  const rows = new Int32Array(taps * C); // activation code × 256: the table row of each product
  const out = new Float32Array(B * p.outH * p.outW * k.cout);
  const scale = Float64Array.from({ length: k.cout }, (_, c) => x.scale * channelParam(k.q, c).scale);
  const zw = Float64Array.from({ length: k.cout }, (_, c) => channelParam(k.q, c).zeroPoint);
  const { weights, sumW, cout } = k;
  const acc = new Int32Array(cout);
  let o = 0;
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < p.outH; oy++)
      for (let ox = 0; ox < p.outW; ox++) {
        // Patch codes in [tap][channel] order; padding reads the zero point (the code of 0.0).
        for (let i = 0; i < k.kh; i++)
          for (let j = 0; j < k.kw; j++) {
            const iy = oy * sh + i - p.top;
            const ix = ox * sw + j - p.left;
            const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            const base = ((b * H + iy) * W + ix) * C;
            const t = i * k.kw + j;
            for (let c = 0; c < C; c++) rows[t * C + c] = (inside ? x.codes[base + c] : zx) << 8;
          }
        if (k.depthwise) {
          for (let co = 0; co < cout; co++) {
            let am = 0;
            let sumX = 0;
            for (let t = 0; t < taps; t++) {
              const row = rows[t * C + co];
              am += table[row + weights[co * taps + t]];
              sumX += row >> 8;
            }
            out[o++] = scale[co] * (am - zw[co] * sumX - zx * sumW[co] + K * zx * zw[co]);
          }
          continue;
        }
        acc.fill(0);
        let sumX = 0;
        for (let t = 0; t < K; t++) {
          const row = rows[t];
          sumX += row >> 8;
          const w = t * cout;
          for (let co = 0; co < cout; co++) acc[co] += table[row + weights[w + co]];
        }
        for (let co = 0; co < cout; co++) out[o++] = scale[co] * (acc[co] - zw[co] * sumX - zx * sumW[co] + K * zx * zw[co]);
      }
  return { values: out, shape: [B, p.outH, p.outW, k.cout] };
}

/**
 * lookupConv as a compiled kernel in the wasm backend's memory (heap-kernels.wat): the same sums,
 * several times faster than the loop above. Takes the float activations where they lie and quantises
 * them with `act`; returns the layer output before bias, or null off the wasm backend.
 */
export function lookupConvOnHeap(x: tf.Tensor4D, act: Affine, k: LookupKernel, win: Window, table: Int32Array, kernels: HeapKernels): tf.Tensor4D | null {
  const [B, H, W, C] = x.shape;
  const p = place(H, W, win);
  const taps = k.kh * k.kw;
  const K = k.depthwise ? taps : taps * C;
  const { cout } = k;
  const zx = act.zeroPoint;
  const out = uninitialisedTensor([B, p.outH, p.outW, cout]);
  // Scratch as tensors in the same memory: rows, weights, table, per-channel params, patch + sums.
  const scratch = [x.size, k.weights.length, 65536, 6 * cout, K + cout].map((n) => uninitialisedTensor([n]));
  if (!out || scratch.some((t) => !t)) {
    tf.dispose([out, ...scratch].filter((t): t is tf.Tensor => t !== null));
    return null;
  }
  // Addresses after every allocation: views made earlier would be detached if the memory grew.
  const [rows, weights, tableAt, params, work] = scratch.map((t) => heapOffset(t!)!);
  const weightCodes = new Int32Array(kernels.buffer, weights, k.weights.length);
  for (let i = 0; i < weightCodes.length; i++) weightCodes[i] = k.weights[i] << 2;
  new Int32Array(kernels.buffer, tableAt, 65536).set(table);
  const perChannel = new Float64Array(kernels.buffer, params, 3 * cout);
  for (let co = 0; co < cout; co++) {
    const { scale, zeroPoint: zw } = channelParam(k.q, co);
    perChannel.set([act.scale * scale, zw, -zx * k.sumW[co] + K * zx * zw], 3 * co);
  }
  kernels.quantiseRows(heapOffset(x)!, x.size, 1 / act.scale, zx + 0.5, rows);
  const [sh, sw] = win.strides;
  const geometry = [rows, B, H, W, C, k.kh, k.kw, sh, sw, p.top, p.left, p.outH, p.outW, zx << 10, weights] as const;
  if (k.depthwise) kernels.lookupDepthwise(...geometry, tableAt, params, heapOffset(out)!);
  else kernels.lookupConv(...geometry, cout, tableAt, params, work, work + K * 4, heapOffset(out)!);
  tf.dispose(scratch as tf.Tensor[]);
  return out as tf.Tensor4D;
}
