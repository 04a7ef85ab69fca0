// Node-only backend setup (tests, command line, training scripts). Browsers use ./select.ts.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { prepareHeapKernels } from './heap-kernels';
import { registerWasmTrainingGradients } from './wasm-gradients';

let ready: Promise<string> | null = null;

/** Initialise tfjs in Node on wasm (SIMD, no threads), falling back to cpu. Idempotent. */
export function initNodeBackend(preferred: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  ready ??= (async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('IS_TEST', false);
    registerWasmTrainingGradients();
    if (preferred === 'wasm') {
      const require = createRequire(import.meta.url);
      const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
      setWasmPaths(path.dirname(wasmFile) + '/');
      if (await tf.setBackend('wasm').catch(() => false)) {
        await tf.ready();
        await prepareHeapKernels();
        return 'wasm';
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  })();
  return ready;
}
