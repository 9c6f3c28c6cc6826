import type { Locator, Page } from '@playwright/test';
import { expect, openApp, test } from './helpers';

const VIEWPORTS = [
  { width: 1600, height: 1000 },
  { width: 1280, height: 800 },
];

/** Fails when `inner` sticks out past the right edge of the side panel. */
async function expectInsidePanel(page: Page, inner: Locator): Promise<void> {
  const panel = (await page.locator('aside.side').boundingBox())!;
  const box = (await inner.boundingBox())!;
  expect(box.x + box.width, `right edge of ${String(inner)}`).toBeLessThanOrEqual(panel.x + panel.width + 0.5);
}

/** Fails when a control's content is clipped (wider than the control). */
async function expectNotClipped(control: Locator): Promise<void> {
  const sizes = await control.evaluate((element) => ({ content: element.scrollWidth, box: element.clientWidth }));
  expect(sizes.content, `content width of ${String(control)}`).toBeLessThanOrEqual(sizes.box);
}

for (const viewport of VIEWPORTS) {
  test(`side panel at ${viewport.width}x${viewport.height}: tabs, the hide button and the fault form stay inside it`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    // A loaded scenario adds a "live" badge to the Scenarios tab, the widest the tab row gets.
    await page.keyboard.press('l');
    await page.locator('button.item').first().click();
    await expect(page.getByTestId('scenario-loaded')).toBeVisible();
    for (const name of ['Control', 'Faults', 'Scenarios', 'History', 'QMP', 'Cost']) {
      const tab = page.getByRole('tab', { name: new RegExp(name) });
      await expectInsidePanel(page, tab);
      await expectNotClipped(tab);
    }
    const hide = page.getByRole('button', { name: 'Hide the control panel' });
    await expectInsidePanel(page, hide);

    await page.getByRole('tab', { name: /Faults/ }).click();
    for (const field of ['#fault-node', '#fault-on', '#fault-count']) await expectInsidePanel(page, page.locator(field));

    await hide.click();
    await expect(page.locator('aside.side')).toHaveCount(0);
  });

  test(`COLO buttons at ${viewport.width}x${viewport.height} show their whole label`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    for (const name of [/^COLO start/, /^Checkpoint/, /^Failover → secondary/, /^Failover → primary/]) {
      const button = page.getByRole('button', { name });
      await expectNotClipped(button);
      // The label itself (the key hint may be left out when it does not fit).
      const label = await button.evaluate((element) => {
        const range = document.createRange();
        range.selectNodeContents(element.firstChild!);
        const text = range.getBoundingClientRect();
        const box = element.getBoundingClientRect();
        return { right: text.right, inner: box.right - parseFloat(getComputedStyle(element).paddingRight) + 1 };
      });
      expect(label.right).toBeLessThanOrEqual(label.inner);
    }
  });
}
