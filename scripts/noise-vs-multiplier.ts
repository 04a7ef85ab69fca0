// Is a multiplier's error in one layer as harmless as Gaussian noise of the same size? Runs a shipped
// digit model with one layer approximate (or noisy) and every other layer exact, BatchNorm re-measured
// through it, and prints test accuracy for each multiplier and each relative noise std as JSON, with
// the multiplier's own relative error std in that layer (measured bit-faithfully by the error model) to
// compare against.
// Run: npx tsx scripts/noise-vs-multiplier.ts [model] [layer] [multiplier,…] [noise,…]
//   e.g. npx tsx scripts/noise-vs-multiplier.ts resnet block1_conv1 bam-4-8,trunc-9,bam-3-7 0.3,0.4,0.6
import { builtinCatalogue, findMultiplier, simMultiplier } from '../src/engine/approx/catalogue';
import { ApproxSimulation, type LayerMode } from '../src/engine/approx/simulate';
import { initNodeBackend } from '../src/engine/backend/node';
import { sliceDigits } from '../src/engine/data/digits';
import { loadDigitsFromDisk } from '../src/engine/data/digits-node';
import { modelInputShape, sliceToTensors } from '../src/engine/data/tensors';
import { loadShippedModel } from '../src/engine/models/io-node';
import { measureErrorStd, sampleLayer } from '../src/engine/noise/error-model';
import { accuracyOf } from '../src/engine/noise/mapping';

const [modelName = 'resnet', layer = 'block1_conv1', ids = 'bam-4-8,trunc-9,bam-3-7', noises = '0.3,0.4,0.6'] = process.argv.slice(2);
await initNodeBackend('wasm');
const model = await loadShippedModel(modelName);
const digits = await loadDigitsFromDisk();
const train = sliceToTensors(sliceDigits(digits, 'train', 512), modelInputShape(model));
const test = sliceToTensors(sliceDigits(digits, 'test'), modelInputShape(model));
const reference = train.x.slice(0, 64);
const sim = ApproxSimulation.calibrate(model, reference);
if (!sim.multiplyLayers().includes(layer)) throw new Error(`no multiply layer "${layer}" in ${modelName}: ${sim.multiplyLayers().join(', ')}`);
const catalogue = builtinCatalogue();
const exact = Object.fromEntries(sim.multiplyLayers().map((n) => [n, { kind: 'exact' } as LayerMode]));
// The error model's bit-faithful measurement on 512 sampled receptive fields, relative to the layer's
// output std: the units of the learned tolerance σ_l and of the noise modes below.
const source = sim.operandSources(reference).find((src) => src.name === layer)!;
const sample = sampleLayer(source, 512, 1);
const relativeErrorStd = (id: string) => measureErrorStd(sample, findMultiplier(catalogue, id).table.values) / sample.outputStd;

const rows: Record<string, unknown>[] = [];
const cases: [string, LayerMode, number | null][] = [
  ['exact', { kind: 'exact' }, 0],
  ...ids.split(',').map((id): [string, LayerMode, number | null] => [id, { kind: 'approx', multiplier: simMultiplier(findMultiplier(catalogue, id)) }, null]),
  ...noises.split(',').map((s): [string, LayerMode, number | null] => [`noise ${s}`, { kind: 'noise', relStd: Number(s) }, Number(s)]),
];
for (const [name, mode, rel] of cases) {
  const modes = { ...exact, [layer]: mode };
  await sim.recalibrateBatchNorm(train.x, modes);
  rows.push({ case: name, relative_error_std: rel ?? relativeErrorStd(name), accuracy: await accuracyOf(sim, modes, test) });
  process.stderr.write(`${name} done\n`);
}
console.log(JSON.stringify({ model: modelName, layer, test_count: test.count, rows }, null, 2));
