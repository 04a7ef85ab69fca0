// qos-studio: batch runs and reproducible figures from the same engine the studio runs in workers.
// Every command prints JSON on stdout (a contract: field names stay); progress goes to stderr.
import { Command, InvalidArgumentError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/backend/node';
import { loadDigitsFromDisk } from '../engine/data/digits-node';
import { loadModelFromPath, readZooManifest } from '../engine/models/io-node';
import { checkFitsData } from '../engine/models/io';
import { ZOO, zooEntry } from '../engine/models/zoo';
import { trainOnDigits } from '../engine/train/from-scratch';
import { saveModelToDir } from '../engine/models/io-node';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

const program = new Command('qos-studio')
  .description('Accuracy/energy trade-offs of neural networks on small devices: the engine of QoS Studio on the command line')
  .option('--backend <name>', 'tfjs backend: wasm or cpu', 'wasm')
  .showHelpAfterError();

program
  .command('models')
  .description('list the model zoo as JSON: name, task, params, macs, test_accuracy (measured on the shipped weights)')
  .action(async () => {
    const zoo = await readZooManifest();
    print(zoo.models.map((m) => ({ name: m.name, task: m.task, params: m.params, macs: m.macs, test_accuracy: m.test_accuracy, title: m.title, test_count: m.test_count })));
  });

program
  .command('train')
  .description('train a zoo model from its seed (or fine-tune a model.json) on the digit split; prints test accuracy as JSON')
  .requiredOption('--model <name|path>', `zoo model (${ZOO.map((e) => e.name).join(', ')}) or path to a model.json`)
  .option('--epochs <n>', 'epochs', int('epochs'), 1)
  .option('--batch-size <n>', 'batch size', int('batch size'), 64)
  .option('--lr <rate>', 'learning rate (Adam)', positive('learning rate'), 1e-3)
  .option('--seed <n>', 'seed for initial weights and shuffling', int('seed'), 1)
  .option('--train-limit <n>', 'use only the first n training samples', int('train limit'))
  .option('--out <dir>', 'save the trained model (model.json + weights.bin) here')
  .action(async (opts: { model: string; epochs: number; batchSize: number; lr: number; seed: number; trainLimit?: number; out?: string }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const digits = await loadDigitsFromDisk();
    const isPath = opts.model.endsWith('.json');
    const model = isPath ? await loadModelFromPath(opts.model) : zooEntry(opts.model).build(opts.seed);
    checkFitsData(model, { shape: [digits.manifest.height, digits.manifest.width, 1], classes: digits.manifest.classes.length });
    const result = await trainOnDigits(model, digits, {
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      learningRate: opts.lr,
      seed: opts.seed,
      trainLimit: opts.trainLimit,
      onProgress: (p) => {
        if (p.kind === 'epoch') process.stderr.write(`epoch ${p.epoch}/${p.epochs}: loss ${p.epochLoss!.toFixed(4)}, test accuracy ${(p.test!.accuracy * 100).toFixed(2)} %\n`);
      },
    });
    if (opts.out) await saveModelToDir(model, opts.out);
    print({
      model: opts.model,
      backend,
      epochs: result.epochsCompleted,
      batch_size: opts.batchSize,
      learning_rate: opts.lr,
      seed: opts.seed,
      test_accuracy: result.test.accuracy,
      test_loss: result.test.loss,
      test_count: result.test.count,
      train_seconds: Math.round(result.elapsedMs / 100) / 10,
      history: result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, test_loss: h.testLoss, test_accuracy: h.testAccuracy })),
      ...(opts.out ? { saved_to: opts.out } : {}),
    });
    model.dispose();
    tf.disposeVariables();
  });

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`qos-studio: ${e.message}\n`);
  process.exit(1);
});
