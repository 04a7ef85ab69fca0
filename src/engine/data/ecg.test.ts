import { describe, expect, it } from 'vitest';
import { ecgWindows, syntheticEcg, type Ecg } from './ecg';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Samples around a beat above half way from the level just before the QRS to the peak: the QRS width. */
function width(e: Ecg, at: number): number {
  let peak = -Infinity;
  let p = at;
  for (let i = Math.max(0, at - 3); i <= Math.min(e.signal.length - 1, at + 3); i++) if (e.signal[i] > peak) [peak, p] = [e.signal[i], i];
  const half = (peak + e.signal[Math.max(0, at - 8)]) / 2;
  let w = 1;
  for (let i = p - 1; i >= 0 && e.signal[i] > half; i--) w++;
  for (let i = p + 1; i < e.signal.length && e.signal[i] > half; i++) w++;
  return w;
}

describe('synthetic ECG (ECGSYN)', () => {
  it('beats at the set heart rate, with an R peak at each beat', () => {
    const e = syntheticEcg({ seconds: 120, seed: 2, abnormalShare: 0, heartRate: 70 });
    expect(e.beats.every((b) => b.kind === 'N')).toBe(true);
    const rr = e.beats.slice(1).map((b, i) => (b.sample - e.beats[i].sample) / e.rate);
    expect(mean(rr)).toBeGreaterThan((60 / 70) * 0.95);
    expect(mean(rr)).toBeLessThan((60 / 70) * 1.05);
    // Heart-rate variability, but no wild swings.
    expect(Math.max(...rr) - Math.min(...rr)).toBeGreaterThan(0.01);
    expect(Math.max(...rr) / Math.min(...rr)).toBeLessThan(1.4);
    for (const b of e.beats.slice(1, -1)) {
      const around = Array.from(e.signal.subarray(b.sample - 3, b.sample + 4));
      expect(Math.max(...around)).toBeGreaterThan(0.5);
    }
    // Scaled as ECGSYN scales it.
    expect(Math.min(...e.signal)).toBeGreaterThan(-0.6);
    expect(Math.max(...e.signal)).toBeLessThan(1.4);
  });

  it('in bigeminy alternates early wide ventricular beats with normal ones after a compensatory pause', () => {
    const e = syntheticEcg({ seconds: 300, seed: 3, abnormalShare: 0.5 });
    const v = e.beats.filter((b) => b.kind === 'V');
    expect(v.length).toBeGreaterThan(20);
    const before: number[] = [];
    const after: number[] = [];
    e.beats.forEach((b, i) => {
      if (b.kind !== 'V' || i === 0 || i === e.beats.length - 1) return;
      before.push(b.sample - e.beats[i - 1].sample);
      after.push(e.beats[i + 1].sample - b.sample);
      // Never two ventricular beats in a row.
      expect(e.beats[i + 1].kind).toBe('N');
    });
    expect(mean(before)).toBeLessThan(mean(after) * 0.7);
    const wv = mean(v.map((b) => width(e, b.sample)));
    const wn = mean(e.beats.filter((b) => b.kind === 'N').map((b) => width(e, b.sample)));
    expect(wv).toBeGreaterThan(wn * 1.3);
    // Ventricular beats fall inside abnormal episodes only.
    for (const b of v) expect(e.episode[b.sample]).toBe(1);
    const share = e.episode.reduce((a, x) => a + x, 0) / e.episode.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);
  });

  it('cuts standardised, episode-labelled, overlapping windows, the same for the same seed', () => {
    const e = syntheticEcg({ seconds: 60, seed: 4 });
    const w = ecgWindows(e, 256, 64);
    expect(w.count).toBe(Math.floor((e.signal.length - 256) / 64) + 1);
    for (let k = 0; k < w.count; k += 17) {
      const xs = Array.from(w.values.subarray(k * 256, (k + 1) * 256));
      expect(Math.abs(mean(xs))).toBeLessThan(1e-4);
      expect(Math.sqrt(mean(xs.map((x) => x * x)))).toBeCloseTo(1, 3);
      const inside = Array.from(e.episode.subarray(w.starts[k], w.starts[k] + 256)).filter((x) => x === 1).length;
      expect(w.labels[k]).toBe(inside > 128 ? 1 : 0);
    }
    expect(Array.from(syntheticEcg({ seconds: 60, seed: 4 }).signal)).toEqual(Array.from(e.signal));
    expect(() => syntheticEcg({ seconds: 0 })).toThrow(/positive/);
  });
});
