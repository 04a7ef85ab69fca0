import { expect, test } from '@playwright/test';
import { openStudio, percentOf } from './helpers';

test('the keyword model: waveforms, learned Sinc bands, and a live demo on test clips and the microphone', async ({ page }) => {
  test.setTimeout(180_000);
  await openStudio(page, '#view=model&model=kws');
  await expect(page.getByTestId('model-title')).toHaveText('SincConv keyword spotter');
  await expect(page.getByText('held-out keywords (synthetic speech)')).toBeVisible();
  await expect(page.getByTestId('digit-strip').locator('svg.waveform')).toHaveCount(12);

  // The filters moved from their mel-spaced start during training.
  await expect(page.getByTestId('figure-sinc-bands')).toBeVisible();
  expect(Number(/up to (\d+) Hz/.exec((await page.getByTestId('sinc-moved').textContent())!)![1])).toBeGreaterThan(0);

  // A test clip played through the demo: scored live, then as a whole; the scores are a distribution.
  const prediction = page.getByTestId('kws-prediction');
  await page.getByRole('button', { name: 'Play the next test clip' }).click();
  await expect(prediction).toContainText('clip 1 is', { timeout: 30_000 });
  await expect.poll(async () => Number(await prediction.getAttribute('data-updates'))).toBeGreaterThan(1);
  const scores = (await page.getByTestId('kws-scores').locator('.kws-value').allTextContents()).map(percentOf);
  expect(scores).toHaveLength(12);
  expect(scores.reduce((a, b) => a + b, 0)).toBeGreaterThan(98);
  await page.getByRole('button', { name: 'Stop' }).click();

  // The (fake) microphone: scored a few times a second while listening.
  await page.getByRole('button', { name: 'Listen (microphone)' }).click();
  const before = Number(await prediction.getAttribute('data-updates'));
  await expect.poll(async () => Number(await prediction.getAttribute('data-updates')), { timeout: 20_000 }).toBeGreaterThan(before + 3);
  await page.getByRole('button', { name: 'Stop listening' }).click();
  await expect(page.getByRole('button', { name: 'Listen (microphone)' })).toBeVisible();
});
