import { describe, expect, it } from 'vitest';
import { sampleKurtosis, sampleSkewness } from 'simple-statistics';
import { GaussianSource } from './gaussian';

describe('GaussianSource', () => {
  const samples = new GaussianSource(7).fill(new Float32Array(1_000_001));
  const mean = samples.reduce((a, v) => a + v, 0) / samples.length;
  const variance = samples.reduce((a, v) => a + (v - mean) ** 2, 0) / samples.length;

  it('draws zero-mean, unit-variance samples', () => {
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
  });

  it('has the normal shape: no skew, kurtosis 3, 95 % within ±1.96', () => {
    const some = Array.from(samples.subarray(0, 200_000));
    expect(Math.abs(sampleSkewness(some))).toBeLessThan(0.02);
    expect(Math.abs(sampleKurtosis(some))).toBeLessThan(0.05); // excess kurtosis
    const inside = samples.reduce((a, v) => a + (Math.abs(v) < 1.959964 ? 1 : 0), 0) / samples.length;
    expect(inside).toBeCloseTo(0.95, 2);
  });

  it('is reproducible by seed, different across seeds, and consecutive draws differ', () => {
    const a = new GaussianSource(3).fill(new Float32Array(64));
    const b = new GaussianSource(3).fill(new Float32Array(64));
    const c = new GaussianSource(4).fill(new Float32Array(64));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const s = new GaussianSource(3);
    const first = Array.from(s.fill(new Float32Array(64)));
    expect(Array.from(s.fill(new Float32Array(64)))).not.toEqual(first);
  });

  it('neighbouring samples are uncorrelated', () => {
    let lag = 0;
    for (let i = 1; i < samples.length; i++) lag += samples[i] * samples[i - 1];
    expect(Math.abs(lag / samples.length)).toBeLessThan(0.005);
  });

  it('addScaled adds the same stream, scaled, in place', () => {
    const base = Float32Array.from({ length: 101 }, (_, i) => i / 10 - 5);
    const noise = new GaussianSource(11).fill(new Float32Array(101));
    const out = new GaussianSource(11).addScaled(base.slice(), 0.5);
    expect(Array.from(out)).toEqual(Array.from(base, (v, i) => Math.fround(v + noise[i] * 0.5)));
  });

  it('addScaled clamps to [0, cap] after the noise when given a cap', () => {
    const base = Float32Array.from({ length: 101 }, (_, i) => i / 10 - 5);
    const noise = new GaussianSource(12).fill(new Float32Array(101));
    const clamp = (cap: number) => Array.from(base, (v, i) => Math.fround(Math.min(Math.max(v + noise[i] * 2, 0), cap)));
    expect(Array.from(new GaussianSource(12).addScaled(base.slice(), 2, Infinity))).toEqual(clamp(Infinity));
    expect(Array.from(new GaussianSource(12).addScaled(base.slice(), 2, 3))).toEqual(clamp(3));
  });
});
