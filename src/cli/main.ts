// qos-studio: batch runs and reproducible figures from the same engine the studio runs in workers.
// Every command prints JSON on stdout (a contract: field names stay); progress goes to stderr.
import { Command, InvalidArgumentError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/backend/node';
import { loadDigitsFromDisk } from '../engine/data/digits-node';
import { loadModelFromPath, loadShippedModel, readZooManifest } from '../engine/models/io-node';
import { checkFitsData } from '../engine/models/io';
import { ZOO, zooEntry } from '../engine/models/zoo';
import { trainOnDigits } from '../engine/train/from-scratch';
import { saveModelToDir } from '../engine/models/io-node';
import { builtinCatalogue, findMultiplier, simMultiplier, type CatalogueEntry } from '../engine/approx/catalogue';
import { loadMultiplierFiles } from '../engine/approx/catalogue-node';
import { multiplierMetrics } from '../engine/approx/metrics';
import { ApproxSimulation, type LayerMode, type Method } from '../engine/approx/simulate';
import { sliceDigits } from '../engine/data/digits';
import { disposeBatchable, modelInputShape, sliceToTensors } from '../engine/data/tensors';
import { describeLayers } from '../engine/models/macs';
import { toCsv } from '../engine/util/csv';
import type { MultiplierDtype } from '../engine/approx/import';

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
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
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

const DTYPES = ['uint16', 'int16', 'uint32', 'int32'];
const dtypeOption = (v: string) => {
  if (!DTYPES.includes(v)) throw new InvalidArgumentError(`dtype must be one of ${DTYPES.join(', ')}`);
  return v as MultiplierDtype;
};

const metricsRow = (entry: CatalogueEntry) => {
  const m = multiplierMetrics(entry.table);
  return {
    id: entry.id,
    name: entry.name,
    signed: entry.table.signed,
    mae_pct: m.mae_pct,
    wce_pct: m.wce_pct,
    mre_pct: m.mre_pct,
    ep_pct: m.ep_pct,
    mse: m.mse,
    error_mean: m.error_mean,
    error_std: m.error_std,
    rank: m.rank,
    exact_rank: m.exact_rank,
    float_rank: m.float_rank,
    relative_power: entry.power.relative,
    power_source: entry.power.source,
    ...(entry.power.formula ? { power_formula: entry.power.formula } : {}),
  };
};

program
  .command('multipliers')
  .description('the built-in multiplier library with error metrics, ranks and (estimated) relative power')
  .option('--format <format>', 'json or csv', 'json')
  .action((opts: { format: string }) => {
    const rows = builtinCatalogue().map(metricsRow);
    if (opts.format === 'csv') {
      const keys = Object.keys(rows[0]).filter((k) => k !== 'power_formula');
      process.stdout.write(toCsv(rows, keys.map((key) => ({ key, label: key }))));
    } else if (opts.format === 'json') {
      print(rows);
    } else {
      throw new Error(`format must be json or csv, got ${opts.format}`);
    }
  });

program
  .command('lut-stats')
  .description('error metrics of one multiplier table file (TFApprox/EvoApprox .bin)')
  .argument('<file>', '65,536 little-endian values, first operand major')
  .option('--dtype <dtype>', `value type: ${DTYPES.join(', ')} (default: from the file size)`, dtypeOption)
  .action((file: string, opts: { dtype?: MultiplierDtype }) => {
    const [entry] = loadMultiplierFiles(file, opts.dtype);
    print(metricsRow(entry));
  });

const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command('evaluate')
  .description('test accuracy and relative multiplication energy with approximate multipliers (8-bit, bit-faithful)')
  .requiredOption('--model <name|path>', 'zoo model or path to a model.json')
  .option('--multiplier <name|file>', 'one multiplier for every layer: a built-in id or name, or a .bin table')
  .option('--assign <layer=mult>', 'a multiplier for one layer (repeatable; overrides --multiplier)', collect, [])
  .option('--method <method>', 'fast (factorised, or direct lookup for high-rank tables), lookup or reference', 'fast')
  .option('--limit <n>', 'evaluate on the first n test digits only', int('limit'))
  .option('--rank <r>', 'truncate every multiplier\'s error table to r rank-one terms (an approximation: its residual is reported)', (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 256) throw new InvalidArgumentError('rank must be a whole number from 0 to 256');
    return n;
  })
  .action(async (opts: { model: string; multiplier?: string; assign: string[]; method: string; limit?: number; rank?: number }) => {
    if (!['fast', 'lookup', 'reference'].includes(opts.method)) throw new Error(`method must be fast, lookup or reference, got ${opts.method}`);
    const backend = await initNodeBackend(program.opts().backend);
    const digits = await loadDigitsFromDisk();
    const model = opts.model.endsWith('.json') ? await loadModelFromPath(opts.model) : await loadShippedModel(opts.model);
    const builtins = builtinCatalogue();
    const resolve = (key: string): CatalogueEntry => (key.endsWith('.bin') ? loadMultiplierFiles(key)[0] : findMultiplier(builtins, key));
    const shape = modelInputShape(model);
    const calibration = sliceToTensors(sliceDigits(digits, 'train', 512), shape);
    const test = sliceToTensors(sliceDigits(digits, 'test', opts.limit), shape);
    const sim = ApproxSimulation.calibrate(model, calibration.x);
    const names = sim.multiplyLayers();
    const chosen = new Map<string, CatalogueEntry>();
    if (opts.multiplier) {
      const entry = resolve(opts.multiplier);
      for (const n of names) chosen.set(n, entry);
    }
    for (const a of opts.assign) {
      const [layer, key] = a.split('=');
      if (!layer || !key) throw new Error(`--assign takes LAYER=MULTIPLIER, got "${a}"`);
      if (!names.includes(layer)) throw new Error(`no multiply layer "${layer}"; the model has ${names.join(', ')}`);
      chosen.set(layer, resolve(key));
    }
    const prepared = new Map<string, ReturnType<typeof simMultiplier>>();
    const modes: Record<string, LayerMode> = {};
    for (const n of names) {
      const entry = chosen.get(n);
      if (!entry) {
        modes[n] = { kind: 'exact' };
        continue;
      }
      if (!prepared.has(entry.id)) prepared.set(entry.id, simMultiplier(entry, { rank: opts.rank }));
      modes[n] = { kind: 'approx', multiplier: prepared.get(entry.id)! };
    }
    const accuracyOf = (run: (x: tf.Tensor) => tf.Tensor) => {
      let correct = 0;
      for (let start = 0; start < test.count; start += 250) {
        const size = Math.min(250, test.count - start);
        correct += tf.tidy(() => {
          const p = run(test.x.slice(start, size));
          return tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(test.y.slice(start, size), 1)), 'float32')).dataSync()[0];
        });
      }
      return correct / test.count;
    };
    const started = performance.now();
    const accuracy = accuracyOf((x) => sim.run(x, modes, opts.method as Method));
    const seconds = (performance.now() - started) / 1000;
    const floatAccuracy = accuracyOf((x) => model.predict(x) as tf.Tensor);
    const exactModes = Object.fromEntries(names.map((n) => [n, { kind: 'exact' } as LayerMode]));
    const quantisedAccuracy = accuracyOf((x) => sim.run(x, exactModes));
    const macs = new Map(describeLayers(model).map((l) => [l.name, l.macs]));
    const total = names.reduce((s, n) => s + (macs.get(n) ?? 0), 0);
    const layers = names.map((n) => {
      const entry = chosen.get(n);
      const residual = entry ? prepared.get(entry.id)?.residual : undefined;
      return {
        name: n,
        macs: macs.get(n) ?? 0,
        multiplier: entry?.id ?? 'exact',
        relative_power: entry ? entry.power.relative : 1,
        ...(residual ? { truncated_rank: opts.rank, residual_max_abs: residual.maxAbs, residual_relative: residual.relative } : {}),
      };
    });
    const known = layers.every((l) => l.relative_power !== null);
    print({
      model: opts.model,
      backend,
      method: opts.method,
      test_count: test.count,
      float_accuracy: floatAccuracy,
      quantised_accuracy: quantisedAccuracy,
      accuracy,
      relative_energy: known ? layers.reduce((s, l) => s + (l.macs / total) * l.relative_power!, 0) : null,
      seconds: Math.round(seconds * 10) / 10,
      layers,
    });
    sim.dispose();
    disposeBatchable(calibration);
    disposeBatchable(test);
    model.dispose();
  });

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`qos-studio: ${e.message}\n`);
  process.exit(1);
});
