// Seeded background noises for the keyword clips, each scaled to unit RMS so the mixer sets its
// level from the SNR alone. Babble is built in keywords.ts, from the shipped utterances.
import { GaussianSource } from '../util/gaussian';
import { mulberry32 } from '../util/random';

export const NOISE_TYPES = ['white', 'pink', 'brown', 'hum', 'babble'] as const;
export type NoiseType = (typeof NOISE_TYPES)[number];

export function normaliseRms(x: Float32Array): Float32Array {
  let power = 0;
  for (const v of x) power += v * v;
  const rms = Math.sqrt(power / x.length);
  if (rms > 0) for (let i = 0; i < x.length; i++) x[i] /= rms;
  return x;
}

/** Paul Kellet's pink filter: within 0.05 dB of 1/f from 10 Hz up to near Nyquist at 44.1 kHz. */
function pink(white: Float32Array): Float32Array {
  const out = new Float32Array(white.length);
  let [b0, b1, b2, b3, b4, b5, b6] = [0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < white.length; i++) {
    const w = white[i];
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return out;
}

/** Leaky integral of white noise (1/f² above ~5 Hz), started in its steady state by a discarded lead-in. */
function brown(white: Float32Array, lead: number): Float32Array {
  const out = new Float32Array(white.length - lead);
  let y = 0;
  for (let i = 0; i < white.length; i++) {
    y = 0.998 * y + white[i];
    if (i >= lead) out[i - lead] = y;
  }
  let mean = 0;
  for (const v of out) mean += v;
  mean /= out.length;
  for (let i = 0; i < out.length; i++) out[i] -= mean;
  return out;
}

/** Mains hum: 50 or 60 Hz (±0.5 %) with eight decaying harmonics at random phases, over a faint hiss. */
function hum(seed: number, length: number, sampleRate: number): Float32Array {
  const random = mulberry32(seed ^ 0x68756d);
  const f0 = (random() < 0.5 ? 50 : 60) * (1 + (random() - 0.5) * 0.01);
  const out = new GaussianSource(seed).fill(new Float32Array(length));
  for (let i = 0; i < length; i++) out[i] *= 0.05;
  for (let k = 1; k <= 8; k++) {
    const amplitude = (0.2 + 0.8 * random()) / k;
    const phase = 2 * Math.PI * random();
    const w = (2 * Math.PI * f0 * k) / sampleRate;
    for (let i = 0; i < length; i++) out[i] += amplitude * Math.sin(w * i + phase);
  }
  return out;
}

/** `length` samples of the given noise at unit RMS, the same for the same seed. */
export function backgroundNoise(type: Exclude<NoiseType, 'babble'>, seed: number, length: number, sampleRate: number): Float32Array {
  if (type === 'hum') return normaliseRms(hum(seed, length, sampleRate));
  const lead = type === 'brown' ? 4000 : 0;
  const white = new GaussianSource(seed).fill(new Float32Array(length + lead));
  if (type === 'white') return normaliseRms(white);
  return normaliseRms(type === 'pink' ? pink(white) : brown(white, lead));
}
