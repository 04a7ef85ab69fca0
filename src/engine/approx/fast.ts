// The fast bit-faithful approximate layer (algorithms.md §1). With the error table factorised as
// E[a][b] = Σ_r u_r[a]·v_r[b] and AM = a·b + E, the zero-point-corrected sum of approximate products is
//   Σ_k AM(x_k, w_k) − z_w·Σx − z_x·Σw + K·z_x·z_w = Σ_k (x_k − z_x)(w_k − z_w) + Σ_r Σ_k u_r[x_k]·v_r[w_k],
// so ONE ordinary convolution over channel-stacked operands [x − z_x, u_1[x], …, u_R[x]] and
// [w − z_w, v_1[w], …, v_R[w]] computes every approximate product, on whatever backend is active.
// The output scale s_x·s_w is folded into the stacked weights, and bias and activation into the
// convolution, so the layer costs one fused convolution plus the operand mapping.
// Padding: the layer pads with the code of 0.0 (z_x). Shifting each map so that it is 0 at z_x,
// u'_r = u_r − u_r[z_x], lets the convolution pad with zeros as usual; what the shift removes,
// Σ_r u_r[z_x]·Σ_k v_r[w_k], is the same at every position (padded or not) and joins the bias.
// Product form: where the product table itself has fewer terms, AM = Σ_r p_r[a]·q_r[b] (operand-
// truncating designs: rank 1 where their error has rank 2), the sum is
//   Σ_r Σ_k p'_r[x_k]·q_r[w_k] − z_w·Σ_k (x_k − z_x) + Σ_k (AM(z_x, w_k) − z_x·w_k),
// and the middle term needs x only summed over the receptive field: a convolution takes it as ONE
// extra channel, Σ_c (x_c − z_x), instead of a whole block of C channels. Written so, the first two
// terms are each about x·w and cancel down to about (x − z_x)(w − z_w): rounding in the convolution
// (Winograd's above all) scales with the terms, not with what is left. So the weights are centred
// on a code c near the weight zero points, q_r[w] − q_r[c], and what that moves out,
//   Σ_k Σ_r p'_r[x_k]·q_r[c] − z_w·Σ_k (x_k − z_x) = (c − z_w)·Σ_k (x_k − z_x) + Σ_k e[x_k],
//   e[x] = Σ_r p'_r[x]·q_r[c] − c·(x − z_x)   (AM's error at weight c, 0 at z_x),
// is a second summed channel, Σ_c e[x_c], with weight 1 beside the first with weight c − z_w: the
// same sum, with every term about the size of the result.
// On wasm a 3×3 stride-1 layer computes that convolution by Winograd F(4×4, 3×3) (winograd.ts): the
// stacked operands are written with their channels padded to a multiple of 4 for its kernels.
import * as tf from '@tensorflow/tfjs';
import { readableStorage, tensorWrittenBy } from '../backend/host-memory';
import { heapKernels, type HeapKernels } from '../backend/heap-kernels';
import { place, type Window } from './geometry';
import type { Affine } from './quantise';
import type { QuantisedInput, QuantisedKernel } from './reference';
import { winogradConv, winogradWeights, winogradWindow, type WinogradWeights } from './winograd';
import { lookupBeats } from './lookup-threshold';

export interface Factors {
  u: Float32Array[];
  v: Float32Array[];
  /** 'error' (the default): u, v factorise E = AM − a·b. 'product': they factorise AM itself. */
  form?: 'error' | 'product';
}

/** A layer's weights made ready for one multiplier: built once, used for every batch. */
export interface PreparedKernel {
  depthwise: boolean;
  /** Rank-one terms of the factorisation. */
  rank: number;
  form: 'error' | 'product';
  inChannels: number;
  /** Mapped values per input channel: R + 1 (error form, or product form on depthwise layers), else R. */
  blocks: number;
  /**
   * [kh, kw, Cin·blocks (+2 summed), Cout] (conv) or [kh, kw, C·blocks, 1] (depthwise), channel-
   * major: for each input channel (w − z_w), v_1[w], …, v_R[w] (error form), q_1[w] − q_1[c], …,
   * q_R[w] − q_R[c] (product form) or −z_w, q_1[w], …, q_R[w] (depthwise product form), then c − z_w
   * and 1 for the summed channels; each times s_x·s_w of its output channel.
   */
  stacked: tf.Tensor4D;
  /** Operand map, code-major: row `code` holds [code − z_x, u'_1[code], …] or [[code − z_x,] p'_1[code], …]. */
  operandMap: Float32Array;
  /** The same rows as a [256, blocks] tensor, for mapping on the device (webgl). */
  operandTable: tf.Tensor2D;
  /**
   * Product form, not depthwise: per code [code − z_x, e[code]], the values of the two channels summed
   * over the input channels after the mapped blocks (code-major), and as a [256, 2] tensor; else null.
   */
  sumMap: Float32Array | null;
  sumTable: tf.Tensor2D | null;
  /**
   * Per output channel, times s_x·s_w: Σ_r u_r[z_x]·Σ_k v_r[w_k] (error form) or Σ_k (AM(z_x, w_k) − z_x·w_k)
   * (product form), the part of the products the shifted maps leave out; null when it is 0 (exact).
   */
  offset: tf.Tensor1D | null;
  zeroPoint: number;
  /** The stacked kernel transformed for Winograd's F(4×4, 3×3), made on first use (3×3 kernels on the wasm backend only). */
  winograd?: WinogradWeights;
}

/** Mapped operands per input channel of the stacked convolution (the summed channels aside). */
export const mappedPerChannel = (f: Factors): number => f.u.length + ((f.form ?? 'error') === 'error' ? 1 : 0);

/**
 * Whether `fast` runs this layer by the compiled lookup instead of its factors: on wasm with the
 * compiled kernels, a conv or dense layer Winograd does not compute, and a long factorisation.
 */
export function lookupIsFaster(factors: Factors, depthwise: boolean, win: Window): boolean {
  return !depthwise && !winogradWindow(win) && lookupBeats(mappedPerChannel(factors)) && heapKernels() !== null;
}

/** Activations tfjs fuses into a convolution. */
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid';

/** What follows the multiplications in the layer, applied inside the convolution where possible. */
export interface Epilogue {
  bias?: tf.Tensor;
  activation?: FusedActivation;
}

export function prepareKernel(w: QuantisedKernel, factors: Factors, depthwise: boolean, act: Affine): PreparedKernel {
  const [kh, kw, cin, cout] = w.shape;
  const R = factors.u.length;
  const form = factors.form ?? 'error';
  const product = form === 'product';
  const summed = product && !depthwise;
  // Whether each input channel carries x − z_x itself (error form: the exact part; depthwise product
  // form: the −z_w·Σ(x − z_x) term, which there stays per channel).
  const linear = !product || depthwise;
  const lead = linear ? 1 : 0;
  const blocks = R + lead;
  const stackedIn = cin * blocks + (summed ? 2 : 0);
  const channels = depthwise ? cin : cout;
  const perChannel = (values: ArrayLike<number>) => Float64Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
  const zw = perChannel(w.q.zeroPoint);
  const scale = perChannel(w.q.scale).map((s) => s * act.scale);
  const zx = act.zeroPoint;
  const atZero = factors.u.map((u) => u[zx]);
  // The weight code the product form centres on: the median of the zero points (all of them, per tensor).
  const centre = summed ? Math.round([...zw].sort((a, b) => a - b)[channels >> 1]) : 0;
  const centred = factors.v.map((v) => (summed ? v[centre] : 0));
  const data = new Float32Array(kh * kw * stackedIn * cout);
  const offset = new Float64Array(channels);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < cout; o++) {
        const code = w.codes[(t * cin + c) * cout + o];
        const ch = depthwise ? c : o;
        const base = (t * stackedIn + c * blocks) * cout + o;
        if (linear) data[base] = (product ? -zw[ch] : code - zw[ch]) * scale[ch];
        for (let r = 0; r < R; r++) {
          data[base + (lead + r) * cout] = (factors.v[r][code] - centred[r]) * scale[ch];
          offset[ch] += atZero[r] * factors.v[r][code];
        }
        if (product) offset[ch] -= zx * code;
      }
  if (summed)
    for (let t = 0; t < kh * kw; t++)
      for (let o = 0; o < cout; o++) {
        data[(t * stackedIn + cin * blocks) * cout + o] = (centre - zw[o]) * scale[o];
        data[(t * stackedIn + cin * blocks + 1) * cout + o] = scale[o];
      }
  const operandMap = new Float32Array(256 * blocks);
  for (let code = 0; code < 256; code++) {
    if (linear) operandMap[code * blocks] = code - zx;
    for (let r = 0; r < R; r++) operandMap[code * blocks + lead + r] = factors.u[r][code] - atZero[r];
  }
  // e[x] from the mapped operands as the convolution sees them, so that the two forms are the same sum.
  const sumMap = summed
    ? Float32Array.from({ length: 512 }, (_, i) => {
        const code = i >> 1;
        if ((i & 1) === 0) return code - zx;
        let e = -centre * (code - zx);
        for (let r = 0; r < R; r++) e += operandMap[code * blocks + r] * centred[r];
        return e;
      })
    : null;
  return {
    depthwise,
    rank: R,
    form,
    inChannels: cin,
    blocks,
    stacked: tf.tensor4d(data, [kh, kw, stackedIn, cout]),
    operandMap,
    operandTable: tf.tensor2d(operandMap, [256, blocks]),
    sumMap,
    sumTable: sumMap && tf.tensor2d(sumMap, [256, 2]),
    offset: R === 0 && !product ? null : tf.tensor1d(Float32Array.from(offset, (v, ch) => v * scale[ch])),
    zeroPoint: zx,
  };
}

export const kernelTensors = (k: PreparedKernel): tf.Tensor[] => [k.stacked, k.operandTable, ...(k.sumTable ? [k.sumTable] : []), ...(k.offset ? [k.offset] : []), ...(k.winograd?.u ?? [])];

export function disposeKernel(k: PreparedKernel): void {
  tf.dispose(kernelTensors(k));
}

/**
 * Approximate layer on float activations ([B,H,W,Cin]), quantised with `act`. On webgl the
 * operands are quantised and mapped on the GPU; elsewhere one typed-array pass quantises and maps
 * them, several times faster than the equivalent chain of tfjs ops (tf.gather above all).
 */
export function fastLayer(x: tf.Tensor4D, act: Affine, k: PreparedKernel, win: Window, epilogue: Epilogue = {}, mapOn: 'auto' | 'device' | 'host' = 'auto'): tf.Tensor4D {
  const device = mapOn === 'device' || (mapOn === 'auto' && tf.getBackend() === 'webgl');
  if (!device) return stackedLayer((width) => stackFloats(x, act, k, width), x.shape[1], x.shape[2], k, win, epilogue);
  return tf.tidy(() => {
    const codes = quantiseOnDevice(x, act).toInt();
    const [b, h, w, c] = codes.shape;
    // [B,H,W,C] codes → [B,H,W,C,blocks] mapped → channel-major [B,H,W,C·blocks] (+ the two summed channels).
    const mapped = tf.reshape(tf.gather(k.operandTable, codes), [b, h, w, c * k.blocks]);
    const stacked = k.sumTable ? tf.concat([mapped, tf.sum(tf.gather(k.sumTable, codes), 3)], 3) : mapped;
    return convolve(stacked as tf.Tensor4D, k, win, epilogue);
  });
}

/** Activation codes (as float32) computed by tfjs ops, the GPU twin of `quantiseActivations`. */
export function quantiseOnDevice(x: tf.Tensor4D, act: Affine): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.floor(tf.add(tf.mul(x, 1 / act.scale), act.zeroPoint + 0.5)), 0, 255) as tf.Tensor4D);
}

/** Approximate layer on activation codes already on the host. */
export function fastConv(input: QuantisedInput, k: PreparedKernel, win: Window, epilogue: Epilogue = {}): tf.Tensor4D {
  return stackedLayer((width) => stackCodes(input, k, width), input.shape[1], input.shape[2], k, win, epilogue);
}

/** The convolution over the operands `stack` writes (at a given channel width): by Winograd where it applies here, else directly. */
function stackedLayer(stack: (width?: number) => tf.Tensor4D, h: number, w: number, k: PreparedKernel, win: Window, epilogue: Epilogue): tf.Tensor4D {
  const kernels = heapKernels();
  const winograd = kernels && winogradFor(k, win, h, w, kernels);
  return tf.tidy(() => (winograd ? viaWinograd(stack(winograd.k), k, winograd, win, epilogue, kernels) : convolve(stack(), k, win, epilogue)));
}

/** The layer's Winograd weights where F(4×4, 3×3) computes it here (wasm, 3×3, stride 1, not depthwise), else null. */
function winogradFor(k: PreparedKernel, win: Window, h: number, w: number, kernels: HeapKernels): WinogradWeights | null {
  if (k.depthwise || !winogradWindow(win) || !kernels.stacks(k.blocks, k.sumMap !== null)) return null;
  const { outH, outW } = place(h, w, win);
  if (outH <= 0 || outW <= 0) return null;
  if (!k.winograd) {
    const [, , cin, cout] = k.stacked.shape;
    // Cached with the kernel across runs, like its other tensors.
    k.winograd = winogradWeights(k.stacked.dataSync() as Float32Array, cin, cout);
    k.winograd.u.forEach((t) => tf.keep(t));
  }
  return k.winograd;
}

const IN_KERNEL = new Set<FusedActivation>(['linear', 'relu', 'relu6']);

function viaWinograd(stacked: tf.Tensor4D, k: PreparedKernel, winograd: WinogradWeights, win: Window, { bias, activation = 'linear' }: Epilogue, kernels: HeapKernels): tf.Tensor4D {
  const cout = k.stacked.shape[3];
  const b = withOffset(k, bias);
  const inKernel = IN_KERNEL.has(activation) ? (activation as 'linear' | 'relu' | 'relu6') : null;
  const y = winogradConv(stacked, winograd, cout, win.padding, b ? (b.dataSync() as Float32Array) : null, inKernel, kernels);
  if (!y) throw new Error('Winograd convolution could not run on this backend');
  return inKernel ? y : applyActivation(y, activation);
}

/** The layer's bias with the kernel's constant offset folded in. */
const withOffset = (k: PreparedKernel, bias: tf.Tensor | undefined) => (!k.offset ? bias : bias ? tf.add(bias, k.offset) : k.offset);

function convolve(stacked: tf.Tensor4D, k: PreparedKernel, win: Window, { bias, activation = 'linear' }: Epilogue): tf.Tensor4D {
  const b = withOffset(k, bias);
  const pad = win.padding;
  if (!k.depthwise) return tf.fused.conv2d({ x: stacked, filter: k.stacked, strides: win.strides, pad, bias: b, activation });
  if (k.blocks === 1) return tf.fused.depthwiseConv2d({ x: stacked, filter: k.stacked, strides: win.strides, pad, bias: b, activation });
  const all = tf.depthwiseConv2d(stacked, k.stacked, win.strides, pad);
  const [n, h, w] = all.shape;
  const summed = tf.sum(tf.reshape(all, [n, h, w, k.inChannels, k.blocks]), 4);
  const y = (b ? tf.add(summed, b) : summed) as tf.Tensor4D;
  return applyActivation(y, activation);
}

export function applyActivation<T extends tf.Tensor>(y: T, activation: FusedActivation): T {
  switch (activation) {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
  }
}

/**
 * Channel-major stacked operands [B, H, W, C·blocks (+2 summed)] straight from float activations, quantised
 * with the arithmetic of `quantiseActivations` and mapped in the same pass: by the compiled kernel
 * where it runs (several times faster), else by the loops below, which compute the same floats.
 */
export function stackFloats(x: tf.Tensor4D, act: Affine, k: PreparedKernel, width?: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const { blocks, sumMap } = k;
  const natural = c * blocks + (sumMap ? 2 : 0);
  const pad = (width ?? natural) - natural;
  const map = k.operandMap;
  const inv = 1 / act.scale;
  const shift = act.zeroPoint + 0.5;
  // Before any view is taken: its first call allocates in the backend's memory.
  const kernels = heapKernels();
  // Written straight into the backend's memory: the stacked operands are `blocks`× the input, and a
  // JavaScript array of that size would be zero-filled and then copied over.
  return tensorWrittenBy([b, h, w, natural + pad], (out) => {
    const values = readableStorage(x);
    if (kernels?.stack(values, out, c, inv, shift, map, blocks, sumMap, pad)) return;
    if (sumMap || pad > 0) {
      stackPixels(values.length, c, k, pad, out, (i) => {
        const v = values[i] * inv + shift;
        return v < 0 ? 0 : v >= 255 ? 255 : v | 0;
      });
    } else if (blocks === 1 && k.form === 'error') {
      for (let i = 0; i < values.length; i++) {
        const v = values[i] * inv + shift;
        out[i] = (v < 0 ? 0 : v >= 255 ? 255 : v | 0) - act.zeroPoint;
      }
    } else {
      for (let i = 0, dst = 0; i < values.length; i++) {
        const v = values[i] * inv + shift;
        const row = (v < 0 ? 0 : v >= 255 ? 255 : v | 0) * blocks;
        for (let r = 0; r < blocks; r++) out[dst++] = map[row + r];
      }
    }
  }) as tf.Tensor4D;
}

function stackCodes(input: QuantisedInput, k: PreparedKernel, width?: number): tf.Tensor4D {
  const [b, h, w, c] = input.shape;
  const natural = c * k.blocks + (k.sumMap ? 2 : 0);
  const pad = (width ?? natural) - natural;
  return tensorWrittenBy([b, h, w, natural + pad], (out) => stackPixels(input.codes.length, c, k, pad, out, (i) => input.codes[i])) as tf.Tensor4D;
}

/**
 * Pixel by pixel (`c` channels each, `n` values in all): each code's row of the operand map, then the
 * two summed columns added up over the pixel in float64 (as the `stack` kernel sums them), then `pad` zeros.
 */
function stackPixels(n: number, c: number, k: PreparedKernel, pad: number, out: Float32Array, codeAt: (i: number) => number): void {
  const { blocks, operandMap: map, sumMap } = k;
  for (let i = 0, dst = 0; i < n; ) {
    let sum0 = 0;
    let sum1 = 0;
    for (const end = i + c; i < end; i++) {
      const code = codeAt(i);
      const row = code * blocks;
      for (let r = 0; r < blocks; r++) out[dst++] = map[row + r];
      if (sumMap) {
        sum0 += sumMap[code * 2];
        sum1 += sumMap[code * 2 + 1];
      }
    }
    if (sumMap) {
      out[dst++] = sum0;
      out[dst++] = sum1;
    }
    for (let z = 0; z < pad; z++) out[dst++] = 0;
  }
}
