// `npm test`: every test. Engine and state tests in Node (Vitest), then the built studio in Debian's
// Chromium (Playwright). Chromium is found at /usr/bin/chromium or installed with apt-get when this
// runs as root on Debian; otherwise it says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function run(cmd, args, env = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log('Chromium is missing: installing Debian\'s chromium with apt-get…');
    if (run('apt-get', ['update']) === 0 && run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']) === 0 && existsSync(CHROMIUM)) return;
  }
  console.error(
    `\nThe browser tests need Chromium at ${CHROMIUM}.\n` +
      `Install it with:  sudo apt-get update && sudo apt-get install -y chromium\n` +
      `(or set CHROMIUM_PATH to a Chromium/Chrome binary).`,
  );
  process.exit(1);
}

ensureChromium();
// Playwright empties test-results/ when it starts, so the runners' reports live apart from it.
rmSync('test-reports', { recursive: true, force: true });
mkdirSync('test-reports', { recursive: true });

const unitStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-reports/vitest.json']);
const buildStatus = run('npx', ['vite', 'build']);
const e2eStatus = buildStatus === 0 ? run('npx', ['playwright', 'test'], { PW_REPORTER: 'list,json', PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-reports/playwright.json' }) : 1;

// One closing line over both runners.
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const v = JSON.parse(readFileSync('test-reports/vitest.json', 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + v.numTodoTests;
} catch {
  failed += 1;
}
try {
  const p = JSON.parse(readFileSync('test-reports/playwright.json', 'utf8'));
  passed += p.stats.expected;
  failed += p.stats.unexpected + p.stats.flaky;
  skipped += p.stats.skipped;
} catch {
  failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(unitStatus || buildStatus || e2eStatus || (failed > 0 ? 1 : 0));
