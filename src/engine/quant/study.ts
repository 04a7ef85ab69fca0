// Accuracy against activation bits, per method, on one model: every (method, bits) pair quantises a
// fresh copy, fine-tunes it, measures it and keeps the picture the studio draws — each quantised
// layer's deployed staircase over the histogram of what reaches it. The model itself is not changed.
import * as tf from '@tensorflow/tfjs';
import type { Batchable } from '../data/tensors';
import { runGraph } from '../models/graph';
import { evaluate } from '../train/evaluate';
import { cloneModel, quantiseModel, type QuantisedModel } from './insert';
import type { Bits, QuantMethod } from './quantiser';

export interface QuantStudyRequest {
  methods: QuantMethod[];
  bits: Bits[];
  /** Fine-tuning epochs per run (0: calibrate only). */
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  quantiserLearningRate?: number;
  seed?: number;
  /** Also quantise what enters Dense layers. */
  dense?: boolean;
  /** Test samples the activation histograms are taken on. */
  histogramSamples?: number;
  bins?: number;
}

/** One channel's activations: `counts` over [lo, hi] in equal bins, exact zeros counted apart. */
export interface ChannelHistogram {
  lo: number;
  hi: number;
  counts: number[];
  /** Values exactly 0 (a ReLU's output mass): a spike no bin width shows well. */
  zeros: number;
  total: number;
}

export interface QuantLayerPicture {
  layer: string;
  type: string;
  channels: number;
  signed: boolean;
  /** Per channel (one row when the quantiser shares its parameters across channels). */
  thresholds: number[][];
  levels: number[][];
  histograms: ChannelHistogram[];
}

export interface QuantStudyRun {
  method: QuantMethod;
  bits: Bits;
  accuracy: number;
  /** Before fine-tuning: quantisers as calibrated. */
  calibratedAccuracy: number;
  steps: number;
  seconds: number;
  layers: QuantLayerPicture[];
}

export interface QuantStudy {
  floatAccuracy: number;
  trainCount: number;
  testCount: number;
  epochs: number;
  runs: QuantStudyRun[];
  /** Stopped on request: `runs` holds the runs that finished. */
  cancelled: boolean;
}

export interface QuantStudyProgress {
  run: number;
  runs: number;
  method: QuantMethod;
  bits: Bits;
  step: number;
  totalSteps: number;
  loss: number | null;
}

export interface QuantStudyHooks {
  onProgress?: (p: QuantStudyProgress) => void;
  shouldStop?: () => boolean;
  /** The float model's accuracy when the caller already has it. */
  floatAccuracy?: number;
}

/** Every requested (method, bits) pair, methods in the order given, bits ascending. */
export function studyPlan(request: Pick<QuantStudyRequest, 'methods' | 'bits'>): Array<{ method: QuantMethod; bits: Bits }> {
  const bits = [...new Set(request.bits)].sort((a, b) => a - b);
  const methods = [...new Set(request.methods)];
  if (methods.length === 0 || bits.length === 0) throw new Error('choose at least one method and one bit width');
  return methods.flatMap((method) => bits.map((b) => ({ method, bits: b })));
}

export async function quantisationStudy(model: tf.LayersModel, train: Batchable, test: Batchable, request: QuantStudyRequest, hooks: QuantStudyHooks = {}): Promise<QuantStudy> {
  const plan = studyPlan(request);
  const floatAccuracy = hooks.floatAccuracy ?? (await evaluate(model, test)).accuracy;
  const runs: QuantStudyRun[] = [];
  const histogramX = test.x.slice(0, Math.min(request.histogramSamples ?? 128, test.count));
  let cancelled = false;
  try {
    for (const [i, { method, bits }] of plan.entries()) {
      if (hooks.shouldStop?.()) {
        cancelled = true;
        break;
      }
      hooks.onProgress?.({ run: i, runs: plan.length, method, bits, step: 0, totalSteps: 0, loss: null });
      const started = performance.now();
      const copy = await cloneModel(model);
      try {
        const run = await quantiseModel(copy, train, {
          method,
          bits,
          dense: request.dense,
          seed: request.seed,
          test,
          epochs: request.epochs,
          batchSize: request.batchSize,
          learningRate: request.learningRate,
          quantiserLearningRate: request.quantiserLearningRate,
          shouldStop: hooks.shouldStop,
          onProgress: (p) => hooks.onProgress?.({ run: i, runs: plan.length, method, bits, step: p.step, totalSteps: p.totalSteps, loss: p.loss }),
        });
        try {
          // A fine-tune cut short is not the method's result: drop it rather than report it.
          if (run.fineTune?.cancelled) {
            cancelled = true;
            break;
          }
          const measured = await run.quantised.evaluate(test);
          runs.push({
            method,
            bits,
            accuracy: measured.accuracy,
            calibratedAccuracy: run.calibrated!.accuracy,
            steps: run.fineTune?.stepsCompleted ?? 0,
            seconds: (performance.now() - started) / 1000,
            layers: layerPictures(run.quantised, histogramX, request.bins ?? 48),
          });
        } finally {
          run.quantised.dispose();
        }
      } finally {
        copy.dispose();
      }
    }
  } finally {
    histogramX.dispose();
  }
  return { floatAccuracy, trainCount: train.count, testCount: test.count, epochs: request.epochs, runs, cancelled };
}

/** Each quantised layer's staircase and the histogram of its input in the deployed quantised network. */
function layerPictures(quantised: QuantisedModel, x: tf.Tensor, bins: number): QuantLayerPicture[] {
  const pictures: QuantLayerPicture[] = [];
  tf.dispose(
    runGraph(quantised.model, x, (layer, input) => {
      const q = quantised.quantisers.get(layer.name);
      if (!q) return null;
      // Histogram at once: holding every layer's raw activations would cost tens of megabytes.
      const { thresholds, levels } = q.staircase();
      const channels = input.shape[input.shape.length - 1]!;
      pictures.push({
        layer: layer.name,
        type: layer.getClassName(),
        channels: q.channels,
        signed: q.signed,
        thresholds,
        levels,
        histograms: channelHistograms(input.dataSync() as Float32Array, channels, bins, (c) => thresholds[Math.min(c, thresholds.length - 1)]),
      });
      return layer.apply(q.apply(input, false)) as tf.Tensor;
    }),
  );
  return pictures;
}

/**
 * Per channel of channels-last `values`: a histogram over the channel's range widened to take in its
 * thresholds, so every threshold can be drawn over it.
 */
export function channelHistograms(values: Float32Array, channels: number, bins: number, thresholdsOf: (channel: number) => number[]): ChannelHistogram[] {
  const lo = new Float64Array(channels).fill(Infinity);
  const hi = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < values.length; i++) {
    const c = i % channels;
    const v = values[i];
    if (v < lo[c]) lo[c] = v;
    if (v > hi[c]) hi[c] = v;
  }
  const out: ChannelHistogram[] = [];
  for (let c = 0; c < channels; c++) {
    const th = thresholdsOf(c);
    let a = Math.min(lo[c], ...th);
    let b = Math.max(hi[c], ...th);
    if (!(b > a)) {
      a -= 0.5;
      b += 0.5;
    }
    out.push({ lo: a, hi: b, counts: new Array<number>(bins).fill(0), zeros: 0, total: 0 });
  }
  for (let i = 0; i < values.length; i++) {
    const h = out[i % channels];
    const v = values[i];
    h.total++;
    if (v === 0) {
      h.zeros++;
      continue;
    }
    const bin = Math.min(bins - 1, Math.floor(((v - h.lo) / (h.hi - h.lo)) * bins));
    h.counts[bin]++;
  }
  return out;
}
