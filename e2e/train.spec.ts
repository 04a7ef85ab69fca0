import { expect, test } from '@playwright/test';
import { openStudio, percentOf, waitForModel } from './helpers';

test('one training epoch runs with visible progress, then a second run is cancelled within a second', async ({ page }) => {
  await openStudio(page, '#view=train&model=lenet&epochs=1&batch=64&lr=0.0002');
  // Long main-thread tasks while training would freeze a demo: record them all.
  await page.evaluate(() => {
    (window as unknown as { longTasks: number[] }).longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) (window as unknown as { longTasks: number[] }).longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const status = page.getByTestId('train-status');
  await expect(status).toHaveText(/Epoch 1\/1 · batch \d+\/125 · \d+ % · .* left/);
  const progress = page.getByTestId('train-progress');
  await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 30_000 }).toBeGreaterThan(0.2);
  await expect(status).toHaveText(/Done: 1 epoch in/, { timeout: 90_000 });
  await expect(page.getByTestId('train-result')).toContainText('Test accuracy now');
  expect(percentOf(await page.getByTestId('train-result').textContent())).toBeGreaterThan(95);
  // The live chart drew the run: a loss and an accuracy curve through many steps, one test point.
  const curves = page.getByTestId('figure-training-curves').locator('svg.figure-live polyline');
  await expect(curves).toHaveCount(3);
  await expect.poll(async () => ((await curves.first().getAttribute('points')) ?? '').split(' ').length).toBeGreaterThan(10);

  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  expect(longTasks, `main-thread tasks over 50 ms during training: ${longTasks.join(', ')}`).toEqual([]);

  await page.getByLabel('Epochs').fill('3');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 30_000 }).toBeGreaterThan(0.05);
  const cancelClicked = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(status).toHaveText(/Cancelled after \d+ steps/, { timeout: 10_000 });
  const uiLatency = Date.now() - cancelClicked;
  const reported = Number(/Stopped (\d+) ms after Cancel/.exec((await page.getByTestId('train-result').textContent()) ?? '')?.[1]);
  expect(reported).toBeLessThan(1000);
  expect(uiLatency).toBeLessThan(1500);
  await expect(page.getByTestId('train-result')).toContainText('weights of the last completed step are kept');
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeEnabled();
});

test('trained weights are flagged until kept, and kept weights survive a reload', async ({ page }) => {
  await openStudio(page, '#view=train&model=lenet&epochs=1&batch=128&lr=0.0002');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('train-status')).toHaveText(/Done: 1 epoch in/, { timeout: 90_000 });
  await page.getByRole('tab', { name: 'Model' }).click();
  await expect(page.getByTestId('trained-unsaved')).toBeVisible();

  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: 'Keep these weights as my model' }).click();
  await page.getByRole('tab', { name: 'Model' }).click();
  await expect(page.getByTestId('pick-user-model')).toHaveClass(/active/);
  await expect(page.getByTestId('trained-unsaved')).toHaveCount(0);
  const accuracy = await page.getByTestId('test-accuracy').textContent();

  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('model-title')).toHaveText(/^LeNet-5, trained /);
  await expect(page.getByTestId('test-accuracy')).toHaveText(accuracy!);
});
