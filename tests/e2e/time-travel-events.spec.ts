/**
 * Inside one command (issue 9): `}` and `{` go one scheduler entry forward and back through a
 * step (the events of one entry share a state); each state's disks are those the engine's
 * timeline rebuilds there in a fresh run, the entry's events are highlighted in the event log,
 * and past either end of the step the strip is back on a step boundary. A pace plays the entries
 * by itself; "wait for me" does not.
 */
import { Timeline } from '../../src/engine/timeline/timeline';
import { validateScenarioText } from '../../src/engine/scenario/validate';
import { createMemoryStore } from '../../src/storage/chunked-memory-store';
import { digestImages } from '../../src/worker/disk-digest';
import { digest, expect, openApp, test } from './helpers';
import { buildSession, shownAt, xOfStep } from './time-travel-helpers';

test('stepping through a command entry by entry, forward and back, its events highlighted in the log', async ({ page }) => {
  await openApp(page);
  await buildSession(page);
  const exported = await page.evaluate(() => window.coloSim.client.exportScenario('events'));
  const validation = validateScenarioText(exported);
  if (!validation.ok) throw new Error('the export is not a valid scenario');
  // A fresh timeline of the same steps: the reference for every state inside step index 1 (the primary's 64 KiB write).
  const reference = new Timeline(validation.scenario);
  const STEP_INDEX = 1;
  const events = reference.stepEvents(STEP_INDEX, createMemoryStore);
  const entries = [...new Set(events.map((event) => event.entry))].sort((a, b) => a - b);
  expect(entries.length, 'the write runs in several scheduler entries').toBeGreaterThan(2);
  const digestsAt = new Map(entries.map((entry) => [entry, digestImages(reference.partial(STEP_INDEX, entry, createMemoryStore).simulation)]));
  const sequencesAt = (entry: number) => events.filter((event) => event.entry === entry).map((event) => event.event.sequence).sort((a, b) => a - b);

  const point = await xOfStep(page, STEP_INDEX, 7);
  await page.mouse.click(point.x, point.y);
  await shownAt(page, STEP_INDEX);
  await page.locator('body').focus();
  const strip = page.getByTestId('timeline');
  const highlighted = () =>
    page.evaluate(() => [...(window.coloSim.state as unknown as { travel: { currentSequences: Set<number> } }).travel.currentSequences].sort((a, b) => a - b));

  const visit = async (entry: number, how: string) => {
    await expect(strip).toHaveAttribute('data-within', `${STEP_INDEX}:${entry}`);
    await expect(strip).toHaveAttribute('data-busy', 'false');
    expect(await digest(page), `disks after entry ${entry} (${how})`).toEqual(digestsAt.get(entry));
    await expect.poll(highlighted, { message: `highlighted events of entry ${entry}` }).toEqual(sequencesAt(entry));
    // The log draws the entry's events marked (it follows the newest, where they are).
    await expect(page.locator('.log .row.current')).toHaveCount(Math.min(sequencesAt(entry).length, 8));
    await expect(page.getByTestId('tt-inside')).toBeVisible();
  };

  for (const entry of entries) {
    await page.keyboard.press('}');
    await visit(entry, 'forward');
  }
  await page.keyboard.press('}');
  await shownAt(page, STEP_INDEX + 1);
  await expect(page.locator('.log .row.current')).toHaveCount(0);
  for (const entry of [...entries].reverse()) {
    await page.keyboard.press('{');
    await visit(entry, 'back');
  }
  await page.keyboard.press('{');
  await shownAt(page, STEP_INDEX);

  // The buttons do the same.
  await page.getByTestId('tt-event-forward').click();
  await visit(entries[0]!, 'button');
  await page.getByTestId('tt-event-back').click();
  await shownAt(page, STEP_INDEX);

  // "wait for me" offers no play; a pace plays every entry by itself, then stops at the next step.
  await expect(page.getByTestId('tt-play-events')).toHaveCount(0);
  await page.getByTestId('tt-pace').selectOption('400');
  await strip.evaluate((element) => {
    const seen: string[] = [];
    (window as unknown as { seenWithin: string[] }).seenWithin = seen;
    new MutationObserver(() => {
      const value = element.getAttribute('data-within') ?? '';
      if (value !== '' && seen.at(-1) !== value) seen.push(value);
    }).observe(element, { attributes: true, attributeFilter: ['data-within'] });
  });
  await page.getByTestId('tt-play-events').click();
  await shownAt(page, STEP_INDEX + 1);
  expect(await page.evaluate(() => (window as unknown as { seenWithin: string[] }).seenWithin)).toEqual(entries.map((entry) => `${STEP_INDEX}:${entry}`));
});
