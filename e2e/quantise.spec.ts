import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { openStudio, percentOf, waitForModel } from './helpers';

// Two methods × two widths on 256 training digits: each run fine-tunes a few steps.
const SMALL = '#view=quantise&model=lenet&qmethods=st,uniform&qbits=2,4&qepochs=1&qsamples=256';

test('quantise: accuracy against bits for both methods, thresholds over a layer\'s histogram, exports, kept over a reload', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page, SMALL);
  const view = page.getByTestId('quant-view');
  await expect(view.getByText('reconstructed from the paper\'s abstract')).toBeVisible();
  await expect(page.getByRole('checkbox', { name: '2 bits', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: '3 bits', exact: true })).not.toBeChecked();

  await page.getByRole('button', { name: 'Quantise 4 ways' }).click();
  const status = page.getByTestId('quant-status');
  await expect(status).toContainText(/Run \d of 4/, { timeout: 60_000 });

  const rows = page.getByTestId('quant-table').locator('tbody tr');
  await expect(rows).toHaveCount(4, { timeout: 180_000 });
  const float = percentOf(await page.getByTestId('quant-float').textContent());
  expect(float).toBeGreaterThan(95);
  const table = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
  expect(table.map((r) => `${r[0]} ${r[1]}`)).toEqual(['Squeeze-and-Threshold 2', 'Squeeze-and-Threshold 4', 'uniform 2', 'uniform 4']);
  for (const r of table) {
    expect(percentOf(r[3])).toBeGreaterThan(80);
    expect(Number(r[5])).toBe(4); // 256 samples in batches of 64, one epoch
  }
  // One line per method and the float reference.
  await expect(page.getByTestId('figure-quant-bits').locator('.recharts-line')).toHaveCount(3);

  // Thresholds of conv2 at 2 bits: three thresholds per channel, drawn over the histogram.
  await page.getByLabel('Run', { exact: true }).selectOption({ label: 'Squeeze-and-Threshold, 2 bits' });
  await page.getByLabel('Layer', { exact: true }).selectOption({ label: 'conv2 (Conv2D, 6 channels)' });
  const picture = page.getByTestId('quant-thresholds');
  await expect(picture).toHaveAttribute('data-thresholds', '3');
  await expect(picture.locator('.marker-threshold')).toHaveCount(3);
  await expect(picture.locator('.marker-level')).toHaveCount(4);
  await page.getByLabel('Channel (0–5)').fill('4');
  await expect(page.getByText('conv2, channel 4: Squeeze-and-Threshold at 2 bits')).toBeVisible();
  // Per channel for Squeeze-and-Threshold: another channel has other thresholds.
  const positions = () => picture.locator('.marker-threshold line').evaluateAll((ls) => ls.map((l) => l.getAttribute('x1')).join());
  const channel4 = await positions();
  await page.getByLabel('Channel (0–5)').fill('0');
  await expect.poll(positions).not.toBe(channel4);
  await expect(page.getByTestId('quant-zeros')).toContainText('exactly 0');

  // At 4 bits: fifteen thresholds.
  await page.getByLabel('Run', { exact: true }).selectOption({ label: 'uniform, 4 bits' });
  await expect(picture).toHaveAttribute('data-thresholds', '15');
  await expect(picture.locator('.marker-threshold')).toHaveCount(15);

  // Both figures export; the CSV of the thresholds lists them as rows of their own.
  const [bitsCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export LeNet-5: test accuracy against activation bits as CSV/ }).click()]);
  expect(bitsCsv.suggestedFilename()).toBe('quant-bits.csv');
  const bitsText = await readFile((await bitsCsv.path())!, 'utf8');
  expect(bitsText.split('\n')[0]).toContain('Squeeze-and-Threshold');
  expect(bitsText.trim().split('\n')).toHaveLength(3);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export .*uniform at 4 bits as CSV/ }).click()]);
  const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\n').map((l) => l.split(','));
  const column = lines[0].findIndex((h) => h.startsWith('thresholds'));
  expect(lines.filter((l) => l[column]?.trim()).length - 1).toBe(15);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export .*uniform at 4 bits as SVG/ }).click()]);
  expect(svg.suggestedFilename()).toBe('quant-thresholds.svg');

  // The study and the picked run survive a reload.
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('quant-table').locator('tbody tr')).toHaveCount(4);
  await expect(page.getByLabel('Run', { exact: true })).toHaveValue('uniform-4');
  await expect(picture.locator('.marker-threshold')).toHaveCount(15);
});

test('quantise: cancel stops within seconds and changes nothing when no run has finished', async ({ page }) => {
  await openStudio(page, '#view=quantise&model=lenet&qmethods=st&qbits=1,2,3&qepochs=3&qsamples=8000');
  await page.getByRole('button', { name: 'Quantise 3 ways' }).click();
  const status = page.getByTestId('quant-status');
  await expect(status).toContainText('step', { timeout: 60_000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Quantise 3 ways' })).toBeEnabled({ timeout: 10_000 });
  expect(Date.now() - t0).toBeLessThan(5_000);
  await expect(page.getByText('Cancelled before a run finished: nothing was changed.')).toBeVisible();
  await expect(page.getByTestId('quant-table')).toHaveCount(0);
});
