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

test('a key that acts on the simulation while a scenario drives it says why nothing happens', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await page.locator('[data-path="behaviours/06-colo-failover-to-secondary.json"]').click();
  await expect(page.getByTestId('scenario-loaded')).toBeVisible();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('s');
  await expect(page.getByTestId('toast').filter({ hasText: 'A scenario or lesson drives the simulation now' })).toBeVisible();
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('none');
});
