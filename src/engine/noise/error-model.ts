// Predicting a multiplier's error in a layer from operand statistics alone (algorithms.md §2), and
// measuring it bit-faithfully at the same places, so the prediction can be checked.
// All errors are in the units of the layer's exact integer output Y = Σ (x − z_x)(w − z_w): the
// error of Y is Σ_k E[x_k][w_k] with E = AM − a·b, since the zero-point terms are corrected exactly.
import { place, type Window } from '../approx/geometry';
import type { AffineVector } from '../approx/quantise';
import { standardDeviation } from 'simple-statistics';
import { mulberry32, shuffleInPlace } from '../util/random';

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
  /** [field][b, oy, ox, channel]: where each field sits (channel: depthwise only, else 0). */
  positions: Int32Array;
  /** Output channels measured per field, and which: [field][j]. */
  perField: number;
  fieldChannels: Int32Array;
  /** [channel][k]: each output channel's weight codes in receptive-field order. */
  weightRows: Uint8Array;
  /** z_w per output channel. */
  zw: Int32Array;
  zx: number;
  /** Normalised histogram of the layer's weight codes. */
  weightHist: Float64Array;
  /** Number of sampled outputs: fields × perField. */
  outputs: number;
  /** std of the exact integer output Y over the sampled outputs. */
  outputStd: number;
}

/**
 * Samples `count` receptive fields (conv, dense: a position; depthwise: a position and a channel),
 * and for each up to `channelsPerField` output channels to measure: enough outputs for a stable std
 * without the cost of every channel of every field.
 */
export function sampleLayer(src: LayerOperandSource, count = 512, seed = 1, channelsPerField = 8): LayerSample {
  const [B, H, W, C] = src.inputShape;
  const [kh, kw, , kOut] = src.kernelShape;
  const p = place(H, W, src.window);
  const fanIn = src.depthwise ? kh * kw : kh * kw * C;
  const cout = src.depthwise ? C : kOut;
  const perField = src.depthwise ? 1 : Math.min(cout, channelsPerField);
  const random = mulberry32(seed);
  const fields = new Uint8Array(count * fanIn);
  const positions = new Int32Array(count * 4);
  const fieldChannels = new Int32Array(count * perField);
  const channels = Array.from({ length: cout }, (_, c) => c);
  for (let f = 0; f < count; f++) {
    const b = Math.floor(random() * B);
    const oy = Math.floor(random() * p.outH);
    const ox = Math.floor(random() * p.outW);
    const channel = src.depthwise ? Math.floor(random() * C) : 0;
    positions.set([b, oy, ox, channel], f * 4);
    if (src.depthwise) fieldChannels[f] = channel;
    else fieldChannels.set(perField === cout ? channels : shuffleInPlace(channels.slice(), random).slice(0, perField), f * perField);
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
  const weightRows = new Uint8Array(cout * fanIn);
  for (let c = 0; c < cout; c++) for (let k = 0; k < fanIn; k++) weightRows[c * fanIn + k] = src.depthwise ? src.weightCodes[k * C + c] : src.weightCodes[k * kOut + c];
  const weightHist = new Float64Array(256);
  for (const w of src.weightCodes) weightHist[w]++;
  for (let i = 0; i < 256; i++) weightHist[i] /= src.weightCodes.length;
  const zw = Int32Array.from({ length: cout }, (_, c) => src.weightQ.zeroPoint[src.weightQ.zeroPoint.length === 1 ? 0 : c]);
  const sample: LayerSample = { name: src.name, fanIn, fields, positions, perField, fieldChannels, weightRows, zw, zx: src.inputZeroPoint, weightHist, outputs: count * perField, outputStd: 0 };
  sample.outputStd = stdOf(exactOutputs(sample));
  return sample;
}

/** Y = Σ_k (x_k − z_x)(w_k − z_w) at every sampled output: field-major, then its channels. */
function exactOutputs(s: LayerSample): Float64Array {
  const out = new Float64Array(s.outputs);
  const count = s.fields.length / s.fanIn;
  for (let f = 0, o = 0; f < count; f++)
    for (let j = 0; j < s.perField; j++, o++) {
      const c = s.fieldChannels[f * s.perField + j];
      const zw = s.zw[c];
      let acc = 0;
      for (let k = 0, x = f * s.fanIn, w = c * s.fanIn; k < s.fanIn; k++) acc += (s.fields[x + k] - s.zx) * (s.weightRows[w + k] - zw);
      out[o] = acc;
    }
  return out;
}

const stdOf = (values: Float64Array) => standardDeviation(Array.from(values));

/**
 * σ̂ = sqrt(n²·Var_i(μ_i) + n·mean_i(s_i²)), with μ_i, s_i² the mean and variance of E′ under field
 * i's activation histogram and the layer's weight histogram (notes §2). Through the weight-averaged
 * rows e1[a] = Σ_b E′[a][b]·p_w[b] and e2[a] = Σ_b E′[a][b]²·p_w[b], each field costs O(n).
 * E′[a][b] = E[a][b] − E[z_x][b]: the error left after the zero-input correction in the bias.
 */
export function predictErrorStd(s: LayerSample, table: Int32Array): number {
  const e1 = new Float64Array(256);
  const e2 = new Float64Array(256);
  for (let a = 0; a < 256; a++)
    for (let b = 0; b < 256; b++) {
      const p = s.weightHist[b];
      if (p === 0) continue;
      // The error less its value on a zero input, which the simulation folds into the bias.
      const e = table[a * 256 + b] - a * b - (table[s.zx * 256 + b] - s.zx * b);
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

/**
 * Σ_k E[x_k][w_k] − Σ_k E[z_x][w_k] at every sampled output (field-major, then its channels): the
 * simulation folds each channel's error on a zero input into its bias (zeroInputCorrection), so
 * only the rest is error.
 */
export function sampledErrors(s: LayerSample, table: Int32Array): Float64Array {
  // E as its own table: one read per product in the loop below.
  const e = new Int32Array(65536);
  for (let i = 0; i < 65536; i++) e[i] = table[i] - (i >> 8) * (i & 255);
  const channels = s.weightRows.length / s.fanIn;
  const atZero = new Float64Array(channels);
  for (let c = 0; c < channels; c++) for (let k = 0; k < s.fanIn; k++) atZero[c] += e[(s.zx << 8) | s.weightRows[c * s.fanIn + k]];
  const out = new Float64Array(s.outputs);
  const count = s.fields.length / s.fanIn;
  for (let f = 0, o = 0; f < count; f++)
    for (let j = 0; j < s.perField; j++, o++) {
      const c = s.fieldChannels[f * s.perField + j];
      let acc = -atZero[c];
      for (let k = 0, x = f * s.fanIn, w = c * s.fanIn; k < s.fanIn; k++) acc += e[(s.fields[x + k] << 8) | s.weightRows[w + k]];
      out[o] = acc;
    }
  return out;
}
