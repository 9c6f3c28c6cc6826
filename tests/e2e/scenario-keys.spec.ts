import { expect, openApp, test } from './helpers';

test('two quick presses of ] run two scenario steps', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await page.locator('[data-path="behaviours/06-colo-failover-to-secondary.json"]').click();
  const panel = page.getByTestId('scenario-loaded');
  await expect(panel).toBeVisible();
  await page.locator('body').focus();
  // Both presses land before the first step's reply.
  await page.evaluate(() => {
    for (let press = 0; press < 2; press++) window.dispatchEvent(new KeyboardEvent('keydown', { key: ']', bubbles: true, cancelable: true }));
  });
  await expect(panel.locator('li[data-step="1"]')).toHaveAttribute('data-status', 'passed');
  await expect(panel.locator('.progress')).toHaveText('step 2 / ' + (await panel.locator('li[data-step]').count()));
});
