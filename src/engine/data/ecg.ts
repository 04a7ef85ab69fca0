// Synthetic ECG after ECGSYN (McSharry et al. 2003; algorithms.md §7): a point circles a limit
// cycle in (x, y) once per beat, and z, the ECG, is pushed by five Gaussian bumps (P, Q, R, S, T)
// placed at fixed angles. RR intervals come from a bimodal spectrum (Mayer waves near 0.1 Hz,
// respiration near 0.25 Hz); respiration also wanders the baseline. Rhythm episodes alternate
// between normal sinus rhythm and ventricular bigeminy, where every second beat is a premature
// ventricular beat: early, no P wave, a wide tall QRS and an inverted T, then a compensatory pause.
import { GaussianSource } from '../util/gaussian';
import { mulberry32 } from '../util/random';

export type BeatKind = 'N' | 'V';

export interface EcgOptions {
  seconds: number;
  seed?: number;
  /** Output sampling rate, Hz. */
  rate?: number;
  heartRate?: number;
  /** Mean length of a rhythm episode, seconds. */
  meanEpisode?: number;
  /** Share of the time in abnormal (bigeminy) episodes. */
  abnormalShare?: number;
  /** Measurement noise std, mV. */
  noise?: number;
}

export interface Ecg {
  rate: number;
  /** mV. */
  signal: Float32Array;
  beats: { sample: number; kind: BeatKind }[];
  /** Per sample: 1 inside an abnormal episode. */
  episode: Uint8Array;
}

const DEG = Math.PI / 180;
/** P, Q, R, S, T of a normal beat: angle, amplitude, width (ECGSYN's published values). */
const NORMAL = { theta: [-70, -15, 0, 15, 100].map((d) => d * DEG), a: [1.2, -5, 30, -7.5, 0.75], b: [0.25, 0.1, 0.1, 0.1, 0.4] };
/**
 * A premature ventricular beat: no P, a QRS 2.5× as wide in phase and about 1.5× as tall (the area
 * a·b² of each bump sets its height), a deeper S, and a broad inverted T.
 */
const PVC = { theta: [-70, -35, 0, 35, 100].map((d) => d * DEG), a: [0, -2, 7.2, -3.2, -0.5], b: [0.25, 0.25, 0.25, 0.25, 0.5] };

/** RR intervals (s) with a bimodal spectrum: a sum of sinusoids whose powers follow the two peaks. */
function rrSeries(count: number, meanRR: number, random: () => number): Float64Array {
  const rr = new Float64Array(count);
  const peaks = [
    { f: 0.1, width: 0.01, power: 0.5 },
    { f: 0.25, width: 0.01, power: 1 },
  ];
  const components = Array.from({ length: 64 }, (_, i) => {
    const f = 0.02 + (i / 64) * 0.4;
    const power = peaks.reduce((s, p) => s + p.power * Math.exp(-((f - p.f) ** 2) / (2 * p.width ** 2)), 0);
    return { f, amp: Math.sqrt(power), phase: random() * 2 * Math.PI };
  });
  const norm = Math.sqrt(components.reduce((s, c) => s + c.amp ** 2 / 2, 0));
  let t = 0;
  for (let i = 0; i < count; i++) {
    const v = components.reduce((s, c) => s + c.amp * Math.sin(2 * Math.PI * c.f * t + c.phase), 0) / norm;
    // Heart-rate variability: about 5 % of the mean RR.
    rr[i] = meanRR * (1 + 0.05 * v);
    t += rr[i];
  }
  return rr;
}

export function syntheticEcg(options: EcgOptions): Ecg {
  const { seconds, seed = 1, rate = 128, heartRate = 70, meanEpisode = 20, abnormalShare = 0.4, noise = 0.02 } = options;
  if (!(seconds > 0)) throw new Error(`seconds must be positive (got ${seconds})`);
  const random = mulberry32(seed);
  const gauss = new GaussianSource(seed + 7);
  // Integrate at 4× the output rate (RK4), as ECGSYN does at 512 Hz for 128 Hz output.
  const sub = 4;
  const dt = 1 / (rate * sub);
  const n = Math.round(seconds * rate);
  const signal = new Float32Array(n);
  const episode = new Uint8Array(n);
  const beats: Ecg['beats'] = [];
  const rr = rrSeries(Math.ceil((seconds * heartRate) / 60) * 2 + 8, 60 / heartRate, random);
  let beat = 0;
  // Episodes: exponential lengths, abnormal with probability abnormalShare.
  let abnormal = random() < abnormalShare;
  let episodeEnd = -Math.log(1 - random()) * meanEpisode;
  let kind: BeatKind = 'N';
  let nextKind: BeatKind = 'N';
  let bigeminyPhase = 0;
  let omega = (2 * Math.PI) / rr[0];
  let [x, y, z] = [-1, 0, 0];
  const noiseBuf = new Float32Array(n);
  gauss.fill(noiseBuf);
  const derivative = (t: number, xs: number, ys: number, zs: number, w: number, shape: typeof NORMAL): [number, number, number] => {
    const alpha = 1 - Math.sqrt(xs * xs + ys * ys);
    const theta = Math.atan2(ys, xs);
    let dz = 0;
    for (let i = 0; i < 5; i++) {
      let d = theta - shape.theta[i];
      d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
      dz -= shape.a[i] * d * Math.exp(-(d * d) / (2 * shape.b[i] * shape.b[i]));
    }
    // Baseline wander with respiration (0.25 Hz), in the model's units as ECGSYN has it.
    const z0 = 0.005 * Math.sin(2 * Math.PI * 0.25 * t);
    return [alpha * xs - w * ys, alpha * ys + w * xs, dz - (zs - z0)];
  };
  let t = 0;
  let sample = 0;
  for (let step = 0; sample < n; step++) {
    const shape = kind === 'V' ? PVC : NORMAL;
    const [k1x, k1y, k1z] = derivative(t, x, y, z, omega, shape);
    const [k2x, k2y, k2z] = derivative(t + dt / 2, x + (dt / 2) * k1x, y + (dt / 2) * k1y, z + (dt / 2) * k1z, omega, shape);
    const [k3x, k3y, k3z] = derivative(t + dt / 2, x + (dt / 2) * k2x, y + (dt / 2) * k2y, z + (dt / 2) * k2z, omega, shape);
    const [k4x, k4y, k4z] = derivative(t + dt, x + dt * k3x, y + dt * k3y, z + dt * k3z, omega, shape);
    const before = Math.atan2(y, x);
    x += (dt / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
    y += (dt / 6) * (k1y + 2 * k2y + 2 * k3y + k4y);
    z += (dt / 6) * (k1z + 2 * k2z + 2 * k3z + k4z);
    t += dt;
    const after = Math.atan2(y, x);
    // The R peak sits at angle 0: a beat is recorded as the point crosses it, and the interval to
    // the next R peak is set there (a premature beat is early R to R); the next beat's shape takes
    // over at angle π, after this beat's T wave.
    if (before < 0 && after >= 0) {
      beats.push({ sample: Math.min(sample, n - 1), kind });
      // Episodes end on a normal beat, so a ventricular beat always lies inside its episode.
      if (t > episodeEnd && kind === 'N') {
        abnormal = random() < abnormalShare;
        episodeEnd = t - Math.log(1 - random()) * meanEpisode;
      }
      beat++;
      const base = rr[Math.min(beat, rr.length - 1)];
      if (abnormal) {
        bigeminyPhase ^= 1;
        // Bigeminy: a premature beat (70 % of RR) then a compensatory pause (130 %).
        nextKind = bigeminyPhase ? 'V' : 'N';
        omega = (2 * Math.PI) / (base * (nextKind === 'V' ? 0.7 : 1.3));
      } else {
        // The first beat of the next bigeminy episode is ventricular; never two in a row.
        bigeminyPhase = 0;
        nextKind = 'N';
        omega = (2 * Math.PI) / base;
      }
    }
    if (before > 0 && after < 0) kind = nextKind;
    if ((step + 1) % sub === 0) {
      signal[sample] = z;
      episode[sample] = abnormal ? 1 : 0;
      sample++;
    }
  }
  // As ECGSYN: the trace scaled to span −0.4 … 1.2 mV, then measurement noise.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of signal) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = 1.6 / (hi - lo || 1);
  for (let i = 0; i < n; i++) signal[i] = (signal[i] - lo) * scale - 0.4 + noise * noiseBuf[i];
  return { rate, signal, beats, episode };
}

export interface EcgWindows {
  /** [windows, length] */
  values: Float32Array;
  length: number;
  count: number;
  /** 1 when the window lies mostly in an abnormal episode. */
  labels: Int32Array;
  starts: Int32Array;
}

/** Overlapping windows over the signal, standardised each (mean 0, std 1), labelled by episode. */
export function ecgWindows(ecg: Ecg, length = 256, hop = 64): EcgWindows {
  const count = Math.max(0, Math.floor((ecg.signal.length - length) / hop) + 1);
  const values = new Float32Array(count * length);
  const labels = new Int32Array(count);
  const starts = new Int32Array(count);
  for (let w = 0; w < count; w++) {
    const start = w * hop;
    let sum = 0;
    let sq = 0;
    let abnormal = 0;
    for (let i = 0; i < length; i++) {
      const v = ecg.signal[start + i];
      sum += v;
      sq += v * v;
      abnormal += ecg.episode[start + i];
    }
    const mean = sum / length;
    const std = Math.sqrt(Math.max(sq / length - mean * mean, 1e-12));
    for (let i = 0; i < length; i++) values[w * length + i] = (ecg.signal[start + i] - mean) / std;
    labels[w] = abnormal * 2 > length ? 1 : 0;
    starts[w] = start;
  }
  return { values, length, count, labels, starts };
}
