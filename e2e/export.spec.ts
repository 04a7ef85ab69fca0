import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { openStudio } from './helpers';

test('a chart exports an SVG that parses and holds the legend, a 2x PNG, and CSV data', async ({ page }) => {
  await openStudio(page);
  const title = 'Share of multiplications per layer';

  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export ${title} as SVG` }).click()]);
  expect(svgDownload.suggestedFilename()).toBe('mac-share-lenet.svg');
  const svg = await readFile(await svgDownload.path(), 'utf8');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: doc.documentElement.nodeName,
      legend: Array.from(doc.querySelectorAll('.figure-legend text'), (t) => t.textContent),
      texts: Array.from(doc.querySelectorAll('text'), (t) => t.textContent),
      bars: doc.querySelectorAll('.recharts-bar-rectangle').length,
      usesVariables: text.includes('var(--'),
    };
  }, svg);
  expect(parsed.error).toBeNull();
  expect(parsed.root).toBe('svg');
  expect(parsed.legend).toEqual(['Share of multiply-accumulates']);
  expect(parsed.texts).toContain(title);
  expect(parsed.texts).toContain('conv2');
  expect(parsed.bars).toBe(5);
  expect(parsed.usesVariables).toBe(false);

  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export ${title} as PNG` }).click()]);
  const png = await readFile(await pngDownload.path());
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const pngWidth = png.readUInt32BE(16);
  const shownWidth = await page.getByTestId('figure-mac-share-lenet').locator('.recharts-wrapper > svg.recharts-surface').evaluate((el) => el.getBoundingClientRect().width);
  expect(pngWidth).toBe(Math.round(shownWidth) * 2);

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export ${title} as CSV` }).click()]);
  const csv = (await readFile(await csvDownload.path(), 'utf8')).trim().split(/\r?\n/);
  expect(csv[0]).toBe('Layer,Share of multiply-accumulates');
  expect(csv).toHaveLength(6);
  expect(csv[2]).toMatch(/^conv2,0\.57\d+/);
});
