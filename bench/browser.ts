// The approximate-layer benchmark in the browser, on the backend the studio would choose here.
import { chooseBackend } from '../src/engine/backend/select';
import { configureWasm } from '../workers/wasm-paths';
import { benchApproxLayer } from './approx-layer';

const log = document.getElementById('log')!;
const w = window as unknown as { benchResult?: unknown; benchError?: string };
try {
  configureWasm();
  const choice = await chooseBackend('auto');
  const result = await benchApproxLayer(5, (line) => {
    log.textContent += ` ${line}`;
    console.log(`bench: ${line}`);
  });
  w.benchResult = { where: 'chromium', userAgent: navigator.userAgent, probes: choice.probes, ...result };
  log.textContent = JSON.stringify(w.benchResult, null, 2);
} catch (e) {
  w.benchError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
  log.textContent = w.benchError;
}
