// One studio session: the data set, the open model and the jobs run on it. The worker exposes this
// class as it is; Node tests drive it directly with a file-backed host.
import * as tf from '@tensorflow/tfjs';
import { fetchDigits, fetchJson, type BlobCache, type Digits } from './data/digits';
import { disposeBatchable, modelInputShape, type Batchable } from './data/tensors';
import { fetchKeywords } from './data/keywords';
import { fetchMitbih } from './data/mitbih';
import { melInitialCutoffs, SincConv, sincPassBands, type PassBand } from './models/sinc-conv';
// Registers the grouped 1x1 convolution's channel slice, so keyword models load (SincConv registers with the import above).
import './models/grouped-conv';
import { labelByFinalClassifier } from './exits/record';
import { digitsTask, ecgTask, keywordsTask, mitbihStream, pictures, radarTask, rows, samplesToTensors, sampleSize, taskFitting, type Task, type TaskName } from './data/tasks';
import { artifactsFromFiles, ModelFileError, modelFromArtifacts, modelToArtifacts, type NamedBytes } from './models/io';
import { describeLayers, totalMacs, type LayerInfo } from './models/macs';
import { zooManifestSchema, type ZooModel } from './models/zoo-manifest';
import { evaluate, type Evaluation } from './train/evaluate';
import { train, validateTrainOptions, type TrainProgress, type TrainResult } from './train/train';
import { ApproxSimulation, type LayerMode, type Method, type SimMultiplier } from './approx/simulate';
import { MultiplierCatalogue, type MultiplierSummary } from './approx/catalogue-store';
import { simMultiplier } from './approx/catalogue';
import { RECALIBRATION_SAMPLES, retrainApproximate, VALIDATION_SAMPLES, type Selection } from './approx/retrain';
import { disposeStatistics, normaliseWith, type BatchNormStatistics } from './train/batchnorm-stats';
import { sampleLayer } from './noise/error-model';
import { inMappingLibrary, type MappingLibrary } from './noise/library-choice';
import { candidateModes, candidatesFrom, cloneModel, lambdaSweep, mapMultipliers, type Candidate, type MappingOptions, type MappingProgress, type MappingResult } from './noise/mapping';
import { learnTolerance, type LayerTolerance, type ToleranceOptions, type ToleranceProgress, type ToleranceResult } from './noise/tolerance';
import { yieldToEventLoop } from './util/yield';
import { buildOperatingPoints, type QosOptions, type QosProgress, type QosResult } from './qos/build';
import { OperatingPointNetwork } from './qos/network';
import type { Affine } from './approx/quantise';
import { augmentWithExits } from './exits/augment';
import { recordReplay } from './exits/record';
import { parseReplayText, type ReplayData } from './exits/replay-file';
import { availableMechanisms, emptyTrace, finalOnly, MECHANISMS, prepareReplay, type Mechanism, type PreparedReplay, type ReplayTrace } from './exits/replay';
import { exitStatistics, type ExitStreamStats } from './exits/stats';
import { calibrate, paretoFront, sweep, type Calibration, type SweepPoint as ThresholdPoint } from './exits/sweep';
import { inputBytes as modelInputBytes, mapToHardware, segmentProfiles, type HardwareMapping, type HardwareSpec, type SegmentProfile } from './exits/hardware';
import type { MechanismSettings } from './exits/replay';
import { replay as replayMechanism } from './exits/replay';
import { quantisationStudy, type QuantStudy, type QuantStudyProgress, type QuantStudyRequest } from './quant/study';

export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

export interface SessionHost {
  /** Base URL of the shipped files (data/, models/). */
  baseUrl: string;
  fetch: typeof fetch;
  /** Where user models are kept between visits (IndexedDB in the browser). */
  storage: KeyValueStore;
  /** Where the data set's blob is kept between visits (Cache Storage in the browser). */
  blobCache?: BlobCache;
}

export type ModelSource = { kind: 'zoo'; name: string } | { kind: 'user'; id: string };

export interface ModelSummary {
  source: ModelSource;
  name: string;
  title: string;
  description: string;
  layers: LayerInfo[];
  params: number;
  macs: number;
  inputShape: number[];
  /** The data the model is about, and its class names. */
  task: TaskName;
  taskTitle: string;
  classes: string[];
  /** What the zoo script measured for the shipped weights (zoo models only). */
  shippedAccuracy?: number;
}

export interface UserModelMeta {
  id: string;
  name: string;
  fileName: string;
  addedAt: string;
  params: number;
  macs: number;
  /** The data set it fits (models kept before tasks existed are digit models). */
  task?: TaskName;
}

interface StoredUserModel {
  meta: UserModelMeta;
  artifacts: tf.io.ModelArtifacts;
}

export interface SampleBatch {
  count: number;
  height: number;
  width: number;
  /** 0–255 per sample (height × width): grey pictures, or waveforms scaled to fill the range. */
  pixels: Uint8Array;
  display: 'image' | 'waveform';
  labels: number[];
  predictions: number[];
  confidences: number[];
}

export interface ApproxLayerResult {
  name: string;
  macs: number;
  share: number;
  multiplier: string;
  relativePower: number | null;
}

export interface ApproxEvaluation {
  accuracy: number;
  quantisedAccuracy: number;
  floatAccuracy: number;
  /** Σ_l (ops_l/ops)·P_l/P_exact over the multiply layers; null when a multiplier's power is unknown. */
  relativeEnergy: number | null;
  layers: ApproxLayerResult[];
  count: number;
  /** Training samples the BatchNorm statistics were re-measured on through the approximate layers (0: not re-measured). */
  batchNormSamples: number;
  ms: number;
}

export interface EvaluateApproxOptions {
  method?: Method;
  /** Truncated ranks per multiplier id (otherwise each is simulated exactly). */
  ranks?: Record<string, number>;
  /** Evaluate on the first `limit` test digits only. */
  limit?: number;
  /** Training samples to re-measure BatchNorm statistics on through the approximate layers (0: keep the model's). */
  batchNormSamples?: number;
  onProgress?: (done: number, total: number) => void;
}

export type { MappingLibrary } from './noise/library-choice';

export interface ToleranceRequest extends Omit<ToleranceOptions, 'onProgress' | 'shouldStop'> {
  trainLimit?: number;
  referenceCount?: number;
  fields?: number;
}

export interface ToleranceReport {
  layers: (LayerTolerance & { outputStd: number; sigmaTol: number })[];
  steps: number;
  cancelled: boolean;
  history: ToleranceResult['history'];
}

export interface MappingRequest extends Omit<MappingOptions, 'onProgress' | 'shouldStop' | 'validation'> {
  trainLimit?: number;
  /** Training digits after `trainLimit` the retrainings choose their best epoch on (0: keep the last). */
  validationLimit?: number;
  /** Measure accuracies on the first n test digits only (quick looks, tests). */
  testLimit?: number;
  library?: MappingLibrary;
  /** Multiplier ids left out of the choice (the exact multiplier always stays). */
  exclude?: string[];
}

export interface SweepPoint {
  lambda: number;
  relativeEnergy: number;
  accuracy: number;
}

/** Multiplier id per multiply layer; layers left out use the exact multiplier. */
export type Assignment = Record<string, string>;

export interface TrainRequest {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed?: number;
  trainLimit?: number;
  /** Training digits after `trainLimit` the retraining chooses its best epoch on (0: keep the last). */
  validationLimit?: number;
}

export interface QosRequest extends Omit<QosOptions, 'onProgress' | 'shouldStop'> {
  trainLimit?: number;
  testLimit?: number;
  library?: MappingLibrary;
  /** Multiplier ids left out of the choice (the exact multiplier always stays). */
  exclude?: string[];
}

/** Predictions of a few test digits at one operating point, and what switching and inference took. */
export interface PointPredictions {
  point: number;
  indices: number[];
  predictions: number[];
  confidences: number[];
  labels: number[];
  /** The samples drawn as in SampleBatch, one after another (height × width each). */
  pixels: Uint8Array;
  height: number;
  width: number;
  display: 'image' | 'waveform';
  switchMs: number;
  inferenceMs: number;
}

/** A built QoS network as kept between visits: enough to switch points again without rebuilding. */
interface StoredQos {
  version: 1;
  result: QosResult;
  artifacts: tf.io.ModelArtifacts;
  affines: Record<string, Affine>;
  points: Float32Array[][];
}

export interface ExitsRequest {
  /** Frames of the stream to record. */
  frames?: number;
  /** The task's own recording, or (ECG models) the real, unlabelled MIT-BIH record 208. */
  stream?: 'recording' | 'mitbih';
  epochs?: number;
  trainLimit?: number;
  seed?: number;
}

export interface ExitsSummary {
  source: 'model' | 'file';
  /** Model title or file name. */
  title: string;
  classes: number;
  frames: number;
  exits: { name: string; segmentMacs: number; branchMacs: number; testAccuracy: number | null }[];
  dropped: { layer: string; testAccuracy: number }[];
  /** Each exit alone on the replayed stream: accuracy and confidence histograms. */
  stats: ExitStreamStats[];
  /** Frames per stream, in order. */
  streams: { name: string; frames: number }[];
  /** The mechanisms this replay can evaluate (feature-difference needs recorded features). */
  mechanisms: Mechanism[];
  /** Whether the frames' pictures can be shown (an image stream recorded here). */
  pictures: boolean;
  /** Class names, when recorded here from a data set that has them. */
  classNames?: string[];
  /** An unlabelled recording: each frame is labelled with the single-exit network's answer, so accuracy reads as agreement with it. */
  labelsFrom?: 'final classifier';
}

/** Every frame's decision under one setting, with the first exit's confidence and the totals. */
export type StreamTrace = ReplayTrace & { confidence: Float64Array; accuracy: number; meanMacs: number; full: number };

/** A stream's frames as pictures (digit video): 0–255 grey, one frame after another. */
export interface FramePictures {
  height: number;
  width: number;
  pixels: Uint8Array;
}

interface StoredExits {
  data: ReplayData;
  summary: ExitsSummary;
  profiles: { profiles: SegmentProfile[]; inputBytes: number; complete: boolean };
  pictures: FramePictures | null;
}

export interface ExitsSweep {
  single: { accuracy: number; meanMacs: number };
  /** Curves of the mechanisms this replay can evaluate (feature-difference only with recorded features). */
  curves: Partial<Record<Mechanism, ThresholdPoint[]>>;
  front: ThresholdPoint[];
  /** Per mechanism, then over all: the cheapest point within `floorPp` of the single exit's accuracy. */
  cheapest: Record<Mechanism | 'all', ThresholdPoint | null>;
  calibration: Calibration;
  floorPp: number;
  costCap: number;
  ms: number;
}

/** What every replay summary says of the replay itself. */
function replayFacts(data: ReplayData, prepared: PreparedReplay): Pick<ExitsSummary, 'stats' | 'streams' | 'mechanisms'> {
  return { stats: exitStatistics(prepared), streams: data.streams.map((s, i) => ({ name: s.name ?? `stream ${i + 1}`, frames: s.frames.length })), mechanisms: availableMechanisms(prepared) };
}

const USER_PREFIX = 'user-model/';
const QOS_PREFIX = 'qos/';
/** The last replay (built or loaded), so the stream can be played again after a reload. */
const EXITS_KEY = 'exits/current';
const QUANT_PREFIX = 'quant/';
const sourceKey = (s: ModelSource) => (s.kind === 'zoo' ? `zoo:${s.name}` : `user:${s.id}`);

/** A newer open() request won: the caller can ignore this one. */
export class SupersededError extends Error {
  constructor() {
    super('superseded by a later request');
    this.name = 'SupersededError';
  }
}

export class Session {
  private digitsPromise: Promise<Digits> | null = null;
  private readonly generated = new Map<TaskName, Task>();
  private keywordsPromise: Promise<Task> | null = null;
  /** The data set of the open model. */
  private task: Task | null = null;
  private zooPromise: Promise<ZooModel[]> | null = null;
  private model: tf.LayersModel | null = null;
  private summary: ModelSummary | null = null;
  private testSet: { key: string; data: Batchable } | null = null;
  private training = false;
  private openTicket = 0;
  private simulation: ApproxSimulation | null = null;
  private baseline: { count: number; quantised: number; float: number } | null = null;
  private readonly prepared = new Map<string, SimMultiplier>();
  readonly multipliers: MultiplierCatalogue;
  private stopRequested = false;
  /** The open model's operating-point network, once built or restored. */
  private qos: { key: string; network: OperatingPointNetwork; result: QosResult } | null = null;
  /** The replay the exit views work on: recorded here or loaded from a file. */
  private replay: { data: ReplayData; prepared: PreparedReplay } | null = null;
  private replaySummary: ExitsSummary | null = null;
  /** What the hardware mapping needs of the network behind the replay (layer types and weights only when built here). */
  private exitProfiles: { profiles: SegmentProfile[]; inputBytes: number; complete: boolean } | null = null;
  private exitPictures: FramePictures | null = null;

  constructor(private readonly host: SessionHost) {
    this.multipliers = new MultiplierCatalogue(host.storage);
  }

  private url(path: string): string {
    return new URL(path, this.host.baseUrl).href;
  }

  digits(): Promise<Digits> {
    this.digitsPromise ??= fetchDigits(this.url('data/'), this.host.fetch, this.host.blobCache).catch((e) => {
      this.digitsPromise = null;
      throw e;
    });
    return this.digitsPromise;
  }

  /** A data set by name: digits are fetched, the sensor sets generated (once) from their seeds. */
  async taskNamed(name: TaskName): Promise<Task> {
    if (name === 'digits') return digitsTask(await this.digits());
    if (name === 'keywords') {
      this.keywordsPromise ??= fetchKeywords(this.url('data/'), this.host.fetch, this.host.blobCache).then(keywordsTask, (e) => {
        this.keywordsPromise = null;
        throw e;
      });
      return this.keywordsPromise;
    }
    let task = this.generated.get(name);
    if (!task) this.generated.set(name, (task = name === 'ecg' ? ecgTask() : radarTask()));
    return task;
  }

  /** The data set the model fits, its own first (uploads carry no task: digits first, as most uploads are). */
  private taskFitting(model: tf.LayersModel, preferred?: TaskName): Promise<Task> {
    return this.taskNamed(taskFitting(model, preferred));
  }

  private requireTask(): Task {
    if (!this.task) throw new Error('no model is open');
    return this.task;
  }

  /** Samples [0, limit) of a split as input for the open model. */
  private tensors(split: 'train' | 'test', limit?: number): Batchable {
    const task = this.requireTask();
    return samplesToTensors(task.split(split, limit), modelInputShape(this.requireModel()), task.classes.length);
  }

  /**
   * Training samples after the first `trainLimit`, which a retraining limited to those never sees:
   * the digits it picks its epoch on. Undefined when none are left over or none are asked for.
   */
  private heldOut(trainLimit: number | undefined, count = VALIDATION_SAMPLES): Batchable | undefined {
    const task = this.requireTask();
    const all = task.split('train');
    const held = rows(all, trainLimit ?? all.count, count);
    return held.count > 0 ? samplesToTensors(held, modelInputShape(this.requireModel()), task.classes.length) : undefined;
  }

  zoo(): Promise<ZooModel[]> {
    this.zooPromise ??= (async () => {
      return zooManifestSchema.parse(await fetchJson(this.host.fetch, this.url('models/zoo.json'), 'the model zoo')).models;
    })().catch((e) => {
      this.zooPromise = null;
      throw e;
    });
    return this.zooPromise;
  }

  current(): ModelSummary | null {
    return this.summary;
  }

  /** Opens a model; the previous one stays open if this one fails or a later open overtakes it. */
  async open(source: ModelSource): Promise<ModelSummary> {
    this.assertIdle();
    const ticket = ++this.openTicket;
    let model: tf.LayersModel;
    let meta: Pick<ModelSummary, 'name' | 'title' | 'description' | 'shippedAccuracy'>;
    let taskName: TaskName | undefined;
    if (source.kind === 'zoo') {
      const entry = (await this.zoo()).find((m) => m.name === source.name);
      if (!entry) throw new Error(`the zoo has no model "${source.name}"`);
      model = await tf.loadLayersModel(tf.io.http(this.url(entry.path), { fetchFunc: this.host.fetch }));
      meta = { name: entry.name, title: entry.title, description: entry.description, shippedAccuracy: entry.test_accuracy };
      taskName = entry.task as TaskName;
    } else {
      const stored = await this.host.storage.get<StoredUserModel>(USER_PREFIX + source.id);
      if (!stored) throw new Error('this model is no longer stored in the browser; load its files again');
      model = await modelFromArtifacts(stored.artifacts);
      meta = { name: stored.meta.name, title: stored.meta.name, description: stored.meta.fileName.endsWith('.json') ? `Loaded from ${stored.meta.fileName}` : stored.meta.fileName };
      taskName = stored.meta.task;
    }
    let task: Task;
    try {
      task = await this.taskFitting(model, taskName);
      if (ticket !== this.openTicket) throw new SupersededError();
    } catch (e) {
      model.dispose();
      throw e;
    }
    return this.install(model, source, meta, task);
  }

  private install(model: tf.LayersModel, source: ModelSource, meta: Pick<ModelSummary, 'name' | 'title' | 'description' | 'shippedAccuracy'>, task: Task): ModelSummary {
    this.dropSimulation();
    this.dropOperatingPoints();
    this.model?.dispose();
    this.model = model;
    this.task = task;
    const layers = describeLayers(model);
    this.summary = { source, ...meta, layers, params: model.countParams(), macs: totalMacs(layers), inputShape: modelInputShape(model), task: task.name, taskTitle: task.title, classes: task.classes };
    return this.summary;
  }

  private requireSummary(): ModelSummary {
    if (!this.summary) throw new Error('no model is open');
    return this.summary;
  }

  private requireModel(): tf.LayersModel {
    if (!this.model) throw new Error('no model is open');
    return this.model;
  }

  private async testData(): Promise<Batchable> {
    const model = this.requireModel();
    const shape = modelInputShape(model);
    const key = `${this.requireTask().name}:${shape.join('x')}`;
    if (this.testSet?.key !== key) {
      if (this.testSet) disposeBatchable(this.testSet.data);
      this.testSet = { key, data: this.tensors('test') };
    }
    return this.testSet.data;
  }

  async evaluate(): Promise<Evaluation & { ms: number }> {
    const started = performance.now();
    const result = await evaluate(this.requireModel(), await this.testData());
    return { ...result, ms: performance.now() - started };
  }

  /** `count` test samples with the open model's predictions: the first ones, or spread over a recording. */
  async samples(count = 12): Promise<SampleBatch> {
    const model = this.requireModel();
    const task = this.requireTask();
    const all = task.split('test');
    const n = Math.min(count, all.count);
    const indices = Array.from({ length: n }, (_, i) => (task.recording ? Math.floor(((i + 0.5) * all.count) / n) : i));
    const drawn = pictures(task, all, indices);
    const size = sampleSize(task);
    const values = all.values instanceof Uint8Array ? new Uint8Array(n * size) : new Float32Array(n * size);
    indices.forEach((i, j) => values.set(all.values.subarray(i * size, (i + 1) * size), j * size));
    const slice = { values, divide: all.divide, labels: Int32Array.from(indices, (i) => all.labels[i]), count: n };
    const probs = tf.tidy(() => {
      const { x, y } = samplesToTensors(slice, modelInputShape(model), task.classes.length);
      y.dispose();
      return model.predict(x) as tf.Tensor2D;
    });
    const rows = await probs.array();
    probs.dispose();
    const predictions = rows.map((row) => row.indexOf(Math.max(...row)));
    return {
      count: slice.count,
      ...drawn,
      display: task.display,
      labels: Array.from(slice.labels),
      predictions,
      confidences: rows.map((row, i) => row[predictions[i]]),
    };
  }

  async train(request: TrainRequest, onProgress?: (p: TrainProgress) => void): Promise<TrainResult> {
    validateTrainOptions(request);
    this.assertIdle();
    const model = this.requireModel();
    this.training = true;
    this.stopRequested = false;
    const trainSet = this.tensors('train', request.trainLimit);
    try {
      return await train(model, trainSet, await this.testData(), { ...request, onProgress, shouldStop: () => this.stopRequested });
    } finally {
      disposeBatchable(trainSet);
      this.training = false;
      // The weights moved: the 8-bit copy is re-made from them when next needed.
      this.dropSimulation();
    }
  }

  private dropSimulation(): void {
    this.simulation?.dispose();
    this.simulation = null;
    this.baseline = null;
  }

  /** The open model in 8-bit, calibrated on the first 512 training digits; built on first use. */
  private async approxSimulation(): Promise<ApproxSimulation> {
    if (!this.simulation) {
      const model = this.requireModel();
      // Every layer's output for the calibration samples is alive at once: fewer of long inputs (audio).
      const calibration = this.tensors('train', Math.min(512, Math.floor(4_000_000 / sampleSize(this.requireTask()))));
      try {
        this.simulation = ApproxSimulation.calibrate(model, calibration.x);
      } finally {
        disposeBatchable(calibration);
      }
    }
    return this.simulation;
  }

  private async modesFor(sim: ApproxSimulation, assignment: Assignment, ranks: Record<string, number> = {}): Promise<{ modes: Record<string, LayerMode>; layers: ApproxLayerResult[]; relativeEnergy: number | null }> {
    const macs = new Map(this.summary!.layers.map((l) => [l.name, l.macs]));
    const names = sim.multiplyLayers();
    const total = names.reduce((s, n) => s + (macs.get(n) ?? 0), 0);
    const modes: Record<string, LayerMode> = {};
    const layers: ApproxLayerResult[] = [];
    for (const name of names) {
      const id = assignment[name] ?? 'exact';
      const entry = await this.multipliers.entry(id);
      const rank = ranks[id];
      const key = rank === undefined ? id : `${id}@rank${rank}`;
      if (!this.prepared.has(key)) this.prepared.set(key, simMultiplier(entry, { rank }));
      modes[name] = id === 'exact' ? { kind: 'exact' } : { kind: 'approx', multiplier: this.prepared.get(key)! };
      const m = macs.get(name) ?? 0;
      layers.push({ name, macs: m, share: total ? m / total : 0, multiplier: id, relativePower: entry.power.relative });
    }
    const known = layers.every((l) => l.relativePower !== null);
    return { modes, layers, relativeEnergy: known ? layers.reduce((s, l) => s + l.share * l.relativePower!, 0) : null };
  }

  /**
   * Test accuracy with the given multipliers per layer (bit-faithful), against quantised-exact and
   * float. Those two do not depend on the assignment: measured once per simulation and test size.
   * In a model with BatchNorm, the statistics are first re-measured through the approximate layers
   * (as the mapping and every baseline do, and as a deployed network would be calibrated): the
   * statistics the model was trained with belong to exact products, and against them a multiplier
   * whose error shifts each channel's mean can read as useless (BAM(3,7) in every ResNet layer:
   * 14.9 % instead of 96.95 %). The statistics are used for this measurement only; the model keeps its own.
   */
  async evaluateApprox(assignment: Assignment, options: EvaluateApproxOptions = {}): Promise<ApproxEvaluation> {
    const { method = 'fast', ranks = {}, limit, onProgress, batchNormSamples = RECALIBRATION_SAMPLES } = options;
    this.assertIdle();
    const started = performance.now();
    const model = this.requireModel();
    const sim = await this.approxSimulation();
    const { modes, layers, relativeEnergy } = await this.modesFor(sim, assignment, ranks);
    const test = await this.testData();
    const count = Math.min(limit ?? test.count, test.count);
    const exact = Object.fromEntries(sim.multiplyLayers().map((n) => [n, { kind: 'exact' } as LayerMode]));
    const remeasure = batchNormSamples > 0 && Object.values(modes).some((m) => m.kind === 'approx') && model.layers.some((l) => l.getClassName() === 'BatchNormalization');
    const measured = remeasure ? await this.batchNormThrough(sim, modes, batchNormSamples, method) : null;
    const baseline = this.baseline?.count === count ? this.baseline : null;
    const hits = { approx: 0, exact: 0, float: 0 };
    try {
      const hook = measured ? normaliseWith(measured.statistics) : undefined;
      const batch = 250;
      for (let start = 0; start < count; start += batch) {
        const size = Math.min(batch, count - start);
        const batchHits = tf.tidy(() => {
          const x = test.x.slice(start, size);
          const labels = tf.argMax(test.y.slice(start, size), 1);
          const correct = (p: tf.Tensor) => tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), labels), 'float32'));
          const approx = correct(sim.run(x, modes, method, { hook }));
          return baseline ? tf.stack([approx]) : tf.stack([approx, correct(sim.run(x, exact)), correct(model.predict(x) as tf.Tensor)]);
        });
        const [a, e = 0, f = 0] = await batchHits.data();
        batchHits.dispose();
        hits.approx += a;
        hits.exact += e;
        hits.float += f;
        onProgress?.(start + size, count);
        await yieldToEventLoop();
      }
    } finally {
      if (measured) disposeStatistics(measured.statistics);
    }
    this.baseline = baseline ?? { count, quantised: hits.exact / count, float: hits.float / count };
    return {
      accuracy: hits.approx / count,
      quantisedAccuracy: this.baseline.quantised,
      floatAccuracy: this.baseline.float,
      relativeEnergy,
      layers,
      count,
      batchNormSamples: measured?.samples ?? 0,
      ms: performance.now() - started,
    };
  }

  /**
   * BatchNorm statistics measured through the approximate layers on training samples, for one
   * evaluation only: never written into the model, which other calls may read meanwhile.
   */
  private async batchNormThrough(sim: ApproxSimulation, modes: Record<string, LayerMode>, samples: number, method: Method): Promise<{ statistics: BatchNormStatistics; samples: number }> {
    const calibration = this.tensors('train', samples);
    try {
      return { statistics: await sim.batchNormStatistics(calibration.x, modes, 128, method), samples: calibration.count };
    } finally {
      disposeBatchable(calibration);
    }
  }

  /** Imports multiplier tables; a re-imported name replaces its earlier table everywhere. */
  async importMultipliers(files: NamedBytes[]): Promise<MultiplierSummary[]> {
    const added = await this.multipliers.import(files);
    for (const m of added) this.forgetPrepared(m.id);
    return added;
  }

  async removeMultiplier(id: string): Promise<void> {
    await this.multipliers.remove(id);
    this.forgetPrepared(id);
  }

  /** Drops cached factorisations (and the simulation's kernels built from them) of one multiplier. */
  private forgetPrepared(id: string): void {
    for (const key of [...this.prepared.keys()]) if (key === id || key.startsWith(`${id}@`)) this.prepared.delete(key);
    this.dropSimulation();
  }

  /** What truncating a multiplier's error table to `rank` terms leaves out. */
  async truncationResidual(id: string, rank: number): Promise<{ maxAbs: number; relative: number }> {
    const entry = await this.multipliers.entry(id);
    return simMultiplier(entry, { rank }).residual!;
  }

  /** Retrains through the assigned multipliers (straight-through); cancel with cancelTraining(). */
  async retrainApprox(
    assignment: Assignment,
    request: TrainRequest,
    onProgress?: (p: { step: number; totalSteps: number; loss: number }) => void,
    ranks: Record<string, number> = {},
  ): Promise<{ stepsCompleted: number; cancelled: boolean; selection?: Selection }> {
    validateTrainOptions(request);
    this.assertIdle();
    const sim = await this.approxSimulation();
    const { modes } = await this.modesFor(sim, assignment, ranks);
    this.training = true;
    this.stopRequested = false;
    const data = this.tensors('train', request.trainLimit);
    const validation = this.heldOut(request.trainLimit, request.validationLimit);
    try {
      // The weights before retraining are a candidate: score them with statistics measured through the multipliers.
      if (validation) {
        const calibration = data.x.slice(0, Math.min(RECALIBRATION_SAMPLES, data.count));
        await sim.recalibrateBatchNorm(calibration, modes).finally(() => calibration.dispose());
      }
      const result = await retrainApproximate(sim, modes, data, { ...request, validation, shouldStop: () => this.stopRequested, onProgress });
      return { stepsCompleted: result.stepsCompleted, cancelled: result.cancelled, selection: result.selection };
    } finally {
      disposeBatchable(data);
      if (validation) disposeBatchable(validation);
      this.training = false;
      // The simulation was re-quantised step by step; only the accuracies measured before are stale.
      this.baseline = null;
    }
  }

  /** Multipliers the mapping may choose from: the built-in library, the imported tables, or both, less `exclude`. */
  async mappingCandidates(library: MappingLibrary = 'builtin', exclude: string[] = []): Promise<Candidate[]> {
    const entries = await this.multipliers.entries();
    const exact = entries.find((e) => e.id === 'exact')!;
    const inLibrary = entries.filter((e) => inMappingLibrary(e, library));
    const candidates = candidatesFrom(inLibrary.filter((e) => !exclude.includes(e.id)), exact);
    if (!candidates.some((c) => !c.exact)) {
      const usable = candidatesFrom(inLibrary, exact).some((c) => !c.exact);
      throw new Error(usable ? 'every multiplier of this library is left out: there is nothing to choose but the exact one' : 'this library has no approximate multiplier with a known power to choose from');
    }
    return candidates;
  }

  /** Runs a long noise/mapping job on the open model with the shared cancel flag and the data it needs. */
  private async mappingJob<T>(request: { trainLimit?: number; testLimit?: number }, job: (model: tf.LayersModel, train: Batchable, test: Batchable, validation?: Batchable) => Promise<T>, validationCount = 0): Promise<T> {
    this.assertIdle();
    const model = this.requireModel();
    const fullTest = await this.testData();
    const n = Math.min(request.testLimit ?? fullTest.count, fullTest.count);
    const test = n === fullTest.count ? fullTest : { x: fullTest.x.slice(0, n), y: fullTest.y.slice(0, n), count: n };
    this.training = true;
    this.stopRequested = false;
    const trainSet = this.tensors('train', request.trainLimit);
    const validation = this.heldOut(request.trainLimit, validationCount);
    try {
      return await job(model, trainSet, test, validation);
    } finally {
      disposeBatchable(trainSet);
      if (validation) disposeBatchable(validation);
      if (test !== fullTest) disposeBatchable(test);
      this.training = false;
    }
  }

  /**
   * Learns each layer's noise tolerance on a copy of the open model (which stays as it is), and
   * expresses it in integer output units: σ_tol = σ·std(Y) on reference data.
   */
  async learnTolerance(request: ToleranceRequest, onProgress?: (p: ToleranceProgress) => void): Promise<ToleranceReport> {
    return this.mappingJob(request, async (model, train) => {
      const copy = await cloneModel(model);
      const reference = train.x.slice(0, Math.min(request.referenceCount ?? 128, train.count));
      try {
        const result = await learnTolerance(copy, train, { ...request, onProgress, shouldStop: () => this.stopRequested });
        const sim = ApproxSimulation.calibrate(copy, reference);
        const stds = new Map(sim.operandSources(reference).map((src, i) => [src.name, sampleLayer(src, request.fields ?? 512, (request.seed ?? 1) + i).outputStd]));
        sim.dispose();
        return {
          layers: result.layers.map((l) => ({ ...l, outputStd: stds.get(l.name)!, sigmaTol: l.sigma * stds.get(l.name)! })),
          steps: result.steps,
          cancelled: result.cancelled,
          history: result.history,
        };
      } finally {
        reference.dispose();
        copy.dispose();
      }
    });
  }

  /** Tolerance, error model, per-layer choice, retraining and baselines, on a copy of the open model. */
  async mapMultipliers(request: MappingRequest, onProgress?: (p: MappingProgress) => void): Promise<MappingResult> {
    const candidates = await this.mappingCandidates(request.library, request.exclude);
    return this.mappingJob(request, (model, train, test, validation) => mapMultipliers(model, train, test, candidates, { ...request, validation, onProgress, shouldStop: () => this.stopRequested }), request.validationLimit ?? VALIDATION_SAMPLES);
  }

  /** The energy/accuracy curve over several λ (mapping without retraining). */
  async lambdaSweep(lambdas: number[], request: MappingRequest, onProgress?: (p: MappingProgress) => void): Promise<SweepPoint[]> {
    const candidates = await this.mappingCandidates(request.library, request.exclude);
    return this.mappingJob(request, (model, train, test) => lambdaSweep(model, train, test, candidates, lambdas, { ...request, onProgress, shouldStop: () => this.stopRequested }));
  }

  /**
   * Searches K multiplier instances and N operating points for the open model, fine-tunes them
   * together, keeps the network for switching and stores it for later visits. The open model itself
   * is not changed.
   */
  async buildOperatingPoints(request: QosRequest, onProgress?: (p: QosProgress) => void): Promise<QosResult> {
    const candidates = await this.mappingCandidates(request.library, request.exclude);
    const key = sourceKey(this.requireSummary().source);
    const { result, network } = await this.mappingJob(request, (model, train, test) => buildOperatingPoints(model, train, test, candidates, { ...request, onProgress, shouldStop: () => this.stopRequested }));
    this.dropOperatingPoints();
    this.qos = { key, network, result };
    const stored: StoredQos = { version: 1, result, artifacts: await modelToArtifacts(network.sim.model), affines: network.sim.affines(), points: await network.exportPoints() };
    await this.host.storage.set(QOS_PREFIX + key, stored);
    return result;
  }

  /** The open model's operating points from an earlier visit (null when none were built). */
  async restoreOperatingPoints(): Promise<QosResult | null> {
    const key = sourceKey(this.requireSummary().source);
    if (this.qos?.key === key) return this.qos.result;
    const stored = await this.host.storage.get<StoredQos>(QOS_PREFIX + key);
    if (!stored || stored.version !== 1) return null;
    const model = await modelFromArtifacts(stored.artifacts);
    const network = await this.networkFrom(model, stored);
    this.dropOperatingPoints();
    this.qos = { key, network, result: stored.result };
    return stored.result;
  }

  private async networkFrom(model: tf.LayersModel, stored: StoredQos): Promise<OperatingPointNetwork> {
    try {
      const sim = ApproxSimulation.fromAffines(model, stored.affines);
      const modes = candidateModes(await this.mappingCandidates('all'));
      const network = new OperatingPointNetwork(
        sim,
        stored.result.points.map((p) => modes.assigned(p.assignment)),
      );
      network.importPoints(stored.points);
      return network;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Forgets the open model's operating points, here and in storage. */
  async deleteOperatingPoints(): Promise<void> {
    const key = sourceKey(this.requireSummary().source);
    if (this.qos?.key === key) this.dropOperatingPoints();
    await this.host.storage.del(QOS_PREFIX + key);
  }

  private dropOperatingPoints(): void {
    if (!this.qos) return;
    const model = this.qos.network.sim.model;
    this.qos.network.dispose();
    model.dispose();
    this.qos = null;
  }

  private requireQos(): NonNullable<Session['qos']> {
    if (!this.qos || this.qos.key !== sourceKey(this.requireSummary().source)) throw new Error('no operating points for this model: build them first');
    return this.qos;
  }

  /** Makes point `p` the active one; returns how long the switch took. */
  switchOperatingPoint(p: number): { point: number; ms: number } {
    const { network } = this.requireQos();
    const t0 = performance.now();
    network.activate(p);
    return { point: p, ms: performance.now() - t0 };
  }

  /** Switches to point `p` and classifies the given test digits (by index) there. */
  async operatingPointPredictions(p: number, indices: number[]): Promise<PointPredictions> {
    this.assertIdle();
    const { network } = this.requireQos();
    const test = await this.testData();
    if (indices.some((i) => !Number.isInteger(i) || i < 0 || i >= test.count)) throw new Error(`test digit indices must be whole numbers below ${test.count}`);
    const t0 = performance.now();
    network.activate(p);
    const t1 = performance.now();
    const probs = tf.tidy(() => {
      const idx = tf.tensor1d(indices, 'int32');
      return network.sim.run(tf.gather(test.x, idx), network.modes[p]) as tf.Tensor2D;
    });
    const rows = await probs.array();
    probs.dispose();
    const t2 = performance.now();
    const predictions = rows.map((r) => r.indexOf(Math.max(...r)));
    // Labels and pictures from the data set itself: nothing to compute on the device.
    const task = this.requireTask();
    const all = task.split('test');
    const labels = indices.map((i) => all.labels[i]);
    return { point: p, indices, predictions, confidences: rows.map((r, i) => r[predictions[i]]), labels, ...pictures(task, all, indices), display: task.display, switchMs: t1 - t0, inferenceMs: t2 - t1 };
  }

  /**
   * Augments the open model with early exits (the model is not changed) and records a digit video
   * through every exit: the replay the decision mechanisms are then evaluated on.
   */
  async buildExits(request: ExitsRequest, onProgress?: (p: { exit: number; exits: number; epoch: number; loss: number }) => void): Promise<ExitsSummary> {
    const { frames = 2000, epochs = 7, seed = 1 } = request;
    if (!Number.isInteger(frames) || frames < 10 || frames > 20000) throw new Error(`frames must be a whole number from 10 to 20,000 (got ${frames})`);
    const title = this.requireSummary().title;
    return this.mappingJob(request, async (model, train, test) => {
      const augmented = await augmentWithExits(model, train, test, { epochs, seed, onProgress, shouldStop: () => this.stopRequested });
      try {
        if (augmented.cancelled) throw new Error('cancelled before the exits were trained: nothing was changed');
        const task = this.requireTask();
        const real = request.stream === 'mitbih';
        if (real && task.name !== 'ecg') throw new Error('the MIT-BIH record is an ECG: open the ECG model to stream it');
        const stream = real ? mitbihStream(await fetchMitbih(this.url('data/'), this.host.fetch), frames) : task.stream(frames, seed);
        const x = samplesToTensors(stream, modelInputShape(model), task.classes.length);
        let data: ReplayData;
        try {
          data = await recordReplay(model, augmented, [{ name: stream.name, x: x.x, labels: stream.labels }]);
        } finally {
          disposeBatchable(x);
        }
        if (real) labelByFinalClassifier(data);
        const prepared = prepareReplay(data);
        // Waveforms have no picture worth playing; images do.
        const framePictures = task.display === 'image' ? pictures(task, stream, Array.from({ length: stream.count }, (_, i) => i)) : null;
        const summary: ExitsSummary = {
          source: 'model',
          title,
          classes: data.classes,
          frames: stream.count,
          exits: data.exits.map((e, i) => ({ ...e, testAccuracy: i < augmented.exits.length ? augmented.exits[i].accuracy : augmented.finalAccuracy })),
          dropped: augmented.dropped.map((d) => ({ layer: d.layer, testAccuracy: d.accuracy })),
          ...replayFacts(data, prepared),
          pictures: framePictures !== null,
          classNames: task.classes,
          ...(real ? { labelsFrom: 'final classifier' as const } : {}),
        };
        await this.installReplay({ data, summary, profiles: { profiles: segmentProfiles(model, augmented), inputBytes: modelInputBytes(model), complete: true }, pictures: framePictures }, prepared);
        return summary;
      } finally {
        for (const e of augmented.exits) e.model.dispose();
      }
    });
  }

  /**
   * Accuracy against activation bits for each quantiser (each run quantises and fine-tunes a copy;
   * the open model stays as it is). Finished runs are kept for the model's next visit, also when
   * cancelled part way.
   */
  async quantisationStudy(request: QuantStudyRequest & { trainLimit?: number }, onProgress?: (p: QuantStudyProgress) => void): Promise<QuantStudy> {
    const key = sourceKey(this.requireSummary().source);
    const study = await this.mappingJob(request, (model, train, test) => quantisationStudy(model, train, test, request, { onProgress, shouldStop: () => this.stopRequested }));
    if (study.runs.length > 0) await this.host.storage.set(QUANT_PREFIX + key, study);
    return study;
  }

  /** The open model's last accuracy-against-bits study (null when none was run). */
  async restoreQuantisation(): Promise<QuantStudy | null> {
    const stored = await this.host.storage.get<QuantStudy>(QUANT_PREFIX + sourceKey(this.requireSummary().source));
    return stored && Array.isArray(stored.runs) ? stored : null;
  }

  /** Takes a replay file (recorded anywhere); a bad one changes nothing and says where it is wrong. */
  async importReplay(text: string, fileName: string): Promise<ExitsSummary> {
    const data = parseReplayText(text);
    const prepared = prepareReplay(data);
    const summary: ExitsSummary = {
      source: 'file',
      title: fileName,
      classes: data.classes,
      frames: data.streams.reduce((s, x) => s + x.frames.length, 0),
      exits: data.exits.map((e) => ({ ...e, testAccuracy: null })),
      dropped: [],
      ...replayFacts(data, prepared),
      pictures: false,
    };
    // A file carries MACs only: no layer types, weights or activation sizes to check against.
    const profiles = {
      profiles: data.exits.map((e) => ({ name: e.name, macs: e.segmentMacs, weightBytes: 0, layerTypes: [], branchMacs: e.branchMacs, branchWeightBytes: 0, branchLayerTypes: [], outputBytes: 0 })),
      inputBytes: 0,
      complete: false,
    };
    await this.installReplay({ data, summary, profiles, pictures: null }, prepared);
    return summary;
  }

  /** Makes `stored` the replay every exit view works on, and keeps it for the next visit. */
  private async installReplay(stored: StoredExits, prepared = prepareReplay(stored.data)): Promise<void> {
    this.replay = { data: stored.data, prepared };
    this.replaySummary = stored.summary;
    this.exitProfiles = stored.profiles;
    this.exitPictures = stored.pictures;
    await this.host.storage.set(EXITS_KEY, stored);
  }

  /** The replay kept from an earlier visit (null when none is stored), made current again. */
  async restoreExits(): Promise<ExitsSummary | null> {
    if (this.replaySummary) return this.replaySummary;
    const stored = await this.host.storage.get<StoredExits>(EXITS_KEY);
    if (!stored?.data || !stored.summary?.stats) return null;
    const prepared = prepareReplay(stored.data);
    this.replay = { data: stored.data, prepared };
    this.replaySummary = stored.summary;
    this.exitProfiles = stored.profiles;
    this.exitPictures = stored.pictures;
    return stored.summary;
  }

  /** Every frame's decision under one mechanism setting, for the stream player. */
  exitTrace(setting: MechanismSettings): StreamTrace {
    if (!this.replay) throw new Error('no replay yet: build exits for a model or load a replay file');
    const r = this.replay.prepared;
    const frames = r.streams.reduce((n, s) => n + s.frames, 0);
    const trace = emptyTrace(frames);
    const o = replayMechanism(r, setting, trace);
    // The first exit's confidence, whatever the mechanism: the trace every view can show.
    const confidence = new Float64Array(frames);
    let at = 0;
    for (const s of r.streams) for (let t = 0; t < s.frames; t++) confidence[at++] = s.confidence[t * r.exitCount];
    return { ...trace, confidence, accuracy: o.accuracy, meanMacs: o.meanMacs, full: r.full };
  }

  /** Pictures of frames [start, start + count) of the replayed stream, when it was recorded here. */
  exitPictureRange(start: number, count: number): FramePictures | null {
    const p = this.exitPictures;
    if (!p) return null;
    const size = p.height * p.width;
    const frames = p.pixels.length / size;
    const from = Math.max(0, Math.min(frames, start));
    const to = Math.max(from, Math.min(frames, start + count));
    return { height: p.height, width: p.width, pixels: p.pixels.slice(from * size, to * size) };
  }

  /** Every mechanism over `steps` thresholds on the current replay, with the Pareto front and calibrated choices. */
  sweepExits(options: { steps?: number; floorPp?: number; costCap?: number; exit?: number; reference?: 'last-full' | 'previous' } = {}): ExitsSweep {
    if (!this.replay) throw new Error('no replay yet: build exits for a model or load a replay file');
    const { steps = 100, floorPp = 2, costCap = 0.5, exit = 0, reference = 'last-full' } = options;
    const t0 = performance.now();
    const r = this.replay.prepared;
    const curves = sweep(r, { steps, exit, reference });
    const single = finalOnly(r);
    const floor = single.accuracy - floorPp / 100;
    const all = Object.values(curves).flat();
    const cheapest = Object.fromEntries([...MECHANISMS.map((m) => [m, calibrate(curves[m] ?? [], { accuracyFloor: floor, costCap }).cheapestAbove] as const), ['all', calibrate(all, { accuracyFloor: floor, costCap }).cheapestAbove] as const]) as ExitsSweep['cheapest'];
    return { single: { accuracy: single.accuracy, meanMacs: single.meanMacs }, curves, front: paretoFront(all), cheapest, calibration: calibrate(all, { accuracyFloor: floor, costCap }), floorPp, costCap, ms: performance.now() - t0 };
  }

  /**
   * Maps the network behind the replay onto processors in order, with the termination rates of
   * one mechanism setting. `complete` is false for replay files: memory and layer support unchecked.
   */
  mapExitsToHardware(spec: HardwareSpec, setting: MechanismSettings): { mappings: HardwareMapping[]; rates: number[]; complete: boolean } {
    if (!this.replay || !this.exitProfiles) throw new Error('no replay yet: build exits for a model or load a replay file');
    const outcome = replayMechanism(this.replay.prepared, setting);
    const rates = outcome.exitCounts.map((c) => c / outcome.frames);
    return { mappings: mapToHardware(this.exitProfiles.profiles, rates, spec, this.exitProfiles.inputBytes), rates, complete: this.exitProfiles.complete };
  }

  /**
   * The Sinc filters' pass bands of the open model (null when it has no SincConv layer): as they
   * started (the mel-spaced initialisation) and as trained.
   */
  sincBands(): { layer: string; initial: PassBand[]; learned: PassBand[] } | null {
    const layer = this.requireModel().layers.find((l): l is SincConv => l instanceof SincConv);
    if (!layer) return null;
    const init = melInitialCutoffs(layer.filters, layer.sampleRate, layer.minLowHz, layer.minBandHz);
    return { layer: layer.name, initial: sincPassBands(init.low, init.band, layer.minLowHz, layer.minBandHz), learned: layer.passBands() };
  }

  /** One test clip's audio (keyword models), for playing it through the live demo. */
  testClip(index: number): { samples: Float32Array; sampleRate: number; label: number } {
    const task = this.requireTask();
    if (task.name !== 'keywords') throw new Error('the open model does not listen to audio');
    const all = task.split('test');
    const i = ((Math.floor(index) % all.count) + all.count) % all.count;
    const size = sampleSize(task);
    return { samples: Float32Array.from(all.values.subarray(i * size, (i + 1) * size)), sampleRate: 16_000, label: all.labels[i] };
  }

  /** Scores of one second of 16 kHz audio (keyword models): the live demo calls this a few times a second. */
  classifyAudio(samples: Float32Array): { scores: number[]; ms: number } {
    const task = this.requireTask();
    if (task.name !== 'keywords') throw new Error('the open model does not listen to audio');
    const size = sampleSize(task);
    if (samples.length !== size) throw new Error(`expected ${size} samples (1 s at 16 kHz), got ${samples.length}`);
    const t0 = performance.now();
    const scores = tf.tidy(() => (this.requireModel().predict(tf.tensor(samples, [1, ...modelInputShape(this.requireModel())])) as tf.Tensor).dataSync());
    return { scores: Array.from(scores), ms: performance.now() - t0 };
  }

  /** Stops training after the batch in flight; the weights of the last completed step are kept. */
  cancelTraining(): boolean {
    if (!this.training) return false;
    this.stopRequested = true;
    return true;
  }

  /** Validates uploaded model files, stores them, and opens the model. Nothing changes on error. */
  async importModel(files: NamedBytes[]): Promise<{ meta: UserModelMeta; summary: ModelSummary }> {
    this.assertIdle();
    const jsonFiles = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
    if (jsonFiles.length === 0) throw new ModelFileError('no model.json among the files: choose model.json together with its .bin weight files');
    if (jsonFiles.length > 1) throw new ModelFileError(`several .json files (${jsonFiles.map((f) => f.name).join(', ')}): choose one model.json and its .bin files`);
    const [jsonFile] = jsonFiles;
    const text = new TextDecoder().decode(jsonFile.bytes);
    const artifacts = artifactsFromFiles(text, files.filter((f) => f !== jsonFile));
    const model = await modelFromArtifacts(artifacts);
    let task: Task;
    try {
      task = await this.taskFitting(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const topologyName = (artifacts.modelTopology as { config?: { name?: string } } | undefined)?.config?.name;
    const meta = await this.store(model, topologyName || jsonFile.name.replace(/\.json$/i, ''), jsonFile.name, task.name);
    const summary = this.install(model, { kind: 'user', id: meta.id }, { name: meta.name, title: meta.name, description: `Loaded from ${meta.fileName}` }, task);
    return { meta, summary };
  }

  /** Keeps the open model's current weights (after training, say) as a model of the user's. */
  async keepCurrentModel(name: string): Promise<{ meta: UserModelMeta; summary: ModelSummary }> {
    this.assertIdle();
    const model = this.requireModel();
    const meta = await this.store(model, name, `${this.summary!.title}, trained in the studio`, this.requireTask().name);
    this.summary = { ...this.summary!, source: { kind: 'user', id: meta.id }, name: meta.name, title: meta.name, description: meta.fileName, shippedAccuracy: undefined };
    return { meta, summary: this.summary };
  }

  private async store(model: tf.LayersModel, name: string, fileName: string, task: TaskName): Promise<UserModelMeta> {
    const meta: UserModelMeta = {
      id: crypto.randomUUID(),
      name,
      fileName,
      addedAt: new Date().toISOString(),
      params: model.countParams(),
      macs: totalMacs(describeLayers(model)),
      task,
    };
    await this.host.storage.set(USER_PREFIX + meta.id, { meta, artifacts: await modelToArtifacts(model) } satisfies StoredUserModel);
    return meta;
  }

  async listUserModels(): Promise<UserModelMeta[]> {
    const keys = (await this.host.storage.keys()).filter((k) => k.startsWith(USER_PREFIX));
    const stored = await Promise.all(keys.map((k) => this.host.storage.get<StoredUserModel>(k)));
    return stored.flatMap((s) => (s ? [s.meta] : [])).sort((a, b) => a.addedAt.localeCompare(b.addedAt));
  }

  async deleteUserModel(id: string): Promise<void> {
    await this.host.storage.del(USER_PREFIX + id);
  }

  memory(): { numTensors: number; numBytes: number } {
    const { numTensors, numBytes } = tf.memory();
    return { numTensors, numBytes };
  }

  private assertIdle(): void {
    if (this.training) throw new Error('training is running: cancel it first');
  }
}

