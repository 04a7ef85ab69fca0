import { expect, type Page } from '@playwright/test';

/** Opens the studio fresh and waits until a model is open with its accuracy measured in the browser. */
export async function openStudio(page: Page, hash = ''): Promise<void> {
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto('./' + hash);
  await waitForModel(page);
}

export async function waitForModel(page: Page): Promise<void> {
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('status-model')).toHaveAttribute('data-evaluated', 'yes', { timeout: 60_000 });
}

export const percentOf = (text: string | null) => Number(/([\d.]+) %/.exec(text ?? '')?.[1]);
