// Synthesises the keyword-spotting data set into public/data/keywords.{json,adpcm.gz}: SYNTHETIC
// speech from Debian's espeak-ng (formant synthesis), ten Speech-Commands words, 'unknown' words
// and noise-only 'silence'. Seeded: the same voices, splits and mixing every run (espeak-ng is
// deterministic for fixed arguments). Only regeneration needs espeak-ng (apt-get install espeak-ng);
// the studio and the tests read the shipped files. Run: npm run data:keywords
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DATA_DIR } from '../src/engine/data/digits-node';
import { KEYWORD_CLASSES, KEYWORD_SPLITS, type KeywordSplit, type KeywordsManifest } from '../src/engine/data/keywords';
import { parseWav, resample, trimSilence } from '../src/engine/data/keywords-audio';
import { decodeAdpcm, encodeAdpcm } from '../src/engine/data/keywords-codec';
import { NOISE_TYPES } from '../src/engine/data/keywords-noise';
import { mulberry32, shuffleInPlace } from '../src/engine/util/random';
import { sha256Hex } from '../src/engine/util/bytes';

const SEED = 20261129;
const RATE = 16_000;
const LENGTH = RATE;
/** Examples per class and split; 12 classes. Sized so the shipped files stay near 10.5 MB. */
const PER_CLASS: Record<KeywordSplit, number> = { train: 280, validation: 60, test: 60 };
/** Shares of voices; a voice speaks in one split only, so validation and test voices are unseen in training. */
const VOICE_SHARE = { validation: 0.15, test: 0.15 };
/** espeak-ng's own English accents (the mbrola ones need packages Debian keeps apart). */
const ACCENTS = ['en-gb', 'en-us', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
/**
 * Voice variants (espeak-ng --voices=variant) that sound like a person speaking; robot, demon and
 * announcer effects are left out, and caleb/klatt6, byte-identical to klatt, too.
 */
const VARIANTS = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'f1', 'f2', 'f3', 'f4', 'f5', 'croak', 'klatt', 'klatt2', 'klatt3', 'klatt4',
  'klatt5', 'whisper', 'whisperf', 'grandma', 'grandpa', 'Alicia', 'Andrea', 'Andy', 'Annie', 'aunty', 'belinda', 'linda',
  'steph', 'steph2', 'anika', 'max', 'Mike', 'Michael', 'john', 'paul', 'rob', 'robert', 'david', 'edward', 'quincy', 'travis',
  'victor', 'norbert', 'shelby', 'Lee', 'zac', 'iven',
];
/** Speech Commands' own auxiliary words: 'one' next to 'on' and 'four' next to 'off' keep 'unknown' hard. */
const UNKNOWN_WORDS = [
  'bed', 'bird', 'cat', 'dog', 'happy', 'house', 'marvin', 'sheila', 'tree', 'wow', 'zero', 'one', 'two', 'three', 'four', 'five',
  'six', 'seven', 'eight', 'nine', 'backward', 'forward', 'follow', 'learn', 'visual',
];
const SPEED = [130, 230]; // words per minute; espeak-ng's default is 175
const PITCH = [20, 80]; // 0–99; default 50
const SNR_DB = [5, 30];
const SPEECH_GAIN_DB = [-20, -1]; // applied to the utterance normalised to peak 0.9
const SILENCE_LEVEL_DB = [-60, -25]; // RMS of a noise-only clip, dB full scale
const PEAK = 0.9;

const exec = promisify(execFile);
const random = mulberry32(SEED);
const uniform = ([lo, hi]: number[]) => lo + (hi - lo) * random();
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
const round1 = (v: number) => Math.round(v * 10) / 10;

const voices = shuffleInPlace(ACCENTS.flatMap((a) => VARIANTS.map((v) => `${a}+${v}`)), random);
const nTest = Math.round(voices.length * VOICE_SHARE.test);
const nValidation = Math.round(voices.length * VOICE_SHARE.validation);
const splitVoices: Record<KeywordSplit, string[]> = {
  test: voices.slice(0, nTest).sort(),
  validation: voices.slice(nTest, nTest + nValidation).sort(),
  train: voices.slice(nTest + nValidation).sort(),
};
const allVoices = [...splitVoices.train, ...splitVoices.validation, ...splitVoices.test];

interface Plan {
  label: number;
  word: string;
  voice: number;
  speed: number;
  pitch: number;
  noise: (typeof NOISE_TYPES)[number];
  snrDb: number | null;
  gainDb: number;
  seed: number;
  /** Uniform draw that becomes the offset once the utterance's length is known. */
  place: number;
}

// Every random draw happens here, in a fixed order, before the parallel synthesis.
const plans: Plan[] = [];
const ranges = {} as Record<KeywordSplit, [number, number]>;
for (const split of KEYWORD_SPLITS) {
  const list: Plan[] = [];
  KEYWORD_CLASSES.forEach((name, label) => {
    // Each class walks its own shuffled copy of the split's voices, so every voice says a bit of everything.
    const order = shuffleInPlace([...splitVoices[split]], random);
    for (let k = 0; k < PER_CLASS[split]; k++) {
      const silent = name === 'silence';
      list.push({
        label,
        word: silent ? '' : name === 'unknown' ? pick(UNKNOWN_WORDS) : name,
        voice: silent ? -1 : allVoices.indexOf(order[k % order.length]),
        speed: silent ? 0 : Math.round(uniform(SPEED)),
        pitch: silent ? 0 : Math.round(uniform(PITCH)),
        noise: pick(silent ? NOISE_TYPES.filter((t) => t !== 'babble') : NOISE_TYPES),
        snrDb: silent ? null : round1(uniform(SNR_DB)),
        gainDb: round1(uniform(silent ? SILENCE_LEVEL_DB : SPEECH_GAIN_DB)),
        seed: Math.floor(random() * 2 ** 31),
        place: random(),
      });
    }
  });
  shuffleInPlace(list, random);
  ranges[split] = [plans.length, plans.length + list.length];
  plans.push(...list);
}

/** espeak-ng's WAV → trimmed, 16 kHz, peak-normalised 16-bit samples. */
async function synthesise(p: Plan): Promise<Int16Array> {
  const args = ['-v', allVoices[p.voice], '-s', String(p.speed), '-p', String(p.pitch), '--stdout', p.word];
  const { stdout } = await exec('espeak-ng', args, { encoding: 'buffer', maxBuffer: 1 << 24 });
  const wav = parseWav(new Uint8Array(stdout));
  const speech = resample(trimSilence(wav.samples, wav.sampleRate), wav.sampleRate, RATE);
  if (speech.length === 0 || speech.length > LENGTH) throw new Error(`espeak-ng ${args.join(' ')} gave ${speech.length} samples`);
  let peak = 0;
  for (const v of speech) peak = Math.max(peak, Math.abs(v));
  return Int16Array.from(speech, (v) => Math.round((v / peak) * PEAK * 32767));
}

const began = performance.now();
const version = (await exec('espeak-ng', ['--version'])).stdout.trim().split('  ')[0];
const pcm: (Int16Array | null)[] = new Array(plans.length).fill(null);
let next = 0;
await Promise.all(
  Array.from({ length: availableParallelism() }, async () => {
    while (next < plans.length) {
      const i = next++;
      if (plans[i].voice >= 0) pcm[i] = await synthesise(plans[i]);
    }
  }),
);

const blocks: Uint8Array[] = [];
const starts: number[] = [];
const offsets: number[] = [];
let bytes = 0;
let snrSum = 0;
let coded = 0;
plans.forEach((p, i) => {
  const samples = pcm[i];
  starts.push(samples ? bytes : 0);
  offsets.push(samples ? Math.floor(p.place * (LENGTH - samples.length + 1)) : 0);
  if (!samples) return;
  const block = encodeAdpcm(samples);
  const decoded = decodeAdpcm(block, samples.length);
  let signal = 0;
  let error = 0;
  samples.forEach((v, j) => {
    signal += (v / 32768) ** 2;
    error += (v / 32768 - decoded[j]) ** 2;
  });
  snrSum += 10 * Math.log10(signal / error);
  coded++;
  blocks.push(block);
  bytes += block.length;
});
const blob = new Uint8Array(bytes);
blocks.reduce((at, b) => (blob.set(b, at), at + b.length), 0);

const manifest: KeywordsManifest = {
  name: 'keywords',
  synthetic: true,
  source:
    'SYNTHETIC speech, not recordings of people: the ten Speech-Commands keywords, 25 other words (unknown) and noise only ' +
    "(silence), spoken by Debian's espeak-ng formant synthesiser in 8 English accents × 50 voice variants at random speed and " +
    'pitch, then mixed with seeded white, pink, brown, hum or babble noise at 5–30 dB SNR. Formant speech is far from real ' +
    'speech: fit for pipelines and demos, not for accuracy claims about real keyword spotting.',
  generator: `scripts/make-keywords.ts (npm run data:keywords) with ${version}`,
  sampleRate: RATE,
  length: LENGTH,
  classes: [...KEYWORD_CLASSES],
  codec: 'ima-adpcm',
  codecSnrDb: round1(snrSum / coded),
  file: 'keywords.adpcm.gz',
  bytes: blob.length,
  sha256: await sha256Hex(blob),
  seed: SEED,
  voices: allVoices,
  splits: {
    train: { range: ranges.train, voices: splitVoices.train },
    validation: { range: ranges.validation, voices: splitVoices.validation },
    test: { range: ranges.test, voices: splitVoices.test },
  },
  examples: {
    label: plans.map((p) => p.label),
    word: plans.map((p) => p.word),
    voice: plans.map((p) => p.voice),
    speed: plans.map((p) => p.speed),
    pitch: plans.map((p) => p.pitch),
    start: starts,
    samples: pcm.map((s) => s?.length ?? 0),
    offset: offsets,
    noise: plans.map((p) => p.noise),
    snrDb: plans.map((p) => p.snrDb),
    gainDb: plans.map((p) => p.gainDb),
    seed: plans.map((p) => p.seed),
  },
};
const gz = gzipSync(blob, { level: 9 });
await writeFile(path.join(DATA_DIR, manifest.file), gz);
// One line per column keeps the manifest readable without a line per number.
const json = JSON.stringify({ ...manifest, examples: '@' }, null, 2).replace(
  '"examples": "@"',
  `"examples": {\n${Object.entries(manifest.examples)
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n')}\n  }`,
);
await writeFile(path.join(DATA_DIR, 'keywords.json'), json + '\n');
const seconds = pcm.reduce((s, p) => s + (p?.length ?? 0), 0) / RATE;
console.log(
  JSON.stringify({
    examples: plans.length,
    voices: Object.fromEntries(KEYWORD_SPLITS.map((s) => [s, splitVoices[s].length])),
    speechSeconds: Math.round(seconds),
    blobBytes: blob.length,
    gzipBytes: gz.length,
    manifestBytes: json.length + 1,
    codecSnrDb: manifest.codecSnrDb,
    seconds: Math.round((performance.now() - began) / 1000),
  }),
);
