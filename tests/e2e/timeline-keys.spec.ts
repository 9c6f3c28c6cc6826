/**
 * The timeline strip from the keyboard: Tab reaches it as a slider; arrows, Page Up/Down, Home
 * and End move it, and its aria-valuetext says the step, what it did and the lifecycle phase; `<`
 * and `>` move it from anywhere; the shortcuts overlay lists the keys; axe finds nothing serious
 * on it in the past with a branch.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, openApp, test } from './helpers';
import { buildSession, SESSION_COMMANDS, shownAt } from './time-travel-helpers';

test('keyboard use of the timeline strip', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const end = SESSION_COMMANDS.length;
  const slider = page.getByRole('slider', { name: 'Timeline: the moment shown' });
  await expect(slider).toHaveAttribute('aria-valuemax', String(end));

  // Tab reaches it (from the last control before it: the stage's controls come first).
  await page.getByTestId('tt-back').focus();
  for (let presses = 0; presses < 6 && !(await slider.evaluate((element) => element === document.activeElement)); presses++) await page.keyboard.press('Tab');
  await expect(slider).toBeFocused();

  await page.keyboard.press('Home');
  await shownAt(page, 0);
  await expect(slider).toHaveAttribute('aria-valuetext', 'step 0 of 7, before the first step, not protected');
  await page.keyboard.press('ArrowRight');
  await shownAt(page, 1);
  await expect(slider).toHaveAttribute('aria-valuetext', /^step 1 of 7, after colo-start \(COLO started\), at .+, protected$/);
  await page.keyboard.press('PageUp');
  await shownAt(page, end);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await shownAt(page, end - 2);
  await expect(slider).toHaveAttribute('aria-valuetext', /^step 5 of 7, after guest-write, at .+, protected$/);
  await page.keyboard.press('ArrowUp');
  await shownAt(page, end - 1);
  // The failover cancels the secondary's backup job, which is no error (markOf in src/engine/timeline/timeline.ts).
  await expect(slider).toHaveAttribute('aria-valuetext', /^step 6 of 7, after failover \(failover\), at .+, failed over$/);
  await page.keyboard.press('PageDown');
  await shownAt(page, 0);
  await page.keyboard.press('End');
  await shownAt(page, end);

  // From anywhere (not a text field): < and >.
  await page.locator('body').focus();
  await page.keyboard.press('<');
  await shownAt(page, end - 1);
  await page.keyboard.press('<');
  await shownAt(page, end - 2);
  await page.keyboard.press('>');
  await shownAt(page, end - 1);

  // In the past with a branch: axe on the strip.
  await page.keyboard.press('<');
  await shownAt(page, end - 2);
  await page.keyboard.press('c');
  await expect(page.getByTestId('tt-branches')).toBeVisible();
  await page.getByTestId('tt-branches').locator('summary').click();
  await page.keyboard.press('<');
  await page.waitForTimeout(400);
  const results = await new AxeBuilder({ page }).include('[data-testid="timeline"]').analyze();
  const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  expect(serious).toEqual([]);

  // The overlay lists the keys.
  await page.locator('body').focus();
  await page.keyboard.press('?');
  const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(overlay).toContainText('Timeline: back / forward one step');
  await expect(overlay).toContainText('Inside a command: back / forward one event');
});

test('a new session\'s timeline says it has no steps yet, then counts the first command', async ({ page }) => {
  await openApp(page);
  await page.evaluate(() => window.coloSim.client.newSimulation({}));
  const slider = page.getByRole('slider', { name: 'Timeline: the moment shown' });
  await expect(slider).toHaveAttribute('aria-valuetext', 'no steps yet (each command is one), not protected');
  await expect(page.getByText('no steps yet (each command is one), not protected')).toBeVisible();
  await page.keyboard.press('s');
  await expect(slider).toHaveAttribute('aria-valuetext', /^step 1 of 1, after colo-start \(COLO started\), at .+, protected, the end$/);
});
