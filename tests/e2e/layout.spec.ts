/**
 * The page at a phone's, a tablet's, a laptop's and a projector's width: nothing overflows the
 * page sideways, the key controls are on screen, the graph's text is drawn at a legible size,
 * disk titles neither overlap nor get cut, and the graph's labels (edge labels, badges, captions,
 * the feed, the link's label) cover neither each other nor a node's name, measured from the
 * DOM's boxes in several states.
 */
import type { Page } from '@playwright/test';
import { diskTitleProblems, execute, expect, FOUR_SIZES, openApp, test } from './helpers';
import { coloWithWrites, failoverFailed, freshSmall, midCommit } from './states';

/** The smallest text of the graph, as drawn, in CSS px. */
const MIN_GRAPH_TEXT_PX = 9;

async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const sizes = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
  expect(sizes.scroll, 'page width vs window width').toBeLessThanOrEqual(sizes.view);
}

async function expectInViewport(page: Page, name: string, selector: string): Promise<void> {
  const locator = page.locator(selector).first();
  await expect(locator, name).toBeVisible();
  const box = (await locator.boundingBox())!;
  const width = page.viewportSize()!.width;
  expect(box.x, `${name} left edge`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${name} right edge`).toBeLessThanOrEqual(width);
}

/** Rendered size of every non-empty, displayed text of the graph: font-size × the SVG's scale. */
async function graphTextSizes(page: Page): Promise<Array<{ text: string; px: number }>> {
  return page.evaluate(() => {
    const out: Array<{ text: string; px: number }> = [];
    for (const text of document.querySelectorAll<SVGTextElement>('.graph-svg text')) {
      if (!text.textContent?.trim() || text.getClientRects().length === 0) continue;
      const style = getComputedStyle(text);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      const scale = text.getScreenCTM()?.a ?? 1;
      out.push({ text: text.textContent.trim(), px: Number.parseFloat(style.fontSize) * scale });
    }
    return out;
  });
}

interface LabelBox {
  kind: string;
  node: string;
  text: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The graph's labels and node names as boxes on screen. Elements faded below 0.3 (appearing or
 * leaving) are left out: they are on their way, not read.
 */
async function graphBoxes(page: Page): Promise<LabelBox[]> {
  return page.evaluate(() => {
    const opacity = (element: Element) => {
      let value = 1;
      for (let node: Element | null = element; node && node.tagName !== 'svg'; node = node.parentElement) value *= Number.parseFloat(getComputedStyle(node).opacity);
      return value;
    };
    const boxes: LabelBox[] = [];
    const add = (kind: string, element: Element, node: string, text: string) => {
      if (element.getClientRects().length === 0 || opacity(element) < 0.3) return;
      if (getComputedStyle(element).display === 'none' || element.closest('[display="none"]')) return;
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) return;
      boxes.push({ kind, node, text, left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom });
    };
    for (const node of document.querySelectorAll('.graph-svg g.node')) {
      const name = node.getAttribute('data-node') ?? '';
      const title = node.querySelector('text.node-title');
      if (title) add('name', title, name, title.textContent ?? '');
      for (const badge of node.querySelectorAll('g.badge')) add('badge', badge.querySelector('rect')!, name, badge.textContent ?? '');
    }
    for (const label of document.querySelectorAll('.graph-svg text.edge-label')) if (label.textContent) add('edge label', label, '', label.textContent);
    for (const title of document.querySelectorAll('.graph-svg text.region-title')) add('name', title, '', title.textContent ?? '');
    for (const cross of document.querySelectorAll('.graph-svg text.link-cross')) add('link label', cross, '', '✕');
    for (const label of document.querySelectorAll('.graph-svg g.link-label rect')) add('link label', label, '', 'NBD');
    for (const caption of document.querySelectorAll('.graph-svg g.caption')) add('caption', caption.querySelector('rect')!, caption.getAttribute('data-node') ?? '', caption.textContent ?? '');
    for (const line of document.querySelectorAll('.graph-svg g.feed')) add('feed', line.querySelector('rect')!, '', line.textContent ?? '');
    return boxes;
  });
}

/** Pairs that overlap: two labels, or a label and a node's name. */
function overlapsIn(boxes: LabelBox[]): string[] {
  const problems: string[] = [];
  const slack = 0.5;
  for (let first = 0; first < boxes.length; first++) {
    for (let second = first + 1; second < boxes.length; second++) {
      const a = boxes[first]!;
      const b = boxes[second]!;
      if (a.kind === 'name' && b.kind === 'name') continue;
      if (a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack)
        problems.push(`${a.kind} "${a.text}"${a.node ? ` (${a.node})` : ''} overlaps ${b.kind} "${b.text}"${b.node ? ` (${b.node})` : ''}`);
    }
  }
  return problems;
}

/** Samples the graph's boxes over `ms` (captions come and go) and collects every overlap seen. */
async function overlapsDuring(page: Page, ms: number): Promise<string[]> {
  const seen = new Set<string>();
  const end = Date.now() + ms;
  do {
    for (const problem of overlapsIn(await graphBoxes(page))) seen.add(problem);
    await page.waitForTimeout(120);
  } while (Date.now() < end);
  return [...seen];
}

for (const viewport of FOUR_SIZES) {
  test(`layout at ${viewport.width}×${viewport.height}: no sideways overflow, controls on screen, legible graph, separate disk titles and labels`, async ({ page }) => {
    test.setTimeout(150_000);
    await page.setViewportSize(viewport);
    await openApp(page);
    await freshSmall(page);
    const drawer = viewport.width < 1240;

    // Fresh: the stage and the controls.
    await expectNoHorizontalOverflow(page);
    // The timeline's track has room to aim at a step: at 768 px the buttons beside it left it 61 px.
    const track = (await page.getByTestId('timeline-slider').boundingBox())!;
    const strip = (await page.getByTestId('timeline').boundingBox())!;
    expect(track.width, `the timeline track at ${viewport.width} px (strip ${Math.round(strip.width)} px)`).toBeGreaterThanOrEqual(Math.min(300, strip.width * 0.6));
    for (const [name, selector] of [
      ['play', '[data-testid="play"]'],
      ['step', 'button[aria-label="Step to the next event"]'],
      ['library', '.actions button:has-text("Library")'],
      ['new', '.actions button:has-text("New")'],
      ['help', 'button[aria-label="Keyboard shortcuts"]'],
    ] as const)
      await expectInViewport(page, name, selector);
    if (drawer) {
      // The panel is a drawer: closed, the stage has the whole width; open, it is on screen.
      await expect(page.locator('aside.side')).toHaveCount(0);
      await expectInViewport(page, 'controls toggle', '[data-testid="controls-toggle"]');
      await page.getByTestId('controls-toggle').click();
      await expectInViewport(page, 'side panel', 'aside.side');
      await expectInViewport(page, 'COLO start', 'aside.side button:has-text("COLO start")');
      await expectInViewport(page, 'hide the panel', 'aside.side button[aria-label="Hide the control panel"]');
      await expectNoHorizontalOverflow(page);
      await page.keyboard.press('Escape');
      await expect(page.locator('aside.side')).toHaveCount(0);
      await expect(page.getByTestId('controls-toggle')).toBeFocused();
    } else {
      await expectInViewport(page, 'side panel', 'aside.side');
      await expectInViewport(page, 'COLO start', 'aside.side button:has-text("COLO start")');
      // The side panel does not cover the stage.
      const panel = (await page.locator('aside.side').boundingBox())!;
      const stage = (await page.locator('section.stage').boundingBox())!;
      expect(stage.x + stage.width).toBeLessThanOrEqual(panel.x);
    }
    // Each host's grids are on screen width-wise, the brush too.
    for (const disk of ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk', 'svm-view']) await expectInViewport(page, disk, `[data-disk="${disk}"] canvas.grid-base`);
    await expectInViewport(page, 'brush', '.brush .swatches');

    // COLO running with writes of both VMs.
    await coloWithWrites(page);
    await page.waitForTimeout(600);
    await expectNoHorizontalOverflow(page);
    const sizes = await graphTextSizes(page);
    expect(sizes.length).toBeGreaterThan(20);
    expect(sizes.filter((size) => size.px < MIN_GRAPH_TEXT_PX).map((size) => `${size.text}: ${size.px.toFixed(1)} px`)).toEqual([]);
    expect(await diskTitleProblems(page)).toEqual([]);
    // While the writes animate (captions, the feed) and after.
    expect(await overlapsDuring(page, 3000)).toEqual([]);
    await execute(page, { op: 'checkpoint' });
    expect(await overlapsDuring(page, 2000)).toEqual([]);

    // The failover's commit: −EIO (QEMU's quirk) beside FAILOVER, progress on mirror_top.
    await midCommit(page);
    await expect(page.locator('.graph-svg g.node[data-node="replication-secondary"] .badge-error')).toHaveCount(1);
    expect(await overlapsDuring(page, 1200)).toEqual([]);
    await page.evaluate(() => window.coloSim.state.setPlaying(true));
    expect(await overlapsDuring(page, 2500)).toEqual([]);
    await page.evaluate(() => window.coloSim.state.setPlaying(false));

    // FAILOVER_FAILED: "FAILOVER FAILED" and "−EIO" cannot share a line; neither is cut.
    await freshSmall(page);
    await failoverFailed(page);
    await expect(page.locator('.graph-svg g.node[data-node="replication-secondary"] .badge-stage')).toContainText('FAILOVER FAILED');
    await expect(page.locator('.graph-svg g.node[data-node="replication-secondary"] .badge-error')).toContainText('EIO');
    // A fault badge too.
    await execute(page, { op: 'fault', kind: 'io-error', node: 'secondary-disk', on: 'write' });
    expect(await overlapsDuring(page, 1500)).toEqual([]);
    const after = await graphTextSizes(page);
    expect(after.filter((size) => size.px < MIN_GRAPH_TEXT_PX).map((size) => `${size.text}: ${size.px.toFixed(1)} px`)).toEqual([]);
    await expectNoHorizontalOverflow(page);
  });
}

test('many events at once do not pile captions onto the graph', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openApp(page);
  await freshSmall(page);
  await execute(page, { op: 'colo-start' });
  // A burst of commands whose animations overlap: captions on the same few nodes.
  await page.evaluate(async () => {
    const client = window.coloSim.client;
    const writes = [];
    for (let index = 0; index < 12; index++) writes.push(client.execute({ op: 'guest-write', vm: 'primary', offset: index * 65536, length: 65536, pattern: '0x22' }));
    await Promise.all(writes);
  });
  expect(await overlapsDuring(page, 3000)).toEqual([]);
  const most = await page.evaluate(() => document.querySelectorAll('.graph-svg g.caption').length);
  expect(most).toBeLessThanOrEqual(8);
});

/** What inside the open dialog reaches past its right edge (text cut off on a narrow screen). */
async function dialogOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const dialog = document.querySelector('dialog[open]');
    if (!dialog) return ['no dialog is open'];
    const right = dialog.getBoundingClientRect().right;
    const out: string[] = [];
    for (const element of dialog.querySelectorAll<HTMLElement>('*')) {
      const box = element.getBoundingClientRect();
      if (box.width > 0 && box.right > right + 1) out.push(`${element.tagName.toLowerCase()} "${(element.textContent ?? '').trim().slice(0, 30)}" ends ${Math.round(box.right - right)} px past the dialog`);
    }
    return out.slice(0, 10);
  });
}

for (const width of [320, 390]) {
  test(`at ${width} px the dialogs fit: the shortcuts list and the New simulation form show whole`, async ({ page }) => {
    await page.setViewportSize({ width, height: 844 });
    await openApp(page);
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    expect(await dialogOverflow(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await expect(page.locator('dialog[open]')).toHaveCount(0);
    await page.keyboard.press('n');
    await expect(page.getByRole('dialog', { name: 'New simulation' })).toBeVisible();
    expect(await dialogOverflow(page)).toEqual([]);
    await expectNoHorizontalOverflow(page);
  });
}

for (const viewport of [...FOUR_SIZES, { width: 1280, height: 900 }, { width: 1440, height: 900 }]) {
  test(`at ${viewport.width}×${viewport.height} the getting-started note shows whole`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    const intro = page.getByRole('complementary', { name: 'Getting started' });
    await expect(intro).toBeVisible();
    const size = await intro.evaluate((element) => ({ content: element.scrollHeight, box: element.clientHeight }));
    expect(size.content, 'its text vs its box, px').toBeLessThanOrEqual(size.box);
  });
}

/** Where each line of `element`'s text ends: the character before every line break. */
function charactersBeforeLineBreaks(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluate((element) => {
    const before: string[] = [];
    let lastTop: number | undefined;
    let previous = '';
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (let offset = 0; offset < text.length; offset++) {
        const range = document.createRange();
        range.setStart(node, offset);
        range.setEnd(node, offset + 1);
        const rect = range.getBoundingClientRect();
        // A space where the line wraps is drawn with no width: the break comes after it.
        if (rect.width === 0 && text[offset] === ' ') {
          previous = ' ';
          continue;
        }
        if (lastTop !== undefined && rect.top > lastTop + 2) before.push(previous);
        lastTop = rect.top;
        previous = text[offset]!;
      }
    }
    return before;
  });
}

for (const viewport of FOUR_SIZES) {
  test(`at ${viewport.width} px a long scenario title breaks between words or after / and _, never inside a word`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page, '/?scenario=/scenarios/qemu-tests/11-secondary-continuous-replication.json');
    const title = '[data-testid="narration"] .title';
    await expect(page.locator(title)).toHaveText('QEMU test secondary/continuous_replication: after failover, start, checkpoint and stop are ignored');
    const breaks = await charactersBeforeLineBreaks(page, title);
    // "continuous_r" / "eplication" at 768 and 1280 px before.
    for (const character of breaks) expect(' /_-', `a line of the title ends with "${character}"`).toContain(character);
  });
}
