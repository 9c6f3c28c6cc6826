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

test('replacing a session through the dialog: the answer stands, and nothing reads the request after it is gone', async ({ page }) => {
  // The page fixture fails the test on Svelte's warnings: the dialog's last close event once read
  // the request from a block already removed (derived_inert).
  await openApp(page);
  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await page.keyboard.press('l');
  await page.locator('[data-path="behaviours/05-checkpoint-equality.json"]').click();
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await page.getByTestId('replace-confirm').click();
  await expect(page.getByTestId('scenario-loaded')).toBeVisible();
  await expect(page.locator('dialog[open]')).toHaveCount(0);
  // Let the dialog's close event (a later task) run before the fixture looks.
  await page.waitForTimeout(300);
  await expect(page.getByTestId('scenario-loaded')).toBeVisible();
});

test('the New simulation form starts from every current setting and keeps the ones not changed (the device-state load time went back to 1 ms)', async ({ page }) => {
  await openApp(page);
  await page.evaluate(() => window.coloSim.client.newSimulation({ diskSizeBytes: 8 * 1024 * 1024, seed: 7, vmstateLoadUs: 5000 }));
  await expect(page.getByTestId('virtual-time')).toHaveText('0 µs');
  await expect.poll(() => page.evaluate(() => window.coloSim.state.summary?.settings.vmstateLoadUs)).toBe(5000);
  await page.locator('.actions button:has-text("New")').click();
  const dialog = page.getByRole('dialog', { name: 'New simulation' });
  await expect(dialog.getByLabel('Seed')).toHaveValue('7');
  await expect(dialog.getByLabel('Device-state load at a checkpoint (µs)')).toHaveValue('5000');
  await dialog.getByLabel('Seed').fill('9');
  await dialog.getByTestId('new-start').click();
  await expect.poll(() => page.evaluate(() => window.coloSim.state.summary?.settings.seed)).toBe(9);
  const settings = await page.evaluate(() => window.coloSim.state.summary!.settings);
  expect(settings).toMatchObject({ seed: 9, vmstateLoadUs: 5000, diskSizeBytes: 8 * 1024 * 1024 });
});

test('the New simulation form refuses times that are not whole microseconds: empty, fractional, or too large to count', async ({ page }) => {
  await openApp(page);
  await page.locator('.actions button:has-text("New")').click();
  const dialog = page.getByRole('dialog', { name: 'New simulation' });
  const start = dialog.getByTestId('new-start');
  const field = dialog.getByLabel('Device-state load at a checkpoint (µs)');
  // 1e20 µs was accepted and the next checkpoint stalled the simulation; an empty field became 0.
  for (const bad of ['99999999999999999999', '', '1.5']) {
    await field.fill(bad);
    await expect(start, `device-state load "${bad}"`).toBeDisabled();
    await expect(dialog.getByText('Latency, copy time and the device-state load time are whole numbers of µs.')).toBeVisible();
  }
  await field.fill('-1');
  await expect(dialog.getByText('The device-state load time is 0 µs or more.')).toBeVisible();
  await field.fill('0');
  await dialog.getByLabel('NBD latency (µs, one way)').fill('');
  await expect(start).toBeDisabled();
  await dialog.getByLabel('NBD latency (µs, one way)').fill('500');
  await expect(start).toBeEnabled();
  await start.click();
  await expect.poll(() => page.evaluate(() => window.coloSim.state.summary?.settings.vmstateLoadUs)).toBe(0);
});
