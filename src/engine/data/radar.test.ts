import { describe, expect, it } from 'vitest';
import { DOPPLER_BINS, GESTURES, RANGE_BINS, radarStream } from './radar';

const size = RANGE_BINS * DOPPLER_BINS;
const frame = (maps: Float32Array, t: number) => maps.subarray(t * size, (t + 1) * size);
const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
/** Energy on the approaching (upper) and receding (lower) halves of the Doppler axis, clutter column excluded. */
function dopplerHalves(m: Float32Array): [number, number] {
  let up = 0;
  let down = 0;
  for (let r = 0; r < RANGE_BINS; r++)
    for (let d = 0; d < DOPPLER_BINS; d++) {
      const off = d - DOPPLER_BINS / 2;
      if (off >= 3) up += m[r * DOPPLER_BINS + d];
      if (off <= -3) down += m[r * DOPPLER_BINS + d];
    }
  return [up, down];
}

describe('radar gesture stream', () => {
  const s = radarStream({ frames: 3000, seed: 4 });

  it('plays every gesture for stretches of frames', () => {
    const seen = new Set(s.labels);
    expect(seen.size).toBe(GESTURES.length);
    let runs = 1;
    for (let t = 1; t < s.frames; t++) if (s.labels[t] !== s.labels[t - 1]) runs++;
    expect(s.frames / runs).toBeGreaterThan(12);
  });

  it('correlates consecutive frames: far closer than frames of different gestures', () => {
    const same: number[] = [];
    const other: number[] = [];
    for (let t = 1; t < 1500; t++) (s.labels[t] === s.labels[t - 1] ? same : other).push(distance(frame(s.maps, t), frame(s.maps, t - 1)));
    for (let t = 0; t < 300; t++) {
      const u = (t * 7919) % s.frames;
      if (s.labels[u] !== s.labels[t]) other.push(distance(frame(s.maps, t), frame(s.maps, u)));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(same)).toBeLessThan(mean(other) * 0.8);
  });

  it('shows push approaching and pull receding on the Doppler axis, and idle with neither', () => {
    const of = (g: string) => Array.from({ length: s.frames }, (_, t) => t).filter((t) => GESTURES[s.labels[t]] === g);
    const halves = (g: string) => of(g).map((t) => dopplerHalves(frame(s.maps, t)));
    const ratio = (g: string) => {
      const h = halves(g);
      return h.reduce((a, x) => a + x[0], 0) / h.reduce((a, x) => a + x[1], 0);
    };
    expect(ratio('push')).toBeGreaterThan(1.5);
    expect(ratio('pull')).toBeLessThan(1 / 1.5);
    const idle = halves('idle');
    const busy = halves('push');
    const total = (h: [number, number][]) => h.reduce((a, x) => a + x[0] + x[1], 0) / h.length;
    expect(total(idle)).toBeLessThan(total(busy) * 0.8);
  });

  it('is the same stream for the same seed', () => {
    const again = radarStream({ frames: 50, seed: 4 });
    expect(Array.from(again.maps)).toEqual(Array.from(s.maps.subarray(0, 50 * size)));
    expect(() => radarStream({ frames: 0 })).toThrow(/whole number/);
  });
});
