/**
 * Screenshots of each major state, saved under test-results/screenshots/ for people to look at
 * (and for the page's authors to check the design), at 1600 px, then the main states at a
 * phone's, a tablet's, a laptop's and a projector's width.
 */
import { execute, expect, FOUR_SIZES, openApp, openOverSession, SCREENSHOT_DIR, test } from './helpers';
import type { Page } from '@playwright/test';
import { coloWithWrites, failoverFailed, freshSmall, midCommit } from './states';

const MiB = 1024 * 1024;

async function shoot(page: Page, name: string): Promise<void> {
  await page.mouse.move(2, 990);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
}

async function prepare(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await window.coloSim.client.newSimulation({ diskSizeBytes: 8 * 1024 * 1024, clusterSizeBytes: 65536, copyTimeUs: 40_000 });
  });
  await expect(page.getByTestId('virtual-time')).toHaveText('0 µs');
}

test('screenshots of the major states', async ({ page }) => {
  test.setTimeout(90_000);
  await openApp(page);
  await prepare(page);

  // 1. After COLO start, with a first epoch of writes on both VMs.
  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 2 * MiB, pattern: '0x11' });
  await execute(page, { op: 'checkpoint' });
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 3 * MiB, length: 512 * 1024, pattern: '0x33' });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 5 * MiB, length: 256 * 1024, pattern: '0x66' });
  // Commands sent in a row animate one after the other: let them finish.
  await page.waitForTimeout(6000);
  await shoot(page, '01-after-colo-start');

  // 2. In the middle of a copy-before-write: the old cluster goes to the hidden disk first.
  await page.getByRole('radio', { name: 'pattern 0x22' }).click();
  await page.locator('[data-disk="primary-disk"] .canvas-box').click({ position: { x: 30, y: 3 } });
  await page.waitForTimeout(1050);
  await shoot(page, '02-mid-copy-before-write');
  await page.waitForTimeout(1500);

  // 3. After a checkpoint: active and hidden emptied, the SVM view equals the primary.
  await page.keyboard.press('c');
  await page.waitForTimeout(2600);
  await shoot(page, '03-after-checkpoint');

  // 4. In the middle of the active commit, after failover to the secondary.
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 1 * MiB, length: 2 * MiB, pattern: '0x55' });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 6 * MiB, length: 512 * 1024, pattern: '0x99' });
  await page.keyboard.press('f');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('failover');
  await page.evaluate(async () => {
    await window.coloSim.state.setSpeed(400);
    await window.coloSim.state.setPlaying(true);
  });
  await expect.poll(async () => Number(await page.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(30);
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
  await page.waitForTimeout(500);
  await shoot(page, '04-mid-commit');

  // 5. After failover: the commit done, the secondary disk is the SVM's disk.
  await page.evaluate(() => window.coloSim.state.setPlaying(true));
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done', { timeout: 20_000 });
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
  await page.keyboard.press('4');
  await page.waitForTimeout(2200);
  await shoot(page, '05-after-failover');

  // 6. The SVM view coloured by the layer that serves each cell, at 1280 px.
  await page.setViewportSize({ width: 1280, height: 900 });
  await prepare(page);
  await execute(page, { op: 'colo-start' });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 4 * MiB, pattern: '0x11' });
  await execute(page, { op: 'checkpoint' });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 2 * MiB, length: 1 * MiB, pattern: '0x22' });
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 3 * MiB, length: 2 * MiB + 4096, pattern: '0x33' });
  await page.getByRole('button', { name: 'by layer' }).click();
  await page.keyboard.press('1');
  await page.waitForTimeout(2600);
  await shoot(page, '06-layers-1280');

  // 7. A scenario with its narration.
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.keyboard.press('l');
  await openOverSession(page, 'behaviours/06-colo-failover-to-secondary.json');
  for (let step = 0; step < 21; step++) await page.getByTestId('scenario-step').click();
  await page.waitForTimeout(2000);
  await shoot(page, '07-scenario');

  // 8. The keyboard shortcuts.
  await page.getByTestId('scenario-close').click();
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await shoot(page, '08-shortcuts');
});

for (const viewport of FOUR_SIZES) {
  test(`screenshots of the main states at ${viewport.width} px`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize(viewport);
    const name = (state: string) => `${SCREENSHOT_DIR}/w${viewport.width}-${state}.png`;
    /** No hover tip, the page at its top. */
    const settle = async () => {
      await page.mouse.move(viewport.width - 2, 2);
      await page.evaluate(() => window.scrollTo(0, 0));
    };
    const drawer = viewport.width < 1240;
    await openApp(page);
    await freshSmall(page);
    await page.screenshot({ path: name('1-fresh'), fullPage: true });
    if (drawer) {
      await page.getByTestId('controls-toggle').click();
      await page.screenshot({ path: name('2-drawer') });
      await page.keyboard.press('Escape');
    }
    await coloWithWrites(page);
    await page.waitForTimeout(4500);
    await page.screenshot({ path: name('3-colo-writes'), fullPage: true });
    // A write's ring, mid-animation.
    await page.locator('[data-disk="primary-disk"] .canvas-box').click({ position: { x: 3, y: 3 } });
    await page.waitForTimeout(250);
    await page.locator('[data-disk="primary-disk"]').screenshot({ path: name('4-write-ring') });
    await page.waitForTimeout(2500);
    await midCommit(page);
    await page.waitForTimeout(400);
    await settle();
    await page.screenshot({ path: name('5-mid-commit') });
    await freshSmall(page);
    await failoverFailed(page);
    await execute(page, { op: 'fault', kind: 'io-error', node: 'secondary-disk', on: 'write' });
    await page.waitForTimeout(2000);
    await settle();
    await page.screenshot({ path: name('6-failover-failed') });
    await page.locator('body').focus();
    await page.keyboard.press('b');
    await page.waitForTimeout(300);
    await settle();
    await page.locator('section.stage').screenshot({ path: name('7-cell-labels') });
    await page.keyboard.press('b');
    await page.keyboard.press('l');
    await openOverSession(page, 'qemu-tests/11-secondary-continuous-replication.json');
    if (drawer) await page.keyboard.press('Escape');
    for (let step = 0; step < 4; step++) await page.locator('body').press(']');
    await page.waitForTimeout(1500);
    await settle();
    await page.screenshot({ path: name('8-scenario') });
  });
}
