import { expect, test } from '@playwright/test';
import { openStudio, percentOf, waitForModel } from './helpers';

// Small settings keep the build to about a minute in Chromium on wasm.
const SMALL = '#view=qos&model=lenet&lambda=0.2&tepochs=1&digits=500&library=builtin&exclude=bam-2-8&k=3&scales=0.3%2C1%2C2&fepochs=1';

test('QoS: build points, the slider switches them live, Pareto chart, demo mode, and a reload keeps it all', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page, SMALL);
  const view = page.getByTestId('qos-view');
  await expect(view.getByText('Operating points for LeNet-5')).toBeVisible();
  // The Mapping view's left-out multipliers apply here too, and the view says so.
  await expect(page.getByTestId('qos-excluded')).toHaveText(/One multiplier is left out/);

  await page.getByRole('button', { name: 'Build operating points' }).click();
  const status = page.getByTestId('qos-status');
  await expect(status).toContainText('Learning noise tolerance', { timeout: 60_000 });
  await expect(status).toContainText('Fine-tuning all points', { timeout: 180_000 });
  const slider = page.getByRole('slider', { name: 'Operating point' });
  await expect(slider).toBeEnabled({ timeout: 180_000 });

  // Three points; the first is the most accurate and the dearest.
  const rows = page.getByTestId('qos-points-table').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const powers = [];
  for (let i = 0; i < 3; i++) powers.push(percentOf(await rows.nth(i).locator('td').nth(1).textContent()));
  expect(powers[0]).toBeGreaterThan(powers[2]);
  expect(powers[2]).toBeLessThan(80);
  await expect(page.getByTestId('qos-point-label')).toContainText('1 of 3');
  const accuracy0 = percentOf(await page.getByTestId('qos-accuracy').textContent());
  expect(accuracy0).toBeGreaterThan(90);
  // One block per multiply layer, and predictions on example digits at this point.
  const strip = page.getByTestId('qos-strip').locator('li');
  await expect(strip).toHaveCount(5);
  await expect(page.getByTestId('digit-strip').first().locator('li')).toHaveCount(12);
  await expect(page.getByTestId('qos-hardware')).toContainText('multiplier instance');
  const instances = page.getByRole('list', { name: 'Multiplier instances' }).locator('li');
  await expect(instances).toHaveCount(3);
  await expect(instances.filter({ hasText: 'BAM(2,8)' })).toHaveCount(0);

  // Keyboard on the slider: readouts and strip follow within 100 ms of the move; predictions follow.
  const before = await strip.evaluateAll((items) => items.map((li) => li.getAttribute('data-multiplier')));
  await slider.focus();
  const repaintMs = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const target = document.querySelector('[data-testid="qos-power"]')!;
        const observer = new MutationObserver(() => {
          observer.disconnect();
          resolve(performance.now() - t0);
        });
        observer.observe(target, { childList: true, subtree: true, characterData: true });
        const t0 = performance.now();
        document.getElementById('qos-point')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
        // Synthetic key events do not move a range input: set it as the keyboard would.
        const input = document.getElementById('qos-point') as HTMLInputElement;
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
        setter.call(input, '2');
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }),
  );
  expect(repaintMs).toBeLessThan(100);
  await expect(page.getByTestId('qos-point-label')).toContainText('3 of 3');
  expect(percentOf(await page.getByTestId('qos-power').textContent())).toBeCloseTo(powers[2], 0);
  const after = await strip.evaluateAll((items) => items.map((li) => li.getAttribute('data-multiplier')));
  expect(after).not.toEqual(before);
  await expect(page.getByTestId('qos-latency')).toHaveText(/\d+ ms/);
  // A real key press moves it back one point.
  await slider.press('ArrowLeft');
  await expect(page.getByTestId('qos-point-label')).toContainText('2 of 3');
  const latency = Number(/(\d+) ms/.exec((await page.getByTestId('qos-latency').textContent())!)![1]);
  expect(latency).toBeLessThan(2000);

  // The Pareto chart: three connected points, the current one highlighted; exports.
  const pareto = page.getByTestId('figure-qos-pareto');
  await expect.poll(() => pareto.locator('circle.scatter-point').count()).toBeGreaterThanOrEqual(8);
  await expect(pareto.locator('polyline')).toHaveCount(1);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export Operating points: .* as CSV/ }).click()]);
  expect(csv.suggestedFilename()).toBe('qos-pareto.csv');

  // Demo mode: the trace drives the point; the presenter overrides it from the keyboard.
  const demo = page.getByTestId('qos-demo');
  await demo.getByRole('button', { name: 'Start demo' }).click();
  await expect.poll(async () => Number(await page.getByTestId('qos-demo-frames').textContent()), { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId('qos-demo-point')).toContainText('(trace)');
  await page.locator('body').press('PageDown');
  await expect(page.getByTestId('qos-demo-point')).toContainText('(presenter)');
  await page.locator('body').press('a');
  await expect(page.getByTestId('qos-demo-point')).toContainText('(trace)');
  await page.locator('body').press('p');
  await expect(demo.getByRole('button', { name: 'Resume demo' })).toBeVisible();
  expect(percentOf(await page.getByTestId('qos-demo-accuracy').textContent())).toBeGreaterThan(50);

  // A reload keeps the points and restores the network, so the slider works again.
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('qos-points-table').locator('tbody tr')).toHaveCount(3);
  await expect(slider).toBeEnabled({ timeout: 30_000 });
  await expect(page.getByTestId('qos-point-label')).toContainText('2 of 3');
  await slider.press('Home');
  await expect(page.getByTestId('qos-point-label')).toContainText('1 of 3');
  await expect(page.getByTestId('qos-latency')).toHaveText(/\d+ ms/, { timeout: 30_000 });

  await page.getByRole('button', { name: 'Forget these points' }).click();
  await expect(page.getByTestId('qos-points-table')).toHaveCount(0);
});

test('QoS: settings are validated and a build can be cancelled', async ({ page }) => {
  await openStudio(page, '#view=qos&model=lenet&tepochs=20&digits=8000');
  await page.getByLabel('Tolerance scale per point, comma-separated').fill('0.3, -1');
  await expect(page.getByText('1 to 8 positive numbers, separated by commas')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Build operating points' })).toBeDisabled();
  await page.getByLabel('Tolerance scale per point, comma-separated').fill('0.5, 2');
  await page.getByRole('button', { name: 'Build operating points' }).click();
  await expect(page.getByTestId('qos-status')).toContainText('step', { timeout: 60_000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'Build operating points' })).toBeEnabled({ timeout: 5_000 });
  // Cancelled during the tolerance training, the build stops there and keeps nothing.
  expect(Date.now() - t0).toBeLessThan(5_000);
  await expect(page.getByTestId('qos-notice')).toHaveText('Cancelled: nothing was changed.');
  await expect(page.getByTestId('qos-points-table')).toHaveCount(0);
  await page.getByLabel('Instances K').fill('0');
  await expect(page.getByText('between 1 and 16')).toBeVisible();
});
