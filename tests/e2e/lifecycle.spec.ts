/**
 * The whole COLO lifecycle in the app (issue 8): a failover, the guided "resume replication"
 * (COLO-FT.txt's runbook, step by step through the control panel, each step showing its QMP),
 * then a second failover, at 1280 and 390 px. At each stage:
 * - the graph places nodes by role, measured from the DOM: the survivor's chain (top-disk,
 *   replication-secondary, secondary-disk, still so named) on the primary side once it is the
 *   primary, the new secondary's images on the secondary side;
 * - every disk the page shows equals, cell by cell, what the engine computes when the session
 *   the page exported is replayed in Node (as `colo-sim run` does), and the worker's disk
 *   digests equal the replay's;
 * - a screenshot (test-results/screenshots/lifecycle-<width>-<stage>.png).
 */
import type { Page } from '@playwright/test';
import { diskTitleProblems, digest, expect, openApp, replayExport, SCREENSHOT_DIR, test } from './helpers';
import { ViewBuilder } from '../../src/worker/view-builder';

const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];

const MIB = 1024 * 1024;

function execute(page: Page, step: Record<string, unknown>): Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }> {
  return page.evaluate((command) => window.coloSim.state.run(command as { op: string }) as Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }>, step);
}

async function expectPassed(page: Page, step: Record<string, unknown>): Promise<void> {
  const result = await execute(page, step);
  expect(result.ok && result.result?.passed, `${JSON.stringify(step)} → ${result.result?.actual ?? 'invalid'}`).toBe(true);
}

/** The graph node's centre on screen, and the host it is drawn for. */
async function nodeCentre(page: Page, host: string, name: string): Promise<{ x: number; y: number }> {
  const box = (await page.locator(`.graph-svg g.node[data-host="${host}"][data-node="${name}"] rect.node-box`).boundingBox())!;
  expect(box, `${host}:${name} is drawn`).not.toBeNull();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/**
 * The screen area of a host's part of the graph: its region box when the hosts are stacked,
 * else its card's columns (the cards follow the graph's split side by side).
 */
async function hostArea(page: Page, host: 'primary' | 'secondary'): Promise<{ left: number; right: number; top: number; bottom: number }> {
  const region = page.locator(`.graph-svg g.region-${host} rect.region-box`);
  const box = (await region.count()) > 0 ? await region.boundingBox() : await page.locator(`section.stage .card.${host}`).boundingBox();
  expect(box, `the ${host}'s area`).not.toBeNull();
  return { left: box!.x, right: box!.x + box!.width, top: box!.y, bottom: box!.y + box!.height };
}

async function expectOnSide(page: Page, host: 'primary' | 'secondary', names: readonly string[]): Promise<void> {
  const area = await hostArea(page, host);
  for (const name of names) {
    const centre = await nodeCentre(page, host, name);
    expect(centre.x > area.left && centre.x < area.right && centre.y > area.top && centre.y < area.bottom, `${name} (${centre.x},${centre.y}) is on the ${host}'s side ${JSON.stringify(area)}`).toBe(true);
  }
}

/** Every image the page shows against the engine's own cells after replaying the page's exported session in Node. */
async function expectDisksMatchEngine(page: Page, stage: string): Promise<void> {
  const exported = await page.evaluate(() => window.coloSim.client.exportScenario('lifecycle'));
  const replay = replayExport(exported);
  expect(replay.outcome.passed, `${stage}: the export replays (${replay.outcome.failure?.actual ?? ''})`).toBe(true);
  expect(await digest(page), `${stage}: the worker's digests equal the replay's`).toEqual(replay.digests);
  const builder = new ViewBuilder(replay.simulation);
  const layouts = builder.takeLayouts()!.layouts;
  const engine = Object.fromEntries(builder.takeCells().map((cells) => [cells.name, { content: Array.from(cells.content), allocated: Array.from(cells.allocated) }]));
  // The page applies cells when their animation shows them landing: flushed, it shows the state.
  const shown = await page.evaluate(() => {
    const disks = window.coloSim.state.disks;
    disks.flush();
    return Object.fromEntries([...disks.images.keys()].map((name) => [name, { content: Array.from(disks.get(name)!.content), allocated: Array.from(disks.get(name)!.allocated) }]));
  });
  expect(Object.keys(shown).sort(), `${stage}: a grid per image`).toEqual(layouts.map((layout) => layout.name).sort());
  expect(shown, `${stage}: every cell as the engine has it`).toEqual(engine);
  // And each image has its grid on screen, on its host's card.
  for (const layout of layouts) await expect(page.locator(`[data-testid="grids-${layout.host}"] [data-disk="${layout.name}"]`), `${stage}: ${layout.name}'s grid on the ${layout.host}'s card`).toHaveCount(1);
}

/** NBD links (COLO's, drive-mirror's) drawn across a host region's title: points along each link's path inside a title's box. */
function linksOverTitles(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const titles = [...document.querySelectorAll<SVGTextElement>('.graph-svg text.region-title')].map((title) => ({ text: title.textContent ?? '', box: title.getBoundingClientRect() }));
    for (const path of document.querySelectorAll<SVGPathElement>('.graph-svg g.link path.link-line')) {
      const matrix = path.getScreenCTM();
      if (!matrix) continue;
      const length = path.getTotalLength();
      for (let at = 0; at <= length; at += 2) {
        const point = new DOMPoint(path.getPointAtLength(at).x, path.getPointAtLength(at).y).matrixTransform(matrix);
        const over = titles.find(({ box }) => point.x >= box.left && point.x <= box.right && point.y >= box.top && point.y <= box.bottom);
        if (over) {
          problems.push(`the link from ${path.parentElement?.getAttribute('data-client')} crosses the title "${over.text}"`);
          break;
        }
      }
    }
    return problems;
  });
}

/** What a stage must not show: cut or overlapping disk titles, an NBD link over a host's title. */
async function expectTidy(page: Page, stage: string): Promise<void> {
  expect(await diskTitleProblems(page), `${stage}: disk titles`).toEqual([]);
  expect(await linksOverTitles(page), `${stage}: links and titles`).toEqual([]);
}

async function shot(page: Page, width: number, stage: string): Promise<void> {
  // Animations of the last command end (chips, captions) so the picture shows the state; the
  // commands' toasts are dismissed (on a phone they would cover the graph).
  await page.waitForTimeout(1200);
  await page.evaluate(() => {
    const state = window.coloSim.state as unknown as { toasts: Array<{ id: number }>; dismissToast(id: number): void };
    for (const toast of [...state.toasts]) state.dismissToast(toast.id);
  });
  await expect(page.getByTestId('toast')).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/lifecycle-${width}-${stage}.png`, fullPage: true });
}

/** The control panel: a tab beside the stage, or the drawer on a phone. */
async function openControls(page: Page, width: number): Promise<void> {
  if (width < 1240 && (await page.locator('aside.side').count()) === 0) await page.getByTestId('controls-toggle').click();
  await expect(page.locator('aside.side')).toBeVisible();
}

for (const viewport of VIEWPORTS) {
  test(`at ${viewport.width} px: failover, guided resume replication, a second failover; the views follow the roles and the disks equal the engine's`, async ({ page }) => {
    test.setTimeout(240_000);
    await page.setViewportSize(viewport);
    await openApp(page);
    await page.evaluate((size) => window.coloSim.state.newSimulation({ diskSizeBytes: size }), MIB);
    await expect(page.locator('.graph-svg g.node[data-node="top-disk"]')).toHaveCount(1);

    // COLO protects the first pair; a checkpoint, then a write it has not checkpointed.
    await expectPassed(page, { op: 'write', node: 'primary-disk', offset: 0, length: MIB, pattern: '0x11' });
    await expectPassed(page, { op: 'write', node: 'secondary-disk', offset: 0, length: MIB, pattern: '0x11' });
    await expectPassed(page, { op: 'colo-start' });
    await expectPassed(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' });
    await expectPassed(page, { op: 'checkpoint' });
    await expectPassed(page, { op: 'guest-write', vm: 'primary', offset: 65536, length: 65536, pattern: '0x33' });

    // 1. The primary host dies: failover to the secondary.
    await expectPassed(page, { op: 'failover', to: 'secondary' });
    await expect(page.getByTestId('colo-state')).toContainText('failed over');
    await expectOnSide(page, 'secondary', ['top-disk', 'replication-secondary', 'secondary-disk']);
    await expectDisksMatchEngine(page, 'failed over');
    await expectTidy(page, 'failed over');
    await shot(page, viewport.width, '1-failed-over');

    // 2. The guided resume: each step shows its QMP; Next runs it.
    await openControls(page, viewport.width);
    await page.getByTestId('resume-open').click();
    const guide = page.getByTestId('resume-guide');
    await expect(guide).toBeVisible();
    const seen: string[] = [];
    for (let guard = 0; guard < 20 && (await page.getByTestId('resume-done').count()) === 0; guard++) {
      const current = page.getByTestId('resume-current');
      const id = (await current.getAttribute('data-step'))!;
      seen.push(id);
      // The QMP it sends, open and copyable (a `run` step says it has none: the clock runs).
      if (id === 'mirror') await expect(current.locator('pre, code').first()).toContainText('"drive-mirror"');
      if (id === 'drive-add') await expect(current.locator('pre, code').first()).toContainText('drive_add -n buddy driver=replication,mode=primary');
      if (id === 'add-child') await expect(current.locator('pre, code').first()).toContainText('"x-blockdev-change"');
      if (id === 'migrate') await expect(current.locator('pre, code').first()).toContainText('tcp:secondary:9998');
      await expect(page.getByTestId('resume-next')).toBeEnabled();
      await page.getByTestId('resume-next').click();
      await expect(page.getByTestId('resume-problem')).toHaveCount(0);
      // Wait for the step to be done before looking at the next.
      await expect(guide.locator(`li[data-step="${id}"]`)).toHaveAttribute('data-status', 'done');
      if (id === 'sync') {
        // The resync mid-way: the mirror job READY, its filter and NBD link drawn, the survivor as the primary.
        await expect(page.locator('.graph-svg g.link[data-client="primary:resync-target"]')).toHaveCount(1);
        await expect(page.locator('.graph-svg g.node[data-node="top-disk-mirror-top"] text.node-detail')).toContainText('resync ready 100%');
        if (viewport.width < 1240) await page.keyboard.press('Escape');
        await expectOnSide(page, 'primary', ['top-disk', 'replication-secondary', 'secondary-disk', 'top-disk-mirror-top', 'resync-target']);
        await expectOnSide(page, 'secondary', ['top-disk-2', 'replication-secondary-2', 'active-disk-2', 'hidden-disk-2', 'primary-disk']);
        // drive-mirror runs on the survivor, the primary: its job row is on the primary's card.
        await expect(page.getByTestId('jobs-primary').getByTestId('job-mirror')).toContainText('drive-mirror resync');
        await expect(page.getByTestId('jobs-secondary').getByTestId('job-mirror')).toHaveCount(0);
        await expectTidy(page, 'resyncing');
        await shot(page, viewport.width, '2-resyncing');
        await openControls(page, viewport.width);
      }
    }
    expect(seen).toEqual(['restart', 'mirror', 'sync', 'stop', 'cancel', 'cancelled', 'drive-add', 'add-child', 'capabilities', 'migrate', 'protected']);
    await expect(page.getByTestId('resume-done')).toContainText('COLO protects the VM again');
    await page.getByTestId('resume-close').click();
    if (viewport.width < 1240) await page.keyboard.press('Escape');

    // 3. Protected again, the other way: the survivor's chain on the primary side, the new quorum child and COLO's link to the new secondary.
    await expect(page.getByTestId('colo-state')).toContainText('running');
    await expectOnSide(page, 'primary', ['top-disk', 'replication-secondary', 'secondary-disk', 'hidden-disk', 'active-disk', 'replication0', 'replication0-nbd']);
    await expectOnSide(page, 'secondary', ['top-disk-2', 'replication-secondary-2', 'active-disk-2', 'hidden-disk-2', 'primary-disk']);
    await expect(page.locator('.graph-svg g.link[data-client="primary:replication0-nbd"][data-export="secondary:nbd-export"]')).toHaveCount(1);
    await expect(page.locator('.graph-svg g.node[data-node="replication0"] .badge-stage')).toContainText('RUNNING');
    await expect(page.locator('[data-disk="svm-view"]')).toContainText('top-disk-2: active ▸ hidden ▸ secondary');
    await expectPassed(page, { op: 'guest-write', vm: 'primary', offset: 131072, length: 65536, pattern: '0x44' });
    await expectPassed(page, { op: 'checkpoint' });
    await expectDisksMatchEngine(page, 'protected again');
    // The timeline's lifecycle band knows COLO started again through the runbook's QMP migrate.
    await expect(page.getByTestId('timeline').locator('rect.band').last()).toHaveAttribute('data-phase', 'protected-again');
    await expect(page.getByTestId('timeline').locator('.legend-mini .n-colo-start')).toHaveText(/^2\sCOLO starts$/);
    // The live invariants check the new pair (its hidden disk is hidden-disk-2) and hold.
    for (const id of ['checkpoint-equal', 'svm-view-layers', 'hidden-holds-overwritten']) await expect(page.getByTestId(`invariant-${id}`)).toHaveAttribute('data-status', 'held');
    await expect(page.getByTestId('invariant-hidden-holds-overwritten').locator('.note')).toHaveText('the primary overwrote nothing since the checkpoint, and hidden-disk-2 holds nothing');
    await expectTidy(page, 'protected again');
    await shot(page, viewport.width, '3-protected-again');

    // The fault forms offer the new pair's disks by default: its hidden disk for an I/O error, its active disk to eject.
    await openControls(page, viewport.width);
    await page.getByRole('tab', { name: /Faults/ }).click();
    await expect(page.locator('#fault-node')).toHaveValue('hidden-disk-2');
    await expect(page.getByLabel('Image to eject')).toHaveValue('active-disk-2');
    // So does the form that opens a replication node (blockdev-add): the new secondary's quorum and active disk.
    await page.getByRole('tab', { name: /Control/ }).click();
    await page.locator('#open-title').click();
    await expect(page.locator('#open-top')).toHaveValue('top-disk-2');
    await expect(page.locator('#open-file')).toHaveValue('active-disk-2');
    await page.locator('#open-title').click();
    if (viewport.width < 1240) await page.keyboard.press('Escape');

    // 4. A second failover, to the new secondary (the machine that was the primary at first).
    await expectPassed(page, { op: 'guest-write', vm: 'primary', offset: 196608, length: 65536, pattern: '0x55' });
    await expectPassed(page, { op: 'failover', to: 'secondary' });
    await expect(page.getByTestId('colo-state')).toContainText('failed over');
    // The active commit runs on the clock: once it is done the view reads the base.
    await expectPassed(page, { op: 'run', until: 'idle' });
    await expect(page.locator('[data-disk="svm-view"]')).toContainText('top-disk-2 reads primary-disk');
    await expectOnSide(page, 'secondary', ['top-disk-2', 'replication-secondary-2', 'primary-disk']);
    await expectOnSide(page, 'primary', ['top-disk', 'replication0']);
    // 0x55 came after the last checkpoint: rolled back; 0x44 was checkpointed: kept.
    await expectPassed(page, { op: 'guest-read', vm: 'secondary', offset: 131072, length: 65536, expect: { pattern: '0x44' } });
    await expectPassed(page, { op: 'guest-read', vm: 'secondary', offset: 196608, length: 65536, expect: { pattern: '0x11' } });
    await expectDisksMatchEngine(page, 'second failover');
    await expectTidy(page, 'second failover');
    await shot(page, viewport.width, '4-second-failover');
  });
}

test('after a failover to the primary, its replication node (DONE, out of the quorum) and its NBD client are drawn faded as what is left of the old pair', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  await page.evaluate((size) => window.coloSim.state.newSimulation({ diskSizeBytes: size }), MIB);
  await expect(page.locator('.graph-svg g.node[data-node="top-disk"]')).toHaveCount(1);
  await expectPassed(page, { op: 'colo-start' });
  await expect(page.locator('.graph-svg g.node.retired')).toHaveCount(0);
  await expectPassed(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' });
  await expectPassed(page, { op: 'failover', to: 'primary' });
  await expectPassed(page, { op: 'run', until: 'idle' });
  await expect(page.locator('.graph-svg g.node[data-node="replication-primary"] .badge-stage')).toContainText('DONE');
  for (const name of ['replication-primary', 'nbd-client']) await expect(page.locator(`.graph-svg g.node[data-host="primary"][data-node="${name}"]`)).toHaveClass(/\bretired\b/);
  await expect(page.locator('.graph-svg g.link[data-client="primary:nbd-client"]')).toHaveClass(/\bretired\b/);
  // The pair's living parts are not.
  for (const name of ['colo-disk', 'primary-disk']) await expect(page.locator(`.graph-svg g.node[data-host="primary"][data-node="${name}"]`)).not.toHaveClass(/\bretired\b/);
  // The survivor's VM runs on (colo_do_failover resumes it); the lost host's is not shown as running.
  await expect(page.getByTestId('vm-primary')).toHaveText('PVM running');
  await expect(page.getByTestId('vm-secondary')).toHaveText('host lost');
  await expect(page.locator('.graph-svg g.node[data-host="primary"][data-slot="vm"] .node-title')).toHaveText('▶ primary VM');
  await expectTidy(page, 'failed over to the primary');
  await shot(page, 1280, '5-failed-over-to-primary');
});

for (const width of [1280, 390]) test(`the NBD links' labels cover no node and no other label along the lifecycle scenarios at ${width} px`, async ({ page }) => {
  await page.setViewportSize({ width, height: 900 });
  // Each is a state where a label once lay on a node: after a resume the link is short and runs
  // between the survivor's nodes; a link that is down among crowded nodes; two exports.
  const states: Array<[file: string, step: number, shown: string]> = [
    ['01-secondary-resume-replication', 999, '49'],
    ['01-secondary-resume-replication', 35, '35'],
    ['02-primary-resume-replication', 999, '56'],
    ['03-quorum-child-names', 20, '20'],
    ['04-hung-peer-and-yank', 20, '20'],
    ['06-fresh-secondary-then-failover-to-primary', 35, '35'],
    // A quorum child's four spare nodes on the primary, three links to one export.
    ['03-quorum-child-names', 12, '12'],
  ];
  for (const [file, step, shown] of states) {
    await openApp(page, `/?scenario=/scenarios/lifecycle/${file}.json&step=${step}`);
    await expect(page.getByTestId('timeline')).toHaveAttribute('data-step', shown);
    await expect(page.locator('.graph-svg g.link g.link-label').first()).toBeVisible();
    // Once the graph is drawn (nodes fade in), every label's box against every node's and label's.
    await page.waitForTimeout(600);
    const covered = await page.evaluate(() => {
      const meet = (a: DOMRect, b: DOMRect) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      const labels = [...document.querySelectorAll('.graph-svg g.link g.link-label rect')].map((rect) => rect.getBoundingClientRect());
      const nodes = [...document.querySelectorAll('.graph-svg g.node:not(.exiting)')].map((node) => [node.getAttribute('data-node'), node.querySelector('rect.node-box')!.getBoundingClientRect()] as const);
      const found: string[] = [];
      labels.forEach((label, index) => {
        for (const [name, box] of nodes) if (meet(label, box)) found.push(`label ${index} on node ${name}`);
        labels.slice(index + 1).forEach((other, offset) => meet(label, other) && found.push(`label ${index} on label ${index + 1 + offset}`));
      });
      return found;
    });
    expect(covered, `${file} at step ${shown}, ${width} px`).toEqual([]);
  }
});
