/**
 * A long scenario's step list, which renders only the rows on screen (ScenarioPanel: windowed above
 * 400 steps): it scrolls to its last step, a run to the end shows the step that failed, and going
 * to a moment on the timeline shows that moment's step. Rows of the height their text needed once
 * made the list stop at about step 274 of 20,000 and scroll to the wrong rows.
 */
import type { Locator } from '@playwright/test';
import { bigScenarioText } from '../support/big-scenario';
import { expect, openApp, test } from './helpers';
import { shownAt } from './time-travel-helpers';

const STEPS = 20_000;
const FAILING_STEP = 17_002;

/** Waits until step `index`'s row is rendered and wholly inside the list's visible box. */
async function expectRowShown(list: Locator, index: number): Promise<void> {
  await expect
    .poll(
      () =>
        list.evaluate((element, step) => {
          const row = element.querySelector(`li[data-step="${step}"]`);
          if (!row) return 'not rendered';
          const box = element.getBoundingClientRect();
          const rowBox = row.getBoundingClientRect();
          return rowBox.top >= box.top - 1 && rowBox.bottom <= box.bottom + 1 ? 'shown' : `at ${Math.round(rowBox.top - box.top)} px in a list ${Math.round(box.height)} px high`;
        }, index),
      { message: `step ${index + 1}'s row` },
    )
    .toBe('shown');
}

/** Every rendered row starts where the windowing puts it: index × the first row's height. */
async function rowsWhereCounted(list: Locator): Promise<string[]> {
  return list.evaluate((element) => {
    const rows = [...element.querySelectorAll<HTMLElement>('li[data-step]')];
    const height = rows[0]!.offsetHeight;
    const listTop = element.getBoundingClientRect().top - element.scrollTop;
    return rows.flatMap((row) => {
      const top = row.getBoundingClientRect().top - listTop - element.clientTop;
      const expected = Number(row.dataset.step) * height;
      return Math.abs(top - expected) > 1 || row.offsetHeight !== height ? [`step ${Number(row.dataset.step) + 1} at ${top} px, ${row.offsetHeight} px high (expected ${expected} px, ${height} px)`] : [];
    });
  });
}

test('a long scenario: the step list reaches the last step, shows the failing one, and follows the timeline', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles({ name: 'long.json', mimeType: 'application/json', buffer: Buffer.from(bigScenarioText(STEPS, { failAt: FAILING_STEP })) });
  const panel = page.getByTestId('scenario-loaded');
  await expect(panel).toContainText(`${STEPS} steps`);
  const list = panel.getByRole('list', { name: 'Scenario steps' });
  expect(await rowsWhereCounted(list)).toEqual([]);

  // Scrolled by hand to the end, to the middle.
  await list.evaluate((element) => (element.scrollTop = element.scrollHeight));
  await expectRowShown(list, STEPS - 1);
  expect(await rowsWhereCounted(list)).toEqual([]);
  await list.evaluate((element) => (element.scrollTop = element.scrollHeight / 2));
  await expectRowShown(list, STEPS / 2);

  // A run to the end stops at the failing read and shows its row.
  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText(`Failed at step ${FAILING_STEP + 1}`, { timeout: 60_000 });
  await expect(list.locator(`li[data-step="${FAILING_STEP}"]`)).toHaveAttribute('data-status', 'failed');
  await expectRowShown(list, FAILING_STEP);
  await expect(list.locator(`li[data-step="${FAILING_STEP}"]`)).toHaveAttribute('title', /expected every byte 0xee · got /);
  expect(await rowsWhereCounted(list)).toEqual([]);

  // The timeline's Home and a step back: the list shows the moment's step.
  const slider = page.getByRole('slider', { name: 'Timeline: the moment shown' });
  await slider.focus();
  await page.keyboard.press('Home');
  await shownAt(page, 0);
  await expectRowShown(list, 0);
  await page.keyboard.press('End');
  await shownAt(page, FAILING_STEP + 1);
  await expectRowShown(list, FAILING_STEP);
  await page.keyboard.press('ArrowLeft');
  await shownAt(page, FAILING_STEP);
  await expectRowShown(list, FAILING_STEP - 1);
});
