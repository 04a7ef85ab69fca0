// Node file-system side of model I/O: shipped models in public/models and user paths on the command line.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { PUBLIC_DIR } from '../data/digits-node';
import { artifactsFromFiles, artifactsToFiles, modelFromArtifacts, modelToArtifacts, type NamedBytes } from './io';
import { zooManifestSchema, type ZooManifest } from './zoo-manifest';

export const MODELS_DIR = path.join(PUBLIC_DIR, 'models');

export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<void> {
  const { modelJson, weights } = artifactsToFiles(await modelToArtifacts(model));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.json'), modelJson);
  await writeFile(path.join(dir, 'weights.bin'), weights);
}

/** model.json and every .bin beside it, as an upload would bring them. */
export async function modelFilesAt(modelJsonPath: string): Promise<NamedBytes[]> {
  const dir = path.dirname(modelJsonPath);
  const names = [path.basename(modelJsonPath), ...(await readdir(dir)).filter((f) => f.endsWith('.bin'))];
  return Promise.all(
    names.map(async (name) => {
      const b = await readFile(path.join(dir, name));
      return { name, bytes: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
    }),
  );
}

export async function loadModelFromPath(modelJsonPath: string): Promise<tf.LayersModel> {
  const [json, ...weights] = await modelFilesAt(modelJsonPath);
  return modelFromArtifacts(artifactsFromFiles(new TextDecoder().decode(json.bytes), weights));
}

export async function readZooManifest(): Promise<ZooManifest> {
  return zooManifestSchema.parse(JSON.parse(await readFile(path.join(MODELS_DIR, 'zoo.json'), 'utf8')));
}

export async function loadShippedModel(name: string): Promise<tf.LayersModel> {
  return loadModelFromPath(path.join(MODELS_DIR, name, 'model.json'));
}
