import { expect, test } from '@playwright/test';
import { openStudio, waitForModel } from './helpers';
import { invalidUploads, validUpload } from './fixtures';

test('a valid model loads by file picker and is still there after a reload', async ({ page }) => {
  await openStudio(page);
  await page.getByTestId('model-files').setInputFiles(validUpload());
  await expect(page.getByTestId('import-notice')).toContainText('Loaded “lenet”');
  await expect(page.getByTestId('pick-user-model')).toHaveCount(1);
  await expect(page.getByTestId('pick-user-model')).toHaveClass(/active/);
  await waitForModel(page);

  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('pick-user-model')).toHaveClass(/active/);
  await expect(page.getByTestId('model-title')).toHaveText('lenet');
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(8);

  await page.getByRole('button', { name: /Remove lenet from this browser/ }).click();
  await expect(page.getByTestId('pick-user-model')).toHaveCount(0);
  await expect(page.getByTestId('model-title')).toHaveText('LeNet-5');
});

test('a model dropped on the drop zone loads', async ({ page }) => {
  await openStudio(page);
  const files = validUpload();
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.mimeType, bytes: Array.from(f.buffer) })));
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: transfer });
  await expect(page.getByTestId('import-notice')).toContainText('Loaded “lenet”');
});

for (const bad of invalidUploads) {
  test(`an upload with ${bad.name} shows what is wrong and changes nothing`, async ({ page }) => {
    await openStudio(page);
    await page.getByTestId('model-files').setInputFiles(bad.files);
    await expect(page.getByTestId('import-error')).toHaveText(bad.message);
    await expect(page.getByTestId('model-title')).toHaveText('LeNet-5');
    await expect(page.getByTestId('pick-user-model')).toHaveCount(0);
    await expect(page.getByTestId('pick-lenet')).toHaveClass(/active/);
  });
}
