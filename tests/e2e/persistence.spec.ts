import { digest, ErrorWatch, expect, launchPersistent, temporaryProfile, test, visibleCells, waitForApp, waitSaved } from './helpers';

test('a reload and a browser restart restore the disks byte for byte', async () => {
  test.setTimeout(120_000);
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    let context = await launchPersistent(profile.dir);
    let page = context.pages()[0] ?? (await context.newPage());
    watch.watch(page);
    await page.goto('/');
    await waitForApp(page);
    await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');

    // Work through the UI: COLO start, writes on both VMs, checkpoint, more writes.
    await page.keyboard.press('s');
    await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
    const primaryGrid = page.locator('[data-disk="primary-disk"] .canvas-box');
    const activeGrid = page.locator('[data-disk="active-disk"] .canvas-box');
    await primaryGrid.click({ position: { x: 2, y: 2 } });
    await page.getByRole('radio', { name: 'pattern 0x55' }).click();
    await primaryGrid.click({ position: { x: 14, y: 2 } });
    await activeGrid.click({ position: { x: 8, y: 8 } });
    await page.keyboard.press('c');
    await expect(page.getByTestId('toast').filter({ hasText: 'COLO checkpoint' }).first()).toBeVisible();
    await page.getByRole('radio', { name: 'pattern 0x99' }).click();
    await primaryGrid.click({ position: { x: 8, y: 14 } });
    await activeGrid.click({ position: { x: 20, y: 20 } });
    await page.evaluate(() =>
      window.coloSim.client.execute({ op: 'guest-write', vm: 'secondary', offset: 3 * 1024 * 1024 + 512, length: 4096, pattern: '0x7e' }),
    );
    await waitSaved(page);

    const before = await digest(page);
    const cellsBefore = await visibleCells(page);
    const timeBefore = await page.getByTestId('virtual-time').textContent();
    expect(Object.keys(before).sort()).toEqual(['active-disk', 'hidden-disk', 'primary-disk', 'secondary-disk']);

    // Reload.
    await page.reload();
    await waitForApp(page);
    await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
    expect(await digest(page)).toEqual(before);
    await expect(page.getByTestId('virtual-time')).toHaveText(timeBefore!);
    await expect(page.getByTestId('colo-state')).toContainText('COLO running');
    await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
    expect(await visibleCells(page)).toEqual(cellsBefore);

    // Close the browser and start it again on the same profile.
    await context.close();
    context = await launchPersistent(profile.dir);
    page = context.pages()[0] ?? (await context.newPage());
    watch.watch(page);
    await page.goto('/');
    await waitForApp(page);
    expect(await digest(page)).toEqual(before);
    expect(await visibleCells(page)).toEqual(cellsBefore);
    await expect(page.getByTestId('virtual-time')).toHaveText(timeBefore!);
    await expect(page.getByTestId('stage-replication-primary')).toContainText('running');

    // It goes on from there.
    await page.keyboard.press('c');
    await expect(page.getByTestId('toast').filter({ hasText: 'COLO checkpoint' }).first()).toBeVisible();
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});
