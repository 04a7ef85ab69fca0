// npm run bench, part 4: what switching a QoS operating point costs. In Node, the engine's switch
// (re-pointing BatchNorm sets and biases) against one inference at the new point; in headless
// Chromium, the studio's slider: from the input event to the repainted readouts, and to the
// predictions of the example digits coming back from the worker. Prints JSON.
import { inChromium } from './in-chromium';
import { initNodeBackend } from '../src/engine/backend/node';
import { nodeHost } from '../src/engine/host-node';
import { Session } from '../src/engine/session';

// The model of the README's operating-point result; BENCH_QOS_MODEL=mobilenet times the narrow one.
const MODEL = process.env.BENCH_QOS_MODEL ?? 'mobilenet-wide';
// Tolerance and error model on a few digits, no fine-tuning: switching costs the same either way.
const QUICK = { epochs: 1, trainLimit: 512, testLimit: 500, finetuneEpochs: 0, referenceCount: 64, instances: 4 };
/**
 * Moves the slider to `value` and resolves with the time to the repainted readouts and to the
 * example predictions. A string: tsx would wrap a function literal in helpers the page lacks.
 */
const MOVE_SLIDER = `(value) => new Promise((resolve) => {
  const readout = document.querySelector('[data-testid="qos-power"]');
  const latency = document.querySelector('[data-testid="qos-latency"]');
  const input = document.getElementById('qos-point');
  let repaint = -1;
  const t0 = performance.now();
  new MutationObserver((_, o) => {
    o.disconnect();
    // The readout changed in the DOM; the next frame is when it is on screen.
    requestAnimationFrame(() => (repaint = performance.now() - t0));
  }).observe(readout, { childList: true, subtree: true, characterData: true });
  new MutationObserver((_, o) => {
    o.disconnect();
    const done = () => (repaint >= 0 ? resolve({ repaint, predictions: performance.now() - t0 }) : requestAnimationFrame(done));
    done();
  }).observe(latency, { attributes: true, attributeFilter: ['data-ms'] });
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, String(value));
  input.dispatchEvent(new Event('input', { bubbles: true }));
})`;

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

async function engine() {
  await initNodeBackend('wasm');
  const session = new Session(nodeHost());
  await session.open({ kind: 'zoo', name: MODEL });
  const result = await session.buildOperatingPoints(QUICK, (p) => process.stderr.write(`\rnode ${p.phase}: ${p.detail}        `));
  process.stderr.write('\n');
  const n = result.points.length;
  const switches: number[] = [];
  for (let i = 0; i < 2000; i++) switches.push(session.switchOperatingPoint(i % n).ms);
  const one: number[] = [];
  const twelve: number[] = [];
  for (let i = 0; i < 15; i++) {
    one.push((await session.operatingPointPredictions(i % n, [i])).inferenceMs);
    twelve.push((await session.operatingPointPredictions(i % n, Array.from({ length: 12 }, (_, j) => j))).inferenceMs);
  }
  const switchMedian = quantile(switches, 0.5);
  return {
    backend: 'wasm',
    model: MODEL,
    points: n,
    switch_ms: { median: switchMedian, p99: quantile(switches, 0.99), runs: switches.length },
    inference_1_digit_ms: quantile(one, 0.5),
    inference_12_digits_ms: quantile(twelve, 0.5),
    switch_to_inference_ratio: switchMedian / quantile(one, 0.5),
  };
}

function studio() {
  return inChromium(async (page, base) => {
    await page.goto(`${base}#view=qos&model=${MODEL}&tepochs=1&digits=512&k=4&fepochs=0`);
    await page.waitForFunction(() => document.querySelector('[data-testid="status-model"]')?.getAttribute('data-evaluated') === 'yes', null, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Build operating points' }).click();
    await page.waitForFunction(() => {
      const s = document.getElementById('qos-point') as HTMLInputElement | null;
      return s && !s.disabled && document.querySelector('[data-testid="qos-latency"]')?.textContent?.includes('ms');
    }, null, { timeout: 10 * 60_000, polling: 500 });
    const n = Number(await page.locator('#qos-point').getAttribute('max')) + 1;
    const samples: { repaint: number; predictions: number }[] = [];
    for (let i = 0; i < 24; i++) {
      const target = (i + 1) % n;
      samples.push((await page.evaluate(`(${MOVE_SLIDER})(${target})`)) as { repaint: number; predictions: number });
      await page.waitForTimeout(100);
    }
    const repaint = samples.map((s) => s.repaint);
    const predictions = samples.map((s) => s.predictions);
    return {
      model: MODEL,
      points: n,
      slider_to_repaint_ms: { median: quantile(repaint, 0.5), max: Math.max(...repaint), runs: repaint.length },
      slider_to_predictions_ms: { median: quantile(predictions, 0.5), max: Math.max(...predictions) },
      target: { value: Math.max(...repaint), target: 'readouts and strip repainted ≤ 100 ms after the slider moves', met: Math.max(...repaint) <= 100 },
    };
  });
}

const node = process.env.BENCH_QOS_PART === 'chromium' ? null : await engine();
const browser = process.env.BENCH_QOS_PART === 'node' ? null : await studio();
console.log(JSON.stringify({ qos_switch: { node, chromium: browser } }, null, 2));
