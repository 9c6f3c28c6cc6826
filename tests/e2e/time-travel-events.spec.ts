/**
 * Inside one command (issue 9): `}` and `{` go one scheduler entry forward and back through a
 * step (the events of one entry share a state); each state's disks are those the engine's
 * timeline rebuilds there in a fresh run, the entry's events are highlighted in the event log,
 * and past either end of the step the strip is back on a step boundary. A pace plays the entries
 * by itself; "wait for me" does not. At every entry the graph outlines the nodes the highlighted
 * log rows name (and the NBD link for a forwarded request), the grids the clusters of the byte
 * ranges those events touch, and a screen reader hears what the entry's first event is.
 */
import { Timeline } from '../../src/engine/timeline/timeline';
import { validateScenarioText } from '../../src/engine/scenario/validate';
import { describeEvent } from '../../src/engine/sim/format-event';
import type { SimEvent } from '../../src/engine/sim/events';
import { createMemoryStore } from '../../src/storage/chunked-memory-store';
import { digestImages } from '../../src/worker/disk-digest';
import { digest, expect, openApp, SCREENSHOT_DIR, test } from './helpers';
import { buildSession, shownAt, xOfStep } from './time-travel-helpers';
import type { Page } from '@playwright/test';

/** What the views show outlined: the focused graph nodes, whether the NBD link is, and each grid's outlined cells. */
interface Outlined {
  readonly nodes: string[];
  readonly link: boolean;
  readonly cells: Record<string, string>;
}

const readOutlined = (page: Page): Promise<Outlined> =>
  page.evaluate(() => ({
    nodes: [...new Set([...document.querySelectorAll('.graph-svg g.node.focused')].map((node) => node.getAttribute('data-node') ?? ''))].sort(),
    link: document.querySelector('.graph-svg g.link.focused') !== null,
    cells: Object.fromEntries([...document.querySelectorAll('figure[data-disk]')].map((figure) => [figure.getAttribute('data-disk') ?? '', figure.getAttribute('data-event-cells') ?? ''])),
  }));

const outlineSize = (outline: Outlined) => Object.values(outline.cells).join(' ').split(' ').filter(Boolean).length;

/**
 * What the events of one entry should outline, from the engine's events and the page's log: each
 * event's node as its log row names it (a copy also on its source and target), the link for
 * anything that travels over NBD, and on each grid the clusters of the byte range the event
 * touches (a forwarded write lands on the secondary's disk; a copy reads its source, writes its target).
 */
function expectedOutline(events: readonly SimEvent[], logNodes: ReadonlyMap<number, string | undefined>, graphNodes: ReadonlySet<string>, grids: ReadonlyMap<string, number>): Outlined {
  const nodes = new Set<string>();
  const cells = new Map<string, Set<number>>([...grids.keys()].map((grid) => [grid, new Set<number>()]));
  const touch = (grid: string, offset: number, length: number) => {
    const cellBytes = grids.get(grid);
    if (cellBytes === undefined || length <= 0) return;
    for (let cell = Math.floor(offset / cellBytes); cell < Math.ceil((offset + length) / cellBytes); cell++) cells.get(grid)!.add(cell);
  };
  let link = false;
  for (const event of events) {
    const node = logNodes.get(event.sequence);
    if (node) nodes.add(node);
    if (event.kind.startsWith('forward-')) link = true;
    if (event.kind === 'cbw-copy') {
      nodes.add(event.source).add(event.target);
      touch(event.source, event.offsetBytes, event.lengthBytes);
      touch(event.target, event.offsetBytes, event.lengthBytes);
    } else if (event.kind === 'forward-landed') touch('secondary-disk', event.offsetBytes, event.lengthBytes);
    else if ('node' in event && 'offsetBytes' in event && 'lengthBytes' in event) touch(event.node, event.offsetBytes, event.lengthBytes);
  }
  return {
    nodes: [...nodes].filter((name) => graphNodes.has(name)).sort(),
    link,
    cells: Object.fromEntries([...cells].map(([grid, set]) => [grid, [...set].sort((a, b) => a - b).join(' ')])),
  };
}

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

  // The nodes each event is on, as the page's event log names them (its rows' node); the log
  // holds an entry's events once the views show that entry.
  const readLogNodes = async (): Promise<Map<number, string | undefined>> =>
    new Map(
      await page.evaluate((sequences) => {
        const log = (window.coloSim.state as unknown as { log: { filter(predicate: undefined): Array<{ event: { sequence: number }; node: string | undefined }> } }).log;
        const wanted = new Set(sequences);
        return log.filter(undefined).filter((entry) => wanted.has(entry.event.sequence)).map((entry) => [entry.event.sequence, entry.node] as const);
      }, events.map((event) => event.event.sequence)),
    );
  // The graph's nodes at this step (those of the session's end fade out after the jump).
  await expect(page.locator('.graph-svg .exiting')).toHaveCount(0);
  const graphNodes = new Set(await page.locator('.graph-svg g.node').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-node') ?? '')));
  const grids = new Map(
    await page.evaluate(() => {
      const disks = (window.coloSim.state as unknown as { disks: { get(name: string): { layout: { cellBytes: number } } | undefined } }).disks;
      return [...document.querySelectorAll('figure[data-disk]')].map((figure) => {
        const name = figure.getAttribute('data-disk') ?? '';
        return [name, disks.get(name)?.layout.cellBytes ?? 0] as const;
      });
    }),
  );
  const eventsOf = (entry: number) => events.filter((event) => event.entry === entry).map((event) => event.event);
  const outlineAt = (entry: number, logNodes: ReadonlyMap<number, string | undefined>) => {
    for (const event of eventsOf(entry)) expect(logNodes.has(event.sequence), `the log holds event ${event.sequence} of entry ${entry}`).toBe(true);
    return expectedOutline(eventsOf(entry), logNodes, graphNodes, grids);
  };
  // The step's outlines are not all empty: the checks below would pass on views that outline nothing.
  const cellsOnly = (entry: number) => expectedOutline(eventsOf(entry), new Map(), graphNodes, grids);
  expect(entries.some((entry) => Object.values(cellsOnly(entry).cells).some((cells) => cells !== '')), 'some entry outlines cells').toBe(true);
  expect(entries.some((entry) => cellsOnly(entry).link), 'some entry crosses the NBD link').toBe(true);
  let outlinedNodesSeen = 0;
  const announcer = () => page.evaluate(() => (window.coloSim.state as unknown as { announcer: { text: string } }).announcer.text);

  const visit = async (entry: number, how: string) => {
    await expect(strip).toHaveAttribute('data-within', `${STEP_INDEX}:${entry}`);
    await expect(strip).toHaveAttribute('data-busy', 'false');
    expect(await digest(page), `disks after entry ${entry} (${how})`).toEqual(digestsAt.get(entry));
    await expect.poll(highlighted, { message: `highlighted events of entry ${entry}` }).toEqual(sequencesAt(entry));
    // The log draws the entry's events marked (it follows the newest, where they are).
    await expect(page.locator('.log .row.current')).toHaveCount(Math.min(sequencesAt(entry).length, 8));
    await expect(page.getByTestId('tt-inside')).toBeVisible();
    // The views outline what those rows name: their nodes (and the link), the clusters of their ranges.
    const expected = outlineAt(entry, await readLogNodes());
    outlinedNodesSeen += expected.nodes.length;
    await expect.poll(() => readOutlined(page), { message: `outlines at entry ${entry} (${how})` }).toEqual(expected);
    // The log redraws its rows on a timer of its own: the rows are read until that redraw is in
    // (a full run once read them in between).
    const unoutlined = async () =>
      (await page.locator('.log .row.current').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-node')))).filter((node) => node !== null && graphNodes.has(node) && !expected.nodes.includes(node));
    await expect.poll(unoutlined, { message: `highlighted rows whose node is not outlined (${how})` }).toEqual([]);
    // A screen reader hears the entry's first event (the announcer is throttled, hence the wait).
    const first = eventsOf(entry)[0]!;
    await expect.poll(announcer, { message: `announcement at entry ${entry}`, timeout: 5000 }).toContain(`Inside step ${STEP_INDEX + 1}: ${describeEvent(first)}`);
  };

  // The entry that outlines most (a copy-before-write: nodes on both sides and two grids) is shot at 1280 and 390 px.
  const showcase = entries.reduce((best, entry) => (outlineSize(cellsOnly(entry)) > outlineSize(cellsOnly(best)) ? entry : best), entries[0]!);
  for (const entry of entries) {
    await page.keyboard.press('}');
    await visit(entry, 'forward');
    if (entry !== showcase) continue;
    const viewport = page.viewportSize()!;
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
      await page.mouse.move(1, 1);
      await expect.poll(() => readOutlined(page)).toEqual(outlineAt(entry, await readLogNodes()));
      await page.waitForTimeout(400);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/time-travel-event-${width}.png`, fullPage: true });
    }
    await page.setViewportSize(viewport);
    await page.locator('body').focus();
  }
  expect(outlinedNodesSeen, 'the forward pass outlined graph nodes').toBeGreaterThan(0);
  await page.keyboard.press('}');
  await shownAt(page, STEP_INDEX + 1);
  await expect(page.locator('.log .row.current')).toHaveCount(0);
  // Out of the command, nothing stays outlined.
  await expect.poll(() => readOutlined(page)).toEqual({ nodes: [], link: false, cells: Object.fromEntries([...grids.keys()].map((grid) => [grid, ''])) });
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
  // Each entry the play shows, with what the views outline then (a pace gives no time to poll):
  // read halfway through the entry's 400 ms, after the frame's updates have been drawn.
  await strip.evaluate((element) => {
    const seen: Array<{ within: string; outlined?: unknown }> = [];
    (window as unknown as { seenWithin: typeof seen }).seenWithin = seen;
    new MutationObserver(() => {
      const value = element.getAttribute('data-within') ?? '';
      if (value === '' || seen.at(-1)?.within === value) return;
      const record: { within: string; outlined?: unknown } = { within: value };
      seen.push(record);
      setTimeout(() => {
        if (element.getAttribute('data-within') !== value) return;
        record.outlined = {
          nodes: [...new Set([...document.querySelectorAll('.graph-svg g.node.focused')].map((node) => node.getAttribute('data-node') ?? ''))].sort(),
          link: document.querySelector('.graph-svg g.link.focused') !== null,
          cells: Object.fromEntries([...document.querySelectorAll('figure[data-disk]')].map((figure) => [figure.getAttribute('data-disk') ?? '', figure.getAttribute('data-event-cells') ?? ''])),
        };
      }, 200);
    }).observe(element, { attributes: true, attributeFilter: ['data-within'] });
  });
  await page.getByTestId('tt-play-events').click();
  await shownAt(page, STEP_INDEX + 1);
  const played = await page.evaluate(() => (window as unknown as { seenWithin: Array<{ within: string; outlined?: Outlined }> }).seenWithin);
  expect(played.map((record) => record.within)).toEqual(entries.map((entry) => `${STEP_INDEX}:${entry}`));
  const logNodesAfterPlay = await readLogNodes();
  for (const [index, entry] of entries.entries()) expect(played[index]!.outlined, `outlines while playing, entry ${entry}`).toEqual(outlineAt(entry, logNodesAfterPlay));
});
