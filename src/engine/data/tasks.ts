// The data sets a model can be about: handwritten digits and synthetic keyword speech (shipped), ECG
// windows and radar range-Doppler maps (generated from fixed seeds, so every machine sees the same
// samples). Each task
// gives its training and test samples, a correlated stream for early exits, and how to draw a sample.
// Everything the session does with data goes through here, so every analysis works on every task.
import * as tf from '@tensorflow/tfjs';
import { digitVideo } from './digit-video';
import { sliceDigits, type Digits, type Split } from './digits';
import { ecgWindows, syntheticEcg } from './ecg';
import { KEYWORD_CLASSES, keywordSplit, type Keywords } from './keywords';
import { DOPPLER_BINS, GESTURES, RANGE_BINS, radarStream } from './radar';
import { mulberry32 } from '../util/random';
import { mitbihWindows, type MitbihEcg } from './mitbih';
import type { Batchable } from './tensors';
import { checkFitsData } from '../models/io';

export type TaskName = 'digits' | 'ecg' | 'radar' | 'keywords';
export const TASK_NAMES: TaskName[] = ['digits', 'ecg', 'radar', 'keywords'];

export interface Samples {
  /** count × sample size, in model units once divided by `divide` (bytes of pictures: 255). */
  values: Float32Array | Uint8Array;
  divide: number;
  labels: Int32Array | Uint8Array;
  count: number;
}

export interface Task {
  name: TaskName;
  /** What one sample is, for people: "handwritten digits". */
  title: string;
  classes: string[];
  /** One sample as the data set lays it out, e.g. [28, 28, 1]; models may take it reshaped. */
  sampleShape: number[];
  /** Images are drawn as grey pictures, waveforms as lines. */
  display: 'image' | 'waveform';
  /** The test split is one recording: neighbouring samples are alike, so examples are picked spread out. */
  recording: boolean;
  /** Samples [0, limit) of a split. */
  split(split: Split, limit?: number): Samples;
  /** A stream of correlated frames (early exits): consecutive samples of one recording. */
  stream(frames: number, seed: number): Samples & { name: string };
}

/** A real recording without labels (MIT-BIH record 208 for the ECG): streamed, scored against the full network. */
export function mitbihStream(ecg: MitbihEcg, frames: number): Samples & { name: string } {
  // Windows 0.25 s apart, as the synthetic ECG stream.
  const w = mitbihWindows(ecg, ECG_WINDOW, 32);
  return { ...head({ values: w.values, divide: 1, labels: w.labels, count: w.count }, frames), name: 'MIT-BIH record 208 (real, unlabelled)' };
}

/** What each data set's samples and classes look like, known without loading it: uploads are matched against these. */
export const TASK_SHAPES: Record<TaskName, { sampleShape: number[]; classes: number }> = {
  digits: { sampleShape: [28, 28, 1], classes: 10 },
  ecg: { sampleShape: [1, 256, 1], classes: 2 },
  radar: { sampleShape: [RANGE_BINS, DOPPLER_BINS, 1], classes: GESTURES.length },
  keywords: { sampleShape: [1, 16_000, 1], classes: KEYWORD_CLASSES.length },
};

/** The data set a model fits, its own first (uploads carry no task); throws the first mismatch when none fits. */
export function taskFitting(model: tf.LayersModel, preferred?: string): TaskName {
  const own = TASK_NAMES.find((t) => t === preferred);
  let first: unknown = null;
  for (const name of own ? [own, ...TASK_NAMES.filter((t) => t !== own)] : TASK_NAMES) {
    try {
      checkFitsData(model, { shape: TASK_SHAPES[name].sampleShape, classes: TASK_SHAPES[name].classes });
      return name;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

export const sampleSize = (task: Task) => task.sampleShape.reduce((a, b) => a * b, 1);

/** Samples as model input of `inputShape` (per sample) with one-hot labels. */
export function samplesToTensors(s: Samples, inputShape: number[], classes: number): Batchable {
  return tf.tidy(() => {
    const raw = s.values instanceof Uint8Array ? tf.tensor(s.values, [s.count, ...inputShape], 'int32').toFloat() : tf.tensor(s.values, [s.count, ...inputShape]);
    const x = s.divide === 1 ? raw : raw.div(s.divide);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from(s.labels), 'int32'), classes).toFloat() as tf.Tensor2D;
    return { x, y, count: s.count };
  });
}

/** Samples `indices` as 0–255 pictures (waveforms scaled into the byte range too). */
export function pictures(task: Task, s: Samples, indices: number[]): { height: number; width: number; pixels: Uint8Array } {
  const size = sampleSize(task);
  const [height, width] = task.display === 'waveform' ? [1, size] : [task.sampleShape[0], task.sampleShape[1]];
  const pixels = new Uint8Array(indices.length * size);
  indices.forEach((i, j) => {
    const row = s.values.subarray(i * size, (i + 1) * size);
    if (s.values instanceof Uint8Array) return pixels.set(row, j * size);
    // Floats: scaled by the sample's own range, so every waveform fills its strip.
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const k = task.display === 'image' ? 255 / s.divide : 255 / (hi - lo || 1);
    const o = task.display === 'image' ? 0 : lo;
    for (let n = 0; n < size; n++) pixels[j * size + n] = Math.max(0, Math.min(255, Math.round((row[n] - o) * k)));
  });
  return { height, width, pixels };
}

/** `count` samples from sample `from` on (fewer where the set ends). */
export function rows(s: Samples, from: number, count: number): Samples {
  const size = s.values.length / s.count;
  const start = Math.min(Math.max(0, Math.floor(from)), s.count);
  const n = Math.min(Math.max(0, Math.floor(count)), s.count - start);
  return { values: s.values.subarray(start * size, (start + n) * size), divide: s.divide, labels: s.labels.subarray(start, start + n), count: n };
}

function head(s: Samples, limit?: number): Samples {
  return limit === undefined || limit >= s.count ? s : rows(s, 0, limit);
}

export function digitsTask(digits: Digits): Task {
  const { height, width } = digits.manifest;
  const task: Task = {
    name: 'digits',
    title: 'handwritten digits',
    classes: digits.manifest.classes.map(String),
    sampleShape: [height, width, 1],
    display: 'image',
    recording: false,
    split(split, limit) {
      const s = sliceDigits(digits, split, limit);
      return { values: s.pixels, divide: 255, labels: s.labels, count: s.count };
    },
    stream(frames, seed) {
      // The stream plays test digits the exits never trained on.
      const v = digitVideo(sliceDigits(digits, 'test'), { frames, seed });
      return { values: v.pixels, divide: 1, labels: v.labels, count: v.frames, name: 'digit video' };
    },
  };
  return task;
}

/** Generated once per task and kept: a few seconds of synthesis. */
function cached<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const ECG_WINDOW = 256;

/**
 * ECG windows (2 s, standardised) labelled normal rhythm or ventricular bigeminy. Training, test and
 * stream recordings come from seeds of their own: the same ones `qos-studio exits export` uses.
 */
export function ecgTask(): Task {
  const windows = (seconds: number, seed: number, hop: number) => {
    const w = ecgWindows(syntheticEcg({ seconds, seed }), ECG_WINDOW, hop);
    return { values: w.values, divide: 1, labels: w.labels, count: w.count };
  };
  const train = cached(() => windows(1800, 101, 64));
  const test = cached(() => windows(600, 201, 64));
  return {
    name: 'ecg',
    title: 'ECG windows',
    classes: ['normal', 'bigeminy'],
    sampleShape: [1, ECG_WINDOW, 1],
    display: 'waveform',
    recording: true,
    split: (split, limit) => head(split === 'train' ? train() : test(), limit),
    stream(frames, seed) {
      // Windows 0.25 s apart: each overlaps the last by seven eighths.
      const w = windows(((frames - 1) * 32 + ECG_WINDOW) / 128 + 0.01, 300 + seed, 32);
      return { ...head(w, frames), name: 'ECG windows' };
    },
  };
}

/** Radar range-Doppler maps of six gestures; recordings from fixed seeds, as for the ECG. */
export function radarTask(): Task {
  const maps = (frames: number, seed: number) => {
    const s = radarStream({ frames, seed });
    return { values: s.maps, divide: 1, labels: s.labels, count: frames };
  };
  const train = cached(() => maps(6000, 101));
  const test = cached(() => maps(2000, 201));
  return {
    name: 'radar',
    title: 'radar gestures',
    classes: [...GESTURES],
    sampleShape: [RANGE_BINS, DOPPLER_BINS, 1],
    display: 'image',
    recording: true,
    split: (split, limit) => head(split === 'train' ? train() : test(), limit),
    stream: (frames, seed) => ({ ...maps(frames, 300 + seed), name: 'radar gestures' }),
  };
}

/**
 * One second of 16 kHz audio: ten keywords, silence, unknown words. Synthetic speech (espeak-ng), with
 * test voices unseen in training. The stream is a continuous recording made of test clips one after
 * another, listened to through 1 s windows every 0.25 s; a window is labelled by the clip it mostly covers.
 */
export function keywordsTask(kw: Keywords): Task {
  const length = kw.manifest.length;
  // Rendering mixes every clip with its noise: the test clips, asked for again and again (samples,
  // the demo's clips, streams), are rendered once; training clips when a job needs them.
  const rendered = (s: ReturnType<typeof keywordSplit>) => ({ values: s.x, divide: 1, labels: s.labels, count: s.count });
  const test = cached(() => rendered(keywordSplit(kw, 'test')));
  return {
    name: 'keywords',
    title: 'keywords (synthetic speech)',
    classes: [...KEYWORD_CLASSES],
    sampleShape: [1, length, 1],
    display: 'waveform',
    recording: false,
    split: (split, limit) => (split === 'test' ? head(test(), limit) : rendered(keywordSplit(kw, split, { limit }))),
    stream(frames, seed) {
      const hop = length / 4;
      const clipsNeeded = Math.ceil(((frames - 1) * hop + length) / length) + 1;
      const clips = test();
      const random = mulberry32(seed);
      const order = Array.from({ length: clipsNeeded }, () => Math.floor(random() * clips.count));
      const audio = new Float32Array(clipsNeeded * length);
      order.forEach((c, i) => audio.set(clips.values.subarray(c * length, (c + 1) * length), i * length));
      const values = new Float32Array(frames * length);
      const labels = new Int32Array(frames);
      for (let f = 0; f < frames; f++) {
        const start = f * hop;
        values.set(audio.subarray(start, start + length), f * length);
        labels[f] = clips.labels[order[Math.floor((start + length / 2) / length)]];
      }
      return { values, divide: 1, labels, count: frames, name: 'keyword stream' };
    },
  };
}
