// The shipped keyword-spotting data set: SYNTHETIC speech (espeak-ng formant synthesis, not people),
// ten Speech-Commands words plus 'silence' and 'unknown'. The blob holds each clean utterance once
// (IMA ADPCM); the manifest says, per example, where the word sits in its 1 s clip, which seeded
// noise lies under it and at what SNR. Mixing here rather than shipping mixed clips keeps the blob
// to the voiced parts; the result is the same waveform on every load.
import { z } from 'zod';
import { maybeGunzip, sha256Hex } from '../util/bytes';
import { mulberry32 } from '../util/random';
import { adpcmBytes, decodeAdpcm } from './keywords-codec';
import { backgroundNoise, NOISE_TYPES, normaliseRms } from './keywords-noise';
import { fetchCachedBlob, fetchJson, type BlobCache } from './digits';

export const KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'] as const;
export const KEYWORD_CLASSES = [...KEYWORDS, 'silence', 'unknown'] as const;
export const KEYWORD_SPLITS = ['train', 'validation', 'test'] as const;
export type KeywordSplit = (typeof KEYWORD_SPLITS)[number];

const int = z.number().int();
const splitSchema = z.object({
  /** Examples [start, end) of the example table. */
  range: z.tuple([int, int]),
  /** Voices ("accent+variant") that speak in this split and in no other. */
  voices: z.array(z.string()).min(1),
});

export const keywordsManifestSchema = z.object({
  name: z.literal('keywords'),
  synthetic: z.literal(true),
  source: z.string(),
  generator: z.string(),
  sampleRate: int.positive(),
  /** Samples per example clip. */
  length: int.positive(),
  classes: z.array(z.string()).min(2),
  codec: z.literal('ima-adpcm'),
  /** Mean SNR of the ADPCM coding against the 16-bit utterances, measured by the generator. */
  codecSnrDb: z.number(),
  file: z.string(),
  /** Uncompressed blob size. */
  bytes: int.positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  seed: int,
  voices: z.array(z.string()).min(3),
  splits: z.object({ train: splitSchema, validation: splitSchema, test: splitSchema }),
  /** One column per field, one entry per example. */
  examples: z.object({
    label: z.array(int.nonnegative()),
    /** The spoken word ('' for silence). */
    word: z.array(z.string()),
    /** Index into `voices`; -1 for silence. */
    voice: z.array(int.min(-1)),
    /** espeak-ng words per minute and pitch (0–99); 0 for silence. */
    speed: z.array(int.nonnegative()),
    pitch: z.array(int.nonnegative()),
    /** Byte offset of the utterance in the blob, and its length in samples (0 for silence). */
    start: z.array(int.nonnegative()),
    samples: z.array(int.nonnegative()),
    /** Where the utterance starts in the clip. */
    offset: z.array(int.nonnegative()),
    noise: z.array(z.enum(NOISE_TYPES)),
    /** Speech-to-noise power ratio over the utterance; null for silence. */
    snrDb: z.array(z.number().nullable()),
    /** Speech: gain applied to the peak-normalised utterance. Silence: the noise's RMS level. Both dB. */
    gainDb: z.array(z.number()),
    seed: z.array(int.nonnegative()),
  }),
});
export type KeywordsManifest = z.infer<typeof keywordsManifestSchema>;

export interface Keywords {
  manifest: KeywordsManifest;
  /** The uncompressed blob: ADPCM utterances back to back. */
  bytes: Uint8Array;
  /** Per split, the examples whose utterances make its babble noise ('unknown' words: no keyword hides in the noise). */
  babblePool: Record<KeywordSplit, Int32Array>;
}

export interface KeywordSlice {
  /** count × length samples, row-major, in [-1, 1]. */
  x: Float32Array;
  labels: Int32Array;
  /** The speaking voice per example ('' for silence). */
  voices: string[];
  words: string[];
  count: number;
  length: number;
  sampleRate: number;
}

function check(manifest: KeywordsManifest): void {
  const e = manifest.examples;
  const count = e.label.length;
  for (const [name, column] of Object.entries(e)) {
    if (column.length !== count) throw new Error(`keyword manifest column ${name} has ${column.length} entries, label has ${count}`);
  }
  const silence = manifest.classes.indexOf('silence');
  for (let i = 0; i < count; i++) {
    if (e.label[i] >= manifest.classes.length) throw new Error(`keyword example ${i} has label ${e.label[i]} outside the class list`);
    if ((e.label[i] === silence) !== (e.samples[i] === 0) || (e.samples[i] === 0) !== (e.voice[i] === -1)) {
      throw new Error(`keyword example ${i}: silence, an empty utterance and no voice must go together`);
    }
    if (e.voice[i] >= manifest.voices.length) throw new Error(`keyword example ${i} names voice ${e.voice[i]}, beyond the voice list`);
    if (e.start[i] + adpcmBytes(e.samples[i]) > manifest.bytes) throw new Error(`keyword example ${i} reaches past the blob`);
    if (e.offset[i] + e.samples[i] > manifest.length) throw new Error(`keyword example ${i} does not fit its ${manifest.length}-sample clip`);
    if ((e.snrDb[i] === null) !== (e.samples[i] === 0)) throw new Error(`keyword example ${i}: only silence lacks an SNR`);
    if (e.noise[i] === 'babble' && e.samples[i] === 0) throw new Error(`keyword example ${i}: silence cannot be babble`);
  }
  let next = 0;
  const owner = new Map<string, KeywordSplit>();
  for (const split of KEYWORD_SPLITS) {
    const { range, voices } = manifest.splits[split];
    if (range[0] !== next || range[1] <= range[0]) throw new Error(`keyword split ${split} [${range}] does not follow on at ${next}`);
    next = range[1];
    for (const v of voices) {
      if (owner.has(v)) throw new Error(`voice ${v} is in both the ${owner.get(v)} and the ${split} split`);
      owner.set(v, split);
    }
    for (let i = range[0]; i < range[1]; i++) {
      const v = e.voice[i];
      if (v >= 0 && owner.get(manifest.voices[v]) !== split) throw new Error(`keyword example ${i} in ${split} is spoken by ${manifest.voices[v]}, not a ${split} voice`);
    }
  }
  if (next !== count) throw new Error(`keyword splits cover ${next} of ${count} examples`);
}

export async function decodeKeywords(manifestJson: unknown, blob: Uint8Array): Promise<Keywords> {
  const manifest = keywordsManifestSchema.parse(manifestJson);
  const bytes = await maybeGunzip(blob);
  if (bytes.length !== manifest.bytes) throw new Error(`keyword data is ${bytes.length} bytes, manifest says ${manifest.bytes}`);
  const hash = await sha256Hex(bytes);
  if (hash !== manifest.sha256) throw new Error(`keyword data checksum ${hash} does not match manifest ${manifest.sha256}`);
  check(manifest);
  const unknown = manifest.classes.indexOf('unknown');
  const pool = (split: KeywordSplit) => {
    const [a, b] = manifest.splits[split].range;
    return Int32Array.from({ length: b - a }, (_, k) => a + k).filter((i) => manifest.examples.label[i] === unknown);
  };
  return { manifest, bytes, babblePool: { train: pool('train'), validation: pool('validation'), test: pool('test') } };
}

/** The clean utterance of example `index`, peak near 0.9. */
export function keywordUtterance(kw: Keywords, index: number): Float32Array {
  const { start, samples } = kw.manifest.examples;
  return decodeAdpcm(kw.bytes.subarray(start[index], start[index] + adpcmBytes(samples[index])), samples[index]);
}

export function splitOf(kw: Keywords, index: number): KeywordSplit {
  const split = KEYWORD_SPLITS.find((s) => index >= kw.manifest.splits[s].range[0] && index < kw.manifest.splits[s].range[1]);
  if (!split) throw new Error(`no keyword example ${index}`);
  return split;
}

/** Four to six 'unknown' talkers of the example's own split at random levels and times, so babble adds no unseen voice. */
function babble(kw: Keywords, index: number): Float32Array {
  const { length, examples } = kw.manifest;
  const pool = kw.babblePool[splitOf(kw, index)];
  const random = mulberry32(examples.seed[index] ^ 0x62616262);
  const out = new Float32Array(length);
  const talkers = 4 + Math.floor(random() * 3);
  for (let t = 0; t < talkers && pool.length > 1; t++) {
    let k = Math.floor(random() * pool.length);
    if (pool[k] === index) k = (k + 1) % pool.length;
    const speech = normaliseRms(keywordUtterance(kw, pool[k]));
    const gain = 0.4 + 0.6 * random();
    // Talkers may start before the clip or run past its end, as overheard speech does.
    const at = Math.floor(random() * length) - (speech.length >> 1);
    for (let j = Math.max(0, -at); j < speech.length && at + j < length; j++) out[at + j] += gain * speech[j];
  }
  return normaliseRms(out);
}

/** The final clip of example `index`: utterance at its offset and gain, plus its noise, clipped to [-1, 1]. */
export function renderKeyword(kw: Keywords, index: number, out = new Float32Array(kw.manifest.length)): Float32Array {
  const { length, sampleRate, examples: e } = kw.manifest;
  out.fill(0);
  let noiseRms = 10 ** (e.gainDb[index] / 20);
  const snr = e.snrDb[index];
  if (snr !== null) {
    const speech = keywordUtterance(kw, index);
    const gain = noiseRms;
    let power = 0;
    for (let j = 0; j < speech.length; j++) {
      const v = speech[j] * gain;
      out[e.offset[index] + j] = v;
      power += v * v;
    }
    noiseRms = Math.sqrt(power / speech.length / 10 ** (snr / 10));
  }
  const type = e.noise[index];
  const noise = type === 'babble' ? babble(kw, index) : backgroundNoise(type, e.seed[index], length, sampleRate);
  for (let i = 0; i < length; i++) out[i] = Math.max(-1, Math.min(1, out[i] + noiseRms * noise[i]));
  return out;
}

/** The rendered clips of a split, or of `limit` examples from `start` within it. */
export function keywordSplit(kw: Keywords, split: KeywordSplit, range: { start?: number; limit?: number } = {}): KeywordSlice {
  const [a, b] = kw.manifest.splits[split].range;
  const from = Math.min(b, a + (range.start ?? 0));
  const to = range.limit === undefined ? b : Math.min(b, from + range.limit);
  const { length, sampleRate, voices, examples: e } = kw.manifest;
  const count = to - from;
  const x = new Float32Array(count * length);
  for (let k = 0; k < count; k++) renderKeyword(kw, from + k, x.subarray(k * length, (k + 1) * length));
  return {
    x,
    labels: Int32Array.from(e.label.slice(from, to)),
    voices: e.voice.slice(from, to).map((v) => (v < 0 ? '' : voices[v])),
    words: e.word.slice(from, to),
    count,
    length,
    sampleRate,
  };
}

/** Fetches and decodes the data set from a base URL, as fetchDigits does (same cache keyed by checksum). */
export async function fetchKeywords(baseUrl: string, fetchImpl: typeof fetch = fetch, cache?: BlobCache): Promise<Keywords> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const manifest = keywordsManifestSchema.parse(await fetchJson(fetchImpl, base + 'keywords.json', 'the keyword data set'));
  return fetchCachedBlob(base, manifest, decodeKeywords, fetchImpl, cache);
}
