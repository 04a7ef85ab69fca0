// The engine worker: the Session over comlink, on the backend chosen by measurement.
import * as Comlink from 'comlink';
import { createStore, del, get, keys, set } from 'idb-keyval';
import { chooseBackend, type BackendChoice, type BackendRequest } from '../src/engine/backend/select';
import { registerWasmTrainingGradients } from '../src/engine/backend/wasm-gradients';
import { Session, type Assignment, type ExitsRequest, type KeyValueStore, type MappingRequest, type ModelSource, type QosRequest, type ToleranceRequest, type TrainRequest } from '../src/engine/session';
import type { QosProgress } from '../src/engine/qos/build';
import type { QuantStudyProgress, QuantStudyRequest } from '../src/engine/quant/study';
import type { HardwareSpec } from '../src/engine/exits/hardware';
import type { MechanismSettings } from '../src/engine/exits/replay';
import type { MappingProgress } from '../src/engine/noise/mapping';
import type { ToleranceProgress } from '../src/engine/noise/tolerance';
import type { NamedBytes } from '../src/engine/models/io';
import type { TrainProgress } from '../src/engine/train/train';
import { configureWasm } from './wasm-paths';

const idb = createStore('qos-studio', 'models');
// The page says where the shipped files are: a relative base resolves against the page, not this worker.
let baseUrl = self.location.href;
const storage: KeyValueStore = {
  get: (key) => get(key, idb),
  set: (key, value) => set(key, value, idb),
  del: (key) => del(key, idb),
  keys: async () => (await keys(idb)).map(String),
};
const session = new Session({
  get baseUrl() {
    return baseUrl;
  },
  fetch: (...args) => fetch(...args),
  blobCache: {
    async get(key) {
      const hit = await (await caches.open('qos-studio-data')).match(key);
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      const cache = await caches.open('qos-studio-data');
      // One version of each file: drop entries for older checksums.
      for (const old of await cache.keys()) if (old.url.split('?')[0] === key.split('?')[0]) await cache.delete(old);
      await cache.put(key, new Response(bytes as Uint8Array<ArrayBuffer>));
    },
  },
  storage,
});

let backend: Promise<BackendChoice> | null = null;

const api = {
  /** Starts the backend once per worker; the app makes a new worker to change it. */
  init(requested: BackendRequest, appBaseUrl: string): Promise<BackendChoice> {
    baseUrl = appBaseUrl;
    backend ??= (async () => {
      configureWasm();
      registerWasmTrainingGradients();
      return chooseBackend(requested);
    })();
    return backend;
  },
  zoo: () => session.zoo(),
  open: (source: ModelSource) => session.open(source),
  evaluate: () => session.evaluate(),
  samples: (count: number) => session.samples(count),
  sincBands: () => session.sincBands(),
  testClip: (index: number) => session.testClip(index),
  classifyAudio: (samples: Float32Array) => session.classifyAudio(samples),
  train: (request: TrainRequest, onProgress: (p: TrainProgress) => void) => session.train(request, onProgress),
  cancelTraining: () => session.cancelTraining(),
  importModel: (files: NamedBytes[]) => session.importModel(files),
  keepCurrentModel: (name: string) => session.keepCurrentModel(name),
  listUserModels: () => session.listUserModels(),
  deleteUserModel: (id: string) => session.deleteUserModel(id),
  memory: () => session.memory(),
  multipliers: (onProgress?: (done: number, total: number) => void) => session.multipliers.list(onProgress),
  importMultipliers: (files: NamedBytes[]) => session.importMultipliers(files),
  removeMultiplier: (id: string) => session.removeMultiplier(id),
  evaluateApprox: (assignment: Assignment, ranks: Record<string, number>, onProgress?: (done: number, total: number) => void) =>
    session.evaluateApprox(assignment, { ranks, onProgress }),
  truncationResidual: (id: string, rank: number) => session.truncationResidual(id, rank),
  retrainApprox: (assignment: Assignment, ranks: Record<string, number>, request: TrainRequest, onProgress?: (p: { step: number; totalSteps: number; loss: number }) => void) =>
    session.retrainApprox(assignment, request, onProgress, ranks),
  learnTolerance: (request: ToleranceRequest, onProgress?: (p: ToleranceProgress) => void) => session.learnTolerance(request, onProgress),
  mapMultipliers: (request: MappingRequest, onProgress?: (p: MappingProgress) => void) => session.mapMultipliers(request, onProgress),
  lambdaSweep: (lambdas: number[], request: MappingRequest, onProgress?: (p: MappingProgress) => void) => session.lambdaSweep(lambdas, request, onProgress),
  buildOperatingPoints: (request: QosRequest, onProgress?: (p: QosProgress) => void) => session.buildOperatingPoints(request, onProgress),
  restoreOperatingPoints: () => session.restoreOperatingPoints(),
  deleteOperatingPoints: () => session.deleteOperatingPoints(),
  switchOperatingPoint: (p: number) => session.switchOperatingPoint(p),
  operatingPointPredictions: (p: number, indices: number[]) => session.operatingPointPredictions(p, indices),
  quantisationStudy: (request: QuantStudyRequest & { trainLimit?: number }, onProgress?: (p: QuantStudyProgress) => void) => session.quantisationStudy(request, onProgress),
  restoreQuantisation: () => session.restoreQuantisation(),
  buildExits: (request: ExitsRequest, onProgress?: (p: { exit: number; exits: number; epoch: number; loss: number }) => void) => session.buildExits(request, onProgress),
  importReplay: (text: string, fileName: string) => session.importReplay(text, fileName),
  mapExitsToHardware: (spec: HardwareSpec, setting: MechanismSettings) => session.mapExitsToHardware(spec, setting),
  restoreExits: () => session.restoreExits(),
  exitTrace: (setting: MechanismSettings) => {
    const t = session.exitTrace(setting);
    return Comlink.transfer(t, [t.exit.buffer, t.prediction.buffer, t.label.buffer, t.cost.buffer, t.value.buffer, t.streamStart.buffer, t.confidence.buffer]);
  },
  exitPictureRange: (start: number, count: number) => session.exitPictureRange(start, count),
  sweepExits: (options?: { steps?: number; floorPp?: number; costCap?: number }) => session.sweepExits(options),
  multiplierSimulation: (id: string) => session.multipliers.simulation(id),
  multiplierErrorTable: async (id: string) => {
    const table = await session.multipliers.errorTable(id);
    return Comlink.transfer(table, [table.buffer]);
  },
};

export type EngineApi = typeof api;
Comlink.expose(api);
