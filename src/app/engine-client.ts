// The UI's handle on the engine worker. Only types cross from the engine into the UI bundle;
// tfjs itself loads in the worker.
import * as Comlink from 'comlink';
import type { EngineApi } from '../../workers/engine.worker';

export type Engine = Comlink.Remote<EngineApi>;

export interface EngineHandle {
  api: Engine;
  terminate(): void;
}

export function startEngineWorker(): EngineHandle {
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const api = Comlink.wrap<EngineApi>(worker);
  return {
    api,
    terminate: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export { Comlink };
