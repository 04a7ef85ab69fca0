import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_DIR } from './digits-node';
import {
  decodeKeywords,
  fetchKeywords,
  KEYWORD_CLASSES,
  KEYWORD_SPLITS,
  keywordSplit,
  keywordUtterance,
  renderKeyword,
  type Keywords,
  type KeywordSlice,
} from './keywords';
import { loadKeywordsFromDisk } from './keywords-node';
import { keywordsTask, samplesToTensors } from './tasks';
import { fileFetch, TEST_BASE_URL } from '../host-node';

const manifestJson = async () => JSON.parse(await readFile(path.join(DATA_DIR, 'keywords.json'), 'utf8'));
const blob = async () => new Uint8Array(await readFile(path.join(DATA_DIR, 'keywords.adpcm.gz')));
const power = (x: Float32Array, from = 0, to = x.length) => {
  let p = 0;
  for (let i = from; i < to; i++) p += x[i] * x[i];
  return p / (to - from);
};
/** Bitwise equality; toEqual walks millions of floats one matcher step at a time. */
const sameFloats = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const clip = (s: KeywordSlice, k: number) => s.x.subarray(k * s.length, (k + 1) * s.length);

let kw: Keywords;
let test: KeywordSlice;
beforeAll(async () => {
  kw = await loadKeywordsFromDisk();
  test = keywordSplit(kw, 'test');
});

describe('keyword data set (synthetic speech)', () => {
  it('says it is synthetic and holds 12 balanced classes in every split', () => {
    const m = kw.manifest;
    expect(m.synthetic).toBe(true);
    expect(m.source).toMatch(/SYNTHETIC speech, not recordings of people/);
    expect(m.classes).toEqual([...KEYWORD_CLASSES]);
    expect([m.sampleRate, m.length]).toEqual([16000, 16000]);
    const expected = { train: 280, validation: 60, test: 60 };
    for (const split of KEYWORD_SPLITS) {
      const [a, b] = m.splits[split].range;
      const counts = new Array(12).fill(0);
      for (let i = a; i < b; i++) counts[m.examples.label[i]]++;
      expect(counts).toEqual(new Array(12).fill(expected[split]));
    }
    // Unknown words are words, and none of them is a keyword.
    const unknown = m.examples.word.filter((_, i) => m.examples.label[i] === 11);
    expect(new Set(unknown).size).toBeGreaterThanOrEqual(20);
    expect(unknown.some((w) => (KEYWORD_CLASSES as readonly string[]).includes(w))).toBe(false);
  });

  it('keeps every voice in one split, so validation and test voices are unseen in training', () => {
    const m = kw.manifest;
    const seen = new Map<string, string>();
    for (const split of KEYWORD_SPLITS) {
      const { range, voices } = m.splits[split];
      const used = new Set<string>();
      for (let i = range[0]; i < range[1]; i++) if (m.examples.voice[i] >= 0) used.add(m.voices[m.examples.voice[i]]);
      // Every listed voice speaks, and no one outside the list does.
      expect([...used].sort()).toEqual([...voices].sort());
      for (const v of used) {
        expect(seen.get(v) ?? split).toBe(split);
        seen.set(v, split);
      }
    }
    expect(seen.size).toBe(m.voices.length);
    expect(m.splits.test.voices.length).toBeGreaterThanOrEqual(50);
    const accents = (split: 'train' | 'test') => new Set(m.splits[split].voices.map((v) => v.split('+')[0]));
    expect(accents('test').size).toBe(8);
    expect(accents('train').size).toBe(8);
  });

  it('renders 1 s clips at 16 kHz in [-1, 1], speech standing out of its noise at the recorded SNR', () => {
    const m = kw.manifest;
    expect(test.x.length).toBe(test.count * 16000);
    expect(test.labels).toHaveLength(test.count);
    expect(test.voices).toHaveLength(test.count);
    let peak = 0;
    let finite = true;
    for (const v of test.x) {
      finite &&= Number.isFinite(v);
      peak = Math.max(peak, Math.abs(v));
    }
    expect(finite).toBe(true);
    expect(peak).toBeLessThanOrEqual(1);
    expect(peak).toBeGreaterThan(0.1);
    const [a] = m.splits.test.range;
    const errors: number[] = [];
    for (let k = 0; k < test.count; k++) {
      const x = clip(test, k);
      expect(power(x)).toBeGreaterThan(0);
      const i = a + k;
      const snr = m.examples.snrDb[i];
      if (snr === null) {
        expect(test.voices[k]).toBe('');
        continue;
      }
      expect(test.voices[k]).not.toBe('');
      const from = m.examples.offset[i];
      const to = from + m.examples.samples[i];
      // For steady noises the noise power outside the word estimates it inside: measure the SNR back.
      if ((m.examples.noise[i] === 'white' || m.examples.noise[i] === 'pink') && to - from > 2000) {
        const noise = (power(x, 0, from) * from + power(x, to, 16000) * (16000 - to)) / (16000 - (to - from));
        errors.push(10 * Math.log10((power(x, from, to) - noise) / noise) - snr);
      }
    }
    expect(errors.length).toBeGreaterThan(100);
    expect(Math.max(...errors.map(Math.abs))).toBeLessThan(1.5);
    expect(Math.abs(errors.reduce((s, e) => s + e) / errors.length)).toBeLessThan(0.2);
  });

  it('gives silence no word: its level is the recorded noise level and lower on average than speech', () => {
    const m = kw.manifest;
    const [a] = m.splits.test.range;
    const levels: Record<'silence' | 'speech', number[]> = { silence: [], speech: [] };
    for (let k = 0; k < test.count; k++) {
      const db = 10 * Math.log10(power(clip(test, k)));
      if (m.examples.snrDb[a + k] === null) {
        expect(db).toBeCloseTo(m.examples.gainDb[a + k], 1);
        levels.silence.push(db);
      } else levels.speech.push(db);
    }
    const mean = (v: number[]) => v.reduce((s, x) => s + x) / v.length;
    expect(levels.silence).toHaveLength(60);
    expect(mean(levels.speech) - mean(levels.silence)).toBeGreaterThan(6);
  });

  it('renders the same clips on every load and for any sub-range', async () => {
    const again = keywordSplit(await decodeKeywords(await manifestJson(), await blob()), 'test');
    expect(sameFloats(again.x, test.x)).toBe(true);
    expect(again.labels).toEqual(test.labels);
    const part = keywordSplit(kw, 'test', { start: 100, limit: 7 });
    expect(part.count).toBe(7);
    expect(sameFloats(part.x, test.x.subarray(100 * 16000, 107 * 16000))).toBe(true);
    expect(part.voices).toEqual(test.voices.slice(100, 107));
    expect(keywordSplit(kw, 'train', { limit: 3 }).count).toBe(3);
    // Different examples differ: seeds and utterances are per example, not shared.
    expect(sameFloats(clip(test, 0), clip(test, 1))).toBe(false);
  });

  it('ships clean utterances that the loader places at their offsets', () => {
    const m = kw.manifest;
    const i = m.examples.label.findIndex((l, j) => l === 0 && m.examples.snrDb[j]! >= 25);
    const speech = keywordUtterance(kw, i);
    expect(speech.length).toBe(m.examples.samples[i]);
    expect(Math.max(...speech.map(Math.abs))).toBeGreaterThan(0.8);
    expect(Math.max(...speech.map(Math.abs))).toBeLessThan(1);
    const x = renderKeyword(kw, i);
    const gain = 10 ** (m.examples.gainDb[i] / 20);
    let corr = 0;
    for (let j = 0; j < speech.length; j++) corr += x[m.examples.offset[i] + j] * speech[j] * gain;
    expect(corr / (power(speech) * speech.length * gain * gain)).toBeGreaterThan(0.9);
  });

  it('gives the keyword model [N, 1, 16000, 1] waveforms and one-hot labels', () => {
    const part = keywordsTask(kw).split('train', 5);
    const { x, y, count } = samplesToTensors(part, [1, 16000, 1], 12);
    expect([x.shape, y.shape, count]).toEqual([[5, 1, 16000, 1], [5, 12], 5]);
    expect(Array.from(tf.argMax(y, 1).dataSync())).toEqual(Array.from(keywordSplit(kw, 'train', { limit: 5 }).labels));
    tf.dispose([x, y]);
  });

  it('loads over fetch as a worker would, and rejects damaged data', async () => {
    const fetched = await fetchKeywords(TEST_BASE_URL + 'data/', fileFetch());
    expect(fetched.manifest.sha256).toBe(kw.manifest.sha256);
    await expect(fetchKeywords(TEST_BASE_URL + 'nowhere/', fileFetch())).rejects.toThrow(/cannot load the keyword data set .*HTTP 404/);
    const m = await manifestJson();
    const raw = new Uint8Array(gunzipSync(await blob()));
    expect(Buffer.from((await decodeKeywords(m, raw)).bytes).equals(Buffer.from(kw.bytes))).toBe(true);
    const flipped = raw.slice();
    flipped[54321] ^= 1;
    await expect(decodeKeywords(m, flipped)).rejects.toThrow(/checksum/);
    await expect(decodeKeywords(m, raw.subarray(0, raw.length - 1))).rejects.toThrow(/bytes, manifest says/);
    const leaky = structuredClone(m);
    leaky.splits.test.voices.push(leaky.splits.train.voices[0]);
    await expect(decodeKeywords(leaky, raw)).rejects.toThrow(/in both the train and the test split/);
    const misplaced = structuredClone(m);
    misplaced.examples.offset[misplaced.examples.samples.findIndex((n: number) => n > 0)] = 16000;
    await expect(decodeKeywords(misplaced, raw)).rejects.toThrow(/does not fit/);
  });
});
