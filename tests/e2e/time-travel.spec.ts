/**
 * Time travel in the app (issue 9): the timeline strip under the views. Scrubbing back and forth
 * (clicks, a drag, keys) shows at each step the disks and the event log a fresh run of the same
 * steps has there, and the grids the page drew when it was live there; acting in the past forks,
 * and the old future can be switched back to and discarded.
 */
import { digest, execute, expect, logDifferences, logRows, openApp, test, visibleCells, waitForApp } from './helpers';
import { buildSession, replaySteps, SESSION_COMMANDS, shownAt, xOfStep } from './time-travel-helpers';
import type { Page } from '@playwright/test';

/** The graph's nodes and backends as `host:name`, sorted. */
const drawnNodes = (page: Page): Promise<string[]> =>
  page.locator('.graph-svg g.node').evaluateAll((groups) => groups.map((group) => `${group.getAttribute('data-host')}:${group.getAttribute('data-node')}`).sort());

/** The nodes and backends of the summary the page shows, as `host:name`, sorted. */
const summaryNodes = (page: Page): Promise<string[]> =>
  page.evaluate(() => {
    const summary = (window.coloSim.state as unknown as { summary: { nodes: Array<{ host: string; name: string }>; backends: Array<{ host: string; name: string }> } }).summary;
    return [...summary.nodes, ...summary.backends].map((node) => `${node.host}:${node.name}`).sort();
  });

test('scrubbing back and forth shows, at every step, the disks, grids and event log of a fresh run', async ({ page }) => {
  await openApp(page);
  const { cellsAt } = await buildSession(page);
  const exported = await page.evaluate(() => window.coloSim.client.exportScenario('time travel'));
  const reference = replaySteps(exported);
  const stepCount = SESSION_COMMANDS.length;
  expect(reference.digests).toHaveLength(stepCount + 1);
  const strip = page.getByTestId('timeline');
  await expect(strip).toHaveAttribute('data-step-count', String(stepCount));

  // The marks: COLO start, a checkpoint, a failover; the band goes protected → failed over.
  await expect(strip.locator('.legend-mini')).toContainText('1 checkpoint');
  await expect(strip.locator('.legend-mini')).toContainText('1 failover');
  await expect(strip.locator('.legend-mini .n-colo-start')).toHaveText(/^1\sCOLO start$/);
  await expect(strip.locator('rect.band')).toHaveCount(3);
  expect(await strip.locator('rect.band').evaluateAll((rects) => rects.map((rect) => rect.getAttribute('data-phase')))).toEqual(['unprotected', 'protected', 'failed-over']);

  const check = async (step: number, how: string) => {
    await shownAt(page, step);
    expect(await digest(page), `disks at step ${step} (${how})`).toEqual(reference.digests[step]);
    expect(await visibleCells(page), `grids at step ${step} (${how})`).toBe(cellsAt[step]);
    const rows = await logRows(page);
    expect(logDifferences(rows, reference.events.slice(0, reference.eventCounts[step]), reference.eventCounts[step]!), `event log at step ${step} (${how})`).toEqual([]);
    await expect(page.getByTestId('timeline-slider')).toHaveAttribute('aria-valuenow', String(step));
    // The graph draws every node and backend of the step, no more: after a jump, nodes that left
    // fade out (350 ms), and one that comes back meanwhile must stay (it was removed with the fade).
    await expect(page.locator('.graph-svg .exiting')).toHaveCount(0);
    await expect.poll(() => drawnNodes(page), { message: `graph at step ${step} (${how})` }).toEqual(await summaryNodes(page));
    await page.waitForTimeout(400);
    expect(await drawnNodes(page), `graph at step ${step} (${how}), once fades are over`).toEqual(await summaryNodes(page));
  };

  // Clicks on the track, in an order that goes back and forth.
  for (const step of [1, 3, 0, 7, 5, 2, 6, 4]) {
    const point = await xOfStep(page, step, stepCount);
    await page.mouse.click(point.x, point.y);
    await check(step, 'click');
  }
  // A drag from step 1 to step 6: only where it is let go counts.
  const from = await xOfStep(page, 1, stepCount);
  const to = await xOfStep(page, 6, stepCount);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
  await check(6, 'drag');
  // The buttons.
  await page.getByTestId('tt-back').click();
  await check(5, 'back button');
  await page.getByTestId('tt-forward').click();
  await check(6, 'forward button');
  await page.getByTestId('tt-forward').click();
  await check(7, 'forward to the end');
  await expect(page.getByTestId('tt-forward')).toBeDisabled();
  // There and back within a node's fade (350 ms): the failover (step 6) removes the
  // copy-before-write filter, going back to step 5 brings it back while it still fades; it stays.
  await page.getByTestId('tt-back').click();
  await check(6, 'back from the end');
  await page.getByTestId('tt-back').click();
  await check(5, 'back before the failover');
  await page.evaluate(async () => {
    const travel = (window.coloSim.state as unknown as { travel: { goTo(step: number): Promise<void> } }).travel;
    const drawn = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    await travel.goTo(6);
    await drawn();
    await travel.goTo(5);
  });
  await check(5, 'there and back within a fade');
});

test('acting at a past step forks: the old future is a branch to switch back to, then discard', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const original = replaySteps(await page.evaluate(() => window.coloSim.client.exportScenario('original')));
  const point = await xOfStep(page, 2, SESSION_COMMANDS.length);
  await page.mouse.click(point.x, point.y);
  await shownAt(page, 2);
  await expect(page.getByTestId('tt-past')).toBeVisible();

  // A checkpoint at step 2 instead of the secondary's write: a new timeline of 3 steps.
  expect((await execute(page, { op: 'checkpoint' })).ok).toBe(true);
  await shownAt(page, 3);
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '3');
  await expect(page.getByTestId('toast').filter({ hasText: 'New branch from step 2' })).toBeVisible();
  const branches = page.getByTestId('tt-branches');
  await expect(branches.locator('summary')).toHaveText('1 branch');
  const forked = replaySteps(await page.evaluate(() => window.coloSim.client.exportScenario('forked')));
  expect(forked.digests.slice(0, 3)).toEqual(original.digests.slice(0, 3));
  expect(await digest(page)).toEqual(forked.digests[3]);

  // Back to the old future: its end, byte for byte; the timeline just left becomes a branch.
  await branches.locator('summary').click();
  await expect(page.getByTestId('tt-branch')).toHaveText(/branch 1: from step 2, 7 steps/);
  await page.getByTestId('tt-branch-switch').click();
  await shownAt(page, 7);
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '7');
  expect(await digest(page)).toEqual(original.digests[7]);
  // The menus behave as menus: a switch closes it; one open closes the others (none covers
  // another's fields); Escape closes it, back on its button; a press outside closes it.
  const diff = page.getByTestId('tt-diff');
  await expect(branches).not.toHaveAttribute('open');
  await branches.locator('summary').click();
  await expect(branches).toHaveAttribute('open');
  await diff.locator('summary').click();
  await expect(diff).toHaveAttribute('open');
  await expect(branches).not.toHaveAttribute('open');
  await expect(page.getByTestId('tt-diff-go')).toBeVisible();
  await page.getByTestId('tt-diff-a').focus();
  await page.keyboard.press('Escape');
  await expect(diff).not.toHaveAttribute('open');
  await expect(diff.locator('summary')).toBeFocused();
  await page.getByTestId('tt-export').locator('summary').click();
  await expect(page.getByTestId('tt-export')).toHaveAttribute('open');
  await page.locator('.graph-svg').click({ position: { x: 5, y: 5 } });
  await expect(page.getByTestId('tt-export')).not.toHaveAttribute('open');
  await branches.locator('summary').click();
  await expect(page.getByTestId('tt-branch')).toHaveText(/from step 2, 3 steps/);
  await page.getByTestId('tt-branch-discard').click();
  await expect(page.getByTestId('tt-branches')).toHaveCount(0);
});

test('after a reload the timeline shows the same marks, lifecycle band and status as before it', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const strip = page.getByTestId('timeline');
  const seen = async () => ({
    legend: (await strip.locator('.legend-mini').innerText()).replace(/\s+/g, ' ').trim(),
    phases: await strip.locator('rect.band').evaluateAll((rects) => rects.map((rect) => rect.getAttribute('data-phase'))),
    status: (await page.getByTestId('timeline-status').innerText()).replace(/\s+/g, ' ').trim(),
  });
  await expect(strip.locator('.legend-mini')).toContainText('1 failover');
  const before = await seen();
  expect(before.phases).toEqual(['unprotected', 'protected', 'failed-over']);
  expect(before.status).toContain('after guest-write');
  // The worker rebuilds marks only when asked after a reload; the page must ask.
  await page.reload();
  await waitForApp(page);
  await expect(strip).toHaveAttribute('data-step-count', String(SESSION_COMMANDS.length));
  await expect(strip.locator('.legend-mini')).toContainText('1 failover');
  expect(await seen()).toEqual(before);
});
