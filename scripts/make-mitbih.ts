// Extracts the real ECG that scipy ships (scipy/misc/ecg.dat: five minutes of MIT-BIH Arrhythmia
// Database record 208, lead MLII, 360 Hz) from Debian's python3-scipy package WITHOUT installing it:
// `apt-get download` into a temporary folder, `dpkg-deb -x` there, then ecg.dat is read here (a
// NumPy .npz: a zip holding ecg.npy, uint16, 108,000 samples). The samples become mV as scipy's
// electrocardiogram() has it, (v − 1024)/200, are resampled to the synthetic ECG's rate and written
// to public/data/mitbih-208.{json,i16.gz}. Deterministic: ecg.dat's checksum is pinned below, so the
// output is the same bytes every run. Needs Debian's apt-get and dpkg-deb (or --deb FILE.deb, a
// python3-scipy package fetched elsewhere). Run: npm run data:mitbih [-- --deb FILE.deb]
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32, gzipSync, inflateRawSync } from 'node:zlib';
import { DATA_DIR } from '../src/engine/data/digits-node';
import { syntheticEcg } from '../src/engine/data/ecg';
import { resample } from '../src/engine/data/keywords-audio';
import { MITBIH_MANIFEST, type MitbihManifest } from '../src/engine/data/mitbih';
import { sha256Hex } from '../src/engine/util/bytes';

/** ecg.dat of Debian bookworm's python3-scipy 1.10.1-2 (the file is unchanged since scipy 1.1.0). */
const ECG_DAT_SHA256 = 'f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf';
const SOURCE_RATE = 360;
const ADC_ZERO = 1024;
const ADC_GAIN = 200; // units per mV
/** Shipped as int16 microvolts: finer than the source's 5 µV ADC step, ±32 mV of range. */
const SCALE = 0.001;
const HALF_TAPS = 64;

const exec = promisify(execFile);

async function findFile(dir: string, suffix: string): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && full.endsWith(suffix)) return full;
  }
  return undefined;
}

/** One stored or deflated entry of a zip archive (an .npz), found through the central directory. */
function unzipEntry(zip: Uint8Array, name: string): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('ecg.dat is not a zip archive (no end-of-central-directory record)');
  const entries = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const names: string[] = [];
  for (let e = 0; e < entries; e++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new Error('damaged zip central directory');
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const compressed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const entryName = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLength));
    names.push(entryName);
    p += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (view.getUint32(local, true) !== 0x04034b50) throw new Error('damaged zip local header');
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = zip.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) data = new Uint8Array(inflateRawSync(raw));
    else throw new Error(`zip entry ${name} uses compression method ${method}`);
    if (data.length !== size) throw new Error(`zip entry ${name} is ${data.length} bytes, directory says ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new Error(`zip entry ${name} fails its CRC-32`);
    return data;
  }
  throw new Error(`no ${name} in the archive (it holds ${names.join(', ') || 'nothing'})`);
}

/** A one-dimensional little-endian uint16 .npy array. */
function parseNpyUint16(npy: Uint8Array): Uint16Array {
  const magic = new TextDecoder('latin1').decode(npy.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw new Error('ecg.npy is not a .npy file');
  const view = new DataView(npy.buffer, npy.byteOffset, npy.byteLength);
  const major = npy[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(npy.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(\s*(\d+)\s*,?\s*\)/.exec(header)?.[1];
  if (descr !== '<u2' || fortran !== 'False' || shape === undefined) throw new Error(`unexpected .npy header ${header.trim()}`);
  const count = Number(shape);
  const data = npy.subarray(headerStart + headerLength);
  if (data.length !== count * 2) throw new Error(`.npy data is ${data.length} bytes for ${count} uint16 values`);
  const out = new Uint16Array(count);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < count; i++) out[i] = dv.getUint16(2 * i, true);
  return out;
}

const debArg = process.argv.indexOf('--deb');
const tmp = await mkdtemp(path.join(tmpdir(), 'mitbih-'));
try {
  let deb: string;
  if (debArg >= 0) {
    deb = path.resolve(process.argv[debArg + 1] ?? '');
  } else {
    try {
      await exec('apt-get', ['download', 'python3-scipy'], { cwd: tmp });
    } catch (error) {
      throw new Error(`apt-get download python3-scipy failed (run apt-get update first, or pass --deb FILE.deb): ${(error as Error).message}`);
    }
    const found = (await readdir(tmp)).find((f) => f.endsWith('.deb'));
    if (!found) throw new Error('apt-get download left no .deb file');
    deb = path.join(tmp, found);
  }
  const fields = (await exec('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture'])).stdout;
  const field = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(fields)?.[1]?.trim() ?? '?';
  const [pkg, version, arch] = [field('Package'), field('Version'), field('Architecture')];
  await exec('dpkg-deb', ['-x', deb, path.join(tmp, 'root')]);
  const datPath = await findFile(path.join(tmp, 'root'), path.join('scipy', 'misc', 'ecg.dat'));
  if (!datPath) throw new Error(`${pkg} ${version} has no scipy/misc/ecg.dat (scipy ≥ 1.12 moved it to the download-only scipy.datasets)`);
  const dat = new Uint8Array(await readFile(datPath));
  const datSha = await sha256Hex(dat);
  if (datSha !== ECG_DAT_SHA256) {
    throw new Error(`ecg.dat of ${pkg} ${version} has sha256 ${datSha}, not the pinned ${ECG_DAT_SHA256}: check the file, then update the pin`);
  }
  const raw = parseNpyUint16(unzipEntry(dat, 'ecg.npy'));
  const mv = Float32Array.from(raw, (v) => (v - ADC_ZERO) / ADC_GAIN);

  // scipy's docstring: ecg[:3], ecg[-3:], mean and std; a check on the parse before anything else.
  const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;
  const mean = mv.reduce((s, v) => s + v, 0) / mv.length;
  const std = Math.sqrt(mv.reduce((s, v) => s + (v - mean) ** 2, 0) / mv.length);
  const head = [...mv.subarray(0, 3)];
  const tail = [...mv.subarray(-3)];
  const expected = { length: 108_000, head: [-0.245, -0.215, -0.185], tail: [-0.405, -0.395, -0.385], mean: -0.16510875, std: 0.5992473991177294 };
  if (
    mv.length !== expected.length ||
    !head.every((v, i) => near(v, expected.head[i], 1e-6)) ||
    !tail.every((v, i) => near(v, expected.tail[i], 1e-6)) ||
    !near(mean, expected.mean, 1e-6) ||
    !near(std, expected.std, 1e-6)
  ) {
    throw new Error(`ecg.dat does not read as scipy documents it: ${JSON.stringify({ length: mv.length, head, tail, mean, std })}`);
  }

  // The synthetic ECG's own rate, so real and synthetic windows cover the same time.
  const rate = syntheticEcg({ seconds: 0.1 }).rate;
  const g = (a: number, b: number): number => (b === 0 ? a : g(b, a % b));
  const down = SOURCE_RATE / g(SOURCE_RATE, rate);
  const up = rate / g(SOURCE_RATE, rate);
  // The resampler counts samples outside the input as zero; the edges are padded with their own
  // values instead (a whole number of `down` blocks, so output samples stay on the same instants).
  const padBlocks = Math.ceil(HALF_TAPS / down) + 1;
  const pad = padBlocks * down;
  const padded = new Float32Array(mv.length + 2 * pad);
  padded.fill(mv[0], 0, pad);
  padded.set(mv, pad);
  padded.fill(mv[mv.length - 1], pad + mv.length);
  const resampled = resample(padded, SOURCE_RATE, rate, HALF_TAPS).subarray(padBlocks * up);
  const count = Math.floor((mv.length * up) / down);
  const signal = resampled.subarray(0, count);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const q = Math.round(signal[i] / SCALE);
    if (q < -32768 || q > 32767) throw new Error(`sample ${i} (${signal[i]} mV) does not fit int16 at ${SCALE} mV`);
    samples[i] = q;
  }
  const bytes = new Uint8Array(count * 2);
  const out = new DataView(bytes.buffer);
  samples.forEach((v, i) => out.setInt16(2 * i, v, true));

  const manifest: MitbihManifest = {
    name: 'mitbih-208',
    title: 'MIT-BIH record 208 (real ECG, 5 min, unlabelled)',
    source:
      'Five minutes (19:35 to 24:35) of record 208, lead MLII, of the MIT-BIH Arrhythmia Database on PhysioNet, the excerpt ' +
      'SciPy ships as scipy/misc/ecg.dat (scipy.misc.electrocardiogram). Sinus beats, frequent premature ventricular ' +
      'contractions and noise artefacts, e.g. near 207–215 s.',
    licence:
      'SciPy distributes ecg.dat under its BSD-3-Clause licence (Debian\'s copyright file lists no other terms for it; ' +
      'Copyright 2001-2002 Enthought, Inc., 2003-2022 SciPy Developers). The MIT-BIH Arrhythmia Database itself is ' +
      'published by PhysioNet under the Open Data Commons Attribution License v1.0: cite both references below.',
    citation: [
      'Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med and Biol 20(3):45-50 (May-June 2001). PMID: 11446209; doi:10.13026/C2F305',
      'Goldberger AL, Amaral LAN, Glass L, Hausdorff JM, Ivanov PCh, Mark RG, Mietus JE, Moody GB, Peng C-K, Stanley HE. PhysioBank, PhysioToolkit, and PhysioNet: Components of a New Research Resource for Complex Physiologic Signals. Circulation 101(23):e215-e220; doi:10.1161/01.CIR.101.23.e215',
    ],
    labels: 'None: the excerpt comes without beat or rhythm annotations; windows are labelled -1 (unknown).',
    origin: {
      package: `Debian ${pkg} (${arch})`,
      version,
      path: path.relative(path.join(tmp, 'root'), datPath),
      sha256: datSha,
      rate: SOURCE_RATE,
      samples: mv.length,
      conversion: `mV = (uint16 - ${ADC_ZERO}) / ${ADC_GAIN}, as scipy.misc.electrocardiogram()`,
    },
    resampling:
      `${SOURCE_RATE} Hz to ${rate} Hz (the synthetic ECG's rate) by the polyphase Kaiser windowed-sinc resampler of ` +
      `keywords-audio.ts (${2 * HALF_TAPS} taps per phase, beta 8, cut-off 0.95 of ${rate / 2} Hz), edges padded with their own values`,
    rate,
    count,
    scale: SCALE,
    dtype: 'int16le',
    file: 'mitbih-208.i16.gz',
    bytes: bytes.length,
    sha256: await sha256Hex(bytes),
  };
  await writeFile(path.join(DATA_DIR, manifest.file), gzipSync(bytes, { level: 9 }));
  await writeFile(path.join(DATA_DIR, MITBIH_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  console.log(JSON.stringify({ package: `${pkg} ${version}`, ecgDatSha256: datSha, rate, count, sha256: manifest.sha256 }));
} finally {
  await rm(tmp, { recursive: true, force: true });
}
