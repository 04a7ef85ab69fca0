// Engine code that runs only on the GPU (WebGL programs, operands mapped on the device), checked in
// real Chromium against the per-product reference. Software WebGL here; a GPU runs the same code.
import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';

type Checks = Record<string, (...args: unknown[]) => unknown>;

let server: ViteDevServer;
let page: Page;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  server = await createServer({ root, configFile: `${root}/vite.config.ts`, server: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  await server.listen();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.resolvedUrls!.local[0]}e2e/engine-page/index.html`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'yes', { timeout: 90_000 });
  const backend = await page.evaluate(() => (window as unknown as { engineChecks: Checks }).engineChecks.backend('webgl'));
  expect(backend).toEqual({ ok: true, backend: 'webgl' });
});

test.afterAll(async () => {
  await page?.close();
  await server?.close();
});

const run = <T>(name: string, ...args: unknown[]) => page.evaluate(([n, a]) => (window as unknown as { engineChecks: Checks }).engineChecks[n as string](...(a as unknown[])), [name, args] as const) as Promise<T>;

test('WebGL lookup program computes every product from the table, as the reference does', async () => {
  const r = await run<{ backend: string; leaked: number; results: { name: string; shape: number[]; refShape: number[]; relativeError: number }[] }>('lookupWebGL', 'mitchell');
  expect(r.backend).toBe('webgl');
  expect(r.results).toHaveLength(4);
  for (const l of r.results) {
    expect(l.shape, l.name).toEqual(l.refShape);
    expect(l.relativeError, l.name).toBeLessThan(1e-5);
  }
  expect(r.leaked).toBe(0);
});

// TM(2) runs in product form (one term and a summed zero-point channel), TRUNC(2) in error form (a·b and two terms).
for (const [multiplier, form, rank] of [['tm-2', 'product', 1], ['trunc-2', 'error', 2]] as const) {
  test(`factorised layers with operands quantised and mapped on the GPU agree with the reference: ${multiplier}, ${form} form`, async () => {
    const r = await run<{ backend: string; rank: number; form: string; leaked: number; results: { name: string; sameCodes: boolean; relativeError: number }[] }>('fastOnDevice', multiplier);
    expect(r.backend).toBe('webgl');
    expect(r.form).toBe(form);
    expect(r.rank).toBe(rank);
    for (const l of r.results) {
      expect(l.sameCodes, l.name).toBe(true);
      expect(l.relativeError, l.name).toBeLessThan(1e-5);
    }
    expect(r.leaked).toBe(0);
  });
}

test('noise on the GPU path has the asked relative std, and the activation follows it', async () => {
  const r = await run<{ backend: string; ratio: number; minRelu: number }>('noise', 0.25);
  expect(r.backend).toBe('webgl');
  expect(r.ratio).toBeGreaterThan(0.23);
  expect(r.ratio).toBeLessThan(0.27);
  expect(r.minRelu === 0).toBe(true);
});

test('a whole model simulated on webgl: high-rank tables through the lookup program, low-rank ones factorised', async () => {
  const r = await run<{ backend: string; results: { multiplier: string; relativeError: number; sameClasses: boolean }[]; leaked: number }>('simulation', ['mitchell', 'tm-2', 'trunc-8']);
  expect(r.backend).toBe('webgl');
  for (const m of r.results) {
    expect(m.relativeError, m.multiplier).toBeLessThan(1e-4);
    expect(m.sameClasses, m.multiplier).toBe(true);
  }
  expect(r.leaked).toBe(0);
});
