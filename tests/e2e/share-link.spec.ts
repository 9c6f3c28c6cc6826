/**
 * Share links (issue 9): "Copy link" makes `#scenario=<deflate-raw base64url>&step=N`, and that
 * link opens the same moment (same disks) in a new browser profile; a `?scenario=<URL>&step=N`
 * link opens a library scenario at its step; over the user's own session the page asks first,
 * and keeping the session keeps it exactly.
 */
import { BASE_URL, digest, execute, expect, openApp, skipWelcome, test, waitForApp } from './helpers';
import { buildSession, shownAt, xOfStep } from './time-travel-helpers';

test('a copied link opens the same step, same disks, in a new browser profile', async ({ page, browser }) => {
  await openApp(page);
  await buildSession(page);
  const point = await xOfStep(page, 4, 7);
  await page.mouse.click(point.x, point.y);
  await shownAt(page, 4);
  const atFour = await digest(page);
  await page.getByTestId('tt-copy-link').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Link copied' })).toBeVisible();
  const link = await page.evaluate(() => (window.coloSim.state as unknown as { travel: { lastShareLink: string | null } }).travel.lastShareLink);
  expect(link).toMatch(new RegExp(`^${BASE_URL}/#scenario=[A-Za-z0-9_-]+&step=4$`));

  // A new profile: its own IndexedDB, nothing saved, no welcome card.
  const context = await browser.newContext();
  await skipWelcome(context);
  const other = await context.newPage();
  const errors: string[] = [];
  other.on('pageerror', (error) => errors.push(error.message));
  await other.goto(link!);
  await waitForApp(other);
  await expect(other.getByTestId('replace-dialog')).toHaveCount(0);
  await expect(other.getByTestId('toast').filter({ hasText: 'Opened the link: shared-link.json' })).toBeVisible();
  await shownAt(other, 4);
  await expect(other.getByTestId('timeline')).toHaveAttribute('data-step-count', '7');
  expect(await digest(other)).toEqual(atFour);
  // The link left the address: a reload does not open it again.
  expect(other.url()).toBe(`${BASE_URL}/`);
  expect(errors).toEqual([]);
  await context.close();
});

test('a ?scenario=<URL>&step=N link opens a library scenario at that step; over a session it asks first', async ({ page }) => {
  await openApp(page);
  // The user's own session: one command.
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '1');
  const before = await digest(page);

  // Keep it: nothing changes.
  await page.goto('/?scenario=scenarios/qemu-tests/02-primary-write.json&step=2');
  await waitForApp(page);
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await expect(page.getByTestId('replace-dialog')).toContainText('02-primary-write.json');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('link-problem')).toContainText('you kept your simulation: the link was not opened');
  expect(await digest(page)).toEqual(before);
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '1');

  // Replace it: the scenario at step 2.
  await page.goto('/?scenario=scenarios/qemu-tests/02-primary-write.json&step=2');
  await waitForApp(page);
  await page.getByTestId('replace-confirm').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Opened the link: 02-primary-write.json' })).toContainText('at step 2 of');
  await shownAt(page, 2);
  const stepCount = Number(await page.getByTestId('timeline').getAttribute('data-step-count'));
  expect(stepCount).toBeGreaterThan(2);
  expect(await page.evaluate(() => window.coloSim.state.scenario?.done)).toBe(false);
});
