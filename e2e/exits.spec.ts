import { expect, test } from '@playwright/test';
import { syntheticReplay } from '../src/engine/exits/testing';
import { replayToJson } from '../src/engine/exits/replay-file';
import { openStudio, percentOf, waitForModel } from './helpers';

const replayFile = (frames: number, edit: (j: { streams: { frames: { logits: number[][] }[] }[] }) => void = () => {}, features = 0) => {
  const json = replayToJson(syntheticReplay(frames, 3, 10, features)) as { streams: { frames: { logits: number[][] }[] }[] };
  edit(json);
  return { name: 'stream.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(json)) };
};

test('exits: a replay file from elsewhere is swept over every mechanism; a bad one is refused with the place named', async ({ page }) => {
  await openStudio(page, '#view=exits&model=lenet');
  await expect(page.getByTestId('exits-view').getByText('Early exits for LeNet-5')).toBeVisible();
  await page.getByLabel('Replay file').setInputFiles(replayFile(3000));

  const rows = page.getByTestId('exits-table').locator('tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(3).locator('th')).toHaveText('final');
  await page.getByRole('tab', { name: 'Trade-off' }).click();
  await expect(page.getByTestId('exits-choices').locator('tbody tr')).toHaveCount(6);
  await expect(page.getByTestId('exits-best')).toContainText('fewer MACs');
  // The overall choice is the cheapest of the per-mechanism choices.
  const savings = (await page.getByTestId('exits-choices').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[3]?.textContent ?? ''))).map(percentOf).filter((v) => !Number.isNaN(v));
  expect(savings.length).toBeGreaterThan(0);
  const best = /([\d.]+) % fewer MACs/.exec((await page.getByTestId('exits-best').textContent())!)![1];
  expect(Number(best)).toBeCloseTo(Math.max(...savings), 1);
  const chart = page.getByTestId('figure-exits-tradeoff');
  await expect.poll(() => chart.locator('circle.scatter-point').count()).toBeGreaterThan(100);
  await expect(chart.locator('polyline')).toHaveCount(6);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export Accuracy against relative cost.* as CSV/ }).click()]);
  expect(csv.suggestedFilename()).toBe('exits-tradeoff.csv');

  // A frame with a short logits row: refused, with the place; what was shown stays.
  await page.getByLabel('Replay file').setInputFiles(replayFile(50, (j) => j.streams[0].frames[7].logits[2].pop()));
  await expect(page.getByRole('alert')).toContainText('stream.json: streams[0].frames[7].logits[2]: 9 numbers, expected 10 (classes)');
  await page.getByRole('tab', { name: 'Each exit' }).click();
  await expect(rows).toHaveCount(4);
  await expect(page.getByTestId('exits-table').locator('..').locator('..')).toContainText('3,000 frames');
  await page.getByRole('tab', { name: 'Trade-off' }).click();

  // The sweep survives a reload.
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('exits-choices').locator('tbody tr')).toHaveCount(6);
  await expect(chart.locator('polyline')).toHaveCount(6);
});

test('exits: building exits for the open model records a digit video through them', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page, '#view=exits&model=lenet&frames=300&xepochs=3&digits=2000');
  // Every text the status line shows, kept as it changes: training an exit can take less time than
  // one poll of an assertion, so the progress is checked afterwards rather than caught in passing.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { statusSeen: string[] }).statusSeen = seen;
    new MutationObserver(() => seen.push(document.querySelector('[data-testid="exits-status"]')?.textContent ?? '')).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Build exits and record' }).click();
  const rows = page.getByTestId('exits-table').locator('tbody tr');
  await expect(rows).toHaveCount(2, { timeout: 120_000 });
  const seen = await page.evaluate(() => (window as unknown as { statusSeen: string[] }).statusSeen);
  expect(seen.some((text) => /Training exit 1 of \d+: epoch \d+, loss \d/.test(text))).toBe(true);
  await expect(rows.nth(0).locator('th')).toHaveText('exit after pool1');
  expect(percentOf(await rows.nth(0).locator('td').nth(3).textContent())).toBeGreaterThan(50);
  expect(percentOf(await rows.nth(1).locator('td').nth(3).textContent())).toBeGreaterThan(95);
  await expect(page.getByTestId('exits-view')).toContainText('300 frames, digit video');

  // The stream plays with its pictures; the pooled block features were recorded, so feature difference is offered.
  await page.getByRole('tab', { name: 'Stream' }).click();
  await expect(page.getByTestId('stream-picture')).toBeVisible();
  await expect(page.getByLabel('Mechanism').locator('option')).toHaveCount(7);
  await page.getByLabel('Mechanism').selectOption('feature-difference');
  await expect(page.getByTestId('stream-totals')).toContainText('Whole stream with feature difference');
  const picture = () => page.getByTestId('stream-picture').evaluate((c: HTMLCanvasElement) => c.toDataURL());
  const before = await picture();
  await page.getByRole('button', { name: 'Next frame' }).click();
  await expect(page.getByTestId('stream-position')).toHaveText('frame 2 / 300');
  await expect.poll(picture).not.toBe(before);

  await page.getByRole('tab', { name: 'Trade-off' }).click();
  await expect(page.getByTestId('exits-choices').locator('tbody tr')).toHaveCount(7);

  // Hardware: every split over MCU → edge → cloud, the chosen one first; a tiny MCU memory rules
  // out every split that puts weights on it, and the verdicts say so.
  const mappings = page.getByTestId('hardware-mappings').locator('tbody tr');
  await expect(mappings).toHaveCount(6);
  await expect(mappings.nth(0).locator('td').last()).toHaveText(/^chosen/);
  await page.getByLabel('MCU memory, KB').fill('0.01');
  await page.getByRole('button', { name: 'Map onto these processors' }).click();
  await expect(page.getByTestId('hardware-mappings')).toContainText('MCU needs');
  await expect(mappings.nth(0).locator('th')).not.toContainText('MCU');
  await page.getByLabel('Latency limit, ms').fill('-3');
  await expect(page.getByText('latency limit: enter a positive number')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Map onto these processors' })).toBeDisabled();
});

test('exits: the exits, their confidence, and the stream played under a threshold dragged on its trace', async ({ page }) => {
  await openStudio(page, '#view=exits&model=lenet');
  await page.getByLabel('Replay file').setInputFiles(replayFile(3000, () => {}, 16));

  // The network strip: choosing an exit shows its confidence histogram, right and wrong apart.
  const strip = page.getByTestId('exit-strip');
  await expect(strip.locator('li')).toHaveCount(4);
  await strip.getByRole('button', { name: /^exit 2/ }).click();
  await expect(page.getByTestId('figure-exit-2-confidence')).toContainText('Confidence of exit 2 on the stream');
  await expect(page.getByTestId('figure-exit-2-confidence').locator('.recharts-bar-rectangle').first()).toBeVisible();

  await page.getByRole('tab', { name: 'Stream' }).click();
  await page.getByLabel('Mechanism').selectOption('difference');
  const totals = page.getByTestId('stream-totals');
  await expect(totals).toContainText('Whole stream with difference detection');
  const saved = async () => Number(/\(([\d.]+) % saved\)/.exec((await totals.textContent()) ?? '')![1]);

  // Stepping and playing move the frame; the readouts follow the frame.
  await page.getByRole('button', { name: 'Next frame' }).click();
  await expect(page.getByTestId('stream-position')).toHaveText('frame 2 / 3,000');
  // The readout and the strip agree on who answered this frame.
  const answered = (await page.getByTestId('stream-answered').textContent())!;
  await expect(page.locator('.exit-seg.answered .exit-head')).toContainText(answered === 'full inference' ? 'final classifier' : answered);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await expect.poll(async () => Number(/frame ([\d,]+)/.exec((await page.getByTestId('stream-position').textContent()) ?? '')![1].replace(',', ''))).toBeGreaterThan(4);
  await page.getByRole('button', { name: 'Pause' }).click();

  // Dragging the threshold up: fewer full inferences, more saved; the line's value follows.
  const slider = page.getByTestId('trace-threshold');
  const tau = async () => Number(await slider.getAttribute('aria-valuenow'));
  const tau0 = await tau();
  const saved0 = await saved();
  const badge = (await slider.locator('rect').last().boundingBox())!;
  await page.mouse.move(badge.x + badge.width / 2, badge.y + badge.height / 2);
  await page.mouse.down();
  await page.mouse.move(badge.x + badge.width / 2, badge.y - 40, { steps: 5 });
  await page.mouse.up();
  await expect.poll(tau).toBeGreaterThan(tau0);
  await expect.poll(saved).toBeGreaterThan(saved0);
  // And by keyboard, down again.
  const tau1 = await tau();
  await slider.focus();
  await page.keyboard.press('PageDown');
  await expect.poll(tau).toBeLessThan(tau1);
  await expect(page.getByRole('spinbutton', { name: 'Threshold τ' })).toHaveValue(String(await tau()));

  // The stream comes back after a reload, as it was.
  await page.reload();
  await waitForModel(page);
  await expect(page.getByRole('tab', { name: 'Stream' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByLabel('Mechanism')).toHaveValue('difference');
  await expect(page.getByTestId('stream-trace')).toBeVisible();

  // The trade-off table plays any mechanism's cheapest setting.
  await page.getByRole('tab', { name: 'Trade-off' }).click();
  await expect(page.getByTestId('exits-choices').locator('tbody tr')).toHaveCount(7);
  await page.getByRole('button', { name: /^Play the stream with temporal patience/ }).click();
  await expect(page.getByLabel('Mechanism')).toHaveValue('temporal-patience');
  await expect(totals).toContainText('Whole stream with temporal patience');
});

test('exits: the radar model opens on its own data and its exits are recorded on a radar stream', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page, '#view=model&model=radar&frames=200&xepochs=2&digits=1500');
  await expect(page.getByTestId('model-title')).toHaveText('Radar gesture net');
  await expect(page.getByText('2,000 held-out radar gestures')).toBeVisible();
  await expect(page.getByTestId('digit-strip').locator('li')).toHaveCount(12);
  await page.getByRole('tab', { name: 'Exits' }).click();
  await expect(page.getByTestId('exits-view')).toContainText('range-Doppler maps of a gesture recording');
  await page.getByRole('button', { name: 'Build exits and record' }).click();
  await expect(page.getByTestId('exits-table').locator('tbody tr').first()).toBeVisible({ timeout: 150_000 });
  await expect(page.getByTestId('exits-view')).toContainText('200 frames, radar gestures');
  await page.getByRole('tab', { name: 'Stream' }).click();
  await expect(page.getByTestId('stream-picture')).toBeVisible();
  await expect(page.getByTestId('stream-frame')).toContainText(/idle|push|pull|swipe|rub|tap/);
});

test('the ECG model shows its windows as waveforms, and streams the real MIT-BIH record through its exits', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page, '#view=model&model=ecg&frames=300&xepochs=2&digits=1000');
  await expect(page.getByTestId('model-title')).toHaveText('ECG rhythm net');
  await expect(page.getByTestId('digit-strip').locator('svg.waveform')).toHaveCount(12);
  await expect(page.getByTestId('digit-strip')).toContainText('bigeminy');
  await expect(page.getByTestId('digit-strip')).toContainText('normal');

  await page.getByRole('tab', { name: 'Exits' }).click();
  await page.getByLabel('Stream', { exact: true }).selectOption('mitbih');
  await page.getByRole('button', { name: 'Build exits and record' }).click();
  await expect(page.getByTestId('exits-unlabelled')).toBeVisible({ timeout: 150_000 });
  await expect(page.getByTestId('exits-view')).toContainText('300 frames, MIT-BIH record 208 (real, unlabelled)');
  // Labelled by the final classifier: it agrees with itself on every frame.
  await expect(page.getByTestId('exits-table').locator('tbody tr').last().locator('td').last()).toHaveText('100.00 %');
});
