import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 4317);

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  // Two cores: one browser at a time keeps timings (cancel latency, long tasks) meaningful.
  workers: 1,
  retries: 0,
  reporter: (process.env.PW_REPORTER ?? 'list').split(',').map((name) => [name] as [string]),
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    browserName: 'chromium',
    // A fake microphone (a beep) that needs no permission prompt: the keyword demo listens to it.
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--disable-quic', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'] },
    viewport: { width: 1360, height: 900 },
    acceptDownloads: true,
  },
  webServer: {
    command: `node scripts/serve.js`,
    env: { PORT: String(port), STRICT_PORT: '1' },
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
