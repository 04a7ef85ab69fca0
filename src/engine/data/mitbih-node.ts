// Node side of the MIT-BIH ECG loader: the same decoder over files on disk.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_DIR } from './digits-node';
import { decodeMitbih, MITBIH_MANIFEST, type MitbihEcg } from './mitbih';

let cached: Promise<MitbihEcg> | null = null;

export function loadMitbihFromDisk(dir = DATA_DIR): Promise<MitbihEcg> {
  const load = async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, MITBIH_MANIFEST), 'utf8'));
    return decodeMitbih(manifest, new Uint8Array(await readFile(path.join(dir, manifest.file))));
  };
  if (dir !== DATA_DIR) return load();
  cached ??= load();
  return cached;
}
