// Node side of the keyword loader: the same decoder over the shipped files on disk.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_DIR } from './digits-node';
import { decodeKeywords, type Keywords } from './keywords';

let cached: Promise<Keywords> | null = null;

export function loadKeywordsFromDisk(dir = DATA_DIR): Promise<Keywords> {
  const load = async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, 'keywords.json'), 'utf8'));
    return decodeKeywords(manifest, new Uint8Array(await readFile(path.join(dir, manifest.file))));
  };
  if (dir !== DATA_DIR) return load();
  cached ??= load();
  return cached;
}
