// The fast bit-faithful approximate layer (algorithms.md §1). With the error table factorised as
// E[a][b] = Σ_r u_r[a]·v_r[b] and AM = a·b + E, the zero-point-corrected sum of approximate products is
//   Σ_k AM(x_k, w_k) − z_w·Σx − z_x·Σw + K·z_x·z_w = Σ_k (x_k − z_x)(w_k − z_w) + Σ_r Σ_k u_r[x_k]·v_r[w_k],
// so ONE ordinary convolution over channel-stacked operands [x − z_x, u_1[x], …, u_R[x]] and
// [w − z_w, v_1[w], …, v_R[w]] computes every approximate product, on whatever backend is active.
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
  inChannels: number;
  /** [kh, kw, Cin·(R+1), Cout] (conv) or [kh, kw, C·(R+1), 1] (depthwise): w − z_w, then v_r[w]. */
  stacked: tf.Tensor4D;
  /** u_r as 256-entry lookup tensors for the activation codes (mapped on the device: webgl). */
  u: tf.Tensor1D[];
  /** The same tables on the host (mapped in TypeScript: wasm and cpu, where gather is slow). */
  uHost: Float32Array[];
  /** s_w per output channel. */
  sw: tf.Tensor1D;
}

export function prepareKernel(w: QuantisedKernel, factors: Factors, depthwise: boolean): PreparedKernel {
  const [kh, kw, cin, cout] = w.shape;
  const R = factors.u.length;
  const blocks = R + 1;
  const stackedIn = cin * blocks;
  const channels = depthwise ? cin : cout;
  const perChannel = (values: ArrayLike<number>) => Float32Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
  const zw = perChannel(w.q.zeroPoint);
  const data = new Float32Array(kh * kw * stackedIn * cout);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < cout; o++) {
        const code = w.codes[(t * cin + c) * cout + o];
        data[(t * stackedIn + c) * cout + o] = code - zw[depthwise ? c : o];
        for (let r = 1; r < blocks; r++) data[(t * stackedIn + r * cin + c) * cout + o] = factors.v[r - 1][code];
      }
  return {
    depthwise,
    rank: R,
    inChannels: cin,
    stacked: tf.tensor4d(data, [kh, kw, stackedIn, cout]),
    u: factors.u.map((u) => tf.tensor1d(u)),
    uHost: factors.u.map((u) => Float32Array.from(u)),
    sw: tf.tensor1d(perChannel(w.q.scale)),
  };
}

export function disposeKernel(k: PreparedKernel): void {
  tf.dispose([k.stacked, ...k.u, k.sw]);
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
    const stacked = stackOperands(padded, act.zeroPoint, k);
    let acc: tf.Tensor4D;
    if (k.depthwise) {
      const all = tf.depthwiseConv2d(stacked, k.stacked, win.strides, 'valid');
      const [b, h, w] = all.shape;
      acc = k.rank === 0 ? all : (tf.sum(tf.reshape(all, [b, h, w, k.rank + 1, k.inChannels]), 3) as tf.Tensor4D);
    } else {
      acc = tf.conv2d(stacked, k.stacked, win.strides, 'valid');
    }
    return tf.mul(acc, tf.mul(k.sw, act.scale)) as tf.Tensor4D;
  });
}

/**
 * [x − z_x, u_1[x], …, u_R[x]] along the channel axis. On CPU-side backends a typed-array loop maps
 * the codes several times faster than tf.gather; on webgl the data stay on the GPU.
 */
function stackOperands(padded: tf.Tensor4D, zx: number, k: PreparedKernel): tf.Tensor4D {
  if (tf.getBackend() === 'webgl' || k.rank === 0) {
    const centred = tf.sub(tf.cast(padded, 'float32'), zx) as tf.Tensor4D;
    return k.rank === 0 ? centred : (tf.concat([centred, ...k.u.map((u) => tf.gather(u, padded))], 3) as tf.Tensor4D);
  }
  const codes = padded.dataSync();
  const [b, h, w, c] = padded.shape;
  const blocks = k.rank + 1;
  const out = new Float32Array(codes.length * blocks);
  const width = c * blocks;
  for (let p = 0, pixels = b * h * w; p < pixels; p++) {
    const src = p * c;
    const dst = p * width;
    for (let ch = 0; ch < c; ch++) {
      const code = codes[src + ch];
      out[dst + ch] = code - zx;
      for (let r = 1; r < blocks; r++) out[dst + r * c + ch] = k.uHost[r - 1][code];
    }
  }
  return tf.tensor4d(out, [b, h, w, width]);
}
