import { BASE_URL, ErrorWatch, expect, launchPersistent, temporaryProfile, test, waitForApp } from './helpers';

test('when IndexedDB runs out of quota, a banner says so and the simulation goes on in memory', async () => {
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    const context = await launchPersistent(profile.dir);
    const page = context.pages()[0] ?? (await context.newPage());
    watch.watch(page);
    // Chromium applies a quota override to storage opened after it: set it before the first visit,
    // small enough that the saves of a few dozen commands exceed it.
    const cdp = await context.newCDPSession(page);
    const origin = new URL(BASE_URL).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 60_000 });
    await page.goto('/');
    await waitForApp(page);
    await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');

    const banner = page.getByTestId('banner-memory');
    let writes = 0;
    for (; writes < 120 && (await banner.count()) === 0; writes++) {
      await page.evaluate(
        (block) => window.coloSim.client.execute({ op: 'write', node: 'primary-disk', offset: block * 1024 * 1024, length: 65536, pattern: 1 + (block % 250) }),
        writes,
      );
    }
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('goes on in memory');
    await expect(banner).toContainText(/out of space|quota/i);
    await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'memory');
    await expect(page.getByTestId('saved-state')).toContainText('in memory');

    // Nothing was lost and the simulation goes on.
    const result = await page.evaluate((block) => window.coloSim.client.execute({ op: 'read', node: 'primary-disk', offset: block * 1024 * 1024, length: 65536 }), writes - 1);
    expect(result.ok && result.result.passed).toBe(true);
    expect(result.ok ? result.result.actual : '').toContain(`every byte 0x${(1 + ((writes - 1) % 250)).toString(16).padStart(2, '0')}`);
    await page.keyboard.press('s');
    await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
    await page.locator('[data-disk="primary-disk"] .canvas-box').click({ position: { x: 2, y: 2 } });
    await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes 0x22' }).first()).toBeVisible();
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});
