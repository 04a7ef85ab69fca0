// The stacked convolution of a 3×3, stride-1 layer by Winograd's F(4×4, 3×3) on the wasm backend:
// each 6×6 input tile is transformed (Bᵀ·d·B), the 36 transformed positions are multiplied by the
// transformed kernel (G·g·Gᵀ) as 36 ordinary matrix products [tiles, K]×[K, O], and each product
// tile is transformed back (Aᵀ·M·A) into 4×4 outputs: 36 multiply-adds per 4×4 outputs and input
// channel where the direct convolution spends 144 (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016). For the rank-8 layer's stacked channels the convolution is what the
// layer's time is. The transforms cost accuracy: rounding in the products is amplified on the way
// back, by a factor that grows with the terms of the sum (hence the centred product form, fast.ts)
// and with the points (hence 0, ±1, −½, 2; winograd-transforms.ts). agreement.test.ts holds the
// result to 10⁻⁵ of the largest output against the per-product reference for every table.
// Transforms are compiled kernels working in the backend's memory (heap-kernels.wat, generated).
import * as tf from '@tensorflow/tfjs';
import type { HeapKernels } from '../backend/heap-kernels';
import { heapOffset, productInto, tensorWrittenBy, uninitialisedTensor } from '../backend/host-memory';
import { place, type Window } from './geometry';
import { F4X4_3X3 } from './winograd-transforms';

const { G, m: TILE, n: SPAN } = F4X4_3X3;
const POSITIONS = SPAN * SPAN;

/** Floats of transformed input per batch slice: slices this size stay in cache between transform and products. */
const SLICE_FLOATS = 1 << 20;

/** A stacked 3×3 kernel transformed for F(4×4, 3×3): 36 matrices [k, o], rows and columns padded to multiples of 4 with zeros. */
export interface WinogradWeights {
  /** Stacked input channels, padded: the width the stacked operands are written with. */
  k: number;
  /** Output channels, padded. */
  o: number;
  u: tf.Tensor2D[];
}

const ceil4 = (n: number) => Math.ceil(n / 4) * 4;

let enabled = true;

/** Turns the Winograd path off (or back on): for benchmarks that time the direct convolution. */
export function setWinogradEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the layer's window is one F(4×4, 3×3) computes (and the path is on). */
export const winogradWindow = (win: Window): boolean => enabled && win.kh === 3 && win.kw === 3 && win.strides[0] === 1 && win.strides[1] === 1;

/** U = G·g·Gᵀ for every (input, output) channel pair of `data` [3, 3, cin, cout], in float64 then rounded. */
export function winogradWeights(data: Float32Array, cin: number, cout: number): WinogradWeights {
  const k = ceil4(cin);
  const o = ceil4(cout);
  const u: tf.Tensor2D[] = [];
  for (let xi = 0; xi < SPAN; xi++)
    for (let nu = 0; nu < SPAN; nu++) {
      const values = new Float32Array(k * o);
      for (let c = 0; c < cin; c++)
        for (let out = 0; out < cout; out++) {
          let sum = 0;
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++) {
              const g = G[xi][i] * G[nu][j];
              if (g !== 0) sum += g * data[((i * 3 + j) * cin + c) * cout + out];
            }
          values[c * o + out] = sum;
        }
      u.push(tf.tensor2d(values, [k, o]));
    }
  return { k, o, u };
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * The 3×3, stride-1 convolution of `stacked` [B, H, W, weights.k] (channels past the real ones 0)
 * with `bias` (length cout, or none) and `activation` where the kernel applies it ('linear', 'relu',
 * 'relu6'; null for the caller to apply another). Null when the output would be empty.
 */
export function winogradConv(stacked: tf.Tensor4D, weights: WinogradWeights, cout: number, padding: Window['padding'], bias: Float32Array | null, activation: 'linear' | 'relu' | 'relu6' | null, kernels: HeapKernels): tf.Tensor4D | null {
  const [b, h, w, k] = stacked.shape;
  if (k !== weights.k) throw new Error(`Winograd: operands have ${k} channels, the kernel ${weights.k}`);
  const { outH, outW, top, left } = place(h, w, { kh: 3, kw: 3, strides: [1, 1], padding });
  if (outH <= 0 || outW <= 0) return null;
  const tilesH = Math.ceil(outH / TILE);
  const tilesW = Math.ceil(outW / TILE);
  const y = uninitialisedTensor([b, outH, outW, cout]);
  if (!y) return null;
  const biasTensor = tensorWrittenBy([weights.o], (out) => {
    out.fill(0);
    if (bias) out.set(bias);
  });
  const perImage = POSITIONS * tilesH * tilesW * k;
  const slice = Math.max(1, Math.min(b, Math.floor(SLICE_FLOATS / perImage)));
  const sliceTiles = slice * tilesH * tilesW;
  // One set of transformed-input and product matrices, reused by every slice.
  const v = Array.from({ length: POSITIONS }, () => uninitialisedTensor([sliceTiles, k]) as tf.Tensor2D);
  const m = Array.from({ length: POSITIONS }, () => uninitialisedTensor([sliceTiles, weights.o]) as tf.Tensor2D);
  const vAt = v.map((t) => heapOffset(t)!);
  const mAt = m.map((t) => heapOffset(t)!);
  for (let b0 = 0; b0 < b; b0 += slice) {
    const images = Math.min(slice, b - b0);
    const tiles = images * tilesH * tilesW;
    kernels.winogradInput(heapOffset(stacked)! + b0 * h * w * k * 4, images, h, w, k, top, left, tilesH, tilesW, vAt);
    let products = mAt;
    let made: tf.Tensor[] = [];
    if (!v.every((t, i) => productInto(t, tiles, weights.u[i], m[i]))) {
      made = tf.tidy(() => v.map((t, i) => tf.matMul(tiles === sliceTiles ? t : t.slice([0, 0], [tiles, k]), weights.u[i])));
      products = made.map((t) => heapOffset(t)!);
    }
    kernels.winogradOutput(products, images, outH, outW, cout, weights.o, tilesH, tilesW, heapOffset(biasTensor)!, ACTIVATIONS[activation ?? 'linear'], heapOffset(y)! + b0 * outH * outW * cout * 4);
    tf.dispose(made);
  }
  tf.dispose([...v, ...m]);
  biasTensor.dispose();
  return y as tf.Tensor4D;
}
