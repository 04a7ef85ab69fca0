// Node side of the digit loader: the same decoder over files on disk.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDigits, type Digits } from './digits';

export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../public');
export const DATA_DIR = path.join(PUBLIC_DIR, 'data');

let cached: Promise<Digits> | null = null;

export function loadDigitsFromDisk(dir = DATA_DIR): Promise<Digits> {
  const load = async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, 'digits.json'), 'utf8'));
    return decodeDigits(manifest, new Uint8Array(await readFile(path.join(dir, manifest.file))));
  };
  if (dir !== DATA_DIR) return load();
  cached ??= load();
  return cached;
}
