/**
 * The Cost tab shows what `colo-sim run --stats` prints for the exported session: a session made
 * through the UI (COLO start, writes, a checkpoint, a failover with its commit) is exported, run
 * through the CLI in Node, and every figure on the tab is checked against the CLI's. Screenshots
 * at 1280 and 390 px for a person to look at.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { main } from '../../src/cli/cli';
import type { CostReport } from '../../src/engine/stats/replication-cost';
import { execute, expect, openApp, SCREENSHOT_DIR, test } from './helpers';
import { freshSmall } from './states';

async function cliStats(text: string): Promise<CostReport> {
  const dir = mkdtempSync(join(tmpdir(), 'colo-cost-e2e-'));
  try {
    const file = join(dir, 'session.json');
    writeFileSync(file, text);
    let stdout = '';
    const status = await main(['run', file, '--stats'], { stdout: (chunk) => (stdout += chunk), stderr: () => undefined });
    expect(status, stdout).toBe(0);
    return (JSON.parse(stdout) as { results: Array<{ stats: CostReport }> }).results[0]!.stats;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serious or critical axe violations on the page as it is (the a11y spec's bar). */
async function seriousAxe(page: Page): Promise<string[]> {
  // Animations settle first, as in a11y.spec: a fading toast would be measured half transparent.
  await page.waitForTimeout(400);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.filter((node) => node.impact === 'serious' || node.impact === 'critical').map((node) => `${violation.id} at ${node.target.map(String).join(' ')}`),
  );
}

/** As the tab writes exact bytes. */
const exactBytes = (value: number): string => `${value.toLocaleString('en-US')} B`;

async function writeAt(page: Page, offsetText: string, toast: string): Promise<void> {
  await page.keyboard.press('w');
  await expect(page.locator('#io-offset')).toBeFocused();
  await page.keyboard.type(offsetText);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('toast').filter({ hasText: toast })).toBeVisible();
  await page.keyboard.press('Escape');
}

test('the Cost tab shows the CLI --stats figures of the session made through the UI', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  await freshSmall(page);
  await page.locator('body').focus();

  await page.keyboard.press('s');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');
  await writeAt(page, '0', 'primary VM writes 0x22 [0 B, +64 KiB)');
  await writeAt(page, '1048576', 'primary VM writes 0x22 [1 MiB, +64 KiB)');
  await page.keyboard.press('c');
  await expect(page.getByTestId('toast').filter({ hasText: 'COLO checkpoint' }).first()).toBeVisible();
  await writeAt(page, '2097152', 'primary VM writes 0x22 [2 MiB, +64 KiB)');
  await page.keyboard.press('f');
  await expect(page.getByTestId('colo-state')).toContainText('failed over');
  // i: run until idle, so the failover's active commit runs to its end.
  await page.keyboard.press('i');
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done', { timeout: 20_000 });

  await page.keyboard.press('6');
  await expect(page.getByRole('tab', { name: /Cost/ })).toHaveAttribute('aria-selected', 'true');
  const panel = page.getByTestId('cost-panel');
  await expect(panel).toBeVisible();

  const worker = await page.evaluate(() => window.coloSim.client.replicationCost());
  if (!worker.ok) throw new Error(worker.message);
  const cli = await cliStats(await page.evaluate(() => window.coloSim.client.exportScenario('cost e2e')));
  expect(worker.stats, "the worker's figures are the CLI's").toEqual(cli);
  // Three primary writes of 64 KiB before the failover, so the comparisons below are not of zeros.
  expect(cli.nbd.writesForwarded).toBe(3);
  expect(cli.nbd.bytesForwarded).toBe(3 * 65536);
  expect(cli.commits.length).toBe(1);

  await expect(page.getByTestId('cost-nbd')).toHaveText(`${cli.nbd.writesForwarded} write${cli.nbd.writesForwarded === 1 ? '' : 's'}, ${exactBytes(cli.nbd.bytesForwarded)}`);
  await expect(page.getByTestId('cost-cbw')).toHaveText(`${cli.copyBeforeWrite.copies} cop${cli.copyBeforeWrite.copies === 1 ? 'y' : 'ies'}, ${exactBytes(cli.copyBeforeWrite.bytes)}`);
  await expect(page.getByTestId('cost-active')).toHaveText(`${cli.occupancy.activeClusters} cluster${cli.occupancy.activeClusters === 1 ? '' : 's'} now, peak ${cli.occupancy.activePeakClusters}`);
  await expect(page.getByTestId('cost-hidden')).toHaveText(`${cli.occupancy.hiddenClusters} cluster${cli.occupancy.hiddenClusters === 1 ? '' : 's'} now, peak ${cli.occupancy.hiddenPeakClusters}`);
  const checkpointRows = page.getByTestId('cost-checkpoints').locator('tbody tr');
  await expect(checkpointRows).toHaveCount(cli.checkpoints.length);
  for (const [index, checkpoint] of cli.checkpoints.entries()) {
    const cells = checkpointRows.nth(index).locator('td');
    await expect(cells.nth(2)).toHaveText(`${checkpoint.activeClustersFreed} cl`);
    await expect(cells.nth(3)).toHaveText(`${checkpoint.hiddenClustersFreed} cl`);
    await expect(cells.nth(4)).toHaveText(exactBytes(checkpoint.bytesFreed));
  }
  const commit = cli.commits[0]!;
  const commitCells = page.getByTestId('cost-commits').locator('tbody tr').first().locator('td');
  await expect(commitCells.nth(0)).toHaveText(commit.jobId);
  await expect(commitCells.nth(3)).toHaveText(exactBytes(commit.bytesCopied));
  // Each chart's table of every step (built when opened) has one row per step of its series.
  for (const id of ['bytes-forwarded', 'hidden-clusters']) await page.getByTestId(`cost-chart-${id}`).locator('details > summary').click();
  await expect(page.getByTestId('cost-chart-bytes-forwarded').locator('tbody tr')).toHaveCount(cli.series.bytesForwarded.length);
  await expect(page.getByTestId('cost-chart-hidden-clusters').locator('tbody tr')).toHaveCount(cli.series.hiddenClusters.length);

  expect(await seriousAxe(page), 'axe on the Cost tab at 1280 px').toEqual([]);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/cost-panel-1280.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  // On a phone the panel is a drawer: 6 opens it on the Cost tab.
  await page.locator('body').focus();
  await page.keyboard.press('6');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('cost-nbd')).toHaveText(`${cli.nbd.writesForwarded} writes, ${exactBytes(cli.nbd.bytesForwarded)}`);
  expect(await seriousAxe(page), 'axe on the Cost tab at 390 px').toEqual([]);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/cost-panel-390.png` });
});

test("the Cost charts' time labels stand apart at 1280 and 390 px (\"4.000ms\" and \"5.000ms\" touched)", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  await freshSmall(page);
  // Five milliseconds of virtual time: a tick every millisecond, six labels on a 300-px chart.
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  expect((await execute(page, { op: 'run', for: '4ms' })).ok).toBe(true);
  await expect(page.getByTestId('virtual-time')).toHaveText('5.000 ms');
  await page.locator('body').focus();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.locator('body').focus();
    await page.keyboard.press('6');
    for (const id of ['bytes-forwarded', 'hidden-clusters']) {
      // The panel asks the worker for its figures when it opens: the charts come a moment later.
      await expect(page.getByTestId(`cost-chart-${id}`).locator('svg .x-axis .tick text').last()).toHaveText('5ms');
      const xLabels = (
        await page
          .getByTestId(`cost-chart-${id}`)
          .locator('svg .x-axis .tick text')
          .evaluateAll((texts) => texts.filter((text) => getComputedStyle(text).visibility !== 'hidden').map((text) => ({ text: text.textContent ?? '', box: text.getBoundingClientRect() })))
      ).sort((a, b) => a.box.left - b.box.left);
      expect(xLabels.length, `${id}: time ticks`).toBeGreaterThan(2);
      for (let index = 1; index < xLabels.length; index++) {
        expect(xLabels[index]!.box.left - xLabels[index - 1]!.box.right, `${width} px, ${id}: "${xLabels[index - 1]!.text}" and "${xLabels[index]!.text}" apart`).toBeGreaterThanOrEqual(3);
      }
    }
  }
  // One of each reads as one ("1 writes" before).
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' })).ok).toBe(true);
  await page.locator('body').focus();
  await page.keyboard.press('1');
  await page.keyboard.press('6');
  await expect(page.getByTestId('cost-nbd')).toHaveText(/^1 write, /);
  await expect(page.getByTestId('cost-cbw')).toHaveText(/^1 copy, /);
});
