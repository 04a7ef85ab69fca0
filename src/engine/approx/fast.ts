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
import * as tf from '@tensorflow/tfjs';
import { readableStorage, tensorWrittenBy } from '../backend/host-memory';
import type { Window } from './geometry';
import type { Affine } from './quantise';
import type { QuantisedInput, QuantisedKernel } from './reference';

export interface Factors {
  u: Float32Array[];
  v: Float32Array[];
}

/** A layer's weights made ready for one multiplier: built once, used for every batch. */
export interface PreparedKernel {
  depthwise: boolean;
  rank: number;
  inChannels: number;
  /**
   * [kh, kw, Cin·(R+1), Cout] (conv) or [kh, kw, C·(R+1), 1] (depthwise), channel-major: for each
   * input channel (w − z_w), v_1[w], …, v_R[w], each times s_x·s_w of its output channel.
   */
  stacked: tf.Tensor4D;
  /** Operand map, code-major: row `code` holds [code − z_x, u'_1[code], …, u'_R[code]]. */
  operandMap: Float32Array;
  /** The same rows as a [256, R+1] tensor, for mapping on the device (webgl). */
  operandTable: tf.Tensor2D;
  /** Per output channel: s_x·s_w·Σ_r u_r[z_x]·Σ_k v_r[w_k], the part of the products the shifted maps leave out. */
  offset: tf.Tensor1D;
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
  const blocks = R + 1;
  const stackedIn = cin * blocks;
  const channels = depthwise ? cin : cout;
  const perChannel = (values: ArrayLike<number>) => Float64Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
  const zw = perChannel(w.q.zeroPoint);
  const scale = perChannel(w.q.scale).map((s) => s * act.scale);
  const atZero = factors.u.map((u) => u[act.zeroPoint]);
  const data = new Float32Array(kh * kw * stackedIn * cout);
  const offset = new Float64Array(channels);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < cout; o++) {
        const code = w.codes[(t * cin + c) * cout + o];
        const ch = depthwise ? c : o;
        data[(t * stackedIn + c * blocks) * cout + o] = (code - zw[ch]) * scale[ch];
        for (let r = 1; r < blocks; r++) {
          data[(t * stackedIn + c * blocks + r) * cout + o] = factors.v[r - 1][code] * scale[ch];
          offset[ch] += atZero[r - 1] * factors.v[r - 1][code];
        }
      }
  const operandMap = new Float32Array(256 * blocks);
  for (let code = 0; code < 256; code++) {
    operandMap[code * blocks] = code - act.zeroPoint;
    for (let r = 1; r < blocks; r++) operandMap[code * blocks + r] = factors.u[r - 1][code] - atZero[r - 1];
  }
  return {
    depthwise,
    rank: R,
    inChannels: cin,
    stacked: tf.tensor4d(data, [kh, kw, stackedIn, cout]),
    operandMap,
    operandTable: tf.tensor2d(operandMap, [256, blocks]),
    offset: tf.tensor1d(Float32Array.from(offset, (v, ch) => v * scale[ch])),
  };
}

export const kernelTensors = (k: PreparedKernel): tf.Tensor[] => [k.stacked, k.operandTable, k.offset];

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
  if (!device) return tf.tidy(() => convolve(stackFloats(x, act, k), k, win, epilogue));
  return tf.tidy(() => {
    const codes = quantiseOnDevice(x, act).toInt();
    const [b, h, w, c] = codes.shape;
    // [B,H,W,C] codes → [B,H,W,C,R+1] mapped → channel-major [B,H,W,C·(R+1)].
    const stacked = tf.reshape(tf.gather(k.operandTable, codes), [b, h, w, c * (k.rank + 1)]);
    return convolve(stacked as tf.Tensor4D, k, win, epilogue);
  });
}

/** Activation codes (as float32) computed by tfjs ops, the GPU twin of `quantiseActivations`. */
export function quantiseOnDevice(x: tf.Tensor4D, act: Affine): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.floor(tf.add(tf.mul(x, 1 / act.scale), act.zeroPoint + 0.5)), 0, 255) as tf.Tensor4D);
}

/** Approximate layer on activation codes already on the host. */
export function fastConv(input: QuantisedInput, k: PreparedKernel, win: Window, epilogue: Epilogue = {}): tf.Tensor4D {
  return tf.tidy(() => convolve(stackCodes(input, k), k, win, epilogue));
}

function convolve(stacked: tf.Tensor4D, k: PreparedKernel, win: Window, { bias, activation = 'linear' }: Epilogue): tf.Tensor4D {
  const b = k.rank === 0 ? bias : bias ? tf.add(bias, k.offset) : k.offset;
  const pad = win.padding;
  if (!k.depthwise) return tf.fused.conv2d({ x: stacked, filter: k.stacked, strides: win.strides, pad, bias: b, activation });
  if (k.rank === 0) return tf.fused.depthwiseConv2d({ x: stacked, filter: k.stacked, strides: win.strides, pad, bias: b, activation });
  const all = tf.depthwiseConv2d(stacked, k.stacked, win.strides, pad);
  const [n, h, w] = all.shape;
  const y = tf.add(tf.sum(tf.reshape(all, [n, h, w, k.inChannels, k.rank + 1]), 4), b!) as tf.Tensor4D;
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
 * Channel-major stacked operands [B, H, W, C·(R+1)] straight from float activations, quantised with
 * the arithmetic of `quantiseActivations` and mapped in the same pass.
 */
function stackFloats(x: tf.Tensor4D, act: Affine, k: PreparedKernel): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const blocks = k.rank + 1;
  const map = k.operandMap;
  const inv = 1 / act.scale;
  const shift = act.zeroPoint + 0.5;
  // Written straight into the backend's memory: the stacked operands are (R+1)× the input, and a
  // JavaScript array of that size would be zero-filled and then copied over.
  return tensorWrittenBy([b, h, w, c * blocks], (out) => {
    const values = readableStorage(x);
    if (blocks === 1) {
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

function stackCodes(input: QuantisedInput, k: PreparedKernel): tf.Tensor4D {
  const [b, h, w, c] = input.shape;
  const blocks = k.rank + 1;
  return tensorWrittenBy([b, h, w, c * blocks], (out) => {
    for (let i = 0, dst = 0; i < input.codes.length; i++) {
      const row = input.codes[i] * blocks;
      for (let r = 0; r < blocks; r++) out[dst++] = k.operandMap[row + r];
    }
  }) as tf.Tensor4D;
}
