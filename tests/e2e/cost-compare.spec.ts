/**
 * The Cost tab's "Compare checkpoint intervals", used from the keyboard: a bad interval is a
 * sentence in the form; a comparison runs in the worker and shows totals that are exactly what
 * `colo-sim run --stats` prints for the two scenario files the tab downloads (the CLI runs here
 * in Node, on those very files), with every chart's series; axe finds nothing serious at 1280
 * and 390 px; screenshots for a person to look at.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { main } from '../../src/cli/cli';
import { formatBytes } from '../../src/ui/lib/format';
import { MAX_WRITES_PER_RUN, writesPerRun } from '../../src/engine/stats/checkpoint-comparison';
import type { CostReport } from '../../src/engine/stats/replication-cost';
import { expect, openApp, SCREENSHOT_DIR, test } from './helpers';
import { freshSmall } from './states';

/** Serious or critical axe violations on the page as it is (the a11y spec's bar). */
async function seriousAxe(page: Page): Promise<string[]> {
  await page.waitForTimeout(400);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.filter((node) => node.impact === 'serious' || node.impact === 'critical').map((node) => `${violation.id} at ${node.target.map(String).join(' ')}`),
  );
}

/** Replaces a field's text from the keyboard, as a user does. */
async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await expect(page.locator(selector)).toBeFocused();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

/** Two screenshots: the form and the totals, then the charts (the side panel scrolls). */
async function shootComparison(page: Page, width: number): Promise<void> {
  await page.mouse.move(1, 1);
  await page.locator('#compare-heading').evaluate((element) => element.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: `${SCREENSHOT_DIR}/cost-compare-${width}.png` });
  await page.getByTestId('cost-chart-cmp-bytesForwarded').evaluate((element) => element.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: `${SCREENSHOT_DIR}/cost-compare-charts-${width}.png` });
}

/** From the DOM boxes: no totals cell cut (scrollWidth > clientWidth) and the table within its container, not scrolled. */
async function expectTotalsFit(page: Page, width: number): Promise<void> {
  const boxes = await page.getByTestId('cmp-totals').evaluate((table) => {
    const container = table.parentElement!;
    const section = table.closest('[data-testid="cost-compare"]')!;
    const cut = [...table.querySelectorAll('th, td')].filter((cell) => cell.scrollWidth > cell.clientWidth).map((cell) => cell.textContent);
    return { cut, tableRightPx: table.getBoundingClientRect().right, sectionRightPx: section.getBoundingClientRect().right, containerScrollPx: container.scrollWidth, containerClientPx: container.clientWidth };
  });
  expect(boxes.cut, `cut cells at ${width} px`).toEqual([]);
  expect(boxes.containerScrollPx, `table scrolls sideways at ${width} px`).toBeLessThanOrEqual(boxes.containerClientPx);
  expect(boxes.tableRightPx, `table past its section at ${width} px`).toBeLessThanOrEqual(boxes.sectionRightPx);
}

/** From the DOM boxes: every chart's axis labels lie within their SVG (the last x tick lost its "s"). */
async function expectTicksInside(page: Page, width: number): Promise<void> {
  const outside = await page.getByTestId('cost-compare').evaluate((section) =>
    [...section.querySelectorAll('svg')].flatMap((svg) => {
      const frame = svg.getBoundingClientRect();
      return [...svg.querySelectorAll('.tick text')]
        .filter((text) => {
          const box = text.getBoundingClientRect();
          return box.left < frame.left - 0.5 || box.right > frame.right + 0.5;
        })
        .map((text) => text.textContent);
    }),
  );
  expect(outside, `tick labels past their chart at ${width} px`).toEqual([]);
}

/** The expected cells of each totals row, from the CLI's stats, written as the tab writes them. */
function expectedRows(stats: readonly CostReport[]): Record<string, string[]> {
  const exact = (value: number) => value.toLocaleString('en-US');
  // Bytes in the app's unit (formatBytes), as in the charts; the exact count is the cell's title.
  const bytes = formatBytes;
  const signed = (value: number, format: (magnitude: number) => string) => (value === 0 ? '0' : `${value > 0 ? '+' : '−'}${format(Math.abs(value))}`);
  const emptied = (report: CostReport) => report.checkpoints.map((checkpoint) => checkpoint.activeClustersFreed + checkpoint.hiddenClustersFreed);
  const figures: Array<[string, (report: CostReport) => number, (value: number) => string]> = [
    ['bytesForwarded', (report) => report.nbd.bytesForwarded, bytes],
    ['cbwCopies', (report) => report.copyBeforeWrite.copies, exact],
    ['cbwBytes', (report) => report.copyBeforeWrite.bytes, bytes],
    ['hiddenPeakClusters', (report) => report.occupancy.hiddenPeakClusters, exact],
    ['activePeakClusters', (report) => report.occupancy.activePeakClusters, exact],
    ['checkpoints', (report) => report.checkpoints.length, exact],
    ['clustersEmptiedMean', (report) => (emptied(report).length === 0 ? 0 : emptied(report).reduce((sum, count) => sum + count, 0) / emptied(report).length), (value) => value.toFixed(1)],
    ['clustersEmptiedMax', (report) => Math.max(0, ...emptied(report)), exact],
  ];
  return Object.fromEntries(
    figures.map(([key, of, format]) => {
      const [a, b] = [of(stats[0]!), of(stats[1]!)];
      return [key, [format(a), format(b), signed(b - a, format)]];
    }),
  );
}

test('comparing two checkpoint intervals: from the keyboard, figures equal to colo-sim run --stats on the downloaded scenarios', async ({ page }) => {
  test.setTimeout(150_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  await freshSmall(page);
  await page.locator('body').focus();
  await page.keyboard.press('6');
  const compare = page.getByTestId('cost-compare');
  await expect(compare).toBeVisible();

  // A bad interval: a sentence in the form, no run.
  await page.locator('#cmp-interval-a').focus();
  await typeInto(page, '#cmp-interval-a', '0');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cmp-problem')).toHaveText(/^The first interval must be more than 0 ms/);
  await expect(page.getByTestId('cmp-results')).toHaveCount(0);

  // Every field from the keyboard, Tab from one to the next, Enter on the button.
  await typeInto(page, '#cmp-interval-a', '800');
  await page.keyboard.press('Tab');
  await typeInto(page, '#cmp-interval-b', '3000');
  await page.keyboard.press('Tab');
  await typeInto(page, '#cmp-duration', '9000');
  await page.keyboard.press('Tab');
  await typeInto(page, '#cmp-rate', '150');
  await page.keyboard.press('Tab');
  await expect(page.locator('#cmp-vm')).toBeFocused();
  await page.locator('#cmp-vm').selectOption('both');
  await page.keyboard.press('Tab');
  await expect(page.locator('#cmp-block')).toBeFocused();
  await page.keyboard.press('Tab');
  await typeInto(page, '#cmp-blocks', '8');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('cmp-run')).toBeFocused();
  // The limit is said up front, with the writes this form asks for (rate × duration).
  await expect(page.getByTestId('cmp-limit')).toContainText(`At most ${MAX_WRITES_PER_RUN.toLocaleString('en-US')} writes per run: rate × duration.`);
  await expect(page.getByTestId('cmp-limit')).toContainText(`rate × duration. This asks for about ${writesPerRun(150, 9000).toLocaleString('en-US')}.`);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cmp-status')).toHaveText('Done: every 800 ms and every 3,000 ms.', { timeout: 60_000 });
  await expect(page.getByTestId('cmp-problem')).toHaveCount(0);

  // Another tab and back: the tab's component is rebuilt, the comparison (form, status, results) is not lost.
  const totalsBefore = await page.getByTestId('cmp-totals').innerText();
  await page.locator('body').focus();
  await page.keyboard.press('1');
  await expect(compare).toHaveCount(0);
  await page.keyboard.press('6');
  await expect(page.getByTestId('cmp-status')).toHaveText('Done: every 800 ms and every 3,000 ms.');
  await expect(page.locator('#cmp-interval-a')).toHaveValue('800');
  await expect(page.locator('#cmp-duration')).toHaveValue('9000');
  await expect(page.locator('#cmp-vm')).toHaveValue('both');
  expect(await page.getByTestId('cmp-totals').innerText()).toBe(totalsBefore);

  // The two files, as the tab downloads them, through the CLI.
  const dir = mkdtempSync(join(tmpdir(), 'colo-compare-e2e-'));
  try {
    const files: string[] = [];
    for (const label of ['every 800 ms', 'every 3,000 ms']) {
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: `Download ${label} (.json)` }).click();
      const file = join(dir, (await download).suggestedFilename());
      await (await download).saveAs(file);
      files.push(file);
    }
    const texts = files.map((file) => readFileSync(file, 'utf8'));
    expect(JSON.parse(texts[0]!).steps[0].arguments).toEqual({ 'x-checkpoint-delay': 800 });
    expect(JSON.parse(texts[1]!).steps[0].arguments).toEqual({ 'x-checkpoint-delay': 3000 });
    let stdout = '';
    const status = await main(['run', ...files, '--stats'], { stdout: (chunk) => (stdout += chunk), stderr: () => undefined });
    expect(status, stdout).toBe(0);
    const stats = (JSON.parse(stdout) as { results: Array<{ stats: CostReport }> }).results.map((result) => result.stats);
    // Not a comparison of nothing: both runs forwarded writes and checkpointed, the shorter period more often.
    expect(stats[0]!.nbd.bytesForwarded).toBeGreaterThan(0);
    expect(stats[1]!.checkpoints.length).toBeGreaterThan(0);
    expect(stats[0]!.checkpoints.length).toBeGreaterThan(stats[1]!.checkpoints.length);

    const rows = expectedRows(stats);
    for (const [key, cells] of Object.entries(rows)) {
      await expect(page.getByTestId('cmp-totals').locator(`tr[data-figure="${key}"] td`), key).toHaveText(cells);
    }
    // Each chart holds both runs' series, step for step.
    for (const key of ['bytesForwarded', 'cbwCopies', 'cbwBytes', 'hiddenClusters', 'activeClusters'] as const) {
      const steps = page.getByTestId(`cost-chart-cmp-${key}`).locator('details');
      await steps.locator('summary').focus();
      await page.keyboard.press('Enter');
      await expect(steps).toHaveAttribute('open', '');
      for (const index of [0, 1]) {
        await expect(page.getByTestId(`cost-chart-cmp-${key}`).locator(`table[data-line="${index}"] tbody tr`), `${key} of run ${index + 1}`).toHaveCount(stats[index]!.series[key].length);
      }
      // Closed again, as a reader leaves it: thousands of rows would only slow the checks below.
      await page.keyboard.press('Enter');
      await expect(steps).not.toHaveAttribute('open', '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  await expectTotalsFit(page, 1280);
  await expectTicksInside(page, 1280);
  expect(await seriousAxe(page), 'axe with a comparison shown at 1280 px').toEqual([]);
  await shootComparison(page, 1280);

  // On a phone the side panel is a drawer: 6 opens it on the Cost tab; the comparison runs again if the tab was rebuilt.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('body').focus();
  await page.keyboard.press('6');
  await expect(compare).toBeVisible();
  if ((await page.getByTestId('cmp-results').count()) === 0) {
    await typeInto(page, '#cmp-interval-a', '800').catch(async () => {
      await page.locator('#cmp-interval-a').focus();
      await typeInto(page, '#cmp-interval-a', '800');
    });
    await page.getByTestId('cmp-run').focus();
    await page.keyboard.press('Enter');
  }
  await expect(page.getByTestId('cmp-results')).toBeVisible({ timeout: 60_000 });
  await expectTotalsFit(page, 390);
  await expectTicksInside(page, 390);
  expect(await seriousAxe(page), 'axe with a comparison shown at 390 px').toEqual([]);
  await shootComparison(page, 390);

  // A refused input after a run: the refusal, and no figures of the previous run passing for current.
  await page.locator('#cmp-interval-a').focus();
  await typeInto(page, '#cmp-interval-a', '0');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cmp-problem')).toHaveText(/^The first interval must be more than 0 ms/);
  await expect(page.getByTestId('cmp-results')).toHaveCount(0);
  await expect(page.getByTestId('cmp-status')).not.toHaveText(/Done/);

  // A run started, then the drawer's tab switched away and back before it ends: its answer still lands.
  await typeInto(page, '#cmp-interval-a', '700');
  await page.getByTestId('cmp-run').click();
  await page.locator('body').focus();
  await page.keyboard.press('1');
  await expect(compare).toHaveCount(0);
  await page.keyboard.press('6');
  await expect(page.getByTestId('cmp-status')).toHaveText('Done: every 700 ms and every 3,000 ms.', { timeout: 60_000 });
  await expect(page.getByTestId('cmp-results')).toBeVisible();
});
