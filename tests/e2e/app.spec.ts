import { execute, expect, openApp, test } from './helpers';

test('the app loads with no console errors and shows both hosts', async ({ page }) => {
  await openApp(page);
  await expect(page.getByRole('heading', { name: 'Primary host' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Secondary host' })).toBeVisible();
  for (const disk of ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk', 'svm-view']) {
    await expect(page.locator(`[data-disk="${disk}"] canvas.grid-base`)).toBeVisible();
  }
  // The block graph: every node of the topology, the backends and the link.
  for (const node of ['colo-disk', 'primary-disk', 'replication-primary', 'nbd-client', 'secondary-disk', 'hidden-disk', 'active-disk', 'replication-secondary', 'top-disk', 'primary-vm', 'secondary-vm', 'nbd-export']) {
    await expect(page.locator(`.graph-svg g.node[data-node="${node}"]`)).toHaveCount(1);
  }
  await expect(page.getByTestId('stage-replication-primary')).toContainText('none');
  await expect(page.getByTestId('link-state')).toContainText('up');
  await expect(page.getByTestId('saved-state')).toContainText(/saved|saving/);
  const first = await page.evaluate(() => performance.getEntriesByName('colo-sim:first-grid').length);
  expect(first).toBe(1);
});

test('clicking grids writes through the right VM, and runtime nodes appear in the graph', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  // COLO start inserts the copy-before-write filter above secondary-disk.
  await expect(page.locator('.graph-svg g.node[data-node="secondary-disk-cbw"]')).toHaveCount(1);
  await expect(page.getByTestId('job-backup')).toBeVisible();

  await page.locator('[data-disk="primary-disk"] .canvas-box').click({ position: { x: 3, y: 3 } });
  await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes 0x22' }).first()).toBeVisible();
  await page.locator('[data-disk="active-disk"] .canvas-box').click({ position: { x: 3, y: 3 }, modifiers: [] });
  await expect(page.getByTestId('toast').filter({ hasText: 'secondary VM writes 0x22' }).first()).toBeVisible();
  // Shift+click reads; the result says where the bytes came from.
  await page.locator('[data-disk="svm-view"] .canvas-box').click({ position: { x: 3, y: 3 }, modifiers: ['Shift'] });
  await expect(page.getByTestId('toast').filter({ hasText: 'secondary VM reads' }).first()).toBeVisible();

  // The worker's disks hold what the page shows.
  const pageCells = await page.evaluate(() => {
    window.coloSim.state.disks.flush();
    return ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk'].map((name) => window.coloSim.state.disks.get(name)!.content[0]);
  });
  expect(pageCells).toEqual([0x22, 0x22, 0x00, 0x22]);

  // Failover: the commit runs behind a mirror_top node, with its progress.
  await page.evaluate(() => window.coloSim.client.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536, copyTimeUs: 50_000 }));
  await execute(page, { op: 'colo-start' });
  await execute(page, { op: 'guest-write', vm: 'secondary', offset: 0, length: 1024 * 1024, pattern: '0x33' });
  await execute(page, { op: 'failover', to: 'secondary' });
  await expect(page.locator('.graph-svg g.node[data-node="active-disk-mirror-top"]')).toHaveCount(1);
  await expect(page.getByTestId('job-commit')).toBeVisible();
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('failover');
  await execute(page, { op: 'run', until: 'idle' });
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done');
  await expect(page.locator('.graph-svg g.node[data-node="active-disk-mirror-top"]')).toHaveCount(0);
});

test('the forms send commands and show QEMU errors, quirks and validation errors', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: /COLO start/ }).click();
  // The guest I/O form with units.
  await page.getByLabel('Offset', { exact: true }).fill('128');
  await page.getByLabel('Offset unit').selectOption({ label: 'KiB' });
  await page.locator('#io-pattern').fill('0x5a');
  await page.getByTestId('io-submit').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'primary VM writes 0x5a [128 KiB, +64 KiB)' })).toBeVisible();

  // A replication action with QEMU's exact error message.
  await page.getByRole('button', { name: 'start', exact: true }).first().click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Block replication is running or done' }).first()).toBeVisible();

  // A QEMU quirk is labelled as such.
  const secondary = page.locator('.repl:has(.host.secondary)');
  await secondary.getByRole('checkbox', { name: 'failover' }).uncheck();
  await secondary.getByRole('button', { name: 'stop' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'QEMU quirk' }).first()).toBeVisible();
  await page.keyboard.press('4');
  await expect(page.getByTestId('history')).toContainText('Backup job was cancelled unexpectedly');
  await expect(page.getByTestId('history')).toContainText('QEMU quirk');

  // A command that is not a valid step: its path and message.
  await page.keyboard.press('1');
  await page.getByText('Open a replication node (blockdev-add)').click();
  await page.locator('#open-name').fill('9-not-a-name');
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Not a valid command' }).first()).toContainText("step.options.node-name");

  // A replication node opened by the user appears in the graph with its stage.
  await page.locator('#open-name').fill('extra-replication');
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('.graph-svg g.node[data-node="extra-replication"]')).toHaveCount(1);
  await expect(page.getByTestId('stage-extra-replication')).toContainText('none');

  // The event log: filter by text, QEMU function shown.
  await page.locator('#log-text').fill('replication_stop');
  await expect(page.locator('.log .row').first()).toContainText('replication_stop');
  await expect(page.locator('.log .row.quirk').first()).toContainText('QEMU quirk');
});

test('faults: an I/O error on the hidden disk, link down, and clearing them', async ({ page }) => {
  await openApp(page);
  await execute(page, { op: 'colo-start' });
  await page.keyboard.press('2');
  await page.locator('#fault-node').selectOption('hidden-disk');
  await page.getByRole('button', { name: 'Inject EIO' }).click();
  await expect(page.locator('.graph-svg g.node[data-node="hidden-disk"] .badge-fault')).toBeVisible();
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 4096, pattern: '0x11' });
  // The forwarded write failed in copy-before-write; the primary only records it.
  await expect(page.locator('.graph-svg g.node[data-node="replication-primary"] .badge-error')).toBeVisible();
  await page.getByRole('button', { name: 'Link down' }).click();
  await expect(page.getByTestId('link-state')).toContainText('down');
  await page.getByRole('button', { name: 'Clear all faults' }).click();
  await expect(page.getByTestId('link-state')).toContainText('up');
});
