import { expect, openApp, test } from './helpers';

test('keyboard only: COLO start, a checkpoint, writes and a failover', async ({ page }) => {
  await openApp(page);
  await page.locator('body').focus();

  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await expect(page.getByTestId('stage-replication-primary')).toContainText('running');

  // A checkpoint first: the writes after it are what the failover's active commit has to fold in
  // (with nothing written since the checkpoint the commit completes at once, as in QEMU).
  await page.keyboard.press('c');
  await expect(page.getByTestId('toast').filter({ hasText: 'COLO checkpoint' }).first()).toBeVisible();

  // w opens the guest I/O form on the offset field; Enter sends it.
  await page.keyboard.press('w');
  await expect(page.locator('#io-offset')).toBeFocused();
  await page.keyboard.type('512');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes 0x22 [512 B, +64 KiB)' })).toBeVisible();
  await page.keyboard.press('Escape');

  // Tab to a disk grid, move its cursor, write with Enter. From the top bar's first control: the
  // side panel (where Escape left the focus) comes after the stage in the tab order.
  await page.getByRole('button', { name: 'Step to the next event' }).focus();
  let onGrid = false;
  for (let presses = 0; presses < 40 && !onGrid; presses++) {
    await page.keyboard.press('Tab');
    onGrid = await page.evaluate(() => document.activeElement?.getAttribute('aria-roledescription') === 'disk grid' && document.activeElement.closest('[data-disk]')?.getAttribute('data-disk') === 'primary-disk');
  }
  expect(onGrid, 'Tab reaches the primary-disk grid').toBe(true);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes 0x22 [2112 KiB, +64 KiB)' })).toBeVisible();
  await page.keyboard.press('Escape');

  await page.keyboard.press('f');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('failover');
  await expect(page.getByTestId('colo-state')).toContainText('failed over');
  // Space plays the clock: the active commit runs to its end.
  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done', { timeout: 20_000 });
  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveAttribute('aria-pressed', 'false');

  // Side panel tabs with the keyboard.
  await page.keyboard.press('3');
  await expect(page.getByRole('tab', { name: /Scenarios/ })).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: /Scenarios/ }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: /History/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('history')).toContainText('failover to the secondary');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: /QMP/ })).toHaveAttribute('aria-selected', 'true');

  // 5: the QMP console, with the focus in its command field; Esc gives the keys back to the page.
  await page.locator('body').focus();
  await page.keyboard.press('5');
  await expect(page.getByTestId('qmp-input')).toBeFocused();
  // The primary is the failover's lost host: the console says so.
  await expect(page.getByTestId('qmp-lost')).toBeVisible();
  // Back to the host switch, over to the secondary, and 5 into its command field again.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await expect(page.getByRole('radio', { name: 'primary', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('radio', { name: 'secondary', exact: true })).toBeChecked();
  await page.keyboard.press('5');
  await expect(page.getByTestId('qmp-input')).toBeFocused();
  await page.keyboard.type('query-colo-status');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qmp-transcript')).toContainText('{"return": {"mode": "none", "last-mode": "secondary", "reason": "request"}}');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('qmp-input')).not.toBeFocused();
  await page.keyboard.press('1');
  await expect(page.getByRole('tab', { name: /Control/ })).toHaveAttribute('aria-selected', 'true');
});

test('on a phone, Escape closes the drawer from the library search too, once the search is empty', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openApp(page);
  await page.keyboard.press('l');
  const search = page.locator('#library-search');
  await expect(search).toBeFocused();
  await expect(page.locator('aside.side')).toBeVisible();
  await search.fill('failover');
  // The first Escape clears the search (the field's own use of it), the second closes the drawer.
  await page.keyboard.press('Escape');
  await expect(search).toHaveValue('');
  await expect(page.locator('aside.side')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.locator('aside.side')).toHaveCount(0);
  await expect(page.getByTestId('controls-toggle')).toBeFocused();
});

test('a dialog closed with Escape gives the focus back to the button that opened it', async ({ page }) => {
  await openApp(page);
  const newButton = page.locator('.actions button:has-text("New")');
  await newButton.click();
  await expect(page.getByRole('dialog', { name: 'New simulation' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.locator('dialog[open]')).toHaveCount(0);
  await expect(newButton).toBeFocused();
  const help = page.locator('button[aria-label="Keyboard shortcuts"]');
  await help.click();
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).getByRole('button', { name: 'Close' }).click();
  await expect(help).toBeFocused();
});

test('the brush swatches are one Tab stop, and the arrows choose the pattern', async ({ page }) => {
  await openApp(page);
  const group = page.getByRole('radiogroup', { name: 'Pattern written by a click on a grid' });
  const swatches = group.getByRole('radio');
  await expect(group.locator('[tabindex="0"]')).toHaveCount(1);
  const checked = group.getByRole('radio', { checked: true });
  await expect(checked).toHaveAttribute('tabindex', '0');
  const first = await checked.getAttribute('aria-label');
  await checked.focus();
  await page.keyboard.press('ArrowRight');
  const next = group.getByRole('radio', { checked: true });
  await expect(next).not.toHaveAttribute('aria-label', first!);
  await expect(next).toBeFocused();
  await expect(group.locator('[tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press('End');
  await expect(swatches.last()).toBeFocused();
  await expect(swatches.last()).toHaveAttribute('aria-checked', 'true');
  // Tab leaves the group at once.
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).not.toBe('radio');
});

for (const viewport of [
  { width: 390, height: 844 },
  { width: 768, height: 1024 },
]) {
  test(`at ${viewport.width} px Tab stays in the open drawer: past its last control it wraps to the first, and back (it went on to controls hidden under the drawer)`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    await page.getByTestId('controls-toggle').click();
    const activeTab = page.getByRole('tab', { selected: true });
    await expect(activeTab).toBeFocused();
    const inDrawer = () => page.evaluate(() => document.getElementById('side-panel')?.contains(document.activeElement) === true);
    const stops = await page.evaluate(() => {
      const panel = document.getElementById('side-panel')!;
      return [...panel.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]')].filter((element) => element.tabIndex >= 0 && !(element as HTMLButtonElement).disabled && element.checkVisibility({ visibilityProperty: true })).length;
    });
    expect(stops).toBeGreaterThan(10);
    // Once round the drawer and a few more, on every tab: the focus never leaves it.
    for (const name of ['Faults', 'Scenarios', 'History', 'QMP', 'Cost', 'Control']) {
      await page.getByRole('tab', { name: new RegExp(name) }).click();
      const count = await page.evaluate(() => {
        const panel = document.getElementById('side-panel')!;
        return [...panel.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]')].filter((element) => element.tabIndex >= 0 && !(element as HTMLButtonElement).disabled && element.checkVisibility({ visibilityProperty: true })).length;
      });
      for (let press = 0; press < count + 3; press++) {
        await page.keyboard.press('Tab');
        expect(await inDrawer(), `${name}: Tab ${press + 1}`).toBe(true);
      }
    }
    // From the first stop, Shift+Tab goes to the last one, still in the drawer.
    await activeTab.focus();
    await page.keyboard.press('Shift+Tab');
    expect(await inDrawer()).toBe(true);
    await expect(activeTab).not.toBeFocused();
    await page.keyboard.press('Tab');
    await expect(activeTab).toBeFocused();
    // Escape still closes it, and the focus goes back to the Controls button.
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('controls-toggle')).toBeFocused();
  });
}
