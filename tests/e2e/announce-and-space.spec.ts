/**
 * What a keyboard and screen-reader user meets: Space after a mouse click plays the clock instead
 * of pressing the clicked button again; events that matter and command results are announced
 * through one live region, throttled, never once per frame.
 */
import { execute, expect, openApp, test } from './helpers';
import { freshSmall } from './states';

test('Space after a mouse click on a button plays and pauses the clock instead of pressing the button again', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await page.getByRole('button', { name: /COLO start/ }).click();
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await page.getByRole('button', { name: /^Checkpoint/ }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'COLO checkpoint' })).toHaveCount(1);
  const checkpoints = () => page.evaluate(() => window.coloSim.state.history.filter((entry) => entry.step.op === 'checkpoint').length);
  expect(await checkpoints()).toBe(1);

  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveAttribute('aria-pressed', 'false');
  // The clicked button kept the focus and was not pressed again.
  await expect(page.getByRole('button', { name: /^Checkpoint/ })).toBeFocused();
  expect(await checkpoints()).toBe(1);

  // A button reached with the keyboard still answers Space, as buttons do.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: /^Checkpoint/ })).toBeFocused();
  await page.keyboard.press(' ');
  await expect.poll(checkpoints).toBe(2);
  await expect(page.getByTestId('play')).toHaveAttribute('aria-pressed', 'false');
});

test('stage changes, job starts and command results are announced; a busy clock is not read out frame by frame', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  const announcer = page.getByTestId('announcer');
  await page.locator('body').focus();
  await page.keyboard.press('s');
  await expect(announcer).toContainText('stage none to running');
  // The next announcement (throttled) carries what did not fit in the first.
  await expect.poll(async () => (await page.evaluate(() => window.coloSim.state.announcer.text)) + '', { timeout: 10_000 }).toMatch(/backup job started|COLO start|stage none to running/);

  // A command that fails is heard with QEMU's message.
  await page.getByRole('button', { name: 'start', exact: true }).first().click();
  await expect(announcer).toContainText('Block replication is running or done', { timeout: 10_000 });

  // Only one live region speaks for the simulation (and one says which brush a click writes):
  // the job strip, the toasts and the log are not live.
  const live = await page.evaluate(() =>
    [...document.querySelectorAll('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]:not([aria-live="off"])')].map((element) => element.getAttribute('data-testid') ?? element.className),
  );
  expect(live.sort()).toEqual(['announcer', 'brush-live']);

  // A workload on a playing clock: frames arrive every few ms, yet the live regions change at
  // most once per throttle interval (1.5 s).
  await execute(page, { op: 'workload', writesPerSecond: 1000, vm: 'both', blockSize: 4096, maxBlocks: 4 });
  await execute(page, { op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'any' });
  await page.evaluate(() => {
    const win = window as unknown as { liveChanges: number; framesSeen: number };
    win.liveChanges = 0;
    win.framesSeen = 0;
    const observer = new MutationObserver((records) => (win.liveChanges += records.length > 0 ? 1 : 0));
    for (const region of document.querySelectorAll('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"]')) observer.observe(region, { childList: true, characterData: true, subtree: true });
    new MutationObserver(() => win.framesSeen++).observe(document.querySelector('.app')!, { attributes: true, attributeFilter: ['data-frame'] });
  });
  await page.evaluate(async () => {
    await window.coloSim.state.setSpeed(1000);
    await window.coloSim.state.setPlaying(true);
  });
  await page.waitForTimeout(4500);
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
  const { liveChanges, framesSeen } = await page.evaluate(() => {
    const win = window as unknown as { liveChanges: number; framesSeen: number };
    return { liveChanges: win.liveChanges, framesSeen: win.framesSeen };
  });
  expect(framesSeen, 'frames while the clock played').toBeGreaterThan(30);
  // 4.5 s at one announcement per 1.5 s: 3, plus one in flight when counting started.
  expect(liveChanges).toBeLessThanOrEqual(4);
  expect(liveChanges).toBeGreaterThan(0);
  await expect(announcer).toContainText(/failed with EIO|more events/);
});
