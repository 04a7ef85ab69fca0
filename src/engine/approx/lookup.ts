// Direct lookup of every product in the multiplier's table, as tight as plain TypeScript allows:
// the fallback for error tables whose exact factorisation needs too many rank-one terms. Patches
// are gathered once per output position and weights are laid out per output channel, so the inner
// loop is one table read and one add.
import { channelParam, type AffineVector } from './quantise';
import { place, type Window } from './geometry';

export interface LookupKernel {
  depthwise: boolean;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  /** [Cout][K] weight codes (conv) or [C][kh·kw] (depthwise). */
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
        weights[channel * K + k] = code;
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
        let patchSum = 0;
        if (!k.depthwise) for (let t = 0; t < K; t++) patchSum += rows[t] >> 8;
        for (let co = 0; co < k.cout; co++) {
          let am = 0;
          let sumX = patchSum;
          const w = co * K;
          if (k.depthwise) {
            sumX = 0;
            for (let t = 0; t < taps; t++) {
              const row = rows[t * C + co];
              am += table[row + k.weights[w + t]];
              sumX += row >> 8;
            }
          } else {
            for (let t = 0; t < K; t++) am += table[rows[t] + k.weights[w + t]];
          }
          out[o++] = scale[co] * (am - zw[co] * sumX - zx * k.sumW[co] + K * zx * zw[co]);
        }
      }
  return { values: out, shape: [B, p.outH, p.outW, k.cout] };
}
