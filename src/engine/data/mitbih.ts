// A real ECG for demos: five minutes of MIT-BIH Arrhythmia Database record 208 (lead MLII), the
// excerpt scipy ships as scipy/misc/ecg.dat, resampled from 360 Hz to the synthetic ECG's rate
// (scripts/make-mitbih.ts; algorithms.md §7). Shipped as a manifest (JSON) next to one gzip blob of
// little-endian int16 samples in units of `scale` mV. UNLABELLED: no beat or rhythm annotations
// come with it, so its windows carry label -1 ("unknown") and it is only fit to be streamed through
// a model (early exits, latency, energy), never to score accuracy.
import { z } from 'zod';
import { maybeGunzip, sha256Hex } from '../util/bytes';
import { fetchJson } from './digits';
import { ecgWindows, type Ecg, type EcgWindows } from './ecg';

/** File name of the manifest in public/data/. */
export const MITBIH_MANIFEST = 'mitbih-208.json';

export const mitbihManifestSchema = z.object({
  name: z.string(),
  title: z.string(),
  source: z.string(),
  licence: z.string(),
  citation: z.array(z.string()),
  labels: z.string(),
  /** Where ecg.dat came from: the Debian package and the file's own checksum. */
  origin: z.object({
    package: z.string(),
    version: z.string(),
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    rate: z.number().positive(),
    samples: z.number().int().positive(),
    conversion: z.string(),
  }),
  resampling: z.string(),
  /** Sampling rate of the shipped signal, Hz. */
  rate: z.number().positive(),
  count: z.number().int().positive(),
  /** mV per int16 unit. */
  scale: z.number().positive(),
  dtype: z.literal('int16le'),
  file: z.string(),
  /** Uncompressed size: count · 2. */
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type MitbihManifest = z.infer<typeof mitbihManifestSchema>;

export interface MitbihEcg {
  manifest: MitbihManifest;
  rate: number;
  /** mV. */
  signal: Float32Array;
}

/** Unknown label of every MIT-BIH window: the excerpt comes without annotations. */
export const MITBIH_UNLABELLED = -1;

export async function decodeMitbih(manifestJson: unknown, blob: Uint8Array): Promise<MitbihEcg> {
  const manifest = mitbihManifestSchema.parse(manifestJson);
  const bytes = await maybeGunzip(blob);
  if (bytes.length !== manifest.bytes || manifest.bytes !== manifest.count * 2) {
    throw new Error(`ECG data is ${bytes.length} bytes, manifest says ${manifest.bytes} (${manifest.count} int16 samples)`);
  }
  const hash = await sha256Hex(bytes);
  if (hash !== manifest.sha256) throw new Error(`ECG data checksum ${hash} does not match manifest ${manifest.sha256}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signal = new Float32Array(manifest.count);
  for (let i = 0; i < manifest.count; i++) signal[i] = view.getInt16(2 * i, true) * manifest.scale;
  return { manifest, rate: manifest.rate, signal };
}

/**
 * The recording as an `Ecg`, so the synthetic ECG's helpers apply: no beats, and `episode` all zero
 * (not "normal": unknown, see `mitbihWindows`).
 */
export function mitbihAsEcg(ecg: MitbihEcg): Ecg {
  return { rate: ecg.rate, signal: ecg.signal, beats: [], episode: new Uint8Array(ecg.signal.length) };
}

/**
 * The same standardised windows as `ecgWindows` (defaults 256 samples, hop 64), every label
 * `MITBIH_UNLABELLED` (−1): code that scores accuracy must skip them.
 */
export function mitbihWindows(ecg: MitbihEcg, length = 256, hop = 64): EcgWindows {
  const windows = ecgWindows(mitbihAsEcg(ecg), length, hop);
  windows.labels.fill(MITBIH_UNLABELLED);
  return windows;
}

/** Fetches and decodes the recording from a base URL (workers); `fetchImpl` lets tests serve files. */
export async function fetchMitbih(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<MitbihEcg> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const manifest = mitbihManifestSchema.parse(await fetchJson(fetchImpl, base + MITBIH_MANIFEST, 'the MIT-BIH ECG'));
  const response = await fetchImpl(base + manifest.file);
  if (!response.ok) throw new Error(`cannot load ${base}${manifest.file}: HTTP ${response.status}`);
  return decodeMitbih(manifest, new Uint8Array(await response.arrayBuffer()));
}
