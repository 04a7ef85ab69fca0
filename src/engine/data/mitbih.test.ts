import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DATA_DIR } from './digits-node';
import { ecgWindows, syntheticEcg } from './ecg';
import { decodeMitbih, fetchMitbih, MITBIH_MANIFEST, MITBIH_UNLABELLED, mitbihAsEcg, mitbihWindows } from './mitbih';
import { loadMitbihFromDisk } from './mitbih-node';
import { fileFetch, TEST_BASE_URL } from '../host-node';

const manifestJson = async () => JSON.parse(await readFile(path.join(DATA_DIR, MITBIH_MANIFEST), 'utf8'));
const blob = async () => new Uint8Array(await readFile(path.join(DATA_DIR, 'mitbih-208.i16.gz')));

/**
 * R peaks by a plain threshold: baseline removed by a 0.6 s moving mean, then local maxima of |x|
 * above half the 99th percentile of |x|, at least 0.25 s apart (|x|: ventricular beats may point down).
 */
function rPeaks(signal: Float32Array, rate: number): number[] {
  const half = Math.round(0.3 * rate);
  const prefix = new Float64Array(signal.length + 1);
  for (let i = 0; i < signal.length; i++) prefix[i + 1] = prefix[i] + signal[i];
  const detrended = Float32Array.from(signal, (v, i) => {
    const [a, b] = [Math.max(0, i - half), Math.min(signal.length, i + half + 1)];
    return Math.abs(v - (prefix[b] - prefix[a]) / (b - a));
  });
  const threshold = 0.5 * detrended.slice().sort()[Math.floor(0.99 * detrended.length)];
  const refractory = Math.round(0.25 * rate);
  const peaks: number[] = [];
  for (let i = 1; i < detrended.length - 1; i++) {
    const v = detrended[i];
    if (v > threshold && v >= detrended[i - 1] && v >= detrended[i + 1] && (peaks.length === 0 || i - peaks[peaks.length - 1] > refractory)) peaks.push(i);
  }
  return peaks;
}

describe('MIT-BIH record 208 excerpt', () => {
  it('ships as a small file whose checksum matches its manifest, with its provenance', async () => {
    const m = await manifestJson();
    const gz = await blob();
    expect(gz.length).toBeLessThan(300_000);
    const raw = gunzipSync(gz);
    expect(raw.length).toBe(m.bytes);
    expect(createHash('sha256').update(raw).digest('hex')).toBe(m.sha256);
    // Where it came from: scipy's ecg.dat inside Debian's package, pinned by its own checksum.
    expect(m.origin.path).toMatch(/scipy\/misc\/ecg\.dat$/);
    expect(m.origin.sha256).toBe('f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf');
    expect([m.origin.rate, m.origin.samples]).toEqual([360, 108_000]);
    expect(m.source).toMatch(/record 208/);
    expect(m.licence).toMatch(/BSD-3-Clause/);
    expect(m.licence).toMatch(/Open Data Commons Attribution/);
    expect(m.labels).toMatch(/without beat/);
  });

  it('decodes to five minutes of ECG at the synthetic ECG rate, in a plausible mV range', async () => {
    const ecg = await loadMitbihFromDisk();
    expect(ecg.rate).toBe(syntheticEcg({ seconds: 0.1 }).rate);
    expect(ecg.signal.length).toBe(5 * 60 * ecg.rate);
    let [lo, hi, sum, sq] = [Infinity, -Infinity, 0, 0];
    for (const v of ecg.signal) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
      sq += v * v;
    }
    const mean = sum / ecg.signal.length;
    const std = Math.sqrt(sq / ecg.signal.length - mean * mean);
    expect(lo).toBeGreaterThan(-5);
    expect(hi).toBeLessThan(5);
    expect(hi - lo).toBeGreaterThan(2);
    // scipy documents the 360 Hz original: mean −0.1651 mV, std 0.5992 mV, starting −0.245 and ending −0.385 mV.
    // The resampler keeps DC and loses only what lies above 61 Hz.
    expect(mean).toBeCloseTo(-0.16511, 3);
    expect(std).toBeGreaterThan(0.59);
    expect(std).toBeLessThan(0.6);
    expect(Math.abs(ecg.signal[0] - -0.245)).toBeLessThan(0.03);
    expect(Math.abs(ecg.signal[ecg.signal.length - 1] - -0.4)).toBeLessThan(0.03);
  });

  it('beats at a plausible heart rate (threshold R-peak count)', async () => {
    const ecg = await loadMitbihFromDisk();
    const peaks = rPeaks(ecg.signal, ecg.rate);
    const minutes = ecg.signal.length / ecg.rate / 60;
    const bpm = peaks.length / minutes;
    expect(bpm).toBeGreaterThan(40);
    expect(bpm).toBeLessThan(180);
    const rr = peaks.slice(1).map((p, i) => (p - peaks[i]) / ecg.rate).sort((a, b) => a - b);
    const median = rr[rr.length >> 1];
    expect(median).toBeGreaterThan(60 / 180);
    expect(median).toBeLessThan(60 / 40);
    // The same detector on the synthetic ECG finds its own beats, so it is no accident of this file.
    const synthetic = syntheticEcg({ seconds: 60, seed: 3 });
    expect(Math.abs(rPeaks(synthetic.signal, synthetic.rate).length - synthetic.beats.length)).toBeLessThanOrEqual(2);
  });

  it('cuts into the standardised windows of the synthetic ECG, labelled unknown', async () => {
    const ecg = await loadMitbihFromDisk();
    const w = mitbihWindows(ecg);
    expect([w.length, w.count]).toEqual([256, Math.floor((38_400 - 256) / 64) + 1]);
    expect(w.values.length).toBe(w.count * 256);
    expect(w.labels.every((l) => l === MITBIH_UNLABELLED)).toBe(true);
    expect(w.starts[1] - w.starts[0]).toBe(64);
    for (const k of [0, 100, w.count - 1]) {
      const x = w.values.subarray(k * 256, (k + 1) * 256);
      const mean = x.reduce((s, v) => s + v, 0) / 256;
      const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / 256);
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(std).toBeCloseTo(1, 3);
    }
    // The values are exactly what ecgWindows makes of the same signal.
    expect(w.values).toEqual(ecgWindows(mitbihAsEcg(ecg), 256, 64).values);
    const stream = mitbihWindows(ecg, 256, 32);
    expect(stream.count).toBe(Math.floor((38_400 - 256) / 32) + 1);
  });

  it('loads over fetch as a worker would, and rejects damaged data', async () => {
    const fetched = await fetchMitbih(TEST_BASE_URL + 'data/', fileFetch());
    expect(fetched.signal).toEqual((await loadMitbihFromDisk()).signal);
    await expect(fetchMitbih(TEST_BASE_URL + 'nowhere/', fileFetch())).rejects.toThrow(/cannot load the MIT-BIH ECG .*HTTP 404/);
    const m = await manifestJson();
    const raw = new Uint8Array(gunzipSync(await blob()));
    const flipped = raw.slice();
    flipped[4321] ^= 1;
    await expect(decodeMitbih(m, flipped)).rejects.toThrow(/checksum/);
    await expect(decodeMitbih(m, raw.subarray(0, raw.length - 2))).rejects.toThrow(/bytes, manifest says/);
    await expect(decodeMitbih({ ...m, dtype: 'float32le' }, raw)).rejects.toThrow();
  });
});
