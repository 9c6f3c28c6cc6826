import { expect, openApp, test } from './helpers';

test('a shortcut pressed right after Escape closes a dialog is not lost', async ({ page }) => {
  await openApp(page);
  await page.locator('body').focus();
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  // What Escape does (a cancel event now, the close event in a later task), then `s` before that task.
  await page.evaluate(() => {
    const dialog = document.querySelector('dialog')!;
    dialog.requestClose();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 's', bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await expect(page.getByRole('dialog')).toHaveCount(0);
});
