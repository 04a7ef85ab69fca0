// From learned tolerances to a multiplier per layer (algorithms.md §2): predict every multiplier's
// error in every layer, give each layer the lowest-power multiplier whose predicted error std fits
// its tolerance, retrain through the chosen multipliers, and compare with single-multiplier
// baselines on the same model.
import * as tf from '@tensorflow/tfjs';
import { sampleCorrelation } from 'simple-statistics';
import type { CatalogueEntry } from '../approx/catalogue';
import { simMultiplier } from '../approx/catalogue';
import { RECALIBRATION_SAMPLES, retrainApproximate, type Selection } from '../approx/retrain';
import { ApproxSimulation, type LayerMode } from '../approx/simulate';
import { accuracyOf } from '../approx/accuracy';
import type { Batchable } from '../data/tensors';
import { modelFromArtifacts, modelToArtifacts } from '../models/io';
import type { Schedule } from '../train/schedule';
import { yieldToEventLoop } from '../util/yield';
import { measureErrorStd, predictErrorStd, sampleLayer, type LayerSample } from './error-model';
import { learnTolerance, multiplyShares, type LayerTolerance, type ToleranceOptions, type ToleranceProgress } from './tolerance';

/** A multiplier the mapping may choose: unsigned, with a known relative power. */
export interface Candidate {
  id: string;
  name: string;
  relativePower: number;
  powerSource: string;
  table: Int32Array;
  entry: CatalogueEntry;
  /** The table is a·b: simulated as the exact quantised layer. */
  exact: boolean;
}

export function candidatesFrom(entries: CatalogueEntry[], exact: CatalogueEntry): Candidate[] {
  const usable = entries
    .filter((e) => !e.table.signed && e.power.relative !== null)
    .map((e) => ({ id: e.id, name: e.name, relativePower: e.power.relative!, powerSource: e.power.source, table: e.table.values, entry: e, exact: isExactTable(e.table.values) }));
  const all = usable.some((c) => c.exact) ? usable : [{ id: exact.id, name: exact.name, relativePower: 1, powerSource: exact.power.source, table: exact.table.values, entry: exact, exact: true }, ...usable];
  return all.sort((a, b) => a.relativePower - b.relativePower || a.name.localeCompare(b.name));
}

function isExactTable(values: Int32Array): boolean {
  for (let i = 0; i < 65536; i++) if (values[i] !== (i >> 8) * (i & 255)) return false;
  return true;
}

export interface ErrorPair {
  layer: string;
  multiplier: string;
  predicted: number;
  measured: number;
}

/** Predicted and measured error std for every (layer, multiplier) pair (measured NaN when not asked for). */
export function errorModelPairs(samples: LayerSample[], candidates: Candidate[], { measure = true } = {}): ErrorPair[] {
  return samples.flatMap((s) => candidates.map((c) => ({ layer: s.name, multiplier: c.id, predicted: predictErrorStd(s, c.table), measured: measure ? measureErrorStd(s, c.table) : NaN })));
}

/** Pearson correlation of predicted against measured, over pairs where either is non-zero. */
export function correlation(pairs: ErrorPair[]): number {
  const used = pairs.filter((p) => p.predicted > 0 || p.measured > 0);
  return used.length < 2 ? NaN : sampleCorrelation(used.map((p) => p.predicted), used.map((p) => p.measured));
}

export interface LayerChoice {
  name: string;
  opsShare: number;
  sigma: number;
  /** std of the exact integer output on reference data. */
  outputStd: number;
  /** σ_tol = σ·std(Y), in integer output units. */
  sigmaTol: number;
  multiplier: string;
  multiplierName: string;
  relativePower: number;
  predicted: number;
  measured: number;
}

/** Each layer's lowest-power candidate with predicted σ̂ ≤ σ_tol (the exact multiplier always fits). */
export function chooseMultipliers(tolerances: LayerTolerance[], samples: LayerSample[], pairs: ErrorPair[], candidates: Candidate[]): LayerChoice[] {
  const byLayer = new Map(samples.map((s) => [s.name, s]));
  return tolerances.map((t) => {
    const outputStd = byLayer.get(t.name)!.outputStd;
    const sigmaTol = t.sigma * outputStd;
    const fits = candidates
      .map((c) => ({ c, pair: pairs.find((p) => p.layer === t.name && p.multiplier === c.id)! }))
      .filter(({ pair }) => pair.predicted <= sigmaTol)
      .sort((a, b) => a.c.relativePower - b.c.relativePower || a.pair.predicted - b.pair.predicted);
    const { c, pair } = fits[0] ?? { c: candidates.find((x) => x.exact)!, pair: { predicted: 0, measured: 0 } };
    return { name: t.name, opsShare: t.opsShare, sigma: t.sigma, outputStd, sigmaTol, multiplier: c.id, multiplierName: c.name, relativePower: c.relativePower, predicted: pair.predicted, measured: pair.measured };
  });
}

/**
 * The layer's next choice with clearly less predicted error: the lowest-power candidate whose σ̂ is
 * at most the present one's ÷ √2, i.e. half the error variance (null when the present one is the
 * exact multiplier). A smaller step could land on a design as harmful as the present one: on the
 * ResNet's first block BAM(4,8) predicts 0.93× TRUNC(9)'s error and breaks the network alike.
 */
export function stepBack(layer: LayerChoice, pairs: ErrorPair[], candidates: Candidate[]): LayerChoice | null {
  const current = candidates.find((c) => c.id === layer.multiplier);
  if (!current || current.exact) return null;
  const better = candidates
    .map((c) => ({ c, pair: pairs.find((p) => p.layer === layer.name && p.multiplier === c.id)! }))
    .filter(({ c, pair }) => c.exact || pair.predicted <= layer.predicted / Math.SQRT2)
    .sort((a, b) => a.c.relativePower - b.c.relativePower || a.pair.predicted - b.pair.predicted)[0];
  if (!better) return null;
  const { c, pair } = better;
  return { ...layer, multiplier: c.id, multiplierName: c.name, relativePower: c.relativePower, predicted: c.exact ? 0 : pair.predicted, measured: c.exact ? 0 : pair.measured };
}

export const energyOf = (layers: { opsShare: number; relativePower: number }[]) => layers.reduce((s, l) => s + l.opsShare * l.relativePower, 0);

export const cloneModel = async (model: tf.LayersModel) => modelFromArtifacts(await modelToArtifacts(model));

export interface MappingOptions extends Omit<ToleranceOptions, 'onProgress' | 'shouldStop'> {
  retrainEpochs?: number;
  retrainLearningRate?: number;
  retrainSchedule?: Schedule;
  /** Reference images the operand statistics are sampled from. */
  referenceCount?: number;
  fields?: number;
  /** Single-multiplier baselines (each retrained like the mapping): skip to save time. */
  baselines?: boolean;
  /** Test digits a baseline candidate is first probed on. */
  probeCount?: number;
  /**
   * Training digits kept out of the retraining: the mapping and every baseline keep the weights
   * (before retraining or after an epoch) that score best on them, and the guard checks the
   * choice on them.
   */
  validation?: Batchable;
  /**
   * Largest loss of the choice (before retraining, against the exact multiplier) on the validation
   * digits, as a fraction; above it the guard steps layers back, one at a time, to more accurate
   * multipliers. 0 turns the guard off. Default 0.05.
   */
  guard?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: MappingProgress) => void;
}

export type MappingPhase = 'tolerance' | 'error-model' | 'guard' | 'evaluate' | 'retrain' | 'baselines';
export interface MappingProgress {
  phase: MappingPhase;
  /** 0..1 within the phase. */
  fraction: number;
  detail: string;
  tolerance?: ToleranceProgress;
}

/** One step of the guard: a layer moved to a more accurate multiplier, and the accuracy that reached. */
export interface GuardStep {
  layer: string;
  from: string;
  to: string;
  relativeEnergy: number;
  validationAccuracy: number;
}

export interface GuardReport {
  budget: number;
  /** Validation accuracy of the exact multiplier, and of the choice before any step. */
  exactAccuracy: number;
  chosenAccuracy: number;
  steps: GuardStep[];
  samples: number;
}

export interface Baseline {
  kind: 'same-energy' | 'same-accuracy';
  multiplier: string;
  multiplierName: string;
  relativeEnergy: number;
  accuracyBefore: number;
  accuracy: number;
  selection?: Selection;
}

/**
 * The same-accuracy search retrains a single multiplier only if, before retraining, it scores within
 * this much of the mapping's retrained accuracy, and retrains at most PROBE_RETRAINS of them.
 */
export const PROBE_MARGIN = 0.02;
export const PROBE_RETRAINS = 3;

export interface BaselineProbe {
  multiplier: string;
  multiplierName: string;
  relativeEnergy: number;
  accuracy: number;
  /** Within PROBE_MARGIN of the mapping's retrained accuracy: a same-accuracy candidate. */
  withinReach: boolean;
}

export interface MappingResult {
  lambda: number;
  float: { accuracy: number };
  exact: { accuracy: number };
  mapped: { accuracy: number; relativeEnergy: number };
  /** The choice as checked on held-out training digits (absent without them or with the guard off). */
  guard?: GuardReport;
  retrained: { accuracy: number; relativeEnergy: number; selection?: Selection };
  baselines: Baseline[];
  /**
   * How the same-accuracy baseline was searched: every single multiplier probed (cheapest first, its
   * accuracy before retraining on the probe digits) and every one retrained, reached or not.
   */
  baselineSearch?: { probeSamples: number; margin: number; maxRetrained: number; probes: BaselineProbe[]; retrained: Baseline[] };
  layers: LayerChoice[];
  pairs: ErrorPair[];
  correlation: number;
  candidates: { id: string; name: string; relativePower: number; powerSource: string }[];
  tolerance: { steps: number; cancelled: boolean };
  cancelled: boolean;
  ms: number;
}

/** Candidates as layer modes; each table is factorised once per use of this object, not once per layer. */
export function candidateModes(candidates: Candidate[]) {
  const prepared = new Map<string, LayerMode>();
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const of = (c: Candidate): LayerMode => {
    if (c.exact) return { kind: 'exact' };
    let m = prepared.get(c.id);
    if (!m) prepared.set(c.id, (m = { kind: 'approx', multiplier: simMultiplier(c.entry) }));
    return m;
  };
  const uniform = (sim: ApproxSimulation, c: Candidate | null): Record<string, LayerMode> => Object.fromEntries(sim.multiplyLayers().map((n) => [n, c === null ? { kind: 'exact' } : of(c)]));
  /** Modes for a layer → multiplier-id assignment. */
  const assigned = (assignment: Record<string, string>): Record<string, LayerMode> =>
    Object.fromEntries(
      Object.entries(assignment).map(([layer, id]) => {
        const c = byId.get(id);
        if (!c) throw new Error(`layer ${layer} uses multiplier "${id}", which is not in the library`);
        return [layer, of(c)];
      }),
    );
  return { of, uniform, assigned };
}

/**
 * The whole mapping on a copy of `model`: noise-tolerance training, error model, choice, retraining,
 * baselines. `model` itself is not changed.
 */
export async function mapMultipliers(model: tf.LayersModel, train: Batchable, test: Batchable, candidates: Candidate[], options: MappingOptions = {}): Promise<MappingResult> {
  const started = performance.now();
  const { validation, guard: guardBudget = 0.05, retrainEpochs = 1, retrainLearningRate = 1e-4, retrainSchedule = 'cosine', referenceCount = 128, fields = 512, baselines = true, probeCount = 500, batchSize = 64, seed = 1, onProgress, shouldStop = () => false } = options;
  const report = (phase: MappingPhase, fraction: number, detail: string, tolerance?: ToleranceProgress) => onProgress?.({ phase, fraction, detail, tolerance });
  const reference = train.x.slice(0, Math.min(referenceCount, train.count));
  const recalibration = train.x.slice(0, Math.min(RECALIBRATION_SAMPLES, train.count));
  const sims: ApproxSimulation[] = [];
  const mode = candidateModes(candidates);
  const models: tf.LayersModel[] = [];
  try {
    // The user's model quantised with the exact multiplier: the accuracy to keep.
    const original = ApproxSimulation.calibrate(model, reference);
    sims.push(original);
    const exactAccuracy = await accuracyOf(original, mode.uniform(original, null), test);
    const floatAccuracy = await accuracyOf(original, {}, test);

    const noisy = await cloneModel(model);
    models.push(noisy);
    report('tolerance', 0, 'learning each layer’s noise tolerance');
    const tolerance = await learnTolerance(noisy, train, { ...options, shouldStop, onProgress: (p) => report('tolerance', p.step / p.totalSteps, `step ${p.step} of ${p.totalSteps}`, p) });

    // Training with noise left BatchNorm's moving statistics behind: measure them on the clean model.
    const clean = ApproxSimulation.calibrate(noisy, reference);
    await clean.recalibrateBatchNorm(recalibration, {});
    clean.dispose();
    // Baselines start from these same weights: a copy kept before the mapping changes anything.
    const start = baselines ? await cloneModel(noisy) : null;
    if (start) models.push(start);
    const fromStart = async () => {
      const m = await cloneModel(start!);
      models.push(m);
      return m;
    };

    report('error-model', 0, 'sampling operands and predicting every multiplier’s error');
    const sim = ApproxSimulation.calibrate(noisy, reference);
    sims.push(sim);
    const samples = sim.operandSources(reference).map((src, i) => sampleLayer(src, fields, seed + i));
    const pairs: ErrorPair[] = [];
    for (const [i, s] of samples.entries()) {
      pairs.push(...errorModelPairs([s], candidates));
      report('error-model', (i + 1) / samples.length, `layer ${s.name}`);
      await yieldToEventLoop();
    }
    let layers = chooseMultipliers(tolerance.layers, samples, pairs, candidates);
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const modesOf = (choice: LayerChoice[]): Record<string, LayerMode> => Object.fromEntries(choice.map((l) => [l.name, mode.of(byId.get(l.multiplier)!)]));
    let guard: GuardReport | undefined;
    if (validation && guardBudget > 0 && !shouldStop()) {
      report('guard', 0, 'checking the choice on held-out training digits');
      const checked = await guardChoice({ original, exact: mode.uniform(original, null), sim, layers, modesOf, pairs, candidates, validation, calibration: recalibration, budget: guardBudget, report: (f, d) => report('guard', f, d), shouldStop });
      layers = checked.layers;
      guard = checked.report;
    }
    const modes = modesOf(layers);
    const energy = energyOf(layers);
    report('evaluate', 0, 'test accuracy with the chosen multipliers');
    // BatchNorm statistics as the approximate layers shape them (no weight changes yet).
    await sim.recalibrateBatchNorm(recalibration, modes);
    const mappedAccuracy = await accuracyOf(sim, modes, test);

    report('retrain', 0, 'retraining through the chosen multipliers');
    const retrain = (s: ApproxSimulation, m: Record<string, LayerMode>, phase: MappingPhase, label: string) =>
      retrainApproximate(s, m, train, { validation, epochs: retrainEpochs, batchSize, learningRate: retrainLearningRate, schedule: retrainSchedule, seed, shouldStop, onProgress: (p) => report(phase, p.step / p.totalSteps, `${label}: step ${p.step} of ${p.totalSteps}`) });
    const retrained = await retrain(sim, modes, 'retrain', 'mapping');
    const retrainedAccuracy = await accuracyOf(sim, modes, test);

    const found: Baseline[] = [];
    let baselineSearch: MappingResult['baselineSearch'];
    if (baselines && !shouldStop()) {
      const inexact = candidates.filter((c) => !c.exact);
      // Same energy: the dearest single multiplier that still costs no more than the mapping.
      const sameEnergy = [...inexact].reverse().find((c) => c.relativePower <= energy) ?? inexact[0];
      // Same accuracy: the cheapest single multiplier that, retrained alike, keeps the mapping's
      // accuracy. Cheapest first, each is probed on part of the test set; those within PROBE_MARGIN of
      // the target before retraining are retrained (at most PROBE_RETRAINS), until one reaches it.
      const probeSet = { x: test.x.slice(0, Math.min(probeCount, test.count)), y: test.y.slice(0, Math.min(probeCount, test.count)), count: Math.min(probeCount, test.count) };
      const probe = ApproxSimulation.calibrate(await fromStart(), reference);
      sims.push(probe);
      const probes: BaselineProbe[] = [];
      const hopeful: Candidate[] = [];
      try {
        for (const [i, c] of inexact.entries()) {
          if (hopeful.length >= PROBE_RETRAINS || shouldStop()) break;
          report('baselines', i / inexact.length, `probing ${c.name} in every layer`);
          const modes = mode.uniform(probe, c);
          // BatchNorm statistics measured through this multiplier on as many samples as every accuracy
          // reported: on 256, TRUNC(8) in the ResNet read 6 pp below its 1,024-sample accuracy.
          await probe.recalibrateBatchNorm(recalibration, modes);
          const accuracy = await accuracyOf(probe, modes, probeSet);
          const withinReach = accuracy >= retrainedAccuracy - PROBE_MARGIN;
          probes.push({ multiplier: c.id, multiplierName: c.name, relativeEnergy: c.relativePower, accuracy, withinReach });
          if (withinReach) hopeful.push(c);
        }
      } finally {
        tf.dispose([probeSet.x, probeSet.y]);
      }
      const runBaseline = async (kind: Baseline['kind'], c: Candidate, m: tf.LayersModel) => {
        const s = ApproxSimulation.calibrate(m, reference);
        sims.push(s);
        const mm = mode.uniform(s, c);
        await s.recalibrateBatchNorm(recalibration, mm);
        const before = await accuracyOf(s, mm, test);
        const { selection } = await retrain(s, mm, 'baselines', `${c.name} everywhere`);
        return { kind, multiplier: c.id, multiplierName: c.name, relativeEnergy: c.relativePower, accuracyBefore: before, accuracy: await accuracyOf(s, mm, test), selection };
      };
      found.push(await runBaseline('same-energy', sameEnergy, await fromStart()));
      let best: Baseline | null = null;
      const tried: Baseline[] = [];
      for (const c of hopeful) {
        const b = await runBaseline('same-accuracy', c, await fromStart());
        tried.push(b);
        if (b.accuracy >= retrainedAccuracy) {
          best = b;
          break;
        }
        if (!best || b.accuracy > best.accuracy) best = b;
      }
      if (best) found.push(best);
      baselineSearch = { probeSamples: probeSet.count, margin: PROBE_MARGIN, maxRetrained: PROBE_RETRAINS, probes, retrained: tried };
    }
    return {
      lambda: options.lambda ?? 0.2,
      float: { accuracy: floatAccuracy },
      exact: { accuracy: exactAccuracy },
      mapped: { accuracy: mappedAccuracy, relativeEnergy: energy },
      ...(guard ? { guard } : {}),
      retrained: { accuracy: retrainedAccuracy, relativeEnergy: energy, selection: retrained.selection },
      baselines: found,
      ...(baselineSearch ? { baselineSearch } : {}),
      layers,
      pairs,
      correlation: correlation(pairs),
      candidates: candidates.map((c) => ({ id: c.id, name: c.name, relativePower: c.relativePower, powerSource: c.powerSource })),
      tolerance: { steps: tolerance.steps, cancelled: tolerance.cancelled },
      cancelled: tolerance.cancelled || retrained.cancelled || shouldStop(),
      ms: performance.now() - started,
    };
  } finally {
    for (const s of sims) s.dispose();
    for (const m of models) m.dispose();
    tf.dispose([reference, recalibration]);
  }
}

interface GuardInput {
  /** The user's model and its exact modes: the accuracy to keep. */
  original: ApproxSimulation;
  exact: Record<string, LayerMode>;
  /** The noise-trained model the choice is for. */
  sim: ApproxSimulation;
  layers: LayerChoice[];
  modesOf: (layers: LayerChoice[]) => Record<string, LayerMode>;
  pairs: ErrorPair[];
  candidates: Candidate[];
  validation: Batchable;
  calibration: tf.Tensor;
  budget: number;
  report: (fraction: number, detail: string) => void;
  shouldStop: () => boolean;
}

/**
 * Checks the choice on held-out training digits before anything is retrained. The Gaussian noise the
 * tolerances were learned with can be kinder than a multiplier's error (on the ResNet's first block,
 * BAM(4,8) and TRUNC(9) harm like noise of 1.5–1.7× their std), and a choice that loses more than
 * `budget` there rarely retrains back. While it does, every layer in turn is tried one step more
 * accurate (`stepBack`) and the step that buys the most accuracy per energy is taken (`cheapestGain`).
 */
async function guardChoice(g: GuardInput): Promise<{ layers: LayerChoice[]; report: GuardReport }> {
  const exactAccuracy = await accuracyOf(g.original, g.exact, g.validation);
  const score = async (layers: LayerChoice[]) => {
    const modes = g.modesOf(layers);
    // As many BatchNorm samples as every reported accuracy: with 256, the ResNet's choice read 3.7 pp lower.
    await g.sim.recalibrateBatchNorm(g.calibration, modes);
    return accuracyOf(g.sim, modes, g.validation);
  };
  let layers = g.layers;
  let accuracy = await score(layers);
  const report: GuardReport = { budget: g.budget, exactAccuracy, chosenAccuracy: accuracy, steps: [], samples: g.validation.count };
  while (exactAccuracy - accuracy > g.budget && !g.shouldStop()) {
    const trials: { layers: LayerChoice[]; accuracy: number; energy: number; from: LayerChoice; to: LayerChoice }[] = [];
    for (const [i, layer] of layers.entries()) {
      const to = stepBack(layer, g.pairs, g.candidates);
      if (!to || g.shouldStop()) continue;
      g.report(i / layers.length, `step ${report.steps.length + 1}: trying ${layer.name} ${layer.multiplierName} → ${to.multiplierName}`);
      const trial = layers.map((l, j) => (j === i ? to : l));
      trials.push({ layers: trial, accuracy: await score(trial), energy: energyOf(trial), from: layer, to });
    }
    if (trials.length === 0 || g.shouldStop()) break;
    const best = cheapestGain(trials, accuracy, energyOf(layers));
    layers = best.layers;
    accuracy = best.accuracy;
    report.steps.push({ layer: best.from.name, from: best.from.multiplier, to: best.to.multiplier, relativeEnergy: best.energy, validationAccuracy: accuracy });
  }
  return { layers, report };
}

/**
 * The guard's step: the most accuracy per unit of energy among the steps that gain at least half as
 * much as the best one (so that a tiny layer's chance gain on a few digits does not win), or, when
 * none gains, the least harmful.
 */
export function cheapestGain<T extends { accuracy: number; energy: number }>(trials: T[], accuracy: number, energy: number): T {
  const top = Math.max(...trials.map((t) => t.accuracy));
  if (top <= accuracy) return trials.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.energy < a.energy) ? b : a));
  const worth = trials.filter((t) => t.accuracy - accuracy >= (top - accuracy) / 2);
  const rate = (t: T) => (t.accuracy - accuracy) / Math.max(t.energy - energy, 1e-9);
  return worth.reduce((a, b) => (rate(b) > rate(a) ? b : a));
}

/** Tolerance and mapping at several λ, without retraining: the energy/accuracy trade-off curve. */
export async function lambdaSweep(model: tf.LayersModel, train: Batchable, test: Batchable, candidates: Candidate[], lambdas: number[], options: MappingOptions = {}): Promise<{ lambda: number; relativeEnergy: number; accuracy: number }[]> {
  const points: { lambda: number; relativeEnergy: number; accuracy: number }[] = [];
  for (const [i, lambda] of lambdas.entries()) {
    if (options.shouldStop?.()) break;
    const r = await mapMultipliers(model, train, test, candidates, {
      ...options,
      lambda,
      retrainEpochs: 0,
      baselines: false,
      onProgress: (p) => options.onProgress?.({ ...p, fraction: (i + p.fraction) / lambdas.length, detail: `λ = ${lambda}: ${p.detail}` }),
    });
    points.push({ lambda, relativeEnergy: r.mapped.relativeEnergy, accuracy: r.mapped.accuracy });
  }
  return points;
}

export type { LayerTolerance };
export { accuracyOf };
export { multiplyShares };
