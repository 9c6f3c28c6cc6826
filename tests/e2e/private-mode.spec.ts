import { execute, expect, openApp, test } from './helpers';

// Private windows refuse IndexedDB (Firefox's private mode throws InvalidStateError from open).
// The worker is the only code that opens it, so its script is served with open() refused.
const REFUSE_INDEXEDDB = `IDBFactory.prototype.open = function () {
  throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
};
`;

test('when IndexedDB is unavailable (private mode), a banner says so and the simulation runs in memory', async ({ page }) => {
  await page.route(/\/assets\/sim\.worker-[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: REFUSE_INDEXEDDB + (await response.text()) });
  });
  await openApp(page);

  const banner = page.getByTestId('banner-memory');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('Saving is off: the simulation goes on in memory.');
  await expect(banner).toContainText('did not allow mutations');
  await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'memory');
  await expect(page.getByTestId('saved-state')).toContainText('in memory');

  // The simulation works as usual, in memory.
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: '128K', length: '64K', pattern: '0x5a' })).ok).toBe(true);
  const read = await execute(page, { op: 'read', node: 'secondary-disk', offset: '128K', length: '64K' });
  expect(read.ok && read.result?.actual).toContain('every byte 0x5a');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
});
