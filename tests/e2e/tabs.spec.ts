import { ErrorWatch, expect, launchPersistent, temporaryProfile, test, waitForApp } from './helpers';

test('a second tab on the same store offers to take over, and the first tab then says it lost it', async () => {
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    const context = await launchPersistent(profile.dir);
    const first = context.pages()[0] ?? (await context.newPage());
    watch.watch(first);
    await first.goto('/');
    await waitForApp(first);
    await first.keyboard.press('s');
    await expect(first.getByTestId('stage-replication-secondary')).toContainText('running');

    const second = await context.newPage();
    watch.watch(second);
    await second.goto('/');
    const banner = second.getByTestId('banner-locked');
    await expect(banner).toContainText('Another tab owns this simulation');
    await expect(second.locator('.app')).toHaveAttribute('data-ready', 'false');

    await banner.getByRole('button', { name: 'Take over here' }).click();
    await waitForApp(second);
    await expect(second.getByTestId('banner-locked')).toHaveCount(0);
    // The second tab has the first tab's simulation.
    await expect(second.getByTestId('stage-replication-secondary')).toContainText('running');
    await expect(second.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');

    // The first tab shows it lost the store, and can take it back.
    const lost = first.getByTestId('banner-locked');
    await expect(lost).toContainText('Another tab took over this simulation');
    await expect(first.getByTestId('saved-state')).toContainText('other tab');
    await expect(first.getByRole('button', { name: /COLO start/ })).toBeDisabled();

    await second.keyboard.press('c');
    await expect(second.getByTestId('toast').filter({ hasText: 'COLO checkpoint' }).first()).toBeVisible();

    await lost.getByRole('button', { name: 'Take over here' }).click();
    await expect(first.getByTestId('banner-locked')).toHaveCount(0);
    await expect(first.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
    await expect(second.getByTestId('banner-locked')).toContainText('Another tab took over this simulation');
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});
