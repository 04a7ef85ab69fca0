// The one store. Settings persist (versioned) and travel in the URL hash; everything else is the
// runtime picture the engine worker reports. Data flows one way: actions → worker → store → views.
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { BackendChoice } from '../../engine/backend/select';
import type { ApproxEvaluation, Assignment, ExitsSummary, ExitsSweep, FramePictures, StreamTrace, MappingRequest, ModelSource, ModelSummary, PointPredictions, QosRequest, SampleBatch, SweepPoint, ToleranceReport, UserModelMeta } from '../../engine/session';
import type { QosProgress, QosResult } from '../../engine/qos/build';
import type { QuantStudy, QuantStudyProgress } from '../../engine/quant/study';
import type { Bits, QuantMethod } from '../../engine/quant/quantiser';
import type { HardwareMapping, HardwareSpec } from '../../engine/exits/hardware';
import type { MechanismSettings } from '../../engine/exits/replay';
import type { PassBand } from '../../engine/models/sinc-conv';
import type { MappingProgress, MappingResult } from '../../engine/noise/mapping';
import type { ToleranceProgress } from '../../engine/noise/tolerance';
import type { ZooModel } from '../../engine/models/zoo-manifest';
import type { Evaluation } from '../../engine/train/evaluate';
import type { EpochRecord, TrainProgress, TrainResult } from '../../engine/train/train';
import type { NamedBytes } from '../../engine/models/io';
import type { MultiplierSummary, SimulationForm } from '../../engine/approx/catalogue-store';
import { Comlink, startEngineWorker, type EngineHandle } from '../engine-client';
import { DEFAULT_SETTINGS, excludedIds, migrateSettings, STATE_VERSION, type Settings } from './settings';

export interface TrainPoint {
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
  testAccuracy: number | null;
}

export interface TrainingState {
  running: boolean;
  cancelling: boolean;
  progress: TrainProgress | null;
  points: TrainPoint[];
  epochs: EpochRecord[];
  result: TrainResult | null;
  error: string | null;
  cancelRequestedAt: number | null;
  stoppedAfterMs: number | null;
}

export interface StudioState {
  settings: Settings;
  engine: { status: 'starting' | 'ready' | 'error'; choice: BackendChoice | null; error: string | null };
  zoo: ZooModel[];
  userModels: UserModelMeta[];
  summary: ModelSummary | null;
  /** The open model's weights were changed by training here and are not kept anywhere yet. */
  trainedUnsaved: boolean;
  opening: boolean;
  modelError: string | null;
  evaluation: (Evaluation & { ms: number }) | null;
  evaluating: boolean;
  samples: SampleBatch | null;
  importing: boolean;
  importError: string | null;
  importNotice: string | null;
  training: TrainingState;
  multipliers: MultipliersState;
  approx: ApproxState;
  mapping: MappingState;
  qos: QosState;
  exits: ExitsState;
  quant: QuantState;
  keywords: KeywordState;

  set<K extends keyof Settings>(key: K, value: Settings[K]): void;
  applySettings(partial: Partial<Settings>): void;
  startEngine(): Promise<void>;
  openModel(model: string): Promise<void>;
  importFiles(files: NamedBytes[]): Promise<void>;
  deleteUserModel(id: string): Promise<void>;
  keepCurrentModel(name: string): Promise<void>;
  startTraining(): Promise<void>;
  cancelTraining(): Promise<void>;
  resetStudio(): void;
  loadMultipliers(): Promise<void>;
  selectMultiplier(id: string | null): Promise<void>;
  importMultiplierFiles(files: NamedBytes[]): Promise<void>;
  removeMultiplier(id: string): Promise<void>;
  assignMultiplier(layer: string | null, id: string): void;
  setTruncatedRank(id: string, rank: number | null): Promise<void>;
  evaluateAssignment(): Promise<void>;
  retrainAssignment(epochs: number): Promise<void>;
  learnTolerance(): Promise<void>;
  mapMultipliers(): Promise<void>;
  sweepLambda(lambdas: number[]): Promise<void>;
  cancelMapping(): Promise<void>;
  buildOperatingPoints(): Promise<void>;
  cancelOperatingPoints(): Promise<void>;
  restoreOperatingPoints(): Promise<void>;
  deleteOperatingPoints(): Promise<void>;
  selectOperatingPoint(point: number): Promise<void>;
  /** Classifies test digits at a point without changing what the slider shows (the demo's stream). */
  classifyAtPoint(point: number, indices: number[]): Promise<PointPredictions>;
  buildExits(): Promise<void>;
  cancelExits(): Promise<void>;
  importReplayFile(name: string, text: string): Promise<void>;
  /** Maps the exits onto `spec` with the termination rates of the cheapest setting within the floor. */
  mapExits(spec: HardwareSpec): Promise<void>;
  setExitsTab(tab: ExitsTab): void;
  /** The open keyword model's Sinc pass bands (initial and learned). */
  loadSincBands(): Promise<void>;
  /** Scores one second of 16 kHz audio; while one is in flight only the newest waiting second is kept. */
  classifyAudio(samples: Float32Array): Promise<void>;
  /** A test clip's audio, to play through the live demo. */
  testClip(index: number): Promise<{ samples: Float32Array; sampleRate: number; label: number }>;
  /** Accuracy against activation bits for the chosen methods and widths (quantisation view). */
  runQuantisation(): Promise<void>;
  cancelQuantisation(): Promise<void>;
  /** The open model's last study, from this browser's storage. */
  restoreQuantisation(): Promise<void>;
  /** Which run, layer and channel the threshold figure shows. */
  pickQuantLayer(pick: Partial<QuantPick>): void;
  /** Brings the replay kept in this browser back into the engine (after a reload). */
  restoreExits(): Promise<void>;
  /** Replays the stream under `setting`: the player's trace follows. */
  setStreamSetting(setting: MechanismSettings): Promise<void>;
  setStreamFrame(frame: number): void;
  /** Pictures of the frames around `frame`, when the stream was recorded here. */
  loadStreamPictures(frame: number): Promise<void>;
}

export type ExitsTab = 'exits' | 'stream' | 'tradeoff';

export interface QuantPick {
  /** `${method}-${bits}` of one run. */
  run: string | null;
  layer: string | null;
  channel: number;
}

export interface QuantState {
  /** The model `study` belongs to, and the model storage was last asked about. */
  model: string | null;
  checked: string | null;
  running: boolean;
  cancelling: boolean;
  progress: QuantStudyProgress | null;
  study: QuantStudy | null;
  restoring: boolean;
  error: string | null;
  notice: string | null;
  pick: QuantPick;
}
const IDLE_QUANT: QuantState = { model: null, checked: null, running: false, cancelling: false, progress: null, study: null, restoring: false, error: null, notice: null, pick: { run: null, layer: null, channel: 0 } };
export const runKey = (r: { method: QuantMethod; bits: Bits }) => `${r.method}-${r.bits}`;

export interface KeywordState {
  bands: { layer: string; initial: PassBand[]; learned: PassBand[] } | null;
  /** The last second's class scores and how long the engine took. */
  scores: number[] | null;
  ms: number | null;
  /** Seconds scored since the page opened (tests and the status line read it). */
  updates: number;
  error: string | null;
}
const IDLE_KEYWORDS: KeywordState = { bands: null, scores: null, ms: null, updates: 0, error: null };
let pendingAudio: Float32Array | null = null;
let audioInFlight = false;

export interface StreamState {
  setting: MechanismSettings;
  /** The frame the player shows (0-based over all streams). */
  frame: number;
  trace: StreamTrace | null;
  pictures: (FramePictures & { start: number }) | null;
  error: string | null;
}

export interface ExitsState {
  building: boolean;
  cancelling: boolean;
  progress: { exit: number; exits: number; epoch: number; loss: number } | null;
  summary: ExitsSummary | null;
  sweep: ExitsSweep | null;
  error: string | null;
  hardwareSpec: HardwareSpec;
  hardware: { mappings: HardwareMapping[]; rates: number[]; complete: boolean; setting: string } | null;
  hardwareError: string | null;
  tab: ExitsTab;
  /** The engine holds the replay (built, loaded, or restored from this browser's storage). */
  ready: boolean;
  restoring: boolean;
  stream: StreamState;
}

/** Example processors for the mapping panel: plausible orders of magnitude, meant to be edited. */
export const EXAMPLE_HARDWARE: HardwareSpec = {
  processors: [
    { name: 'MCU', macsPerSecond: 50e6, memoryBytes: 256 * 1024, unsupported: [], joulesPerMac: 5e-12 },
    { name: 'edge', macsPerSecond: 5e9, memoryBytes: 8 * 1024 * 1024, unsupported: [], joulesPerMac: 20e-12 },
    { name: 'cloud', macsPerSecond: 1e12, memoryBytes: 1e12, unsupported: [], joulesPerMac: 100e-12 },
  ],
  links: [
    { bytesPerSecond: 125e3, joulesPerByte: 100e-9 },
    { bytesPerSecond: 5e6, joulesPerByte: 20e-9 },
  ],
  latencyLimitSeconds: 0.05,
};

const IDLE_STREAM: StreamState = { setting: { mechanism: 'confidence', threshold: 0.9 }, frame: 0, trace: null, pictures: null, error: null };
const IDLE_EXITS: ExitsState = { building: false, cancelling: false, progress: null, summary: null, sweep: null, error: null, hardwareSpec: EXAMPLE_HARDWARE, hardware: null, hardwareError: null, tab: 'exits', ready: false, restoring: false, stream: IDLE_STREAM };
/** Frames of pictures fetched at once around the player's position. */
const PICTURE_WINDOW = 200;
let streamTicket = 0;

/** The setting the player starts from: the cheapest within the floor, else a plain confidence threshold. */
function startingSetting(sweep: ExitsSweep | null): MechanismSettings {
  const best = sweep?.cheapest.all?.settings;
  return best ? finite(best) : IDLE_STREAM.setting;
}

/** Persisted state is JSON, where an infinite threshold ("never run in full") comes back as null. */
function finite(setting: MechanismSettings): MechanismSettings {
  return setting.threshold === null ? { ...setting, threshold: Infinity } : setting;
}

export interface QosState {
  /** The model the result belongs to: kept across reloads, for that model only. */
  model: string | null;
  building: boolean;
  cancelling: boolean;
  progress: { phase: string; fraction: number; detail: string } | null;
  result: QosResult | null;
  /** The worker holds the network for `result` (built or restored this visit): the slider can switch. */
  ready: boolean;
  restoring: boolean;
  /** Index into result.points. */
  point: number;
  predictions: PointPredictions | null;
  /** From asking for a point to its predictions arriving back: what the slider costs. */
  lastSwitchMs: number | null;
  error: string | null;
  notice: string | null;
}

const IDLE_QOS: QosState = { model: null, building: false, cancelling: false, progress: null, result: null, ready: false, restoring: false, point: 0, predictions: null, lastSwitchMs: null, error: null, notice: null };

/** Test digits shown at the current operating point. */
export const QOS_DIGITS = Array.from({ length: 12 }, (_, i) => i);

export type MappingJob = 'tolerance' | 'map' | 'sweep';

export interface MappingState {
  /** The model the results below belong to: they are kept across reloads, for that model only. */
  model: string | null;
  job: MappingJob | null;
  cancelling: boolean;
  progress: { phase: string; fraction: number; detail: string } | null;
  /** Each layer's σ as the tolerance training runs: the latest report. */
  liveSigmas: Record<string, number> | null;
  tolerance: Omit<ToleranceReport, 'history'> | null;
  result: MappingResult | null;
  sweep: SweepPoint[] | null;
  error: string | null;
}

const IDLE_MAPPING: MappingState = { model: null, job: null, cancelling: false, progress: null, liveSigmas: null, tolerance: null, result: null, sweep: null, error: null };

export interface ApproxState {
  /** Multiplier id per multiply layer of the open model; missing layers are exact. */
  assignment: Assignment;
  evaluating: boolean;
  progress: { done: number; total: number } | null;
  result: ApproxEvaluation | null;
  retraining: boolean;
  retrainProgress: { step: number; totalSteps: number; loss: number } | null;
  error: string | null;
}

const IDLE_APPROX: ApproxState = { assignment: {}, evaluating: false, progress: null, result: null, retraining: false, retrainProgress: null, error: null };

export interface MultipliersState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  list: MultiplierSummary[];
  progress: { done: number; total: number } | null;
  error: string | null;
  selected: string | null;
  errorTable: Int32Array | null;
  /** How the selected multiplier is simulated (loaded with its error table). */
  simulation: SimulationForm | null;
  importing: boolean;
  importError: string | null;
  importNotice: string | null;
  /** Truncated ranks chosen for high-rank multipliers, with what each leaves out. */
  ranks: Record<string, { rank: number; residual: { maxAbs: number; relative: number } | null }>;
}

const IDLE_MULTIPLIERS: MultipliersState = {
  status: 'idle', list: [], progress: null, error: null, selected: null, errorTable: null, simulation: null, importing: false, importError: null, importNotice: null, ranks: {},
};

const IDLE_TRAINING: TrainingState = {
  running: false, cancelling: false, progress: null, points: [], epochs: [], result: null, error: null, cancelRequestedAt: null, stoppedAfterMs: null,
};

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const sourceOf = (model: string): ModelSource => (model.startsWith('user:') ? { kind: 'user', id: model.slice(5) } : { kind: 'zoo', name: model });

// The worker lives outside the store: it is a resource, not state.
let engine: EngineHandle | null = null;
let engineReady: Promise<EngineHandle> | null = null;

function requireEngine(): Promise<EngineHandle> {
  if (!engineReady) throw new Error('the engine has not started');
  return engineReady;
}

export const useStudio = create<StudioState>()(
  persist(
    (setState, getState) => ({
      settings: DEFAULT_SETTINGS,
      engine: { status: 'starting', choice: null, error: null },
      zoo: [],
      userModels: [],
      summary: null,
      trainedUnsaved: false,
      opening: false,
      modelError: null,
      evaluation: null,
      evaluating: false,
      samples: null,
      importing: false,
      importError: null,
      importNotice: null,
      training: IDLE_TRAINING,
      multipliers: IDLE_MULTIPLIERS,
      approx: IDLE_APPROX,
      mapping: IDLE_MAPPING,
      qos: IDLE_QOS,
      exits: IDLE_EXITS,
      quant: IDLE_QUANT,
      keywords: IDLE_KEYWORDS,

      set(key, value) {
        const before = getState().settings;
        setState({ settings: { ...before, [key]: value } });
        if (key === 'backend' && before.backend !== value) void getState().startEngine();
        if (key === 'model' && before.model !== value) void getState().openModel(value as string);
      },

      applySettings(partial) {
        const before = getState().settings;
        const next = { ...before, ...partial };
        setState({ settings: next });
        if (next.model !== before.model && engineReady) void getState().openModel(next.model);
      },

      async startEngine() {
        engine?.terminate();
        const handle = startEngineWorker();
        engine = handle;
        setState({ engine: { status: 'starting', choice: null, error: null }, summary: null, evaluation: null, samples: null, training: IDLE_TRAINING, multipliers: IDLE_MULTIPLIERS, approx: IDLE_APPROX, mapping: { ...getState().mapping, job: null, progress: null, cancelling: false, liveSigmas: null }, qos: { ...getState().qos, building: false, cancelling: false, progress: null, ready: false, restoring: false, predictions: null } });
        engineReady = (async () => {
          const choice = await handle.api.init(getState().settings.backend, new URL(import.meta.env.BASE_URL, window.location.href).href);
          if (engine !== handle) throw new Error('superseded');
          setState({ engine: { status: 'ready', choice, error: null } });
          return handle;
        })();
        try {
          await engineReady;
        } catch (e) {
          if (engine === handle) setState({ engine: { status: 'error', choice: null, error: message(e) } });
          return;
        }
        try {
          const [zoo, userModels] = await Promise.all([handle.api.zoo(), handle.api.listUserModels()]);
          setState({ zoo, userModels });
        } catch (e) {
          setState({ modelError: message(e) });
          return;
        }
        await getState().openModel(getState().settings.model);
      },

      async openModel(model) {
        const { api } = await requireEngine();
        setState({ opening: true, modelError: null });
        try {
          const summary = await api.open(sourceOf(model));
          const kept = getState().mapping;
          const keptQos = getState().qos;
          setState({
            summary,
            trainedUnsaved: false,
            opening: false,
            evaluation: null,
            samples: null,
            evaluating: true,
            approx: IDLE_APPROX,
            mapping: kept.model === model && !getState().trainedUnsaved ? { ...kept, job: null, progress: null, cancelling: false } : IDLE_MAPPING,
            // Opening a model drops the worker's network; the view restores it from storage.
            qos: keptQos.model === model ? { ...keptQos, building: false, cancelling: false, progress: null, ready: false, restoring: false, predictions: null } : IDLE_QOS,
            settings: { ...getState().settings, model },
            keywords: { ...IDLE_KEYWORDS, updates: getState().keywords.updates },
          });
        } catch (e) {
          // A later pick overtook this one (comlink keeps the error's name): nothing to report.
          if (e instanceof Error && e.message.includes('superseded')) return;
          const current = getState().summary;
          // A model that cannot open leaves the previous one in place; with none open, fall back to the zoo default.
          setState({ opening: false, modelError: `Cannot open ${model.startsWith('user:') ? 'your model' : `"${model}"`}: ${message(e)}` });
          if (!current && model !== DEFAULT_SETTINGS.model) await getState().openModel(DEFAULT_SETTINGS.model);
          else if (current) setState({ settings: { ...getState().settings, model: current.source.kind === 'zoo' ? current.source.name : `user:${current.source.id}` } });
          return;
        }
        await refreshEvaluation(api);
      },

      async importFiles(files) {
        const { api } = await requireEngine();
        setState({ importing: true, importError: null, importNotice: null });
        try {
          const { meta, summary } = await api.importModel(Comlink.transfer(files, files.map((f) => f.bytes)));
          setState({
            importing: false,
            userModels: [...getState().userModels, meta],
            summary,
            trainedUnsaved: false,
            approx: IDLE_APPROX,
            mapping: IDLE_MAPPING,
            qos: IDLE_QOS,
            evaluation: null,
            samples: null,
            evaluating: true,
            importNotice: `Loaded “${meta.name}” (${meta.params.toLocaleString('en')} parameters); it is kept in this browser.`,
            settings: { ...getState().settings, model: `user:${meta.id}` },
          });
          await refreshEvaluation(api);
        } catch (e) {
          setState({ importing: false, importError: message(e) });
        }
      },

      async keepCurrentModel(name) {
        const { api } = await requireEngine();
        try {
          const { meta, summary } = await api.keepCurrentModel(name);
          setState({
            userModels: [...getState().userModels, meta],
            summary,
            trainedUnsaved: false,
            importNotice: `Kept “${meta.name}” in this browser.`,
            settings: { ...getState().settings, model: `user:${meta.id}` },
          });
        } catch (e) {
          setState({ training: { ...getState().training, error: message(e) } });
        }
      },

      async deleteUserModel(id) {
        const { api } = await requireEngine();
        await api.deleteUserModel(id);
        setState({ userModels: getState().userModels.filter((m) => m.id !== id) });
        if (getState().settings.model === `user:${id}`) await getState().openModel(DEFAULT_SETTINGS.model);
      },

      async startTraining() {
        const { api } = await requireEngine();
        const { epochs, batchSize, learningRate } = getState().settings;
        setState({ training: { ...IDLE_TRAINING, running: true } });
        const onProgress = (p: TrainProgress) => {
          const t = getState().training;
          const point: TrainPoint = { step: p.step, epoch: p.epoch, loss: p.loss, accuracy: p.accuracy, testAccuracy: p.test?.accuracy ?? null };
          setState({
            training: {
              ...t,
              progress: p,
              points: [...t.points, point],
              epochs: p.kind === 'epoch' ? [...t.epochs, { epoch: p.epoch, loss: p.epochLoss!, accuracy: p.epochAccuracy!, testLoss: p.test!.loss, testAccuracy: p.test!.accuracy }] : t.epochs,
            },
          });
        };
        try {
          const result = await api.train({ epochs, batchSize, learningRate }, Comlink.proxy(onProgress));
          const t = getState().training;
          setState({
            training: { ...t, running: false, cancelling: false, result, stoppedAfterMs: t.cancelRequestedAt === null ? null : performance.now() - t.cancelRequestedAt },
            evaluation: { ...result.test, ms: 0 },
            trainedUnsaved: getState().trainedUnsaved || result.stepsCompleted > 0,
          });
          await refreshEvaluation(api);
        } catch (e) {
          setState({ training: { ...getState().training, running: false, cancelling: false, error: message(e) } });
        }
      },

      async cancelTraining() {
        const { api } = await requireEngine();
        setState({ training: { ...getState().training, cancelling: true, cancelRequestedAt: performance.now() } });
        await api.cancelTraining();
      },

      async loadMultipliers() {
        const { api } = await requireEngine();
        const m = () => getState().multipliers;
        if (m().status === 'loading' || m().status === 'ready') return;
        setState({ multipliers: { ...m(), status: 'loading', error: null } });
        try {
          const list = await api.multipliers(Comlink.proxy((done: number, total: number) => setState({ multipliers: { ...m(), progress: { done, total } } })));
          setState({ multipliers: { ...m(), status: 'ready', list, progress: null } });
        } catch (e) {
          setState({ multipliers: { ...m(), status: 'error', error: message(e) } });
        }
      },

      async selectMultiplier(id) {
        const { api } = await requireEngine();
        setState({ multipliers: { ...getState().multipliers, selected: id, errorTable: null, simulation: null } });
        if (!id) return;
        const table = await api.multiplierErrorTable(id);
        if (getState().multipliers.selected === id) setState({ multipliers: { ...getState().multipliers, errorTable: table } });
        // After the heat map: a high-rank table's product factorisation can take a moment.
        const simulation = await api.multiplierSimulation(id);
        if (getState().multipliers.selected === id) setState({ multipliers: { ...getState().multipliers, simulation } });
      },

      async importMultiplierFiles(files) {
        const { api } = await requireEngine();
        const m = () => getState().multipliers;
        setState({ multipliers: { ...m(), importing: true, importError: null, importNotice: null } });
        try {
          const added = await api.importMultipliers(Comlink.transfer(files, files.map((f) => f.bytes)));
          const ids = new Set(added.map((a) => a.id));
          setState({
            multipliers: {
              ...m(),
              importing: false,
              list: [...m().list.filter((x) => !ids.has(x.id)), ...added],
              importNotice: `Imported ${added.map((a) => a.name).join(', ')}.`,
            },
          });
          await getState().selectMultiplier(added[0].id);
        } catch (e) {
          setState({ multipliers: { ...m(), importing: false, importError: message(e) } });
        }
      },

      async removeMultiplier(id) {
        const { api } = await requireEngine();
        await api.removeMultiplier(id);
        const m = getState().multipliers;
        setState({ multipliers: { ...m, list: m.list.filter((x) => x.id !== id), selected: m.selected === id ? null : m.selected, errorTable: m.selected === id ? null : m.errorTable } });
      },

      assignMultiplier(layer, id) {
        const a = getState().approx;
        const names = getState().summary?.layers.filter((l) => l.macs > 0).map((l) => l.name) ?? [];
        const assignment = layer === null ? Object.fromEntries(names.map((n) => [n, id])) : { ...a.assignment, [layer]: id };
        setState({ approx: { ...a, assignment, result: null } });
      },

      async setTruncatedRank(id, rank) {
        const { api } = await requireEngine();
        const m = () => getState().multipliers;
        const ranks = { ...m().ranks };
        if (rank === null) delete ranks[id];
        else ranks[id] = { rank, residual: null };
        setState({ multipliers: { ...m(), ranks }, approx: { ...getState().approx, result: null } });
        if (rank === null) return;
        const residual = await api.truncationResidual(id, rank);
        if (m().ranks[id]?.rank === rank) setState({ multipliers: { ...m(), ranks: { ...m().ranks, [id]: { rank, residual } } } });
      },

      async evaluateAssignment() {
        const { api } = await requireEngine();
        const a = () => getState().approx;
        setState({ approx: { ...a(), evaluating: true, error: null, progress: null } });
        try {
          const result = await api.evaluateApprox(a().assignment, chosenRanks(), Comlink.proxy((done: number, total: number) => setState({ approx: { ...a(), progress: { done, total } } })));
          setState({ approx: { ...a(), evaluating: false, result, progress: null } });
        } catch (e) {
          setState({ approx: { ...a(), evaluating: false, error: message(e) } });
        }
      },

      async retrainAssignment(epochs) {
        const { api } = await requireEngine();
        const a = () => getState().approx;
        const { batchSize, learningRate } = getState().settings;
        setState({ approx: { ...a(), retraining: true, error: null, retrainProgress: null }, training: { ...getState().training, running: true } });
        try {
          const onProgress = (p: { step: number; totalSteps: number; loss: number }) => setState({ approx: { ...a(), retrainProgress: p } });
          const result = await api.retrainApprox(a().assignment, chosenRanks(), { epochs, batchSize, learningRate }, Comlink.proxy(onProgress));
          setState({ approx: { ...a(), retraining: false }, trainedUnsaved: getState().trainedUnsaved || result.stepsCompleted > 0, training: { ...getState().training, running: false, cancelling: false } });
          await getState().evaluateAssignment();
          await refreshEvaluation(api);
        } catch (e) {
          setState({ approx: { ...a(), retraining: false, error: message(e) }, training: { ...getState().training, running: false, cancelling: false } });
        }
      },

      async learnTolerance() {
        await runMappingJob('tolerance', async (api, request, onProgress) => {
          const report = await api.learnTolerance(request, Comlink.proxy((p: ToleranceProgress) => onProgress({ phase: 'tolerance', fraction: p.step / p.totalSteps, detail: `step ${p.step} of ${p.totalSteps}`, tolerance: p })));
          const { history: _history, ...tolerance } = report;
          return { tolerance };
        });
      },

      async mapMultipliers() {
        await runMappingJob('map', async (api, request, onProgress) => {
          // The result carries each layer's σ and σ_tol: an earlier tolerance run no longer applies.
          return { result: await api.mapMultipliers(request, Comlink.proxy(onProgress)), tolerance: null };
        });
      },

      async sweepLambda(lambdas) {
        await runMappingJob('sweep', async (api, request, onProgress) => ({ sweep: await api.lambdaSweep(lambdas, request, Comlink.proxy(onProgress)) }));
      },

      async cancelMapping() {
        const { api } = await requireEngine();
        setState({ mapping: { ...getState().mapping, cancelling: true } });
        await api.cancelTraining();
      },

      async buildOperatingPoints() {
        const { api } = await requireEngine();
        const q = () => getState().qos;
        const model = getState().settings.model;
        setState({ qos: { ...q(), building: true, cancelling: false, progress: null, error: null, notice: null }, training: { ...getState().training, running: true } });
        const onProgress = (p: QosProgress) => setState({ qos: { ...q(), progress: { phase: p.phase, fraction: p.fraction, detail: p.detail } } });
        try {
          const result = await api.buildOperatingPoints(qosRequest(), Comlink.proxy(onProgress));
          setState({ qos: { ...q(), model, result, ready: true, building: false, cancelling: false, progress: null, point: 0, predictions: null } });
          await getState().selectOperatingPoint(0);
        } catch (e) {
          // comlink keeps the message, not the class.
          const cancelled = message(e).includes('cancelled before the operating points were built');
          setState({ qos: { ...q(), building: false, cancelling: false, progress: null, error: cancelled ? null : message(e), notice: cancelled ? 'Cancelled: nothing was changed.' : null } });
        } finally {
          setState({ training: { ...getState().training, running: false, cancelling: false } });
        }
      },

      async cancelOperatingPoints() {
        const { api } = await requireEngine();
        setState({ qos: { ...getState().qos, cancelling: true } });
        await api.cancelTraining();
      },

      async restoreOperatingPoints() {
        const q = () => getState().qos;
        if (q().ready || q().restoring || q().building || !q().result || q().model !== getState().settings.model) return;
        const { api } = await requireEngine();
        setState({ qos: { ...q(), restoring: true, error: null } });
        try {
          const result = await api.restoreOperatingPoints();
          if (!result) {
            setState({ qos: { ...q(), restoring: false, ready: false, error: 'The network for these operating points is no longer stored in this browser: build them again.' } });
            return;
          }
          setState({ qos: { ...q(), result, restoring: false, ready: true, point: Math.min(q().point, result.points.length - 1) } });
          await getState().selectOperatingPoint(q().point);
        } catch (e) {
          setState({ qos: { ...q(), restoring: false, error: message(e) } });
        }
      },

      async deleteOperatingPoints() {
        const { api } = await requireEngine();
        await api.deleteOperatingPoints();
        setState({ qos: IDLE_QOS });
      },

      async selectOperatingPoint(point) {
        const q = () => getState().qos;
        if (!q().result) return;
        const ticket = ++qosTicket;
        setState({ qos: { ...q(), point } });
        if (!q().ready) return;
        const { api } = await requireEngine();
        const t0 = performance.now();
        try {
          const predictions = await api.operatingPointPredictions(point, QOS_DIGITS);
          // A later slider move overtook this one: its answer is the one to show.
          if (ticket !== qosTicket) return;
          setState({ qos: { ...q(), predictions, lastSwitchMs: performance.now() - t0 } });
        } catch (e) {
          if (ticket === qosTicket) setState({ qos: { ...q(), error: message(e) } });
        }
      },

      async buildExits() {
        const { api } = await requireEngine();
        const x = () => getState().exits;
        const s = getState().settings;
        setState({ exits: { ...x(), building: true, cancelling: false, progress: null, error: null }, training: { ...getState().training, running: true } });
        try {
          const summary = await api.buildExits({ frames: s.exitFrames, epochs: s.exitEpochs, trainLimit: s.mappingDigits, stream: getState().summary?.task === 'ecg' ? s.exitStream : 'recording' }, Comlink.proxy((p: ExitsState['progress']) => setState({ exits: { ...x(), progress: p } })));
          const sweep = await api.sweepExits();
          setState({ exits: { ...x(), building: false, cancelling: false, progress: null, summary, sweep, hardware: null, ready: true, stream: { ...IDLE_STREAM, setting: startingSetting(sweep) } } });
          void getState().setStreamSetting(x().stream.setting);
        } catch (e) {
          setState({ exits: { ...x(), building: false, cancelling: false, progress: null, error: message(e) } });
        } finally {
          setState({ training: { ...getState().training, running: false, cancelling: false } });
        }
      },

      async cancelExits() {
        const { api } = await requireEngine();
        setState({ exits: { ...getState().exits, cancelling: true } });
        await api.cancelTraining();
      },

      async importReplayFile(name, text) {
        const { api } = await requireEngine();
        const x = () => getState().exits;
        try {
          const summary = await api.importReplay(text, name);
          const sweep = await api.sweepExits();
          setState({ exits: { ...x(), summary, sweep, error: null, hardware: null, ready: true, stream: { ...IDLE_STREAM, setting: startingSetting(sweep) } } });
          void getState().setStreamSetting(x().stream.setting);
        } catch (e) {
          // The replay shown before stays: a bad file changes nothing.
          setState({ exits: { ...x(), error: `${name}: ${message(e)}` } });
        }
      },

      async mapExits(spec) {
        const { api } = await requireEngine();
        const x = () => getState().exits;
        const best = x().sweep?.cheapest.all;
        setState({ exits: { ...x(), hardwareSpec: spec } });
        if (!best) {
          setState({ exits: { ...x(), hardware: null, hardwareError: 'No mechanism setting is within the accuracy floor: nothing to map.' } });
          return;
        }
        try {
          const r = await api.mapExitsToHardware(spec, best.settings);
          setState({ exits: { ...x(), hardware: { ...r, setting: best.settings.mechanism }, hardwareError: null } });
        } catch (e) {
          setState({ exits: { ...x(), hardware: null, hardwareError: message(e) } });
        }
      },

      async loadSincBands() {
        const { api } = await requireEngine();
        try {
          const bands = await api.sincBands();
          setState({ keywords: { ...getState().keywords, bands, error: null } });
        } catch (e) {
          setState({ keywords: { ...getState().keywords, bands: null, error: message(e) } });
        }
      },

      async classifyAudio(samples) {
        pendingAudio = samples;
        if (audioInFlight) return;
        const { api } = await requireEngine();
        audioInFlight = true;
        try {
          while (pendingAudio) {
            const next = pendingAudio;
            pendingAudio = null;
            const { scores, ms } = await api.classifyAudio(Comlink.transfer(next, [next.buffer]));
            const k = getState().keywords;
            setState({ keywords: { ...k, scores, ms, updates: k.updates + 1, error: null } });
          }
        } catch (e) {
          pendingAudio = null;
          setState({ keywords: { ...getState().keywords, error: message(e) } });
        } finally {
          audioInFlight = false;
        }
      },

      async testClip(index) {
        const { api } = await requireEngine();
        return api.testClip(index);
      },

      setExitsTab(tab) {
        setState({ exits: { ...getState().exits, tab } });
      },

      async restoreExits() {
        const x = () => getState().exits;
        if (x().ready || x().restoring || x().building || !x().summary) return;
        const { api } = await requireEngine();
        setState({ exits: { ...x(), restoring: true } });
        try {
          const summary = await api.restoreExits();
          if (!summary) {
            setState({ exits: { ...x(), restoring: false, stream: { ...x().stream, error: 'The replay behind these results is no longer stored in this browser: build the exits or load the file again to play the stream.' } } });
            return;
          }
          setState({ exits: { ...x(), summary, restoring: false, ready: true } });
          await getState().setStreamSetting(x().stream.setting);
        } catch (e) {
          setState({ exits: { ...x(), restoring: false, stream: { ...x().stream, error: message(e) } } });
        }
      },

      async setStreamSetting(setting) {
        const x = () => getState().exits;
        setting = finite(setting);
        setState({ exits: { ...x(), stream: { ...x().stream, setting } } });
        if (!x().ready) return;
        const { api } = await requireEngine();
        // Dragging the threshold asks many times: only the latest answer is shown.
        const ticket = ++streamTicket;
        try {
          const trace = await api.exitTrace(setting);
          if (ticket !== streamTicket) return;
          const frame = Math.min(x().stream.frame, trace.exit.length - 1);
          setState({ exits: { ...x(), stream: { ...x().stream, trace, frame, error: null } } });
        } catch (e) {
          if (ticket === streamTicket) setState({ exits: { ...x(), stream: { ...x().stream, error: message(e) } } });
        }
      },

      setStreamFrame(frame) {
        const x = () => getState().exits;
        const last = (x().stream.trace?.exit.length ?? 1) - 1;
        setState({ exits: { ...x(), stream: { ...x().stream, frame: Math.max(0, Math.min(last, Math.round(frame))) } } });
      },

      async loadStreamPictures(frame) {
        const x = () => getState().exits;
        const have = x().stream.pictures;
        if (!x().ready || !x().summary?.pictures) return;
        if (have && frame >= have.start && frame < have.start + have.pixels.length / (have.height * have.width)) return;
        const { api } = await requireEngine();
        const start = Math.max(0, frame - PICTURE_WINDOW / 4);
        const pictures = await api.exitPictureRange(start, PICTURE_WINDOW);
        if (pictures) setState({ exits: { ...x(), stream: { ...x().stream, pictures: { ...pictures, start } } } });
      },

      async runQuantisation() {
        const { api } = await requireEngine();
        const q = () => getState().quant;
        const s = getState().settings;
        const model = s.model;
        setState({ quant: { ...q(), running: true, cancelling: false, progress: null, error: null, notice: null }, training: { ...getState().training, running: true } });
        try {
          const study = await api.quantisationStudy(
            { methods: s.quantMethods.split(',') as QuantMethod[], bits: s.quantBits.split(',').map(Number) as Bits[], epochs: s.quantEpochs, trainLimit: s.quantSamples, batchSize: s.batchSize },
            Comlink.proxy((progress: QuantStudyProgress) => setState({ quant: { ...q(), progress } })),
          );
          const planned = s.quantMethods.split(',').length * s.quantBits.split(',').length;
          const notice = study.cancelled ? (study.runs.length ? `Cancelled: ${study.runs.length} of ${planned} runs finished and are shown.` : 'Cancelled before a run finished: nothing was changed.') : null;
          if (study.runs.length === 0) {
            setState({ quant: { ...q(), running: false, cancelling: false, progress: null, notice } });
            return;
          }
          const pick = q().pick;
          const run = study.runs.find((r) => runKey(r) === pick.run) ?? study.runs.find((r) => r.bits === 2) ?? study.runs[0];
          const layer = run.layers.find((l) => l.layer === pick.layer) ?? run.layers[0];
          setState({ quant: { ...q(), model, checked: model, study, running: false, cancelling: false, progress: null, notice, pick: { run: runKey(run), layer: layer.layer, channel: Math.min(pick.channel, layer.channels - 1) } } });
        } catch (e) {
          setState({ quant: { ...q(), running: false, cancelling: false, progress: null, error: message(e) } });
        } finally {
          setState({ training: { ...getState().training, running: false, cancelling: false } });
        }
      },

      async cancelQuantisation() {
        const { api } = await requireEngine();
        setState({ quant: { ...getState().quant, cancelling: true } });
        await api.cancelTraining();
      },

      async restoreQuantisation() {
        const q = () => getState().quant;
        const model = getState().settings.model;
        if (q().restoring || q().running || q().checked === model || getState().summary === null) return;
        const { api } = await requireEngine();
        setState({ quant: { ...q(), restoring: true } });
        try {
          const study = await api.restoreQuantisation();
          const keep = q().model === model ? q().pick : IDLE_QUANT.pick;
          setState({ quant: { ...q(), restoring: false, checked: model, model: study ? model : null, study, pick: study ? keep : IDLE_QUANT.pick } });
        } catch (e) {
          setState({ quant: { ...q(), restoring: false, checked: model, error: message(e) } });
        }
      },

      pickQuantLayer(pick) {
        const q = getState().quant;
        setState({ quant: { ...q, pick: { ...q.pick, ...pick } } });
      },

      async classifyAtPoint(point, indices) {
        const { api } = await requireEngine();
        return api.operatingPointPredictions(point, indices);
      },

      resetStudio() {
        useStudio.persist.clearStorage();
        setState({ settings: DEFAULT_SETTINGS, mapping: IDLE_MAPPING, qos: IDLE_QOS, exits: IDLE_EXITS, quant: IDLE_QUANT });
        void getState().startEngine();
      },
    }),
    {
      name: 'qos-studio',
      version: STATE_VERSION,
      // Settings, and the last mapping results (small, and minutes of work to redo).
      partialize: (s) => ({ settings: s.settings, mapping: { model: s.mapping.model, tolerance: s.mapping.tolerance, result: s.mapping.result, sweep: s.mapping.sweep }, qos: { model: s.qos.model, result: s.qos.result, point: s.qos.point }, exits: { summary: s.exits.summary, sweep: s.exits.sweep, hardwareSpec: s.exits.hardwareSpec, tab: s.exits.tab, stream: { setting: s.exits.stream.setting, frame: s.exits.stream.frame } }, quant: { model: s.quant.model, pick: s.quant.pick } }),
      migrate: (stored, version) => ({ settings: migrateSettings(stored, version) }) as unknown as StudioState,
      merge: (stored, current) => ({ ...current, settings: migrateSettings(stored, STATE_VERSION), mapping: { ...IDLE_MAPPING, ...keptMapping(stored) }, qos: { ...IDLE_QOS, ...keptQos(stored) }, exits: { ...IDLE_EXITS, ...keptExits(stored) }, quant: { ...IDLE_QUANT, ...keptQuant(stored) } }),
    },
  ),
);

/** Mapping results from storage, when they look like what this version writes. */
function keptMapping(stored: unknown): Partial<MappingState> {
  const m = (stored as { mapping?: Partial<MappingState> } | null)?.mapping;
  if (!m || typeof m.model !== 'string') return {};
  const ok = (v: unknown, check: (x: Record<string, unknown>) => boolean) => v === null || v === undefined || (typeof v === 'object' && check(v as Record<string, unknown>));
  if (!ok(m.result, (r) => Array.isArray(r.layers) && Array.isArray(r.pairs)) || !ok(m.tolerance, (t) => Array.isArray(t.layers)) || !(m.sweep == null || Array.isArray(m.sweep))) return {};
  return { model: m.model, result: m.result ?? null, tolerance: m.tolerance ?? null, sweep: m.sweep ?? null };
}

/** Operating points from storage, when they look like what this version writes. */
function keptQos(stored: unknown): Partial<QosState> {
  const q = (stored as { qos?: Partial<QosState> } | null)?.qos;
  if (!q || typeof q.model !== 'string' || !q.result || !Array.isArray(q.result.points) || !Array.isArray(q.result.instances) || q.result.points.length === 0) return {};
  const point = Number.isInteger(q.point) ? Math.min(Math.max(q.point!, 0), q.result.points.length - 1) : 0;
  return { model: q.model, result: q.result, point };
}

let qosTicket = 0;

/** Which quantisation run, layer and channel were on show (the study itself is in the engine's storage). */
function keptQuant(stored: unknown): Partial<QuantState> {
  const q = (stored as { quant?: Partial<QuantState> } | null)?.quant;
  const p = q?.pick;
  if (!q || typeof q.model !== 'string' || !p) return {};
  return { model: q.model, pick: { run: typeof p.run === 'string' ? p.run : null, layer: typeof p.layer === 'string' ? p.layer : null, channel: Number.isInteger(p.channel) && p.channel >= 0 ? p.channel : 0 } };
}

/** The last replay's summary and sweep, when they look like what this version writes. */
function keptExits(stored: unknown): Partial<ExitsState> {
  const x = (stored as { exits?: Partial<ExitsState> } | null)?.exits;
  if (!x?.summary || !x.sweep || !Array.isArray(x.summary.exits) || !Array.isArray(x.summary.stats) || typeof x.sweep.curves !== 'object' || !Array.isArray(x.sweep.front)) return {};
  const spec = x.hardwareSpec;
  const specOk = !!spec && Array.isArray(spec.processors) && Array.isArray(spec.links) && spec.links.length === spec.processors.length - 1;
  const tab = x.tab === 'stream' || x.tab === 'tradeoff' ? x.tab : 'exits';
  const st = x.stream;
  const settingOk = !!st?.setting && typeof st.setting.mechanism === 'string' && x.summary.mechanisms?.includes(st.setting.mechanism);
  const stream = { ...IDLE_STREAM, setting: settingOk ? finite(st!.setting) : startingSetting(x.sweep), frame: Number.isInteger(st?.frame) && st!.frame >= 0 ? st!.frame : 0 };
  return { summary: x.summary, sweep: x.sweep, tab, stream, ...(specOk ? { hardwareSpec: spec } : {}) };
}

/** The operating-point request from the settings. */
export function qosRequest(): QosRequest {
  const s = useStudio.getState().settings;
  return {
    lambda: s.lambda,
    epochs: s.toleranceEpochs,
    trainLimit: s.mappingDigits,
    library: s.library,
    exclude: excludedIds(s),
    batchSize: s.batchSize,
    instances: s.qosInstances,
    scales: parseScales(s.qosScales),
    finetuneEpochs: s.qosFinetuneEpochs,
  };
}

export const parseScales = (text: string) => text.split(',').map((v) => Number(v.trim()));

/** The mapping request from the settings, as the engine takes it. */
function mappingRequest(): MappingRequest {
  const s = useStudio.getState().settings;
  return { lambda: s.lambda, epochs: s.toleranceEpochs, retrainEpochs: s.retrainEpochs, trainLimit: s.mappingDigits, guard: s.mappingGuard / 100, library: s.library, exclude: excludedIds(s), batchSize: s.batchSize };
}

/** One noise/mapping job in the worker: progress into the store, the outcome merged in, errors kept. */
async function runMappingJob(job: MappingJob, run: (api: EngineHandle['api'], request: MappingRequest, onProgress: (p: MappingProgress) => void) => Promise<Partial<MappingState>>): Promise<void> {
  const { api } = await requireEngine();
  const m = () => useStudio.getState().mapping;
  useStudio.setState({ mapping: { ...m(), job, cancelling: false, progress: null, liveSigmas: null, error: null }, training: { ...useStudio.getState().training, running: true } });
  const onProgress = (p: MappingProgress) => useStudio.setState({ mapping: { ...m(), progress: { phase: p.phase, fraction: p.fraction, detail: p.detail }, liveSigmas: p.tolerance?.sigmas ?? m().liveSigmas } });
  try {
    const outcome = await run(api, mappingRequest(), onProgress);
    useStudio.setState({ mapping: { ...m(), ...outcome, model: useStudio.getState().settings.model, job: null, cancelling: false, progress: null } });
  } catch (e) {
    useStudio.setState({ mapping: { ...m(), job: null, cancelling: false, progress: null, error: message(e) } });
  } finally {
    useStudio.setState({ training: { ...useStudio.getState().training, running: false, cancelling: false } });
  }
}

/** The truncated ranks chosen in the Multipliers view, as the engine takes them. */
const chosenRanks = () => Object.fromEntries(Object.entries(useStudio.getState().multipliers.ranks).map(([id, r]) => [id, r.rank]));

async function refreshEvaluation(api: EngineHandle['api']): Promise<void> {
  useStudio.setState({ evaluating: true });
  try {
    const [evaluation, samples] = await Promise.all([api.evaluate(), api.samples(12)]);
    useStudio.setState({ evaluation, samples, evaluating: false });
  } catch (e) {
    useStudio.setState({ evaluating: false, modelError: message(e) });
  }
}
