// Serves the repository with Vite's dev server and hands a headless Chromium (Debian's
// /usr/bin/chromium) page to `run`; both are closed afterwards, whatever happens.
import { chromium, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

export async function inChromium<T>(run: (page: Page, base: string) => Promise<T>): Promise<T> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const server = await createServer({ root, configFile: `${root}/vite.config.ts`, server: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  await server.listen();
  const base = server.resolvedUrls?.local?.[0] ?? '';
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--disable-quic'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    return await run(page, base);
  } finally {
    await browser.close();
    await server.close();
  }
}
