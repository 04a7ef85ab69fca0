// npm run bench: speed of the zoo models in Node, printed as JSON. Ratios compare runs made in this
// same process, since absolute times on a shared machine say little.
import * as tf from '@tensorflow/tfjs';
import { median } from './timing';
import { initNodeBackend } from '../src/engine/backend/node';
import { loadDigitsFromDisk } from '../src/engine/data/digits-node';
import { sliceDigits } from '../src/engine/data/digits';
import { disposeBatchable, modelInputShape, sliceToTensors } from '../src/engine/data/tensors';
import { loadShippedModel, readZooManifest } from '../src/engine/models/io-node';

async function measure(name: string, batch: number) {
  const digits = await loadDigitsFromDisk();
  const model = await loadShippedModel(name);
  const data = sliceToTensors(sliceDigits(digits, 'train', batch), modelInputShape(model));
  model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
  const infer = await median(5, async () => {
    const y = model.predict(data.x) as tf.Tensor;
    await y.data();
    y.dispose();
  });
  const step = await median(3, async () => {
    await model.trainOnBatch(data.x, data.y);
  });
  disposeBatchable(data);
  model.dispose();
  return { infer_ms_per_sample: infer / batch, train_ms_per_step: step };
}

const zoo = await readZooManifest();
const batch = 64;
await initNodeBackend('wasm');
const wasm: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const m of zoo.models) wasm[m.name] = await measure(m.name, batch);
// cpu is slow: LeNet only, as the reference the wasm kernels are compared with.
await tf.setBackend('cpu');
const cpu = await measure('lenet', batch);
console.log(
  JSON.stringify(
    {
      batch,
      models: zoo.models.map((m) => ({ name: m.name, macs: m.macs, wasm: wasm[m.name] })),
      lenet_cpu: cpu,
      lenet_speedup_wasm_over_cpu: {
        inference: cpu.infer_ms_per_sample / wasm.lenet.infer_ms_per_sample,
        training_step: cpu.train_ms_per_step / wasm.lenet.train_ms_per_step,
      },
    },
    null,
    2,
  ),
);
