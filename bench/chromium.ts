// npm run bench, part 3: serves bench/browser.html with Vite, runs it in headless Chromium (Debian's
// /usr/bin/chromium) and prints its JSON.
import { inChromium } from './in-chromium';

const result = await inChromium(async (page, base) => {
  page.on('console', (m) => m.text().startsWith('bench:') && process.stderr.write(`${m.text().slice(7)} `));
  await page.goto(`${base}bench/browser.html`);
  const handle = await page.waitForFunction(() => {
    const w = window as unknown as { benchResult?: unknown; benchError?: string };
    return w.benchResult ?? (w.benchError ? { error: w.benchError } : undefined);
  }, null, { timeout: 15 * 60_000, polling: 1000 });
  return (await handle.jsonValue()) as { error?: string };
});
if (result.error) throw new Error(`benchmark failed in Chromium: ${result.error}`);
console.log(JSON.stringify(result, null, 2));
