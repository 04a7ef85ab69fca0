// Predicting a multiplier's error in a layer from operand statistics alone (algorithms.md §2), and
// measuring it bit-faithfully at the same places, so the prediction can be checked.
// All errors are in the units of the layer's exact integer output Y = Σ (x − z_x)(w − z_w): the
// error of Y is Σ_k E[x_k][w_k] with E = AM − a·b, since the zero-point terms are corrected exactly.
import { place, type Window } from '../approx/geometry';
import type { AffineVector } from '../approx/quantise';
import { mulberry32 } from '../util/random';

/** A multiply layer's quantised operands, as the simulation holds them. */
export interface LayerOperandSource {
  name: string;
  depthwise: boolean;
  window: Window;
  kernelShape: [number, number, number, number];
  weightCodes: Int32Array;
  weightQ: AffineVector;
  /** Input activation codes on reference data, NHWC (dense: [N, 1, 1, F]). */
  inputCodes: Uint8Array | Int32Array;
  inputShape: [number, number, number, number];
  inputZeroPoint: number;
}

/** Sampled receptive fields of one layer and what the error model needs of them. */
export interface LayerSample {
  name: string;
  fanIn: number;
  /** [field][k]: the activation codes of each sampled receptive field, k < fanIn. */
  fields: Uint8Array;
  /** Number of sampled outputs: fields × output channels (depthwise: one channel per field). */
  outputs: number;
  /** [field][b, oy, ox, channel]: where each field sits (channel: depthwise only, else 0). */
  positions: Int32Array;
  /** Normalised histogram of the layer's weight codes. */
  weightHist: Float64Array;
  /** For each field, the weight rows it meets: conv/dense every output channel, depthwise its channel. */
  channelsOf(field: number): number[];
  /** Weight code of output channel `c` at tap k (k in receptive-field order). */
  weightAt(c: number, k: number): number;
  /** Per output channel z_w. */
  zw(c: number): number;
  zx: number;
  /** std of the exact integer output Y over the sampled outputs. */
  outputStd: number;
}

/** Samples `count` receptive fields (conv, dense: a position; depthwise: a position and a channel). */
export function sampleLayer(src: LayerOperandSource, count = 512, seed = 1): LayerSample {
  const [B, H, W, C] = src.inputShape;
  const [kh, kw, , kOut] = src.kernelShape;
  const p = place(H, W, src.window);
  const fanIn = src.depthwise ? kh * kw : kh * kw * C;
  const cout = src.depthwise ? C : kOut;
  const random = mulberry32(seed);
  const fields = new Uint8Array(count * fanIn);
  const fieldChannel = new Int32Array(count);
  const positions = new Int32Array(count * 4);
  for (let f = 0; f < count; f++) {
    const b = Math.floor(random() * B);
    const oy = Math.floor(random() * p.outH);
    const ox = Math.floor(random() * p.outW);
    const channel = src.depthwise ? Math.floor(random() * C) : 0;
    fieldChannel[f] = channel;
    positions.set([b, oy, ox, channel], f * 4);
    let k = 0;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        const iy = oy * src.window.strides[0] + i - p.top;
        const ix = ox * src.window.strides[1] + j - p.left;
        const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        const base = ((b * H + iy) * W + ix) * C;
        if (src.depthwise) fields[f * fanIn + k++] = inside ? src.inputCodes[base + channel] : src.inputZeroPoint;
        else for (let c = 0; c < C; c++) fields[f * fanIn + k++] = inside ? src.inputCodes[base + c] : src.inputZeroPoint;
      }
  }
  // Receptive-field order is [tap][channel], the kernel's own layout [kh][kw][Cin][Cout].
  const weightAt = src.depthwise ? (c: number, k: number) => src.weightCodes[k * C + c] : (c: number, k: number) => src.weightCodes[k * kOut + c];
  const weightHist = new Float64Array(256);
  for (const w of src.weightCodes) weightHist[w]++;
  for (let i = 0; i < 256; i++) weightHist[i] /= src.weightCodes.length;
  const zwOf = (c: number) => src.weightQ.zeroPoint[src.weightQ.zeroPoint.length === 1 ? 0 : c];
  const all = Array.from({ length: cout }, (_, c) => c);
  const channelsOf = (f: number) => (src.depthwise ? [fieldChannel[f]] : all);
  const sample = { name: src.name, fanIn, fields, outputs: count * (src.depthwise ? 1 : cout), positions, weightHist, channelsOf, weightAt, zw: zwOf, zx: src.inputZeroPoint, outputStd: 0 };
  sample.outputStd = stdOf(sampledOutputs(sample, (x, w, zw) => (x - sample.zx) * (w - zw)));
  return sample;
}

/** Σ_k term(x_k, w_k, z_w) for every sampled output (field × its channels). */
function sampledOutputs(s: Omit<LayerSample, 'outputStd'>, term: (x: number, w: number, zw: number) => number): Float64Array {
  const out = new Float64Array(s.outputs);
  let o = 0;
  const count = s.fields.length / s.fanIn;
  for (let f = 0; f < count; f++)
    for (const c of s.channelsOf(f)) {
      const zw = s.zw(c);
      let acc = 0;
      for (let k = 0; k < s.fanIn; k++) acc += term(s.fields[f * s.fanIn + k], s.weightAt(c, k), zw);
      out[o++] = acc;
    }
  return out;
}

function stdOf(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return Math.sqrt(sq / values.length);
}

/**
 * σ̂ = sqrt(n²·Var_i(μ_i) + n·mean_i(s_i²)), with μ_i, s_i² the mean and variance of E under field
 * i's activation histogram and the layer's weight histogram (notes §2). Through the weight-averaged
 * rows e1[a] = Σ_b E[a][b]·p_w[b] and e2[a] = Σ_b E[a][b]²·p_w[b], each field costs O(n).
 */
export function predictErrorStd(s: LayerSample, table: Int32Array): number {
  const e1 = new Float64Array(256);
  const e2 = new Float64Array(256);
  for (let a = 0; a < 256; a++)
    for (let b = 0; b < 256; b++) {
      const p = s.weightHist[b];
      if (p === 0) continue;
      const e = table[a * 256 + b] - a * b;
      e1[a] += e * p;
      e2[a] += e * e * p;
    }
  const count = s.fields.length / s.fanIn;
  const mu = new Float64Array(count);
  let meanVar = 0;
  for (let f = 0; f < count; f++) {
    let m1 = 0;
    let m2 = 0;
    for (let k = 0; k < s.fanIn; k++) {
      const a = s.fields[f * s.fanIn + k];
      m1 += e1[a];
      m2 += e2[a];
    }
    mu[f] = m1 / s.fanIn;
    meanVar += Math.max(m2 / s.fanIn - mu[f] * mu[f], 0);
  }
  const n = s.fanIn;
  const varMu = stdOf(mu) ** 2;
  return Math.sqrt(n * n * varMu + n * (meanVar / count));
}

/**
 * The actual error std of the layer's integer output at the sampled outputs: Σ_k E[x_k][w_k] with
 * each output channel's own weights, product by product from the table (what the bit-faithful
 * simulation computes there, minus what the exact multiplier computes).
 */
export function measureErrorStd(s: LayerSample, table: Int32Array): number {
  return stdOf(sampledErrors(s, table));
}

/** Σ_k E[x_k][w_k] at every sampled output: field-major, then output channel. */
export const sampledErrors = (s: LayerSample, table: Int32Array): Float64Array => sampledOutputs(s, (x, w) => table[x * 256 + w] - x * w);
