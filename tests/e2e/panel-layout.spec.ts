import type { Locator, Page } from '@playwright/test';
import { expect, FOUR_SIZES, openApp, openOverSession, SCREENSHOT_DIR, test } from './helpers';

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

/**
 * Each tab's text (its label, badge and key hint) as drawn: its left and right edge, and the
 * tab's own box. A label cut by its tab, or touching the next one, shows here.
 */
async function tabTexts(page: Page): Promise<Array<{ name: string; textLeft: number; textRight: number; tabLeft: number; tabRight: number }>> {
  return page.getByRole('tab').evaluateAll((tabs) =>
    tabs.map((tab) => {
      const range = document.createRange();
      range.selectNodeContents(tab);
      const text = range.getBoundingClientRect();
      const box = tab.getBoundingClientRect();
      return { name: tab.textContent!.replace(/\s+/g, ' ').trim(), textLeft: text.left, textRight: text.right, tabLeft: box.left, tabRight: box.right };
    }),
  );
}

async function expectTabsLegible(page: Page, state: string): Promise<void> {
  const texts = await tabTexts(page);
  expect(texts).toHaveLength(6);
  for (const [index, text] of texts.entries()) {
    expect(text.textLeft, `${state}: "${text.name}" starts inside its tab`).toBeGreaterThanOrEqual(text.tabLeft - 0.5);
    expect(text.textRight, `${state}: "${text.name}" ends inside its tab`).toBeLessThanOrEqual(text.tabRight + 0.5);
    const next = texts[index + 1];
    if (next) expect(next.textLeft - text.textRight, `${state}: space between "${text.name}" and "${next.name}"`).toBeGreaterThanOrEqual(4);
  }
}

for (const viewport of FOUR_SIZES) {
  test(`the side panel's tabs at ${viewport.width} px: every label whole and apart from the next, with and without badges`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    if (viewport.width < 1240) await page.getByTestId('controls-toggle').click();
    await expect(page.getByRole('tab', { name: /Control/ })).toBeVisible();
    await expectTabsLegible(page, 'fresh, key hints shown where they fit');
    // Failed commands put a count on History (two digits, then "99+"), a loaded scenario "live" on Scenarios.
    const history = page.getByRole('tab', { name: /History/ });
    for (const [failures, badge] of [[15, '15'], [120, '99+']] as const) {
      await page.evaluate(async (count) => {
        const state = window.coloSim.state;
        const failedBefore = state.history.filter((entry) => entry.status === 'failed').length;
        for (let sent = failedBefore; sent < count; sent++) await state.sendQmp('primary', 'no-such-command');
      }, failures);
      await expect(history.locator('.badge')).toHaveText(badge);
      await expectTabsLegible(page, `${failures} failed commands in History`);
    }
    await page.keyboard.press('l');
    await openOverSession(page, 'behaviours/06-colo-failover-to-secondary.json');
    if (viewport.width < 1240 && !(await page.getByRole('tab', { name: /Control/ }).isVisible())) await page.getByTestId('controls-toggle').click();
    await expect(page.getByRole('tab', { name: /Scenarios/ })).toHaveAccessibleName(/live/);
    await page.locator('.tabbar').screenshot({ path: `${SCREENSHOT_DIR}/w${viewport.width}-tabs-crowded.png` });
    await expectTabsLegible(page, 'a scenario loaded');
  });
}

for (const viewport of FOUR_SIZES) {
  test(`the checkpoint delay at ${viewport.width} px: its unit stays on the line of its value`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await openApp(page);
    if (viewport.width < 1240) await page.getByTestId('controls-toggle').click();
    const periodic = page.getByTestId('periodic');
    const value = (await periodic.getByRole('spinbutton').boundingBox())!;
    const unit = (await periodic.getByText('ms', { exact: true }).boundingBox())!;
    const set = (await periodic.getByRole('button', { name: 'Set' }).boundingBox())!;
    // "ms" alone at the start of the next line read as a stray word (1280 px).
    expect(Math.abs(unit.y + unit.height / 2 - (value.y + value.height / 2)), 'unit and value on one line').toBeLessThan(4);
    expect(unit.x, 'the unit after its value').toBeGreaterThan(value.x + value.width - 0.5);
    expect(Math.abs(set.y + set.height / 2 - (value.y + value.height / 2)), 'Set on the same line').toBeLessThan(4);
  });
}
