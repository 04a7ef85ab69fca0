// Trains every zoo model from its seed on its task's training split (digits; the ECG and radar sets
// generated from their seeds), saves the weights to public/models/<name>/ and records the measured
// test accuracy in public/models/zoo.json.
// Run: npm run models:train [-- lenet resnet]   (retrains only the named ones, keeps the rest)
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/engine/backend/node';
import { loadDigitsFromDisk } from '../src/engine/data/digits-node';
import { describeLayers, totalMacs } from '../src/engine/models/macs';
import { MODELS_DIR, saveModelToDir } from '../src/engine/models/io-node';
import { ZOO, type ZooName } from '../src/engine/models/zoo';
import { zooManifestSchema, type ZooManifest, type ZooModel } from '../src/engine/models/zoo-manifest';
import { trainOnTask } from '../src/engine/train/from-scratch';
import { digitsTask, ecgTask, keywordsTask, radarTask } from '../src/engine/data/tasks';
import { loadKeywordsFromDisk } from '../src/engine/data/keywords-node';

// The sensor models train briefly, and the wide MobileNet's statistics lag its weights (momentum 0.99 over
// 125 steps an epoch), so their BatchNorm statistics are measured afresh ("settle").
const RECIPES: Record<ZooName, { epochs: number; batchSize: number; learningRate: number; seed: number; schedule: 'cosine'; settle?: boolean }> = {
  lenet: { epochs: 12, batchSize: 64, learningRate: 2e-3, seed: 11, schedule: 'cosine' },
  resnet: { epochs: 6, batchSize: 64, learningRate: 3e-3, seed: 22, schedule: 'cosine' },
  mobilenet: { epochs: 10, batchSize: 64, learningRate: 4e-3, seed: 33, schedule: 'cosine' },
  'mobilenet-wide': { epochs: 8, batchSize: 64, learningRate: 4e-3, seed: 44, schedule: 'cosine', settle: true },
  ecg: { epochs: 4, batchSize: 32, learningRate: 3e-3, seed: 1, schedule: 'cosine', settle: true },
  radar: { epochs: 6, batchSize: 32, learningRate: 3e-3, seed: 1, schedule: 'cosine', settle: true },
  kws: { epochs: 10, batchSize: 32, learningRate: 3e-3, seed: 7, schedule: 'cosine', settle: true },
};

const backend = await initNodeBackend();
const digits = await loadDigitsFromDisk();
const TASKS = { digits: digitsTask(digits), ecg: ecgTask(), radar: radarTask(), keywords: keywordsTask(await loadKeywordsFromDisk()) };
const only = process.argv.slice(2);
const manifestPath = path.join(MODELS_DIR, 'zoo.json');

const models: ZooModel[] = []; // trained in this run
for (const entry of ZOO) {
  if (only.length && !only.includes(entry.name)) continue;
  const recipe = RECIPES[entry.name];
  const model = entry.build(recipe.seed);
  const result = await trainOnTask(model, TASKS[entry.task], {
    ...recipe,
    // Kept before the statistics are re-measured: a long run is not lost if that step fails.
    beforeSettling: () => saveModelToDir(model, path.join(MODELS_DIR, entry.name)),
    onProgress: (p) => {
      if (p.kind === 'epoch') console.error(`${entry.name} epoch ${p.epoch}/${p.epochs} loss ${p.epochLoss!.toFixed(4)} test ${(p.test!.accuracy * 100).toFixed(2)}% (${(p.elapsedMs / 1000).toFixed(0)} s)`);
    },
  });
  await saveModelToDir(model, path.join(MODELS_DIR, entry.name));
  const layers = describeLayers(model);
  models.push({
    name: entry.name,
    title: entry.title,
    task: entry.task,
    description: entry.description,
    path: `models/${entry.name}/model.json`,
    params: model.countParams(),
    macs: totalMacs(layers),
    test_accuracy: result.test.accuracy,
    test_count: result.test.count,
    training: { schedule: recipe.schedule, epochs: recipe.epochs, batch_size: recipe.batchSize, learning_rate: recipe.learningRate, seed: recipe.seed, backend, seconds: Math.round(result.elapsedMs / 100) / 10 },
  });
  model.dispose();
}
// Re-read before writing: another run of this script may have finished other models meanwhile.
const latest: ZooModel[] = await readFile(manifestPath, 'utf8')
  .then((t) => zooManifestSchema.parse(JSON.parse(t)).models)
  .catch(() => []);
const merged = ZOO.flatMap((e) => models.find((m) => m.name === e.name) ?? latest.find((m) => m.name === e.name) ?? []);
const manifest: ZooManifest = {
  generated_by: 'scripts/train-zoo.ts (npm run models:train)',
  data: { name: digits.manifest.name, sha256: digits.manifest.sha256, train: digits.manifest.split.train[1] - digits.manifest.split.train[0], test: digits.manifest.split.test[1] - digits.manifest.split.test[0] },
  models: merged,
};
await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify(models.map((m) => ({ name: m.name, test_accuracy: m.test_accuracy, params: m.params, macs: m.macs }))));
tf.disposeVariables();
