// Direct lookup on the GPU: one WebGL program computes each output of an approximate layer by
// reading every product from the multiplier's table, held as a 256×256 texture. The fallback for
// tables whose factorisation is too long, when the studio runs on webgl.
import * as tf from '@tensorflow/tfjs';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { place, type Window } from './geometry';
import type { AffineVector } from './quantise';

/** A layer's weights on the GPU, made ready once. */
export interface WebGLLookupKernel {
  depthwise: boolean;
  shape: [number, number, number, number];
  /** Weight codes in tfjs layout, as float32 (exact for 0..255). */
  codes: tf.Tensor4D;
  /** Per output channel: z_w, Σ_k w_k, and s_w. */
  zeroPoint: tf.Tensor1D;
  sumW: tf.Tensor1D;
  scale: tf.Tensor1D;
}

export function prepareWebGLLookup(codes: Int32Array, shape: [number, number, number, number], q: AffineVector, depthwise: boolean): WebGLLookupKernel {
  const [kh, kw, cin, kOut] = shape;
  const cout = depthwise ? cin : kOut;
  const sumW = new Float32Array(cout);
  for (let t = 0; t < kh * kw; t++)
    for (let c = 0; c < cin; c++)
      for (let o = 0; o < kOut; o++) sumW[depthwise ? c : o] += codes[(t * cin + c) * kOut + o];
  const perChannel = (v: ArrayLike<number>) => Float32Array.from({ length: cout }, (_, c) => v[v.length === 1 ? 0 : c]);
  return {
    depthwise,
    shape,
    codes: tf.tensor4d(Float32Array.from(codes), shape),
    zeroPoint: tf.tensor1d(perChannel(q.zeroPoint)),
    sumW: tf.tensor1d(sumW),
    scale: tf.tensor1d(perChannel(q.scale)),
  };
}

export const webglLookupTensors = (k: WebGLLookupKernel): tf.Tensor[] => [k.codes, k.zeroPoint, k.sumW, k.scale];

/**
 * y = s_x·s_w·(Σ_k T[x_k][w_k] − z_w·Σx − z_x·Σw + K·z_x·z_w) for activation codes `x` ([B,H,W,C],
 * float32 holding 0..255) and `table` ([256,256] float32): the arithmetic of the reference layer.
 * Sums run in float32 on the GPU, exact while below 2^24.
 */
export function lookupConvWebGL(x: tf.Tensor4D, act: { scale: number; zeroPoint: number }, k: WebGLLookupKernel, win: Window, table: tf.Tensor2D): tf.Tensor4D {
  const backend = tf.backend() as MathBackendWebGL;
  if (typeof backend.compileAndRun !== 'function') throw new Error('lookupConvWebGL needs the webgl backend');
  const [B, H, W, C] = x.shape;
  const [kh, kw, , kOut] = k.shape;
  const cout = k.depthwise ? C : kOut;
  const p = place(H, W, win);
  const [sh, sw] = win.strides;
  const zx = act.zeroPoint.toFixed(1);
  const taps = k.depthwise ? kh * kw : kh * kw * C;
  const channelLoop = k.depthwise ? 'int c = o; {' : `for (int c = 0; c < ${C}; c++) {`;
  const weight = k.depthwise ? 'getW(ky, kx, c, 0)' : 'getW(ky, kx, c, o)';
  const program = {
    variableNames: ['X', 'W', 'T', 'Zw', 'Sw', 'S'],
    outputShape: [B, p.outH, p.outW, cout],
    userCode: `
      void main() {
        ivec4 coords = getOutputCoords();
        int b = coords.x;
        int o = coords.w;
        float acc = 0.0;
        float sumX = 0.0;
        for (int ky = 0; ky < ${kh}; ky++) {
          int iy = coords.y * ${sh} - ${p.top} + ky;
          for (int kx = 0; kx < ${kw}; kx++) {
            int ix = coords.z * ${sw} - ${p.left} + kx;
            bool inside = iy >= 0 && iy < ${H} && ix >= 0 && ix < ${W};
            ${channelLoop}
              float xc = inside ? getX(b, iy, ix, c) : ${zx};
              acc += getT(int(xc), int(${weight}));
              sumX += xc;
            }
          }
        }
        float zw = getZw(o);
        setOutput((acc - zw * sumX - ${zx} * getSw(o) + ${taps}.0 * ${zx} * zw) * getS(o) * ${act.scale.toExponential(9)});
      }`,
  };
  const info = backend.compileAndRun(program, [x, k.codes, table, k.zeroPoint, k.sumW, k.scale]);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
}
