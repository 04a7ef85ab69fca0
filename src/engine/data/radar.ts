// Synthetic radar gestures (algorithms.md §7): range-Doppler maps of an FMCW radar, built as Gaussian
// blobs at each scatterer's range and Doppler bin over static clutter and noise. A gesture is a
// trajectory of a few scatterers (the hand) with AR(1)-correlated jitter, so consecutive frames are
// alike: push (towards the radar), pull (away), swipe (across: Doppler sweeps through zero), rub
// (fingers: small fast Doppler oscillation, close), tap (quick in and out), idle (clutter only).
import { GaussianSource } from '../util/gaussian';
import { mulberry32 } from '../util/random';

export const GESTURES = ['idle', 'push', 'pull', 'swipe', 'rub', 'tap'] as const;
export type Gesture = (typeof GESTURES)[number];

export const RANGE_BINS = 32;
export const DOPPLER_BINS = 32;

export interface RadarOptions {
  frames: number;
  seed?: number;
  /** Mean frames a gesture lasts (geometric). */
  meanDwell?: number;
  /** AR(1) coefficient of the trajectory jitter. */
  correlation?: number;
  noise?: number;
}

export interface RadarStream {
  frames: number;
  /** [frames][range][doppler], log-magnitude scaled to about 0..1. */
  maps: Float32Array;
  labels: Int32Array;
}

/** Range (bin) and radial velocity (Doppler bin offset from the centre) of the hand at phase u ∈ [0, 1). */
function trajectory(g: Gesture, u: number, variant: number): { range: number; doppler: number; spread: number }[] {
  const near = 8 + 6 * variant;
  switch (g) {
    case 'idle':
      return [];
    case 'push':
      return [{ range: near + 12 * (1 - u), doppler: 6 + 2 * Math.sin(Math.PI * u), spread: 1 }];
    case 'pull':
      return [{ range: near + 12 * u, doppler: -6 - 2 * Math.sin(Math.PI * u), spread: 1 }];
    case 'swipe': {
      const d = 9 * Math.cos(Math.PI * u);
      return [
        { range: near + 4, doppler: d, spread: 1.5 },
        { range: near + 6, doppler: d * 0.6, spread: 1.5 },
      ];
    }
    case 'rub':
      return [{ range: near - 2, doppler: 3 * Math.sin(2 * Math.PI * 4 * u), spread: 0.8 }];
    case 'tap':
      return [{ range: near + 3 - 3 * Math.sin(2 * Math.PI * u), doppler: 11 * Math.cos(2 * Math.PI * u), spread: 1 }];
  }
}

export function radarStream(options: RadarOptions): RadarStream {
  const { frames, seed = 1, meanDwell = 24, correlation = 0.9, noise = 0.05 } = options;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`frames must be a whole number ≥ 1 (got ${frames})`);
  const random = mulberry32(seed);
  const gauss = new GaussianSource(seed + 3);
  const maps = new Float32Array(frames * RANGE_BINS * DOPPLER_BINS);
  const labels = new Int32Array(frames);
  const cells = new Float32Array(RANGE_BINS * DOPPLER_BINS);
  const eps = new Float32Array(4);
  let gesture: Gesture = 'idle';
  let start = 0;
  let length = 1;
  let variant = 0;
  let [jr, jd] = [0, 0];
  // Static clutter: the body, at zero Doppler, somewhere behind the hand.
  const body = 22 + random() * 6;
  for (let t = 0; t < frames; t++) {
    if (t === 0 || t - start >= length) {
      gesture = GESTURES[Math.floor(random() * GESTURES.length)];
      start = t;
      // Geometric dwell, at least 8 frames for a gesture to play out.
      length = 8 + Math.floor(-Math.log(1 - random()) * (meanDwell - 8));
      variant = random();
    }
    const u = (t - start) / length;
    gauss.fill(eps);
    // AR(1) jitter: consecutive frames wander together.
    jr = correlation * jr + Math.sqrt(1 - correlation ** 2) * eps[0] * 0.8;
    jd = correlation * jd + Math.sqrt(1 - correlation ** 2) * eps[1] * 0.8;
    cells.fill(0);
    const blobs = [{ range: body, doppler: 0, spread: 1.2, amp: 0.6 }, ...trajectory(gesture, u, variant).map((b) => ({ range: b.range + jr, doppler: b.doppler + jd, spread: b.spread, amp: 1 }))];
    for (const b of blobs) {
      const dc = b.doppler + DOPPLER_BINS / 2;
      for (let r = Math.max(0, Math.floor(b.range - 4)); r <= Math.min(RANGE_BINS - 1, Math.ceil(b.range + 4)); r++)
        for (let d = Math.max(0, Math.floor(dc - 4 * b.spread)); d <= Math.min(DOPPLER_BINS - 1, Math.ceil(dc + 4 * b.spread)); d++)
          cells[r * DOPPLER_BINS + d] += b.amp * Math.exp(-((r - b.range) ** 2) / 2 - ((d - dc) ** 2) / (2 * b.spread ** 2));
    }
    const base = t * RANGE_BINS * DOPPLER_BINS;
    const n = new Float32Array(cells.length);
    gauss.fill(n);
    for (let i = 0; i < cells.length; i++) {
      // Log magnitude, as radar front ends report it, with Gaussian noise on top.
      const v = Math.log1p(8 * cells[i]) / Math.log1p(8) + noise * n[i];
      maps[base + i] = v < 0 ? 0 : v;
    }
    labels[t] = GESTURES.indexOf(gesture);
  }
  return { frames, maps, labels };
}
