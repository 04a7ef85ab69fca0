// The reference approximate layers: every single product looked up in the multiplier's table, in
// plain TypeScript with exact integer sums. Slow on purpose; the fast path is tested against it.
import { channelParam, type AffineVector } from './quantise';
import { place, type Window } from './geometry';

export interface QuantisedInput {
  /** Activation codes, NHWC, 0..255. */
  codes: Int32Array;
  shape: [number, number, number, number];
  scale: number;
  zeroPoint: number;
}

export interface QuantisedKernel {
  /** Weight codes in tfjs kernel layout: [kh, kw, Cin, Cout] (conv) or [kh, kw, C, 1] (depthwise). */
  codes: Int32Array;
  shape: [number, number, number, number];
  q: AffineVector;
}

/**
 * y = s_x·s_w·(Σ AM(x_q, w_q) − z_w·Σx_q − z_x·Σw_q + K·z_x·z_w) for every output, with padding
 * filled with the activation zero point (the code of 0.0).
 */
export function referenceConv(x: QuantisedInput, w: QuantisedKernel, win: Window, table: Int32Array, depthwise: boolean): { values: Float32Array; shape: [number, number, number, number] } {
  const [B, H, W, Cin] = x.shape;
  const [kh, kw, , kOut] = w.shape;
  const Cout = depthwise ? Cin : kOut;
  const p = place(H, W, win);
  const [sh, sw] = win.strides;
  const out = new Float32Array(B * p.outH * p.outW * Cout);
  const zx = x.zeroPoint;
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < p.outH; oy++)
      for (let ox = 0; ox < p.outW; ox++)
        for (let co = 0; co < Cout; co++) {
          let am = 0;
          let sumX = 0;
          let sumW = 0;
          let K = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = oy * sh + i - p.top;
              const ix = ox * sw + j - p.left;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              const [c0, c1] = depthwise ? [co, co + 1] : [0, Cin];
              for (let ci = c0; ci < c1; ci++) {
                const xq = inside ? x.codes[((b * H + iy) * W + ix) * Cin + ci] : zx;
                const wq = depthwise ? w.codes[(i * kw + j) * Cin + ci] : w.codes[((i * kw + j) * Cin + ci) * Cout + co];
                am += table[xq * 256 + wq];
                sumX += xq;
                sumW += wq;
                K++;
              }
            }
          const { scale: sW, zeroPoint: zw } = channelParam(w.q, co);
          out[((b * p.outH + oy) * p.outW + ox) * Cout + co] = x.scale * sW * (am - zw * sumX - zx * sumW + K * zx * zw);
        }
  return { values: out, shape: [B, p.outH, p.outW, Cout] };
}
