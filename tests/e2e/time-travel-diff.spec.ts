/**
 * Diff two moments (issue 9): pick two steps, and the strip lists for each disk the clusters that
 * differ — exactly those a fresh run's captures of the two moments give — and the grids outline
 * them until the diff is cleared.
 */
import { captureDisks, diffDisks } from '../../src/engine/timeline/disks';
import { Timeline } from '../../src/engine/timeline/timeline';
import { validateScenarioText } from '../../src/engine/scenario/validate';
import { createMemoryStore } from '../../src/storage/chunked-memory-store';
import { expect, openApp, SCREENSHOT_DIR, test } from './helpers';
import { buildSession } from './time-travel-helpers';

test('diff of two steps: the differing clusters of each disk, outlined on the grids', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const validation = validateScenarioText(await page.evaluate(() => window.coloSim.client.exportScenario('diff')));
  if (!validation.ok) throw new Error('the export is not a valid scenario');
  const timeline = new Timeline(validation.scenario);
  const at = (step: number) => captureDisks(timeline.materialize(step, createMemoryStore).simulation);

  const diff = page.getByTestId('tt-diff');
  await diff.locator('summary').click();
  // It opens on the step before the one shown and that one.
  await expect(page.getByTestId('tt-diff-a')).toHaveValue('6');
  await expect(page.getByTestId('tt-diff-b')).toHaveValue('7');
  for (const [a, b] of [
    [1, 4],
    [0, 7],
  ] as const) {
    await page.getByTestId('tt-diff-a').fill(String(a));
    await page.getByTestId('tt-diff-b').fill(String(b));
    await page.getByTestId('tt-diff-go').click();
    await expect(diff.locator('.hint')).toHaveText(`Steps ${a} and ${b}: differing clusters, outlined on the grids.`);
    const expected = diffDisks(at(a), at(b));
    const counts = await page.getByTestId('tt-diff-result').locator('li').evaluateAll((items) => Object.fromEntries(items.map((item) => [item.getAttribute('data-disk'), Number(item.getAttribute('data-count'))])));
    expect(counts, `steps ${a} and ${b}`).toEqual(Object.fromEntries(expected.map((disk) => [disk.name, disk.differing.length])));
    expect(expected.some((disk) => disk.differing.length > 0)).toBe(true);
    // The grids outline exactly those clusters (as byte ranges; 64 KiB clusters here).
    const outlined = await page.evaluate(() => (window.coloSim.state as unknown as { focus: { diff: { cells: Array<{ grid: string; offsetBytes: number; lengthBytes: number }> } | null } }).focus.diff?.cells ?? []);
    const clustersOutlined = (name: string) => outlined.filter((range) => range.grid === name).flatMap((range) => Array.from({ length: range.lengthBytes / 65536 }, (_, index) => range.offsetBytes / 65536 + index));
    for (const disk of expected) expect(clustersOutlined(disk.name), disk.name).toEqual([...disk.differing]);
  }
  // The popover is painted over the views it hangs across: the topmost element at the start and middle of each result line is that line.
  const covered = await page.getByTestId('tt-diff-result').locator('li').evaluateAll((items) =>
    items.filter((item) => {
      const box = item.getBoundingClientRect();
      // Its start (the disk's name, where the graph's nodes reached over it) and its middle.
      return [box.left + 4, box.left + box.width / 2].some((x) => {
        const top = document.elementFromPoint(x, box.top + box.height / 2);
        return !top || !item.contains(top);
      });
    }).map((item) => item.getAttribute('data-disk')),
  );
  expect(covered, 'result lines painted under something else').toEqual([]);
  // For a person to look at: the popover with a result, at the default width.
  await page.mouse.move(1, 1);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/diff-popover-default.png` });
  await diff.getByRole('button', { name: 'Clear' }).click();
  await expect(page.getByTestId('tt-diff-result')).toHaveCount(0);
  expect(await page.evaluate(() => (window.coloSim.state as unknown as { focus: { diff: unknown } }).focus.diff)).toBeNull();
});

test('diff on a phone: the popover lies inside the viewport; steps out of range are said next to the fields and clear the old result', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openApp(page);
  await buildSession(page);
  const stepCount = await page.evaluate(() => (window.coloSim.state as unknown as { timeline: { stepCount: number } | null }).timeline?.stepCount ?? -1);
  expect(stepCount).toBeGreaterThan(1);

  const diff = page.getByTestId('tt-diff');
  await diff.locator('summary').click();
  const popover = diff.locator('.popover');
  await expect(popover).toBeVisible();
  // From the DOM boxes: the popover, its fields and its button all within the 390 px viewport.
  const viewportWidthPx = await page.evaluate(() => document.documentElement.clientWidth);
  for (const box of [popover, page.getByTestId('tt-diff-a'), page.getByTestId('tt-diff-b'), page.getByTestId('tt-diff-go')]) {
    const rect = await box.boundingBox();
    expect(rect, 'a box').not.toBeNull();
    expect(rect!.x, 'left edge').toBeGreaterThanOrEqual(0);
    expect(rect!.x + rect!.width, 'right edge').toBeLessThanOrEqual(viewportWidthPx);
  }
  await page.mouse.move(1, 1);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/diff-popover-390.png` });

  // A valid diff, then steps out of range: a sentence next to the fields, and no result left over.
  await page.getByTestId('tt-diff-a').fill('0');
  await page.getByTestId('tt-diff-b').fill(String(stepCount));
  await page.getByTestId('tt-diff-go').click();
  await expect(page.getByTestId('tt-diff-result')).toBeVisible();
  await expect(page.getByTestId('tt-diff-problem')).toHaveCount(0);
  await page.getByTestId('tt-diff-a').fill('-3');
  await page.getByTestId('tt-diff-b').fill(String(stepCount + 992));
  await page.getByTestId('tt-diff-go').click();
  await expect(page.getByTestId('tt-diff-problem')).toHaveText(`There is no step -3: steps go from 0 to ${stepCount}.`);
  await expect(page.getByTestId('tt-diff-result')).toHaveCount(0);
  await expect(page.getByTestId('tt-diff-a')).toHaveAttribute('aria-invalid', 'true');
  await page.screenshot({ path: `${SCREENSHOT_DIR}/diff-popover-problem-390.png` });
});
