// The fast bit-faithful approximate layer (algorithms.md §1): with the error table factorised as
// E[a][b] = Σ_r u_r[a]·v_r[b], Σ_k AM(x_k, w_k) = Σ_k x_k·w_k + Σ_r Σ_k u_r[x_k]·v_r[w_k], so one
// ordinary convolution over channel-stacked mapped operands computes every approximate product, on
// whatever backend is active.
import * as tf from '@tensorflow/tfjs';
import { place, type Window } from './geometry';
import type { QuantisedKernel } from './reference';

export interface Factors {
  u: Float32Array[];
  v: Float32Array[];
}

/** A layer's weights made ready for one multiplier: built once, used for every batch. */
export interface PreparedKernel {
  depthwise: boolean;
  rank: number;
  kh: number;
  kw: number;
  inChannels: number;
  /** [kh, kw, Cin·(R+1), Cout] (conv) or [kh, kw, C·(R+1), 1] (depthwise): w_q, then v_r[w_q]. */
  stacked: tf.Tensor4D;
  /** u_r as 256-entry lookup tensors for the activation codes. */
  u: tf.Tensor1D[];
  ones: tf.Tensor4D;
  /** Σ w_q per output channel, z_w and s_w per output channel. */
  sumW: tf.Tensor1D;
  zw: tf.Tensor1D;
  sw: tf.Tensor1D;
  /** Products summed per output: kh·kw·Cin (conv) or kh·kw (depthwise). */
  K: number;
}

export function prepareKernel(w: QuantisedKernel, factors: Factors, depthwise: boolean): PreparedKernel {
  const [kh, kw, cin, cout] = w.shape;
  const R = factors.u.length;
  const blocks = R + 1;
  const stackedIn = cin * blocks;
  const data = new Float32Array(kh * kw * stackedIn * cout);
  const sumW = new Float32Array(depthwise ? cin : cout);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < cout; o++) {
        const code = w.codes[(t * cin + c) * cout + o];
        sumW[depthwise ? c : o] += code;
        for (let r = 0; r < blocks; r++) data[(t * stackedIn + r * cin + c) * cout + o] = r === 0 ? code : factors.v[r - 1][code];
      }
  const channels = depthwise ? cin : cout;
  const perChannel = (values: ArrayLike<number>) => Float32Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
  return {
    depthwise,
    rank: R,
    kh,
    kw,
    inChannels: cin,
    stacked: tf.tensor4d(data, [kh, kw, stackedIn, cout]),
    u: factors.u.map((u) => tf.tensor1d(u)),
    ones: tf.ones([kh, kw, cin, 1]),
    sumW: tf.tensor1d(sumW),
    zw: tf.tensor1d(perChannel(w.q.zeroPoint)),
    sw: tf.tensor1d(perChannel(w.q.scale)),
    K: depthwise ? kh * kw : kh * kw * cin,
  };
}

export function disposeKernel(k: PreparedKernel): void {
  tf.dispose([k.stacked, ...k.u, k.ones, k.sumW, k.zw, k.sw]);
}

/**
 * Approximate convolution of activation codes ([B,H,W,Cin] int32, 0..255) with a prepared kernel.
 * Padding is filled with the activation zero point, the code of 0.0, as the float layer pads with 0.
 */
export function fastConv(codes: tf.Tensor4D, act: { scale: number; zeroPoint: number }, k: PreparedKernel, win: Window): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = codes.shape;
    const p = place(H, W, win);
    const padded = tf.pad(codes, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]], act.zeroPoint) as tf.Tensor4D;
    const xf = tf.cast(padded, 'float32') as tf.Tensor4D;
    const stacked = k.u.length === 0 ? xf : (tf.concat([xf, ...k.u.map((u) => tf.gather(u, padded))], 3) as tf.Tensor4D);
    const zx = act.zeroPoint;
    let sum: tf.Tensor4D;
    let sumX: tf.Tensor4D;
    if (k.depthwise) {
      const all = tf.depthwiseConv2d(stacked, k.stacked, win.strides, 'valid');
      const [b, h, w] = all.shape;
      sum = tf.sum(tf.reshape(all, [b, h, w, k.rank + 1, k.inChannels]), 3) as tf.Tensor4D;
      sumX = tf.depthwiseConv2d(xf, k.ones, win.strides, 'valid');
    } else {
      sum = tf.conv2d(stacked, k.stacked, win.strides, 'valid');
      sumX = tf.conv2d(xf, k.ones, win.strides, 'valid');
    }
    // Σ AM − z_w·Σx_q − z_x·Σw_q + K·z_x·z_w, then the two scales.
    const acc = tf.add(tf.sub(tf.sub(sum, tf.mul(k.zw, sumX)), tf.mul(zx, k.sumW)), tf.mul(k.K * zx, k.zw));
    return tf.mul(tf.mul(k.sw, act.scale), acc) as tf.Tensor4D;
  });
}
