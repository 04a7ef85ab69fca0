import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openStudio } from './helpers';

const evo = (name: string, mimeType = 'application/octet-stream') => ({ name, mimeType, buffer: readFileSync(`../shared/evoapprox/${name}`) });

test('the multiplier library: sortable table, power-error scatter, error heat map', async ({ page }) => {
  await openStudio(page, '#view=multipliers');
  const rows = page.getByTestId('multiplier-row');
  await expect.poll(() => rows.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(28);
  await expect(rows.first()).toHaveAttribute('data-id', 'exact');

  // Sorting by MAE, descending, puts the coarsest design first.
  await page.getByRole('button', { name: /^MAE %/ }).click();
  const firstMae = Number(await rows.first().locator('td').first().textContent());
  expect(firstMae).toBeGreaterThan(3);

  // Every design but the exact one (zero error has no place on a log axis) is a point.
  await expect(page.getByTestId('figure-multipliers-power-error').locator('circle.scatter-point')).toHaveCount((await rows.count()) - 1);
  await page.getByRole('button', { name: 'TM(2)', exact: true }).click();
  const detail = page.getByTestId('multiplier-detail');
  await expect(detail).toContainText('Rank of E');
  await expect(detail).toContainText('estimate');
  // The heat map is drawn: truncation only ever lowers the product, so pixels are blue or white.
  const colours = await page.getByTestId('error-heatmap').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, 256, 256).data;
    let blue = 0;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 2] > d[i] + 20) blue++;
      if (d[i] > d[i + 2] + 20) red++;
    }
    return { blue, red };
  });
  expect(colours.blue).toBeGreaterThan(10_000);
  expect(colours.red).toBe(0);
  // Operand truncation is a product of mapped operands: one term in product form, where its error needs two.
  await expect(detail.getByTestId('simulation-mode')).toContainText('product form: the product table itself has 1 rank-one term (its error needs 2)', { timeout: 30_000 });
  // Result truncation keeps a·b: the error form, a·b plus its two terms.
  await page.getByRole('button', { name: 'TRUNC(2)', exact: true }).click();
  await expect(detail.getByTestId('simulation-mode')).toContainText('over a·b and 2 rank-one terms of the error: each input channel becomes 3 mapped operands', { timeout: 30_000 });
});

test('importing EvoApprox tables with their metrics file, and refusing a bad table', async ({ page }) => {
  await openStudio(page, '#view=multipliers');
  await expect.poll(() => page.getByTestId('multiplier-row').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(28);
  const input = page.getByTestId('multiplier-files');

  await input.setInputFiles([{ name: 'broken.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1234) }]);
  await expect(page.getByTestId('multiplier-import-error')).toContainText('broken.bin: 1234 bytes is not a 256x256 table');

  await input.setInputFiles([evo('mul8u_2AC.bin'), evo('mul8u_1JFF.bin'), evo('metrics.csv', 'text/csv')]);
  const row = page.locator('[data-testid=multiplier-row][data-id="imported:mul8u_2AC"]');
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText('published');
  await expect(page.getByTestId('multiplier-detail')).toContainText('mul8u');
  // Ten error terms: eleven mapped operands per channel, past where the lookup is faster on layers without Winograd.
  await page.getByRole('button', { name: 'mul8u_2AC', exact: true }).click();
  const mode = page.getByTestId('multiplier-detail').getByTestId('simulation-mode');
  await expect(mode).toContainText('each input channel becomes 11 mapped operands', { timeout: 30_000 });
  await expect(mode).toContainText('those layers look the products up instead');
  // The two ranks read differently: every product exact after rounding, and exact to float rounding (the simulation's).
  await expect(page.getByTestId('multiplier-detail').getByTestId('float-rank')).toHaveText('10');

  await page.reload();
  await expect(page.locator('[data-testid=multiplier-row][data-id="imported:mul8u_2AC"]')).toBeVisible({ timeout: 60_000 });
});

test('assigning multipliers to layers: evaluate, then retrain through them', async ({ page }) => {
  await openStudio(page, '#view=multipliers&model=lenet&batch=64&lr=0.001');
  const panel = page.getByTestId('assignment-panel');
  await expect(panel).toBeVisible({ timeout: 60_000 });
  await panel.getByLabel('Multiplier for all layers').selectOption({ label: 'TM(2)' });
  await expect(panel.getByLabel('Multiplier for fc3')).toHaveValue('tm-2');
  await panel.getByLabel('Multiplier for fc3').selectOption({ label: 'exact' });
  await panel.getByRole('button', { name: 'Evaluate' }).click();
  await expect(page.getByTestId('approx-energy')).toHaveText(/\d+\.\d %/, { timeout: 60_000 });
  const energy = Number((await page.getByTestId('approx-energy').textContent())!.replace(' %', ''));
  // fc3 (0.2 % of the multiplications) stays exact; the rest run at 47.3 % power.
  expect(energy).toBeGreaterThan(47.3);
  expect(energy).toBeLessThan(48.5);
  const before = Number((await page.getByTestId('approx-accuracy').textContent())!.replace(' %', ''));

  await panel.getByLabel('Retrain epochs').fill('1');
  await panel.getByRole('button', { name: 'Retrain through these multipliers' }).click();
  await expect(page.getByTestId('assignment-status')).toContainText('Retraining: step', { timeout: 30_000 });
  await expect(panel.getByRole('button', { name: 'Evaluate' })).toBeEnabled({ timeout: 180_000 });
  await expect(page.getByTestId('approx-accuracy')).toHaveText(/\d+\.\d+ %/, { timeout: 60_000 });
  const after = Number((await page.getByTestId('approx-accuracy').textContent())!.replace(' %', ''));
  expect(after).toBeGreaterThan(before + 3);
});

test('a BatchNorm model is evaluated with its statistics re-measured through the multipliers', async ({ page }) => {
  test.setTimeout(240_000);
  await openStudio(page, '#view=multipliers&model=mobilenet');
  const panel = page.getByTestId('assignment-panel');
  await expect(panel).toBeVisible({ timeout: 60_000 });
  await panel.getByLabel('Multiplier for all layers').selectOption({ label: 'BAM(3,7)' });
  await panel.getByRole('button', { name: 'Evaluate' }).click();
  await expect(page.getByTestId('approx-accuracy')).toHaveText(/\d+\.\d+ %/, { timeout: 180_000 });
  // Against the statistics of exact products this reads about 37 %; re-measured, close to exact (98.2 %).
  const accuracy = Number((await page.getByTestId('approx-accuracy').textContent())!.replace(' %', ''));
  expect(accuracy).toBeGreaterThan(95);
  await expect(page.getByTestId('assignment-batchnorm')).toContainText('re-measured through these multipliers on 1,024 training samples');
});

test('a high-rank multiplier can be simulated with a truncated rank, its residual shown', async ({ page }) => {
  await openStudio(page, '#view=multipliers&model=lenet');
  await expect.poll(() => page.getByTestId('multiplier-row').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(28);
  await page.getByRole('button', { name: 'Mitchell', exact: true }).click();
  const detail = page.getByTestId('multiplier-detail');
  await expect(detail.getByTestId('simulation-mode')).toContainText('direct lookup');
  await detail.getByLabel(/Simulate with a truncated rank/).fill('4');
  await expect(detail.getByTestId('truncation-residual')).toContainText(/Rank 4 leaves \d+\.\d % of the error out/);

  const panel = page.getByTestId('assignment-panel');
  await panel.getByLabel('Multiplier for all layers').selectOption({ label: 'Mitchell' });
  await panel.getByRole('button', { name: 'Evaluate' }).click();
  await expect(page.getByTestId('approx-accuracy')).toHaveText(/\d+\.\d+ %/, { timeout: 60_000 });
});
