// Takes the README's picture of the studio from the built app (run `npm run build` first):
// node scripts/screenshot.js [out.png] [hash]
import { chromium } from '@playwright/test';
import { preview } from 'vite';

const out = process.argv[2] ?? 'docs/studio.png';
const hash = process.argv[3] ?? '';
const server = await preview({ preview: { host: '127.0.0.1', port: 4399, strictPort: true }, logLevel: 'warn' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--disable-quic'] });
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, colorScheme: process.env.THEME === 'dark' ? 'dark' : 'light' });
  await page.goto(`http://127.0.0.1:4399/${hash}`);
  await page.getByTestId('status-model').and(page.locator('[data-evaluated=yes]')).waitFor({ timeout: 120_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
