// From a trained model to a network with several operating points (algorithms.md §3): learn the
// layers' noise tolerances, predict every multiplier's error in every layer, search K shared
// instances and N assignments, then fine-tune once for all points together.
import * as tf from '@tensorflow/tfjs';
import { RECALIBRATION_SAMPLES } from '../approx/retrain';
import { ApproxSimulation, type LayerMode } from '../approx/simulate';
import type { Batchable } from '../data/tensors';
import { sampleLayer } from '../noise/error-model';
import { accuracyOf, candidateModes, cloneModel, errorModelPairs, type Candidate } from '../noise/mapping';
import { learnTolerance, type ToleranceOptions, type ToleranceProgress } from '../noise/tolerance';
import type { Schedule } from '../train/schedule';
import { yieldToEventLoop } from '../util/yield';
import { OperatingPointNetwork, type ParameterOverhead } from './network';
import { DEFAULT_INSTANCES, DEFAULT_SCALES, searchOperatingPoints, type QosSearchResult } from './search';

export interface QosOptions extends Omit<ToleranceOptions, 'onProgress' | 'shouldStop'> {
  instances?: number;
  scales?: number[];
  finetuneEpochs?: number;
  finetuneLearningRate?: number;
  finetuneSchedule?: Schedule;
  /**
   * Which weights the points share: those the noise-tolerance training left (trained to live with
   * noise), or the model's own.
   */
  weights?: 'noise-trained' | 'original';
  referenceCount?: number;
  fields?: number;
  shouldStop?: () => boolean;
  onProgress?: (p: QosProgress) => void;
}

export type QosPhase = 'tolerance' | 'error-model' | 'search' | 'evaluate' | 'finetune';
export interface QosProgress {
  phase: QosPhase;
  fraction: number;
  detail: string;
  tolerance?: ToleranceProgress;
}

/** The build was cancelled before there were points to keep. */
export class QosCancelledError extends Error {
  constructor() {
    super('cancelled before the operating points were built');
    this.name = 'QosCancelledError';
  }
}

export interface QosPointResult {
  scale: number;
  relativePower: number;
  accuracyBefore: number;
  accuracyAfter: number;
  assignment: Record<string, string>;
}

export interface QosLayerInfo {
  name: string;
  opsShare: number;
  sigma: number;
  sigmaTol: number;
}

export interface QosResult {
  floatAccuracy: number;
  exactAccuracy: number;
  instances: { id: string; name: string; relativePower: number }[];
  points: QosPointResult[];
  layers: QosLayerInfo[];
  overhead: ParameterOverhead;
  /** Per point, each layer's own cheapest fitting multiplier: what K shared instances give up. */
  perLayerOptimal: QosSearchResult['perLayerOptimal'];
  perLayerOptimalInstances: number;
  finetune: { epochs: number; steps: number; cancelled: boolean };
  cancelled: boolean;
  ms: number;
}

/**
 * Builds the operating points on a copy of `model` (which is not changed). The returned network
 * holds that copy: the caller switches points with it and disposes it (network.dispose(), then
 * network.sim.model.dispose()).
 */
export async function buildOperatingPoints(model: tf.LayersModel, train: Batchable, test: Batchable, candidates: Candidate[], options: QosOptions = {}): Promise<{ result: QosResult; network: OperatingPointNetwork }> {
  const started = performance.now();
  const {
    instances = DEFAULT_INSTANCES,
    scales = DEFAULT_SCALES,
    finetuneEpochs = 1,
    finetuneLearningRate = 1e-4,
    finetuneSchedule = 'cosine',
    weights = 'noise-trained',
    referenceCount = 128,
    fields = 512,
    batchSize = 64,
    seed = 1,
    shouldStop = () => false,
    onProgress,
  } = options;
  const report = (phase: QosPhase, fraction: number, detail: string, tolerance?: ToleranceProgress) => onProgress?.({ phase, fraction, detail, tolerance });
  const reference = train.x.slice(0, Math.min(referenceCount, train.count));
  const recalibration = train.x.slice(0, Math.min(RECALIBRATION_SAMPLES, train.count));
  const disposeLater: { dispose(): void }[] = [];
  let network: OperatingPointNetwork | null = null;
  let shared: tf.LayersModel | null = null;
  let sim: ApproxSimulation | null = null;
  try {
    const original = ApproxSimulation.calibrate(model, reference);
    disposeLater.push(original);
    const exactModes = Object.fromEntries(original.multiplyLayers().map((n) => [n, { kind: 'exact' } as LayerMode]));
    const exactAccuracy = await accuracyOf(original, exactModes, test);
    const floatAccuracy = await accuracyOf(original, {}, test);

    const noisy = await cloneModel(model);
    disposeLater.push(noisy);
    report('tolerance', 0, 'learning each layer’s noise tolerance');
    const tolerance = await learnTolerance(noisy, train, { ...options, shouldStop, onProgress: (p) => report('tolerance', p.step / p.totalSteps, `step ${p.step} of ${p.totalSteps}`, p) });

    // Points from a half-learned tolerance would mislead: a cancel here ends the build.
    if (tolerance.cancelled || shouldStop()) throw new QosCancelledError();
    shared = weights === 'noise-trained' ? await cloneModel(noisy) : await cloneModel(model);
    if (weights === 'noise-trained') {
      // Training with noise left BatchNorm's moving statistics behind: measure them on the clean model.
      const clean = ApproxSimulation.calibrate(shared, reference);
      await clean.recalibrateBatchNorm(recalibration, {});
      clean.dispose();
    }
    report('error-model', 0, 'sampling operands and predicting every multiplier’s error');
    sim = ApproxSimulation.calibrate(shared, reference);
    const samples = sim.operandSources(reference).map((src, i) => sampleLayer(src, fields, seed + i));
    const pairs = [];
    for (const [i, s] of samples.entries()) {
      // Only the prediction steers the search; measuring would double the time for nothing.
      pairs.push(...errorModelPairs([s], candidates, { measure: false }));
      report('error-model', (i + 1) / samples.length, `layer ${s.name}`);
      await yieldToEventLoop();
    }
    const stds = new Map(samples.map((s) => [s.name, s.outputStd]));
    const layers: QosLayerInfo[] = tolerance.layers.map((t) => ({ name: t.name, opsShare: t.opsShare, sigma: t.sigma, sigmaTol: t.sigma * stds.get(t.name)! }));

    report('search', 0, `clustering into ${instances} multiplier instances`);
    const search = searchOperatingPoints(layers, pairs, candidates, { instances, scales, seed });
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const modes = candidateModes(candidates);
    network = new OperatingPointNetwork(
      sim,
      search.points.map((p) => modes.assigned(p.assignment)),
    );
    report('evaluate', 0, 'accuracy of every point before fine-tuning');
    await network.recalibrate(recalibration);
    const before: number[] = [];
    for (let p = 0; p < network.points; p++) {
      before.push(await network.accuracy(p, test));
      report('evaluate', (p + 1) / network.points, `point ${p + 1} of ${network.points}`);
    }
    report('finetune', 0, 'fine-tuning all points together');
    const tuned = await network.finetune(train, {
      epochs: finetuneEpochs,
      batchSize,
      learningRate: finetuneLearningRate,
      schedule: finetuneSchedule,
      seed,
      shouldStop,
      onProgress: (p) => report('finetune', p.step / p.totalSteps, `step ${p.step} of ${p.totalSteps}, loss ${p.loss.toFixed(4)}`),
    });
    const after: number[] = [];
    for (let p = 0; p < network.points; p++) after.push(tuned.steps > 0 ? await network.accuracy(p, test) : before[p]);
    network.activate(0);
    const result: QosResult = {
      floatAccuracy,
      exactAccuracy,
      instances: search.instances.map((id) => ({ id, name: byId.get(id)!.name, relativePower: byId.get(id)!.relativePower })),
      points: search.points.map((p, i) => ({ scale: p.scale, relativePower: p.relativePower, accuracyBefore: before[i], accuracyAfter: after[i], assignment: p.assignment })),
      layers,
      overhead: network.parameterOverhead(),
      perLayerOptimal: search.perLayerOptimal,
      perLayerOptimalInstances: search.perLayerOptimalInstances,
      finetune: { epochs: finetuneEpochs, steps: tuned.steps, cancelled: tuned.cancelled },
      cancelled: tolerance.cancelled || tuned.cancelled || shouldStop(),
      ms: performance.now() - started,
    };
    const built = network;
    [network, sim, shared] = [null, null, null];
    return { result, network: built };
  } finally {
    // Still set only on failure.
    if (network) network.dispose();
    else sim?.dispose();
    shared?.dispose();
    for (const d of disposeLater) d.dispose();
    tf.dispose([reference, recalibration]);
  }
}
