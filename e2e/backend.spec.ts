import { expect, test } from '@playwright/test';
import { openStudio } from './helpers';

test('the backend shown is one that really initialised, and can be overridden', async ({ page }) => {
  await openStudio(page);
  const shown = await page.getByTestId('engine-status').getAttribute('data-backend');
  expect(['webgl', 'wasm', 'cpu']).toContain(shown);
  await expect(page.getByTestId('backend-name')).toHaveText(shown!);

  await page.getByRole('tab', { name: 'Settings' }).click();
  // The chosen backend started and was timed; with 'auto' every fast candidate was measured.
  const chosen = page.getByTestId(`probe-${shown}`);
  await expect(chosen).toHaveAttribute('data-ok', 'true');
  await expect(chosen).toContainText('(in use)');
  await expect(chosen).toContainText(/\d+\.\d ms/);
  await expect(page.getByTestId('probe-wasm')).toBeVisible();
  await expect(page.getByTestId('probe-webgl')).toBeVisible();

  await page.getByLabel('Plain JavaScript (slowest)').check();
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-backend', 'cpu', { timeout: 60_000 });
  await expect(page.getByTestId('probe-cpu')).toHaveAttribute('data-ok', 'true');
  await page.getByRole('tab', { name: 'Model' }).click();
  await expect(page.getByTestId('test-accuracy')).toHaveText(/\d+\.\d+ %/, { timeout: 90_000 });

  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByLabel(/Automatic/).check();
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-backend', /^(webgl|wasm)$/, { timeout: 60_000 });
});
