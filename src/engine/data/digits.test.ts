import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeDigits, fetchDigits, sliceDigits } from './digits';
import { DATA_DIR, loadDigitsFromDisk } from './digits-node';
import { fileFetch, TEST_BASE_URL } from '../host-node';

const manifestJson = async () => JSON.parse(await readFile(path.join(DATA_DIR, 'digits.json'), 'utf8'));
const blob = async () => new Uint8Array(await readFile(path.join(DATA_DIR, 'digits.u8.gz')));

describe('digit data set', () => {
  it('holds 10,000 digits with a fixed, stratified 8,000/2,000 split', async () => {
    const digits = await loadDigitsFromDisk();
    expect(digits.manifest.count).toBe(10_000);
    expect(digits.pixels.length).toBe(10_000 * 28 * 28);
    const train = sliceDigits(digits, 'train');
    const test = sliceDigits(digits, 'test');
    expect([train.count, test.count]).toEqual([8000, 2000]);
    const perClass = (labels: Uint8Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    // Each class is split 80/20 on its own, so both splits keep the data set's class balance.
    const all = perClass(digits.labels);
    expect(all.reduce((a, b) => a + b)).toBe(10_000);
    expect(perClass(test.labels)).toEqual(all.map((n) => Math.round(n * 0.2)));
    expect(perClass(train.labels)).toEqual(all.map((n) => n - Math.round(n * 0.2)));
    // Real images: mostly background with a bright stroke, not noise or zeros.
    const first = test.pixels.subarray(0, 784);
    expect(Math.max(...first)).toBeGreaterThan(200);
    expect(first.filter((p) => p === 0).length).toBeGreaterThan(400);
  });

  it('decodes the same bytes whether or not a server already inflated them', async () => {
    const [m, gz] = [await manifestJson(), await blob()];
    const a = await decodeDigits(m, gz);
    const b = await decodeDigits(m, new Uint8Array(gunzipSync(gz)));
    expect(b.labels).toEqual(a.labels);
  });

  it('loads over fetch as the worker does', async () => {
    const digits = await fetchDigits(TEST_BASE_URL + 'data/', fileFetch());
    expect(digits.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(fetchDigits(TEST_BASE_URL + 'nowhere/', fileFetch())).rejects.toThrow(/cannot load the digit data set .*HTTP 404/);
  });

  it('takes the blob from the cache once fetched, and fetches again when the cached copy is damaged', async () => {
    const store = new Map<string, Uint8Array>();
    const cache = { get: async (k: string) => store.get(k), put: async (k: string, b: Uint8Array) => void store.set(k, b) };
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(String(input));
      return fileFetch()(input, init);
    };
    await fetchDigits(TEST_BASE_URL + 'data/', counting, cache);
    await fetchDigits(TEST_BASE_URL + 'data/', counting, cache);
    expect(requests.filter((r) => r.endsWith('.gz'))).toHaveLength(1);
    expect([...store.keys()][0]).toMatch(/digits\.u8\.gz\?sha256=[0-9a-f]{64}$/);
    const [key, bytes] = [...store.entries()][0];
    store.set(key, bytes.subarray(0, 1000));
    const digits = await fetchDigits(TEST_BASE_URL + 'data/', counting, cache);
    expect(digits.manifest.count).toBe(10_000);
    expect(requests.filter((r) => r.endsWith('.gz'))).toHaveLength(2);
  });

  it('rejects corrupted or truncated data and a bad manifest', async () => {
    const m = await manifestJson();
    const raw = new Uint8Array(gunzipSync(await blob()));
    const flipped = raw.slice();
    flipped[12345] ^= 1;
    await expect(decodeDigits(m, flipped)).rejects.toThrow(/checksum/);
    await expect(decodeDigits(m, raw.subarray(0, raw.length - 10))).rejects.toThrow(/bytes, manifest says/);
    await expect(decodeDigits({ ...m, count: 'many' }, raw)).rejects.toThrow();
  });
});
