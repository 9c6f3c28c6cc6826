import { execute, expect, openApp, openOverSession, test } from './helpers';

// `npm start` runs Vite's dev server, which builds modules on request (and the worker from its
// TypeScript source): the app and its scenario library must work there too, not only when built.
const DEV_SERVER = `http://127.0.0.1:${process.env.E2E_DEV_PORT ?? 5174}/`;

test('the dev server of npm start serves the app, its worker and the scenario library', async ({ page }) => {
  await openApp(page, DEV_SERVER);
  await expect(page.getByRole('heading', { name: 'Secondary host' })).toBeVisible();
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');

  await page.keyboard.press('l');
  await page.locator('#library-search').fill('whole COLO flow');
  await openOverSession(page, 'behaviours/06-colo-failover-to-secondary.json');
  await expect(page.getByTestId('scenario-loaded')).toContainText('The whole COLO flow');
  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText('Passed');
});
