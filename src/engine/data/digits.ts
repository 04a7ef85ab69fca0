// The shipped digit data set: a manifest (JSON) next to one gzip blob of uint8 pixels then labels.
import { z } from 'zod';
import { maybeGunzip, sha256Hex } from '../util/bytes';

export const digitsManifestSchema = z.object({
  name: z.string(),
  source: z.string(),
  count: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.literal(1),
  classes: z.array(z.string()).min(2),
  file: z.string(),
  /** Uncompressed size: count·height·width pixels followed by count labels. */
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  split: z.object({
    train: z.tuple([z.number().int(), z.number().int()]),
    test: z.tuple([z.number().int(), z.number().int()]),
  }),
  seed: z.number().int(),
});
export type DigitsManifest = z.infer<typeof digitsManifestSchema>;

export type Split = 'train' | 'test';

export interface Digits {
  manifest: DigitsManifest;
  /** count × height × width, row-major, 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface DigitsSlice {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

export async function decodeDigits(manifestJson: unknown, blob: Uint8Array): Promise<Digits> {
  const manifest = digitsManifestSchema.parse(manifestJson);
  const bytes = await maybeGunzip(blob);
  if (bytes.length !== manifest.bytes) {
    throw new Error(`digit data is ${bytes.length} bytes, manifest says ${manifest.bytes}`);
  }
  const hash = await sha256Hex(bytes);
  if (hash !== manifest.sha256) throw new Error(`digit data checksum ${hash} does not match manifest ${manifest.sha256}`);
  const n = manifest.count * manifest.height * manifest.width;
  const labels = bytes.subarray(n, n + manifest.count);
  if (labels.some((l) => l >= manifest.classes.length)) throw new Error('digit data holds a label outside the class list');
  for (const [a, b] of Object.values(manifest.split)) {
    if (a < 0 || b > manifest.count || a >= b) throw new Error(`split range [${a}, ${b}) does not fit ${manifest.count} samples`);
  }
  return { manifest, pixels: bytes.subarray(0, n), labels };
}

export function sliceDigits(digits: Digits, split: Split, limit?: number): DigitsSlice {
  const [start, end0] = digits.manifest.split[split];
  const end = limit === undefined ? end0 : Math.min(end0, start + limit);
  const { height, width } = digits.manifest;
  const size = height * width;
  return {
    pixels: digits.pixels.subarray(start * size, end * size),
    labels: digits.labels.subarray(start, end),
    count: end - start,
    height,
    width,
  };
}

/** Keeps downloaded blobs between visits (Cache Storage in the browser), keyed by content hash. */
export interface BlobCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/**
 * Fetches and decodes the data set from a base URL (workers); `fetchImpl` lets tests serve files.
 * The small manifest is always fetched; the blob comes from `cache` when its checksum still matches.
 */
export async function fetchDigits(baseUrl: string, fetchImpl: typeof fetch = fetch, cache?: BlobCache): Promise<Digits> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const manifest = digitsManifestSchema.parse(await fetchJson(fetchImpl, base + 'digits.json', 'the digit data set'));
  return fetchCachedBlob(base, manifest, decodeDigits, fetchImpl, cache);
}

/**
 * The blob a manifest names, from `cache` while its checksum still matches (a damaged entry is
 * fetched again), decoded; a freshly fetched blob is cached once it decodes.
 */
export async function fetchCachedBlob<M extends { file: string; sha256: string }, T>(base: string, manifest: M, decode: (manifest: M, blob: Uint8Array) => Promise<T>, fetchImpl: typeof fetch, cache?: BlobCache): Promise<T> {
  const key = `${base}${manifest.file}?sha256=${manifest.sha256}`;
  const cached = await cache?.get(key).catch(() => undefined);
  if (cached) {
    try {
      return await decode(manifest, cached);
    } catch {
      // Fetched again below.
    }
  }
  const response = await fetchImpl(base + manifest.file);
  if (!response.ok) throw new Error(`cannot load ${base}${manifest.file}: HTTP ${response.status}`);
  const blob = new Uint8Array(await response.arrayBuffer());
  const value = await decode(manifest, blob);
  await cache?.put(key, blob).catch(() => undefined);
  return value;
}

/** Fetches JSON with a message that says what is missing; single-page servers answer 404s with HTML. */
export async function fetchJson(fetchImpl: typeof fetch, url: string, what: string): Promise<unknown> {
  const response = await fetchImpl(url);
  if (!response.ok) throw new Error(`cannot load ${what} (${url}): HTTP ${response.status}`);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`cannot load ${what}: ${url} is not JSON${text.trimStart().startsWith('<') ? ' (the server sent a web page: is the file missing?)' : ''}`);
  }
}
