// npm run bench, part 3: serves bench/browser.html with Vite, runs it in headless Chromium (Debian's
// /usr/bin/chromium) and prints its JSON.
import { chromium } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = await createServer({ root, configFile: `${root}/vite.config.ts`, server: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
await server.listen();
const base = server.resolvedUrls?.local?.[0];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--disable-quic'] });
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.text().startsWith('bench:') && process.stderr.write(`${m.text().slice(7)} `));
  await page.goto(`${base}bench/browser.html`);
  const handle = await page.waitForFunction(() => {
    const w = window as unknown as { benchResult?: unknown; benchError?: string };
    return w.benchResult ?? (w.benchError ? { error: w.benchError } : undefined);
  }, null, { timeout: 15 * 60_000, polling: 1000 });
  const result = (await handle.jsonValue()) as { error?: string };
  if (result.error) throw new Error(`benchmark failed in Chromium: ${result.error}`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await server.close();
}
