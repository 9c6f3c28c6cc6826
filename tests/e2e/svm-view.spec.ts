import { expect, openApp, test } from './helpers';

test("the SVM view's caption follows the active commit's swap without a reload, and a new simulation resets it", async ({ page }) => {
  await openApp(page);
  const view = page.locator('[data-disk="svm-view"]');
  await expect(view).toContainText('top-disk: active ▸ hidden ▸ secondary');
  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await page.getByTestId('io-submit').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes' }).first()).toBeVisible();
  await page.locator('body').focus();
  await page.keyboard.press('f');
  await expect(page.getByTestId('colo-state')).toContainText('failed over');
  await page.keyboard.press('i');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done');
  await expect(view).toContainText('top-disk reads secondary-disk');

  await page.keyboard.press('n');
  await page.getByTestId('new-start').click();
  await expect(view).toContainText('top-disk: active ▸ hidden ▸ secondary');
});
