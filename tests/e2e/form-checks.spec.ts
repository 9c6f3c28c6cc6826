import { readFileSync } from 'node:fs';
import { expect, openApp, test, waitForApp } from './helpers';

test('a negative offset or disk size is refused, not replaced by the last valid value', async ({ page }) => {
  await openApp(page);
  await page.locator('#io-offset').fill('-512');
  await expect(page.getByTestId('io-submit')).toBeDisabled();
  await expect(page.locator('form.io .hint')).toHaveText('the offset must be a non-negative multiple of 512 bytes');
  await page.locator('#io-offset').fill('512');
  await expect(page.getByTestId('io-submit')).toBeEnabled();
  await page.locator('#io-length').fill('-64');
  await expect(page.getByTestId('io-submit')).toBeDisabled();

  await page.getByRole('button', { name: /New/ }).click();
  const dialog = page.locator('dialog[open]');
  await page.locator('#new-size').fill('-1');
  await expect(page.getByTestId('new-start')).toBeDisabled();
  await expect(dialog.locator('.hint')).toHaveText('The disk size must be a positive multiple of 512 bytes.');
  await page.locator('#new-size').fill('16');
  await expect(page.getByTestId('new-start')).toBeEnabled();
});

test('the history counts steps in the singular and comes back after a reload', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('s');
  await page.keyboard.press('4');
  await expect(page.getByText('1 step recorded', { exact: true })).toBeVisible();
  await expect(page.getByTestId('history')).toContainText('COLO start');

  await page.reload();
  await waitForApp(page);
  await page.keyboard.press('4');
  await expect(page.getByText('1 step recorded', { exact: true })).toBeVisible();
  await expect(page.getByTestId('history')).toContainText('COLO start');
  await expect(page.getByTestId('history-earlier')).toHaveCount(0);
});

test('exporting a scenario run to its end is not called a partial run', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await page.locator('button.item[data-path="qemu-tests/01-primary-read.json"]').click();
  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText('Passed');
  const download = page.waitForEvent('download');
  await page.getByRole('tab', { name: /History/ }).click();
  await page.getByRole('button', { name: 'Export as scenario' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('qemu-test-primary-read-the-primary-replication-node-refuses-every-read.json');
  const exported = JSON.parse(readFileSync(await file.path(), 'utf8')) as { title: string };
  expect(exported.title).not.toContain('partial run');
});

test('a library search that matches nothing says so', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await page.locator('#library-search').fill('no-such-scenario-zzz');
  await expect(page.getByTestId('library-no-match')).toHaveText('No scenario matches “no-such-scenario-zzz”.');
  await page.locator('#library-search').fill('failover');
  await expect(page.getByTestId('library-no-match')).toHaveCount(0);
});
