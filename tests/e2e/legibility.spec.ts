/**
 * Legibility beyond the layout spec: the event log above the fold on a projector, toasts that keep
 * off the log's filters, grids that grow with the screen, a write's cell that stands out, cell
 * labels and the table view, long scenario titles, the offset field after `w`, and a tab that lost
 * the simulation offering no action.
 */
import type { Page } from '@playwright/test';
import { execute, expect, launchPersistent, openApp, temporaryProfile, test, waitForApp } from './helpers';
import { coloWithWrites, failoverFailed, freshSmall, midCommit } from './states';

function intersects(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

async function fourToasts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const state = window.coloSim.state as unknown as { toast(toast: { tone: string; title: string; detail?: string }): void };
    for (let index = 0; index < 4; index++) state.toast({ tone: 'error', title: `toast ${index}`, detail: 'a detail line that takes room' });
  });
  await expect(page.getByTestId('toast')).toHaveCount(4);
}

test('on a projector (1920×1080) the event log shows above the fold and the grids are larger than on a laptop', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openApp(page);
  // The default simulation: 64 MiB, 1,024 cells a disk.
  await page.evaluate(() => window.coloSim.client.newSimulation({ diskSizeBytes: 64 * 1024 * 1024, clusterSizeBytes: 65536 }));
  await expect(page.getByTestId('virtual-time')).toHaveText('0 µs');
  const laptop = (await page.locator('[data-disk="secondary-disk"] canvas.grid-base').boundingBox())!;

  await page.setViewportSize({ width: 1920, height: 1080 });
  await expect.poll(async () => (await page.locator('[data-disk="secondary-disk"] canvas.grid-base').boundingBox())!.width).toBeGreaterThan(laptop.width);
  const projector = (await page.locator('[data-disk="secondary-disk"] canvas.grid-base').boundingBox())!;
  // Cells of 7 px or more (pitch 8), the grid 240 px or wider.
  expect(projector.width).toBeGreaterThanOrEqual(240);
  const header = (await page.locator('.log > header').boundingBox())!;
  const log = (await page.locator('.log').boundingBox())!;
  expect(header.y + header.height, 'the log filters are above the fold').toBeLessThanOrEqual(1080);
  expect(1080 - log.y, 'visible height of the log').toBeGreaterThanOrEqual(180);
});

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
  { width: 390, height: 844 },
]) {
  test(`toasts keep off the event log's filters at ${viewport.width}×${viewport.height}`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    for (const scroll of ['top', 'log'] as const) {
      if (scroll === 'log') await page.locator('.log > header').evaluate((header) => header.scrollIntoView({ block: 'end' }));
      await fourToasts(page);
      await page.waitForTimeout(300);
      const stack = (await page.getByTestId('toasts').boundingBox())!;
      const header = (await page.locator('.log > header').boundingBox())!;
      expect(intersects(stack, header), `toasts ${JSON.stringify(stack)} vs log header ${JSON.stringify(header)} (${scroll})`).toBe(false);
      await page.evaluate(() => {
        const state = window.coloSim.state as unknown as { toasts: Array<{ id: number }>; dismissToast(id: number): void };
        for (const toast of [...state.toasts]) state.dismissToast(toast.id);
      });
    }
  });
}

test("a toast with a QMP command's JSON (no space to wrap at) keeps its text inside it", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  const json = `QMP on the primary: drive-mirror ${JSON.stringify({ device: 'colo-disk', 'job-id': 'resync', target: 'nbd://secondary:9999/secondary-disk', mode: 'existing', format: 'raw', sync: 'full' })}`;
  await page.evaluate((title) => (window.coloSim.state as unknown as { toast(toast: { tone: string; title: string }): void }).toast({ tone: 'ok', title }), json);
  const toast = page.getByTestId('toast').filter({ hasText: 'drive-mirror' });
  await expect(toast).toHaveCount(1);
  const overflow = await toast.locator('.title').evaluate((title) => ({ scroll: title.scrollWidth, client: title.clientWidth, right: title.getBoundingClientRect().right, toastRight: title.closest('[data-testid="toast"]')!.getBoundingClientRect().right }));
  expect(overflow.scroll, JSON.stringify(overflow)).toBeLessThanOrEqual(overflow.client);
  expect(overflow.right).toBeLessThanOrEqual(overflow.toastRight);
});

test("a write's cell stands out: its ring covers several times the cell's area", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openApp(page);
  await freshSmall(page);
  const grid = page.locator('[data-disk="primary-disk"]');
  const cell = await grid.locator('canvas.grid-base').evaluate((canvas) => canvas.getBoundingClientRect().width / 16);
  // Watch the overlay while the click's write lands; keep the largest painted area (CSS px²).
  const watching = page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const overlay = document.querySelector<HTMLCanvasElement>('[data-disk="primary-disk"] canvas.grid-overlay')!;
        const context = overlay.getContext('2d')!;
        const ratio = window.devicePixelRatio || 1;
        let most = 0;
        const start = performance.now();
        const sample = () => {
          const data = context.getImageData(0, 0, overlay.width, overlay.height).data;
          let painted = 0;
          for (let index = 3; index < data.length; index += 4) if (data[index]! > 40) painted++;
          most = Math.max(most, painted / (ratio * ratio));
          if (performance.now() - start < 1500) requestAnimationFrame(sample);
          else resolve(most);
        };
        requestAnimationFrame(sample);
      }),
  );
  await grid.locator('.canvas-box').click({ position: { x: 2, y: 2 } });
  const painted = await watching;
  expect(painted, `painted ${painted.toFixed(0)} px² around a ${cell.toFixed(1)}-px cell`).toBeGreaterThanOrEqual(5 * cell * cell);
});

test('cell labels (b) and a disk as a table (t) tell the bytes without colour', async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 2 * 1024 * 1024, pattern: '0x11' });
  await page.locator('body').focus();
  await page.keyboard.press('b');
  await expect(page.getByTestId('cell-labels')).toHaveAttribute('aria-pressed', 'true');
  // Labelled cells are large enough for two hex digits (the grid grows a frame or two after the press).
  await expect
    .poll(() => page.locator('[data-disk="primary-disk"] canvas.grid-base').evaluate((canvas) => canvas.getBoundingClientRect().width / 16))
    .toBeGreaterThanOrEqual(13);
  await page.keyboard.press('b');
  await expect(page.getByTestId('cell-labels')).toHaveAttribute('aria-pressed', 'false');

  await page.locator('[data-disk="primary-disk"] .canvas-box').focus();
  await page.keyboard.press('t');
  const dialog = page.getByRole('dialog', { name: 'primary-disk as a table' });
  await expect(dialog).toBeVisible();
  const rows = dialog.locator('tbody tr');
  await expect(rows.first()).toContainText('0–31');
  await expect(rows.first()).toContainText('0x11');
  await expect(rows.nth(1)).toContainText('0x00 (empty)');
  // Shortcuts do not act under the dialog.
  await page.keyboard.press('s');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('none');
});

test('a long scenario title stays in its column of the narration, at 1280 and 390 px', async ({ page }) => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(viewport);
    await openApp(page);
    await page.keyboard.press('l');
    await page.locator('[data-path="qemu-tests/11-secondary-continuous-replication.json"]').click();
    await expect(page.getByTestId('narration')).toBeVisible();
    if (viewport.width < 1240) await page.keyboard.press('Escape');
    const fits = await page.getByTestId('narration').evaluate((narration) => {
      const title = narration.querySelector('.title')!.getBoundingClientRect();
      const column = narration.querySelector('.left')!.getBoundingClientRect();
      const text = narration.querySelector('.text')!.getBoundingClientRect();
      const overlapsText = title.left < text.right && text.left < title.right && title.top < text.bottom && text.top < title.bottom;
      return { inside: title.right <= column.right + 0.5 && title.left >= column.left - 0.5, overlapsText, page: document.documentElement.scrollWidth <= window.innerWidth };
    });
    expect(fits).toEqual({ inside: true, overlapsText: false, page: true });
    await page.getByTestId('narration').getByRole('button', { name: 'Close' }).click();
  }
});

test('w then typing replaces the offset instead of following the old value', async ({ page }) => {
  await openApp(page);
  await page.locator('body').focus();
  await page.keyboard.press('w');
  await expect(page.locator('#io-offset')).toBeFocused();
  await page.keyboard.type('128');
  await expect(page.locator('#io-offset')).toHaveValue('128');
});

test('a tab that lost the simulation to another offers no action on it', async () => {
  const profile = temporaryProfile();
  try {
    const context = await launchPersistent(profile.dir);
    const first = context.pages()[0] ?? (await context.newPage());
    await first.goto('/');
    await waitForApp(first);
    await execute(first, { op: 'workload', writesPerSecond: 100, vm: 'both', blockSize: 4096, maxBlocks: 4 });
    await first.keyboard.press('s');
    const second = await context.newPage();
    await second.goto('/');
    await second.getByTestId('banner-locked').getByRole('button', { name: 'Take over here' }).click();
    await waitForApp(second);
    await expect(first.getByTestId('banner-locked')).toContainText('took over');
    // What stays enabled only shows things: navigation, the log's filters, the brush, tables, and
    // copying an action's QMP (to the clipboard, not to the simulation).
    const enabled = await first.evaluate(() =>
      [...document.querySelectorAll<HTMLButtonElement>('button:not(:disabled)')]
        .map((button) => button.getAttribute('aria-label') ?? button.textContent!.replace(/\s+/g, ' ').trim())
        .filter((name) => !/^(pattern 0x..|.* as a table|by layer|Dismiss|Keyboard shortcuts|Library|Learn|scenario library|Take over here|Hide the control panel|Controls|bytes in cells b|I\/O|NBD|Copy-before-write|Jobs|Replication|COLO & VMs|Faults & errors|Graph|Follow|Following|Clear|(Control|Faults|Scenarios|History|QMP|Cost)( \d)?|Copy the (primary|secondary)'s QMP for .*)$/.test(name)),
    );
    expect(enabled).toEqual([]);
    await expect(first.getByRole('button', { name: 'Stop', exact: true })).toBeDisabled();
    await context.close();
  } finally {
    profile.remove();
  }
});

test("the −EIO of a normal failover's commit says it is QEMU's quirk; the one of a failed failover does not", async ({ page }) => {
  await openApp(page);
  await freshSmall(page);
  await coloWithWrites(page);
  await midCommit(page);
  const chip = page.getByTestId('error-replication-secondary');
  await expect(chip).toContainText('QEMU quirk');
  await expect(chip).toHaveAttribute('title', /QEMU quirk: stop on the secondary cancelled the backup job/);
  await expect(page.locator('.graph-svg g.node[data-node="replication-secondary"] .badge-error title')).toHaveText(/QEMU quirk/);

  await freshSmall(page);
  await failoverFailed(page);
  await expect(chip).toContainText('−EIO');
  await expect(chip).not.toContainText('QEMU quirk');
  await expect(page.locator('.graph-svg g.node[data-node="replication-secondary"] .badge-error title')).not.toHaveText(/quirk/);
});
