import type { Page } from '@playwright/test';
import { execute, expect, openApp, test } from './helpers';

/** Moves the mouse over a cell of a 16-cell grid (8 columns, 2 rows). */
async function hoverCell(page: Page, disk: string, index: number): Promise<void> {
  const box = (await page.locator(`[data-disk="${disk}"] canvas.grid-base`).boundingBox())!;
  const pitch = box.width / 8;
  await page.mouse.move(box.x + ((index % 8) + 0.5) * pitch, box.y + (Math.floor(index / 8) + 0.5) * pitch);
}

test('hovering a cell shows its range, content, allocation and, in the secondary VM view, the layer that serves it', async ({ page }) => {
  await openApp(page);
  await page.evaluate(() => window.coloSim.client.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 }));
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  // Cell 0: the secondary VM's own write (active disk). Cell 1: a forwarded write, whose old
  // cluster (zeros) copy-before-write saved in the hidden disk. Cell 2: untouched.
  expect((await execute(page, { op: 'guest-write', vm: 'secondary', offset: 0, length: '64K', pattern: '0x55' })).ok).toBe(true);
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x44' })).ok).toBe(true);
  const tip = page.locator('[data-disk="svm-view"] .tip');

  await hoverCell(page, 'svm-view', 0);
  await expect(tip).toContainText('cell 0');
  await expect(tip).toContainText('[0 B, 64 KiB)');
  await expect(tip).toContainText('content: 0x55');
  await expect(tip).toContainText('secondary VM reads it from active-disk');

  await hoverCell(page, 'svm-view', 1);
  await expect(tip).toContainText('cell 1');
  await expect(tip).toContainText('content: 0x00');
  await expect(tip).toContainText('secondary VM reads it from hidden-disk');

  await hoverCell(page, 'svm-view', 2);
  await expect(tip).toContainText('cell 2');
  await expect(tip).toContainText('secondary VM reads it from secondary-disk');

  const hiddenTip = page.locator('[data-disk="hidden-disk"] .tip');
  await hoverCell(page, 'hidden-disk', 1);
  await expect(hiddenTip).toContainText('a zero cluster: hides the backing file');
  await expect(hiddenTip).toContainText('allocated in this image');
  await hoverCell(page, 'hidden-disk', 2);
  await expect(hiddenTip).toContainText('not allocated: reads fall through to the backing file');

  const secondaryTip = page.locator('[data-disk="secondary-disk"] .tip');
  await hoverCell(page, 'secondary-disk', 1);
  await expect(secondaryTip).toContainText('content: 0x44');
});
