import { execute, expect, openApp, test } from './helpers';

// A crash inside the worker: its script is served with a listener that throws, on a test
// message, outside any call (as a bug in the engine's timer code would).
const CRASH_ON_TEST_MESSAGE = `self.addEventListener('message', (event) => {
  if (event.data && event.data.coloSimTestCrash) setTimeout(() => { throw new Error('injected worker failure'); }, 0);
});
`;

test('an error in the worker shows on the page, and no request is left hanging', async ({ page, errorWatch }) => {
  errorWatch.allow(/injected worker failure/);
  await page.route(/\/assets\/sim\.worker-[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: CRASH_ON_TEST_MESSAGE + (await response.text()) });
  });
  await openApp(page);
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);

  await page.evaluate(() => (window.coloSim.client as unknown as { worker: Worker }).worker.postMessage({ coloSimTestCrash: true }));
  const banner = page.getByTestId('banner-error');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('The simulation worker crashed');
  await expect(banner).toContainText('injected worker failure');

  // Every later call fails at once with that message instead of waiting for an answer.
  const startedMs = Date.now();
  const outcome = await page.evaluate(() =>
    window.coloSim.client.execute({ op: 'checkpoint' }).then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    ),
  );
  expect(outcome).toContain('The simulation worker crashed');
  expect(Date.now() - startedMs).toBeLessThan(5_000);
});
