// A correlated stream of digit frames (issue: early exits on sensor streams): test digits, each
// shown for a geometric dwell (mean ≈ 20 frames), every frame jittered on its own — shifted by up to
// two pixels, its contrast scaled, Gaussian noise added — so consecutive frames are alike but never
// identical, as from a camera watching a slowly changing scene. Seeded: the same stream every time.
import { GaussianSource } from '../util/gaussian';
import { mulberry32 } from '../util/random';
import type { DigitsSlice } from './digits';

export interface DigitVideoOptions {
  frames: number;
  seed?: number;
  /** Mean frames a digit stays (geometric dwell). */
  meanDwell?: number;
  maxShift?: number;
  /** Std of the added noise, on the 0..1 pixel scale. */
  noise?: number;
  /** Contrast factor range. */
  contrast?: [number, number];
}

export interface DigitVideo {
  frames: number;
  height: number;
  width: number;
  /** Frame pixels in 0..1, one frame after another. */
  pixels: Float32Array;
  labels: Int32Array;
  /** Which test digit each frame shows. */
  source: Int32Array;
}

export function digitVideo(digits: DigitsSlice, options: DigitVideoOptions): DigitVideo {
  const { frames, seed = 1, meanDwell = 20, maxShift = 2, noise = 0.08, contrast = [0.7, 1.1] } = options;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`frames must be a whole number ≥ 1 (got ${frames})`);
  if (!(meanDwell >= 1)) throw new Error(`the mean dwell must be at least one frame (got ${meanDwell})`);
  const { height: H, width: W } = digits;
  const random = mulberry32(seed);
  const gauss = new GaussianSource(seed + 1);
  const pixels = new Float32Array(frames * H * W);
  const labels = new Int32Array(frames);
  const source = new Int32Array(frames);
  const eps = new Float32Array(H * W);
  let current = Math.floor(random() * digits.count);
  for (let t = 0; t < frames; t++) {
    // Geometric dwell: each frame moves on with probability 1/meanDwell.
    if (t > 0 && random() < 1 / meanDwell) current = Math.floor(random() * digits.count);
    const dx = Math.round((random() * 2 - 1) * maxShift);
    const dy = Math.round((random() * 2 - 1) * maxShift);
    const gain = contrast[0] + random() * (contrast[1] - contrast[0]);
    gauss.fill(eps);
    const src = current * H * W;
    const dst = t * H * W;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const sy = y - dy;
        const sx = x - dx;
        const v = sy >= 0 && sy < H && sx >= 0 && sx < W ? digits.pixels[src + sy * W + sx] / 255 : 0;
        const p = v * gain + eps[y * W + x] * noise;
        pixels[dst + y * W + x] = p < 0 ? 0 : p > 1 ? 1 : p;
      }
    labels[t] = digits.labels[current];
    source[t] = current;
  }
  return { frames, height: H, width: W, pixels, labels, source };
}
