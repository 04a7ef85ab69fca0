// qos-studio: batch runs and reproducible figures from the same engine the studio runs in workers.
// Every command prints JSON on stdout (a contract: field names stay); progress goes to stderr.
import { Command, InvalidArgumentError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/backend/node';
import { loadModelFromPath, loadShippedModel, modelFilesAt, readZooManifest } from '../engine/models/io-node';
import { checkFitsData } from '../engine/models/io';
import { ZOO, zooEntry } from '../engine/models/zoo';
import { trainOnTask } from '../engine/train/from-scratch';
import { confusionMatrix, loadTask, taskFor } from './tasks-node';
import { registerQuantise } from './quantise';
import { saveModelToDir } from '../engine/models/io-node';
import { builtinCatalogue, findMultiplier, simulationForm, type CatalogueEntry } from '../engine/approx/catalogue';
import { loadMultiplierFiles, multiplierFilesAt } from '../engine/approx/catalogue-node';
import { multiplierMetrics } from '../engine/approx/metrics';
import { VALIDATION_SAMPLES, type Selection } from '../engine/approx/retrain';
import { MULTIPLY_LAYERS, type Method } from '../engine/approx/simulate';
import { Session, type Assignment, type MappingLibrary } from '../engine/session';
import { nodeHost } from '../engine/host-node';
import { toCsv } from '../engine/util/csv';
import type { MultiplierDtype } from '../engine/approx/import';
import { defaultScales } from '../engine/qos/search';
import type { Baseline } from '../engine/noise/mapping';
import { readFile, writeFile } from 'node:fs/promises';
import { augmentWithExits } from '../engine/exits/augment';
import { labelByFinalClassifier, recordReplay } from '../engine/exits/record';
import { disposeBatchable, modelInputShape, type Batchable } from '../engine/data/tensors';
import { ECG_WINDOW, ecgBatch, ecgNet } from '../engine/models/ecg-net';
import { mitbihStream, samplesToTensors } from '../engine/data/tasks';
import { loadMitbihFromDisk } from '../engine/data/mitbih-node';
import { radarBatch, radarNet } from '../engine/models/radar-net';
import { train as trainModel } from '../engine/train/train';
import { settleBatchNorm } from '../engine/train/settle';
import type { Schedule } from '../engine/train/schedule';
import { parseReplayText, replayToJson } from '../engine/exits/replay-file';
import { finalOnly, MECHANISMS, prepareReplay, replay, type Mechanism, type ReplayOutcome } from '../engine/exits/replay';
import { calibrate, paretoFront, sweep, type SweepPoint } from '../engine/exits/sweep';

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
const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0)) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
  return n;
};
const wholeOrZero = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`);
  return n;
};

const VALIDATION_HELP = 'training digits after --train-limit the retraining picks its best epoch on (scored before retraining and after each epoch; 0: keep the last)';
/** How a retraining chose its weights; null where it had no held-out digits. */
const selectionJson = (s: Selection | undefined) => (s ? { validation_samples: s.samples, validation_accuracies: s.accuracies, kept_epoch: s.keptEpoch } : null);

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
  .description('train a zoo model from its seed (or fine-tune a model.json) on its data set (digits, ECG, radar or keywords); prints test accuracy, and a confusion matrix, as JSON')
  .requiredOption('--model <name|path>', `zoo model (${ZOO.map((e) => e.name).join(', ')}) or path to a model.json`)
  .option('--epochs <n>', 'epochs', int('epochs'), 1)
  .option('--batch-size <n>', 'batch size', int('batch size'), 64)
  .option('--lr <rate>', 'learning rate (Adam)', positive('learning rate'), 1e-3)
  .option('--seed <n>', 'seed for initial weights and shuffling', int('seed'), 1)
  .option('--train-limit <n>', 'use only the first n training samples', int('train limit'))
  .option('--out <dir>', 'save the trained model (model.json + weights.bin) here')
  .action(async (opts: { model: string; epochs: number; batchSize: number; lr: number; seed: number; trainLimit?: number; out?: string }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const isPath = opts.model.endsWith('.json');
    const model = isPath ? await loadModelFromPath(opts.model) : zooEntry(opts.model).build(opts.seed);
    const task = await taskFor(model, isPath ? undefined : zooEntry(opts.model).task);
    const result = await trainOnTask(model, task, {
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
    const confusion = await confusionMatrix(model, task);
    print({
      model: opts.model,
      backend,
      task: task.name,
      epochs: result.epochsCompleted,
      batch_size: opts.batchSize,
      learning_rate: opts.lr,
      seed: opts.seed,
      test_accuracy: result.test.accuracy,
      test_loss: result.test.loss,
      test_count: result.test.count,
      train_seconds: Math.round(result.elapsedMs / 100) / 10,
      history: result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, test_loss: h.testLoss, test_accuracy: h.testAccuracy })),
      classes: task.classes,
      confusion_matrix: confusion,
      ...(opts.out ? { saved_to: opts.out } : {}),
    });
    model.dispose();
    tf.disposeVariables();
  });

program
  .command('confusion')
  .description('float test accuracy of a model on its data set\'s held-out split, with the confusion matrix (rows: label, columns: prediction) as JSON')
  .requiredOption('--model <name|path>', `zoo model (${ZOO.map((e) => e.name).join(', ')}) or path to a model.json`)
  .action(async (opts: { model: string }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const isPath = opts.model.endsWith('.json');
    const model = isPath ? await loadModelFromPath(opts.model) : await loadShippedModel(opts.model);
    const task = await taskFor(model, isPath ? undefined : zooEntry(opts.model).task);
    const matrix = await confusionMatrix(model, task);
    const count = matrix.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    const correct = matrix.reduce((s, row, i) => s + row[i], 0);
    print({
      model: opts.model,
      backend,
      task: task.name,
      test_count: count,
      test_accuracy: correct / count,
      classes: task.classes,
      per_class_recall: Object.fromEntries(task.classes.map((c, i) => [c, matrix[i][i] / Math.max(1, matrix[i].reduce((a, b) => a + b, 0))])),
      confusion_matrix: matrix,
    });
    model.dispose();
  });

const DTYPES = ['uint16', 'int16', 'uint32', 'int32'];
const dtypeOption = (v: string) => {
  if (!DTYPES.includes(v)) throw new InvalidArgumentError(`dtype must be one of ${DTYPES.join(', ')}`);
  return v as MultiplierDtype;
};

const metricsRow = (entry: CatalogueEntry) => {
  const m = multiplierMetrics(entry.table);
  const fast = simulationForm(entry, m.float_rank);
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
    // How the simulation runs it: error form (a·b + terms), product form (terms of AM) or lookup.
    fast_form: fast?.form ?? null,
    fast_terms: fast?.terms ?? null,
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
  .option('--method <method>', 'fast (per layer the faster exact way: factorised, or the compiled direct lookup for high-rank tables and for long factorisations on layers without Winograd), factors (factorised wherever the table has factors), lookup or reference', 'fast')
  .option('--limit <n>', 'evaluate on the first n test digits only', int('limit'))
  .option('--rank <r>', 'truncate every multiplier\'s error table to r rank-one terms (an approximation: its residual is reported)', (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 256) throw new InvalidArgumentError('rank must be a whole number from 0 to 256');
    return n;
  })
  .option('--retrain-epochs <n>', 'then retrain through the multipliers (straight-through) for n epochs and evaluate again', int('retrain-epochs'))
  .option('--train-limit <n>', 'retrain on the first n training digits only', int('train-limit'))
  .option('--retrain-lr <rate>', 'learning rate of the retraining (Adam, annealed by a cosine to 2 %)', positive('retrain learning rate'), 1e-4)
  .option('--batchnorm-samples <n>', 'training samples to re-measure BatchNorm statistics on through the multipliers (0: the model\'s own)', wholeOrZero('batchnorm samples'), 1024)
  .option('--seed <n>', 'seed for the retraining\'s shuffling', int('seed'), 1)
  .option('--validation-limit <n>', VALIDATION_HELP, wholeOrZero('validation limit'), VALIDATION_SAMPLES)
  .action(async (opts: { model: string; multiplier?: string; assign: string[]; method: string; limit?: number; rank?: number; retrainEpochs?: number; trainLimit?: number; retrainLr: number; batchnormSamples: number; seed: number; validationLimit: number }) => {
    const started = performance.now();
    if (!['fast', 'factors', 'lookup', 'reference'].includes(opts.method)) throw new Error(`method must be fast, factors, lookup or reference, got ${opts.method}`);
    const backend = await initNodeBackend(program.opts().backend);
    // The same Session the studio's worker runs: one definition of accuracy and energy.
    const session = new Session(nodeHost());
    const summary = opts.model.endsWith('.json') ? (await session.importModel(await modelFilesAt(opts.model))).summary : await session.open({ kind: 'zoo', name: opts.model });
    const builtins = builtinCatalogue();
    const resolve = async (key: string) => (key.endsWith('.bin') ? (await session.importMultipliers(multiplierFilesAt(key)))[0].id : findMultiplier(builtins, key).id);
    const names = summary.layers.filter((l) => MULTIPLY_LAYERS.has(l.type)).map((l) => l.name);
    const assignment: Assignment = {};
    if (opts.multiplier) {
      const id = await resolve(opts.multiplier);
      for (const n of names) assignment[n] = id;
    }
    for (const a of opts.assign) {
      const [layer, key] = a.split('=');
      if (!layer || !key) throw new Error(`--assign takes LAYER=MULTIPLIER, got "${a}"`);
      if (!names.includes(layer)) throw new Error(`no multiply layer "${layer}"; the model has ${names.join(', ')}`);
      assignment[layer] = await resolve(key);
    }
    const chosen = [...new Set(Object.values(assignment))].filter((id) => id !== 'exact');
    const ranks = opts.rank === undefined ? {} : Object.fromEntries(chosen.map((id) => [id, opts.rank!]));
    const residuals = new Map(await Promise.all(Object.entries(ranks).map(async ([id, r]) => [id, await session.truncationResidual(id, r)] as const)));
    const evaluation = { method: opts.method as Method, ranks, limit: opts.limit, batchNormSamples: opts.batchnormSamples };
    const result = await session.evaluateApprox(assignment, evaluation);
    let retrained: Record<string, unknown> | undefined;
    if (opts.retrainEpochs) {
      const request = { epochs: opts.retrainEpochs, batchSize: 64, learningRate: opts.retrainLr, seed: opts.seed, trainLimit: opts.trainLimit, validationLimit: opts.validationLimit };
      const { stepsCompleted, selection } = await session.retrainApprox(assignment, request, undefined, ranks);
      retrained = { accuracy: (await session.evaluateApprox(assignment, evaluation)).accuracy, epochs: opts.retrainEpochs, steps: stepsCompleted, learning_rate: opts.retrainLr, train_limit: opts.trainLimit ?? null, selection: selectionJson(selection) };
    }
    print({
      model: opts.model,
      backend,
      method: opts.method,
      test_count: result.count,
      float_accuracy: result.floatAccuracy,
      quantised_accuracy: result.quantisedAccuracy,
      accuracy: result.accuracy,
      relative_energy: result.relativeEnergy,
      batchnorm_remeasured_on: result.batchNormSamples,
      ...(retrained ? { retrained } : {}),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      layers: result.layers.map((l) => {
        const residual = residuals.get(l.multiplier);
        return {
          name: l.name,
          macs: l.macs,
          share: l.share,
          multiplier: l.multiplier,
          relative_power: l.relativePower,
          ...(residual ? { truncated_rank: opts.rank, residual_max_abs: residual.maxAbs, residual_relative: residual.relative } : {}),
        };
      }),
    });
    tf.disposeVariables();
  });


/** Opens a zoo model or a model.json in a fresh Node session. */
async function openModel(model: string): Promise<Session> {
  const session = new Session(nodeHost());
  if (model.endsWith('.json')) await session.importModel(await modelFilesAt(model));
  else await session.open({ kind: 'zoo', name: model });
  return session;
}

/** Progress on stderr, at most once a second, so stdout stays one JSON document. */
function progressLine(): (text: string) => void {
  let last = 0;
  return (text) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    process.stderr.write(`${text}\n`);
  };
}

const noiseOptions = (cmd: Command) =>
  cmd
    .requiredOption('--model <name|path>', 'zoo model or path to a model.json')
    .option('--lambda <λ>', 'weight of the noise reward in the loss', nonNegative('lambda'), 0.2)
    .option('--epochs <n>', 'noise-tolerance training epochs', int('epochs'), 2)
    .option('--sigma-init <σ>', 'initial relative noise per layer', nonNegative('sigma-init'), 0.1)
    .option('--sigma-max <σ>', 'reward cap per layer', positive('sigma-max'), 0.5)
    .option('--batch-size <n>', 'batch size', int('batch size'), 64)
    .option('--lr <rate>', 'learning rate for the weights (Adam)', positive('learning rate'), 1e-4)
    .option('--sigma-lr <rate>', 'learning rate for the σ (Adam)', positive('sigma learning rate'), 0.01)
    .option('--train-limit <n>', 'train on the first n training digits only', int('train limit'))
    .option('--seed <n>', 'seed for shuffling and noise', int('seed'), 1);

interface NoiseCliOptions {
  model: string;
  lambda: number;
  epochs: number;
  sigmaInit: number;
  sigmaMax: number;
  batchSize: number;
  lr: number;
  sigmaLr: number;
  trainLimit?: number;
  seed: number;
}
const toleranceRequest = (o: NoiseCliOptions) => ({
  lambda: o.lambda,
  epochs: o.epochs,
  sigmaInit: o.sigmaInit,
  sigmaMax: o.sigmaMax,
  batchSize: o.batchSize,
  learningRate: o.lr,
  sigmaLearningRate: o.sigmaLr,
  trainLimit: o.trainLimit,
  seed: o.seed,
});

const baselineJson = (b: Baseline) => ({ kind: b.kind, multiplier: b.multiplier, multiplier_name: b.multiplierName, relative_energy: b.relativeEnergy, accuracy_before_retraining: b.accuracyBefore, accuracy: b.accuracy, selection: selectionJson(b.selection) });

const LIBRARY_HELP = 'the built-in multipliers, or a folder of .bin tables with a metrics.csv (name, power_mw)';
const EXCLUDE_HELP = 'leave this multiplier (id or name) out of the choice (repeatable)';

/** The multipliers a mapping may choose from (built-in, or imported from DIR) and the ids of those `exclude` names. */
async function mappingLibrary(session: Session, library: string, exclude: string[]): Promise<{ library: MappingLibrary; exclude: string[] }> {
  const entries: { id: string; name: string }[] = library === 'builtin' ? builtinCatalogue() : await session.importMultipliers(multiplierFilesAt(library));
  const ids = exclude.map((key) => findMultiplier(entries, key).id);
  if (ids.includes('exact')) throw new Error('--exclude: the exact multiplier is every mapping\'s reference and cannot be left out');
  return { library: library === 'builtin' ? 'builtin' : entries.map((m) => m.id), exclude: ids };
}

noiseOptions(program.command('tolerance').description('learn how much additive Gaussian noise each multiply layer tolerates')).action(async (opts: NoiseCliOptions) => {
  const backend = await initNodeBackend(program.opts().backend);
  const session = await openModel(opts.model);
  const say = progressLine();
  const r = await session.learnTolerance(toleranceRequest(opts), (p) => say(`tolerance: step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(4)}`));
  print({
    model: opts.model,
    backend,
    lambda: opts.lambda,
    epochs: opts.epochs,
    steps: r.steps,
    layers: r.layers.map((l) => ({ name: l.name, ops_share: l.opsShare, macs: l.macs, sigma: l.sigma, sigma_tol: l.sigmaTol, output_std: l.outputStd })),
  });
  tf.disposeVariables();
});

noiseOptions(program.command('map').description('choose a multiplier per layer from learned noise tolerances, retrain, and compare with single-multiplier baselines'))
  .option('--retrain-epochs <n>', 'approximate retraining epochs after mapping', wholeOrZero('retrain epochs'), 1)
  .option('--retrain-lr <rate>', 'learning rate of the retraining (Adam)', positive('retrain learning rate'), 1e-4)
  .addOption(new Option('--retrain-schedule <schedule>', 'learning-rate schedule of the retraining: cosine anneals to 2 %').choices(['cosine', 'constant']).default('cosine'))
  .option('--library <builtin|DIR>', LIBRARY_HELP, 'builtin')
  .option('--exclude <multiplier>', EXCLUDE_HELP, collect, [])
  .option('--no-baselines', 'skip the single-multiplier baselines (each is retrained like the mapping)')
  .option('--validation-limit <n>', VALIDATION_HELP, wholeOrZero('validation limit'), VALIDATION_SAMPLES)
  .option('--guard <pp>', 'most accuracy the choice may lose on the held-out digits before retraining; above it layers step back to more accurate multipliers (0: off)', nonNegative('guard'), 5)
  .option('--sweep <λ,λ,…>', 'also map at these λ without retraining: the energy/accuracy curve', (v: string) => v.split(',').map((x) => nonNegative('sweep λ')(x.trim())))
  .action(async (opts: NoiseCliOptions & { retrainEpochs: number; retrainLr: number; retrainSchedule: Schedule; library: string; exclude: string[]; baselines: boolean; validationLimit: number; guard: number; sweep?: number[] }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const session = await openModel(opts.model);
    const choice = await mappingLibrary(session, opts.library, opts.exclude);
    const request = { ...toleranceRequest(opts), retrainEpochs: opts.retrainEpochs, retrainLearningRate: opts.retrainLr, retrainSchedule: opts.retrainSchedule, baselines: opts.baselines, validationLimit: opts.validationLimit, guard: opts.guard / 100, ...choice };
    const say = progressLine();
    const r = await session.mapMultipliers(request, (p) => say(`${p.phase}: ${p.detail}`));
    const sweep = opts.sweep ? await session.lambdaSweep(opts.sweep, request, (p) => say(`sweep ${p.detail}`)) : undefined;
    print({
      model: opts.model,
      backend,
      library: opts.library,
      excluded: opts.exclude,
      lambda: opts.lambda,
      float: { accuracy: r.float.accuracy },
      exact: { accuracy: r.exact.accuracy },
      mapped: { accuracy: r.mapped.accuracy, relative_energy: r.mapped.relativeEnergy },
      guard: r.guard
        ? {
            budget_pp: 100 * r.guard.budget,
            validation_samples: r.guard.samples,
            exact_validation_accuracy: r.guard.exactAccuracy,
            chosen_validation_accuracy: r.guard.chosenAccuracy,
            steps: r.guard.steps.map((g) => ({ layer: g.layer, from: g.from, to: g.to, relative_energy: g.relativeEnergy, validation_accuracy: g.validationAccuracy })),
          }
        : null,
      retrained: { accuracy: r.retrained.accuracy, relative_energy: r.retrained.relativeEnergy, selection: selectionJson(r.retrained.selection) },
      energy_saving_pct: 100 * (1 - r.retrained.relativeEnergy),
      accuracy_loss_pp: 100 * (r.exact.accuracy - r.retrained.accuracy),
      baselines: r.baselines.map(baselineJson),
      baseline_search: r.baselineSearch
        ? {
            probe_samples: r.baselineSearch.probeSamples,
            within_reach_pp: 100 * r.baselineSearch.margin,
            most_retrained: r.baselineSearch.maxRetrained,
            probes: r.baselineSearch.probes.map((p) => ({ multiplier: p.multiplier, multiplier_name: p.multiplierName, relative_energy: p.relativeEnergy, accuracy_before_retraining: p.accuracy, within_reach: p.withinReach })),
            retrained: r.baselineSearch.retrained.map(baselineJson),
          }
        : null,
      error_model_correlation: r.correlation,
      candidates: r.candidates.map((c) => c.id),
      retraining: { epochs: opts.retrainEpochs, learning_rate: opts.retrainLr, schedule: opts.retrainSchedule },
      layers: r.layers.map((l) => ({
        name: l.name,
        ops_share: l.opsShare,
        sigma: l.sigma,
        sigma_tol: l.sigmaTol,
        output_std: l.outputStd,
        multiplier: l.multiplier,
        multiplier_name: l.multiplierName,
        relative_power: l.relativePower,
        predicted_sigma: l.predicted,
        measured_sigma: l.measured,
      })),
      ...(sweep ? { sweep: sweep.map((p) => ({ lambda: p.lambda, relative_energy: p.relativeEnergy, accuracy: p.accuracy })) } : {}),
      seconds: Math.round(r.ms / 100) / 10,
    });
    tf.disposeVariables();
  });

noiseOptions(program.command('qos').description('build quality-of-service operating points: K shared multiplier instances, N points switched at run time, fine-tuned together'))
  .option('--instances <K>', 'multiplier instances the points share', int('instances'), 4)
  .option('--points <N>', 'operating points (scales 0.3, 1, 2 for three; spread over 0.3–2 otherwise)', int('points'))
  .option('--scales <s,s,…>', 'tolerance scale per point (overrides --points)', (v: string) => v.split(',').map((x) => positive('scale')(x.trim())))
  .option('--finetune-epochs <n>', 'shared-parameter fine-tuning epochs', wholeOrZero('finetune epochs'), 1)
  .option('--finetune-lr <rate>', 'fine-tuning learning rate (Adam)', positive('finetune learning rate'), 1e-4)
  .addOption(new Option('--finetune-schedule <schedule>', 'learning-rate schedule of the fine-tuning: cosine anneals to 2 %').choices(['cosine', 'constant']).default('cosine'))
  .addOption(new Option('--weights <which>', 'weights the points share: after noise-tolerance training, or the model’s own').choices(['noise-trained', 'original']).default('noise-trained'))
  .option('--library <builtin|DIR>', LIBRARY_HELP, 'builtin')
  .option('--exclude <multiplier>', EXCLUDE_HELP, collect, [])
  .option('--test-limit <n>', 'measure accuracy on the first n test digits only', int('test limit'))
  .action(async (opts: NoiseCliOptions & { instances: number; points?: number; scales?: number[]; finetuneEpochs: number; finetuneLr: number; finetuneSchedule: Schedule; weights: 'noise-trained' | 'original'; library: string; exclude: string[]; testLimit?: number }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const session = await openModel(opts.model);
    const choice = await mappingLibrary(session, opts.library, opts.exclude);
    const scales = opts.scales ?? defaultScales(opts.points ?? 3);
    if (opts.points !== undefined && opts.scales && opts.scales.length !== opts.points) throw new Error(`--points ${opts.points} but ${opts.scales.length} scales given`);
    const say = progressLine();
    const r = await session.buildOperatingPoints(
      { ...toleranceRequest(opts), instances: opts.instances, scales, finetuneEpochs: opts.finetuneEpochs, finetuneLearningRate: opts.finetuneLr, finetuneSchedule: opts.finetuneSchedule, weights: opts.weights, ...choice, testLimit: opts.testLimit },
      (p) => say(`${p.phase}: ${p.detail}`),
    );
    // Switching cost as the slider pays it: re-pointing BatchNorm sets and biases, nothing else.
    const switches: number[] = [];
    for (let i = 0; i < 300; i++) switches.push(session.switchOperatingPoint(i % r.points.length).ms);
    switches.sort((a, b) => a - b);
    const inference = await session.operatingPointPredictions(r.points.length - 1, Array.from({ length: 8 }, (_, i) => i));
    const exactAccuracy = r.exactAccuracy;
    print({
      model: opts.model,
      backend,
      library: opts.library,
      excluded: opts.exclude,
      lambda: opts.lambda,
      float_accuracy: r.floatAccuracy,
      exact_accuracy: exactAccuracy,
      instances: r.instances.map((m) => m.id),
      instance_details: r.instances.map((m) => ({ id: m.id, name: m.name, relative_power: m.relativePower })),
      points: r.points.map((p) => ({
        scale: p.scale,
        relative_power: p.relativePower,
        power_saving_pct: 100 * (1 - p.relativePower),
        accuracy_before: p.accuracyBefore,
        accuracy_after: p.accuracyAfter,
        accuracy_loss_pp: 100 * (exactAccuracy - p.accuracyAfter),
        assignment: p.assignment,
      })),
      parameter_overhead_pct: r.overhead.trainablePct,
      parameter_overhead_with_statistics_pct: r.overhead.withStatisticsPct,
      per_point_parameters: { trainable: r.overhead.perPointTrainable, statistics: r.overhead.perPointStatistics, model: r.overhead.modelParams },
      per_layer_optimal: r.perLayerOptimal.map((p) => ({ scale: p.scale, relative_power: p.relativePower, assignment: p.assignment })),
      per_layer_optimal_instances: r.perLayerOptimalInstances,
      monotone: r.points.every((p, i) => i === 0 || (p.relativePower <= r.points[i - 1].relativePower && p.accuracyAfter <= r.points[i - 1].accuracyAfter)),
      switch_ms: { median: switches[switches.length >> 1], max: switches[switches.length - 1], runs: switches.length },
      inference_8_digits_ms: inference.inferenceMs,
      layers: r.layers.map((l) => ({ name: l.name, ops_share: l.opsShare, sigma: l.sigma, sigma_tol: l.sigmaTol })),
      finetune: { ...r.finetune, learning_rate: opts.finetuneLr, schedule: opts.finetuneSchedule },
      seconds: Math.round(r.ms / 100) / 10,
    });
    tf.disposeVariables();
  });

const exits = program.command('exits').description('early exits on streams: replay decision mechanisms on recorded exit outputs');

/**
 * BatchNorm's moving statistics lag a short training run (momentum 0.99): measure them afresh on
 * the training data, then the test accuracy the model really has.
 */

const readReplay = async (file: string) => prepareReplay(parseReplayText(await readFile(file, 'utf8')));
const outcomeJson = (o: ReplayOutcome) => ({ accuracy: o.accuracy, mean_macs: o.meanMacs, relative_cost: o.relativeCost, exit_counts: o.exitCounts, frames: o.frames });

exits
  .command('replay')
  .description('one mechanism at one setting → {accuracy, mean_macs, relative_cost, exit_counts}')
  .requiredOption('--input <file>', 'replay file (JSON)')
  .addOption(new Option('--mechanism <name>', 'decision mechanism').choices(MECHANISMS).makeOptionMandatory())
  .option('--threshold <τ>', 'threshold (every mechanism but patience)', (v: string) => {
    const n = Number(v);
    if (Number.isNaN(n)) throw new InvalidArgumentError('threshold must be a number');
    return n;
  })
  .option('--patience <n>', 'patience n', wholeOrZero('patience'))
  .option('--exit <k>', 'difference: the exit compared, counted from 1', int('exit'), 1)
  .addOption(new Option('--reference <which>', 'difference and feature-difference: compare with the last full inference or the previous frame').choices(['last-full', 'previous']).default('last-full'))
  .action(async (opts: { input: string; mechanism: Mechanism; threshold?: number; patience?: number; exit: number; reference: 'last-full' | 'previous' }) => {
    if (opts.mechanism === 'patience' ? opts.patience === undefined : opts.threshold === undefined) throw new Error(opts.mechanism === 'patience' ? 'patience needs --patience N' : `${opts.mechanism} needs --threshold T`);
    const r = await readReplay(opts.input);
    const o = replay(r, { mechanism: opts.mechanism, threshold: opts.threshold, patience: opts.patience, exit: opts.exit - 1, reference: opts.reference });
    const single = finalOnly(r);
    print({ mechanism: opts.mechanism, ...outcomeJson(o), single_exit: { accuracy: single.accuracy, mean_macs: single.meanMacs } });
  });

exits
  .command('export')
  .description('augment a model with early exits (trained on frozen features) and record a stream through every exit as a replay file')
  .requiredOption('--model <name|path>', 'zoo model or path to a model.json; for --stream ecg or radar: "ecg" or "radar" (trained here from its seed) or a path')
  .addOption(new Option('--stream <name>', 'stream to record: digit video, windows of a synthetic ECG (normal rhythm against bigeminy), the real MIT-BIH record 208 (unlabelled: frames are labelled with the final classifier\'s answer), radar range-Doppler maps of six gestures, or 1 s windows every 0.25 s over a recording made of held-out keyword clips').choices(['digits', 'ecg', 'mitbih', 'radar', 'keywords']).default('digits'))
  .option('--frames <n>', 'frames to record', int('frames'), 2000)
  .requiredOption('--output <file>', 'replay file to write')
  .option('--epochs <n>', 'at most this many epochs per exit branch (early stopping)', int('epochs'), 7)
  .option('--train-limit <n>', 'train the branches on the first n training samples only', int('train limit'))
  .option('--seed <n>', 'seed for the stream, the branches (and the ECG model)', int('seed'), 1)
  .action(async (opts: { model: string; stream: 'digits' | 'ecg' | 'mitbih' | 'radar' | 'keywords'; frames: number; output: string; epochs: number; trainLimit?: number; seed: number }) => {
    const backend = await initNodeBackend(program.opts().backend);
    const say = progressLine();
    let model: tf.LayersModel;
    let train: Batchable;
    let test: Batchable;
    let x: tf.Tensor;
    let labels: ArrayLike<number>;
    let streamName: string;
    let modelNote: Record<string, unknown> = {};
    if (opts.stream === 'radar') {
      const full = radarBatch(6000, 100 + opts.seed);
      const n = Math.min(opts.trainLimit ?? full.count, full.count);
      train = n === full.count ? full : { x: full.x.slice(0, n), y: full.y.slice(0, n), count: n };
      if (train !== full) disposeBatchable(full);
      test = radarBatch(2000, 200 + opts.seed);
      if (opts.model === 'radar') {
        model = radarNet(opts.seed);
        await trainModel(model, train, test, { epochs: 6, batchSize: 32, learningRate: 3e-3, schedule: 'cosine', seed: opts.seed, onProgress: (p) => say(`radar model: epoch ${p.epoch}, loss ${p.loss.toFixed(4)}`) });
        modelNote = { radar_model: { epochs: 6, test_accuracy: await settleBatchNorm(model, train, test), params: model.countParams() } };
      } else model = await loadModelFromPath(opts.model);
      const stream = radarBatch(opts.frames, 300 + opts.seed);
      x = stream.x;
      labels = stream.labels;
      stream.y.dispose();
      streamName = 'radar gestures';
    } else if (opts.stream === 'ecg' || opts.stream === 'mitbih') {
      // Training and test recordings from seeds of their own; the stream is a third recording.
      const full = ecgBatch(1800, 100 + opts.seed, 64);
      train = opts.trainLimit ? { x: full.x.slice(0, Math.min(opts.trainLimit, full.count)), y: full.y.slice(0, Math.min(opts.trainLimit, full.count)), count: Math.min(opts.trainLimit, full.count) } : full;
      if (train !== full) disposeBatchable(full);
      test = ecgBatch(600, 200 + opts.seed, 64);
      if (opts.model === 'ecg') {
        model = ecgNet(opts.seed);
        await trainModel(model, train, test, { epochs: 4, batchSize: 32, learningRate: 3e-3, schedule: 'cosine', seed: opts.seed, onProgress: (p) => say(`ECG model: epoch ${p.epoch}, loss ${p.loss.toFixed(4)}`) });
        modelNote = { ecg_model: { epochs: 4, test_accuracy: await settleBatchNorm(model, train, test), params: model.countParams() } };
      } else model = await loadModelFromPath(opts.model);
      if (opts.stream === 'mitbih') {
        const real = mitbihStream(await loadMitbihFromDisk(), opts.frames);
        x = tf.tensor4d(real.values as Float32Array, [real.count, 1, ECG_WINDOW, 1]);
        labels = real.labels;
        streamName = real.name;
      } else {
        // Windows 0.25 s apart: each overlaps the last by seven eighths.
        const stream = ecgBatch(((opts.frames - 1) * 32 + ECG_WINDOW) / 128 + 0.01, 300 + opts.seed, 32);
        x = stream.x.slice(0, Math.min(opts.frames, stream.count));
        labels = stream.labels.slice(0, Math.min(opts.frames, stream.count));
        disposeBatchable(stream);
        streamName = 'ECG windows';
      }
    } else {
      // Digits or keywords: shipped data, a shipped (or given) model, a stream of held-out samples.
      const task = await loadTask(opts.stream);
      model = opts.model.endsWith('.json') ? await loadModelFromPath(opts.model) : await loadShippedModel(opts.model);
      checkFitsData(model, { shape: task.sampleShape, classes: task.classes.length });
      const shape = modelInputShape(model);
      train = samplesToTensors(task.split('train', opts.trainLimit), shape, task.classes.length);
      test = samplesToTensors(task.split('test'), shape, task.classes.length);
      const stream = task.stream(opts.frames, opts.seed);
      const tensors = samplesToTensors(stream, shape, task.classes.length);
      tensors.y.dispose();
      x = tensors.x;
      labels = stream.labels;
      streamName = stream.name;
    }
    const augmented = await augmentWithExits(model, train, test, { epochs: opts.epochs, seed: opts.seed, onProgress: (p) => say(`exit ${p.exit} of ${p.exits}: epoch ${p.epoch}, loss ${p.loss.toFixed(4)}`) });
    disposeBatchable(train);
    const data = await recordReplay(model, augmented, [{ name: streamName, x, labels }]);
    if (opts.stream === 'mitbih') labelByFinalClassifier(data);
    await writeFile(opts.output, JSON.stringify(replayToJson(data)));
    const single = finalOnly(prepareReplay(data));
    print({
      model: opts.model,
      backend,
      stream: opts.stream,
      frames: x.shape[0],
      output: opts.output,
      ...modelNote,
      exits: augmented.exits.map((e, i) => ({ name: data.exits[i].name, layer: e.layer, test_accuracy: e.accuracy, segment_macs: e.segmentMacs, branch_macs: e.branchMacs, epochs: e.epochs })),
      dropped: augmented.dropped.map((d) => ({ layer: d.layer, test_accuracy: d.accuracy })),
      final: { test_accuracy: augmented.finalAccuracy, segment_macs: augmented.finalSegmentMacs, stream_accuracy: single.accuracy },
      ...(opts.stream === 'mitbih' ? { labels_from: 'final classifier: the record is unlabelled, so accuracies are agreement with the single-exit network' } : {}),
    });
    x.dispose();
    disposeBatchable(test);
    tf.disposeVariables();
  });

exits
  .command('sweep')
  .description('every mechanism over a grid of thresholds → JSON curves, Pareto front and calibrated choices')
  .requiredOption('--input <file>', 'replay file (JSON)')
  .option('--steps <n>', 'thresholds per mechanism', int('steps'), 100)
  .option('--exit <k>', 'difference: the exit compared, counted from 1', int('exit'), 1)
  .addOption(new Option('--reference <which>', 'difference and feature-difference: reference').choices(['last-full', 'previous']).default('last-full'))
  .option('--accuracy-floor <pp>', 'calibration: cheapest point within this many points of the single-exit accuracy', nonNegative('accuracy floor'), 2)
  .option('--cost-cap <fraction>', 'calibration: most accurate point at or below this relative cost', positive('cost cap'), 0.5)
  .action(async (opts: { input: string; steps: number; exit: number; reference: 'last-full' | 'previous'; accuracyFloor: number; costCap: number }) => {
    const r = await readReplay(opts.input);
    const t0 = performance.now();
    const curves = sweep(r, { steps: opts.steps, exit: opts.exit - 1, reference: opts.reference });
    const ms = performance.now() - t0;
    const single = finalOnly(r);
    const point = (p: SweepPoint) => ({ ...p.settings, ...(p.settings.exit === undefined ? {} : { exit: p.settings.exit + 1 }), ...outcomeJson(p) });
    const all = Object.values(curves).flat();
    const floor = single.accuracy - opts.accuracyFloor / 100;
    const c = calibrate(all, { accuracyFloor: floor, costCap: opts.costCap });
    const best = (m: Mechanism) => calibrate(curves[m] ?? [], { accuracyFloor: floor, costCap: opts.costCap }).cheapestAbove;
    print({
      frames: r.streams.reduce((s, x) => s + x.frames, 0),
      single_exit: { accuracy: single.accuracy, mean_macs: single.meanMacs },
      curves: Object.fromEntries(Object.entries(curves).map(([m, ps]) => [m, ps.map(point)])),
      pareto_front: paretoFront(all).map(point),
      calibration: {
        accuracy_floor: floor,
        cost_cap: opts.costCap,
        best_ratio: c.bestRatio && point(c.bestRatio),
        cheapest_above_floor: c.cheapestAbove && point(c.cheapestAbove),
        most_accurate_under_cap: c.mostAccurateUnder && point(c.mostAccurateUnder),
        cheapest_above_floor_per_mechanism: Object.fromEntries(MECHANISMS.filter((m) => curves[m]).map((m) => [m, best(m) && point(best(m)!)])),
      },
      sweep_ms: ms,
    });
  });

registerQuantise(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`qos-studio: ${e.message}\n`);
  process.exit(1);
});
