// qos-studio quantise: b-bit activation quantisers before every convolution of a model, fine-tuned
// together with its weights, against the float model on its own task's test set. Prints JSON on
// stdout (progress on stderr), like every command of main.ts.
import { Command, InvalidArgumentError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/backend/node';
import { samplesToTensors } from '../engine/data/tasks';
import { disposeBatchable, modelInputShape } from '../engine/data/tensors';
import { loadModelFromPath, loadShippedModel } from '../engine/models/io-node';
import { zooEntry } from '../engine/models/zoo';
import { quantiseModel } from '../engine/quant/insert';
import { ALLOWED_BITS, checkBits, type Bits, type QuantMethod } from '../engine/quant/quantiser';
import { evaluate } from '../engine/train/evaluate';
import { taskFor } from './tasks-node';

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

const whole = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const bitsOption = (v: string): Bits => {
  try {
    return checkBits(Number(v));
  } catch {
    throw new InvalidArgumentError(`bits must be one of ${ALLOWED_BITS.join(', ')}`);
  }
};

export const METHOD_NOTES: Record<QuantMethod, string> = {
  st: 'double-stage Squeeze-and-Threshold, reconstructed from the paper abstract: per-channel learned thresholds (2^b - 1) and levels, squeeze + attention while training, momentum-averaged thresholds fixed for inference (src/engine/quant/squeeze-threshold.ts)',
  uniform: 'uniform b-bit baseline with a learned clipping range (PACT-style clipping, LSQ-style step), calibrated on 0.1/99.9 % quantiles (src/engine/quant/uniform.ts)',
};

interface QuantiseCliOptions {
  model: string;
  bits: Bits;
  method: QuantMethod;
  epochs: number;
  trainLimit?: number;
  batchSize: number;
  lr: number;
  quantiserLr: number;
  seed: number;
  dense?: boolean;
  perChannel?: boolean;
  calibration: number;
}

export function registerQuantise(program: Command): void {
  program
    .command('quantise')
    .description('b-bit activation quantisers before every convolution (Squeeze-and-Threshold, reconstructed from the paper abstract, or a uniform baseline), fine-tuned with the weights; prints float and quantised test accuracy as JSON')
    .requiredOption('--model <name|path>', 'zoo model with shipped weights, or path to a model.json')
    .requiredOption('--bits <b>', `activation bits: ${ALLOWED_BITS.join(', ')}`, bitsOption)
    .addOption(new Option('--method <method>', 'st (Squeeze-and-Threshold) or uniform').choices(['st', 'uniform']).default('st'))
    .option('--epochs <n>', 'fine-tuning epochs (0: calibrate only)', whole('epochs', 0), 2)
    .option('--train-limit <n>', 'fine-tune on the first n training samples only', whole('train limit', 1))
    .option('--batch-size <n>', 'batch size', whole('batch size', 1), 64)
    .option('--lr <rate>', 'Adam learning rate for the model weights (cosine-annealed)', positive('learning rate'), 1e-3)
    .option('--quantiser-lr <rate>', 'Adam learning rate for thresholds, levels, ranges and attention (cosine-annealed)', positive('quantiser learning rate'), 5e-3)
    .option('--seed <n>', 'seed for shuffling and the attention layers', whole('seed', 1), 1)
    .option('--calibration <n>', 'training samples the initial ranges are measured on', whole('calibration', 1), 256)
    .option('--dense', 'also quantise the inputs of Dense layers')
    .option('--per-channel', 'uniform: one clipping range per channel instead of per tensor')
    .action(async (opts: QuantiseCliOptions) => {
      const backend = await initNodeBackend(program.opts().backend ?? 'wasm');
      const isPath = opts.model.endsWith('.json');
      const entry = isPath ? null : zooEntry(opts.model);
      const model = isPath ? await loadModelFromPath(opts.model) : await loadShippedModel(opts.model).catch((e: Error) => {
        throw new Error(`no shipped weights for "${opts.model}" (${e.message}); train it and pass its model.json`);
      });
      const task = await taskFor(model, entry?.task);
      const shape = modelInputShape(model);
      const train = samplesToTensors(task.split('train', opts.trainLimit), shape, task.classes.length);
      const test = samplesToTensors(task.split('test'), shape, task.classes.length);
      try {
        const float = await evaluate(model, test);
        process.stderr.write(`float test accuracy ${(float.accuracy * 100).toFixed(2)} %\n`);
        const started = performance.now();
        let lastEpoch = 0;
        const run = await quantiseModel(model, train, {
          method: opts.method,
          bits: opts.bits,
          dense: opts.dense,
          seed: opts.seed,
          uniform: { perChannel: opts.perChannel },
          calibrationSamples: opts.calibration,
          test,
          epochs: opts.epochs,
          batchSize: opts.batchSize,
          learningRate: opts.lr,
          quantiserLearningRate: opts.quantiserLr,
          onProgress: (p) => {
            if (p.epoch !== lastEpoch || p.step === p.totalSteps) {
              lastEpoch = p.epoch;
              process.stderr.write(`epoch ${p.epoch}/${opts.epochs}: step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
            }
          },
        });
        const quantised = await run.quantised.evaluate(test);
        const seconds = (performance.now() - started) / 1000;
        print({
          model: opts.model,
          backend,
          task: task.name,
          method: opts.method,
          method_note: METHOD_NOTES[opts.method],
          bits: opts.bits,
          epochs: opts.epochs,
          train_count: train.count,
          test_count: test.count,
          float_accuracy: float.accuracy,
          accuracy: quantised.accuracy,
          delta_pp: Math.round((quantised.accuracy - float.accuracy) * 1e4) / 100,
          calibrated_accuracy: run.calibrated?.accuracy ?? null,
          steps: run.fineTune?.stepsCompleted ?? 0,
          ...(opts.method === 'st' && run.fineTune ? { first_stage_steps: run.fineTune.firstStageSteps } : {}),
          seconds: Math.round(seconds * 10) / 10,
          quantised_layers: run.quantised.summary(),
        });
        run.quantised.dispose();
      } finally {
        disposeBatchable(train);
        disposeBatchable(test);
        model.dispose();
        tf.disposeVariables();
      }
    });
}
