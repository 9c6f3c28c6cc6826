import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { expect, openApp, openOverSession, test } from './helpers';

const SCENARIO_ROOT = 'public/scenarios';

function scenarioFiles(directory = SCENARIO_ROOT): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return scenarioFiles(path);
      return entry.name.endsWith('.json') ? [relative(SCENARIO_ROOT, path).split(sep).join('/')] : [];
    })
    .sort();
}

test('a scenario runs step by step through the UI, with narration and expectations', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await expect(page.locator('#library-search')).toBeFocused();
  await page.locator('#library-search').fill('whole COLO flow');
  await page.locator('[data-path="behaviours/06-colo-failover-to-secondary.json"]').click();
  const panel = page.getByTestId('scenario-loaded');
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('The whole COLO flow');
  await expect(page.getByTestId('narration')).toBeVisible();

  // Step: the first step is narration, the second expects QEMU's exact error.
  await page.getByTestId('scenario-step').click();
  await expect(page.getByTestId('narration')).toContainText('Before COLO runs there is nothing to fail over.');
  await page.getByTestId('scenario-step').click();
  await expect(panel.locator('li[data-step="1"]')).toHaveAttribute('data-status', 'passed');
  await expect(panel.locator('li[data-step="1"]')).toContainText("The feature 'colo' is not enabled");
  // The keyboard steps too.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  for (let step = 0; step < 4; step++) {
    await page.keyboard.press(']');
    await expect(panel.locator('li[data-status="passed"]')).toHaveCount(3 + step);
  }
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('running');

  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText('Passed');
  await expect(panel.locator('li[data-status="failed"]')).toHaveCount(0);
  await expect(panel.locator('li[data-status="pending"]')).toHaveCount(0);
  await expect(page.getByTestId('stage-replication-secondary')).toContainText('done');

  await page.getByTestId('scenario-close').click();
  await expect(page.getByTestId('scenario-loaded')).toHaveCount(0);
});

test('a scenario loaded over another starts with an empty event log, not the old one', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('l');
  await page.locator('[data-path="behaviours/05-checkpoint-equality.json"]').click();
  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText('Passed');
  const log = page.getByRole('region', { name: 'Event log' });
  const rows = log.locator('.row');
  await expect.poll(() => rows.count()).toBeGreaterThan(10);

  await page.getByTestId('scenario-close').click();
  await page.keyboard.press('l');
  await openOverSession(page, 'behaviours/06-colo-failover-to-secondary.json');
  await expect(page.getByTestId('scenario-loaded')).toContainText('The whole COLO flow');
  await expect(log.locator('.count')).toHaveText('0 events');
  await expect(rows).toHaveCount(0);
});

test('a local scenario file is validated: file name, JSON path and message', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles({
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ format: 'colo-sim/1', title: 'broken', steps: [{ op: 'guest-write', vm: 'primary', offset: 7, length: 512, pattern: '0x11' }] })),
  });
  const problem = page.getByTestId('file-problem');
  await expect(problem).toContainText('broken.json');
  // The JSON path and the step number, as the CLI says them.
  await expect(problem).toContainText('steps[0].offset (step 1)');

  await page.getByTestId('file-input').setInputFiles({
    name: 'mine.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ format: 'colo-sim/1', title: 'My scenario', steps: [{ op: 'colo-start' }, { op: 'checkpoint' }] })),
  });
  await expect(page.getByTestId('scenario-loaded')).toContainText('My scenario');
  await page.getByTestId('scenario-run').click();
  await expect(page.getByTestId('scenario-outcome')).toContainText('Passed');

  // Export: the session so far as a scenario file.
  const download = page.waitForEvent('download');
  await page.keyboard.press('e');
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.json$/);
});

test('every scenario of the library passes in the browser, through the worker and IndexedDB', async ({ page }) => {
  test.setTimeout(240_000);
  const files = scenarioFiles();
  expect(files.length).toBeGreaterThan(90);
  await openApp(page);
  const outcomes = await page.evaluate(async (paths) => {
    const client = window.coloSim.client;
    const results: Array<{ path: string; passed: boolean; detail: string }> = [];
    for (const path of paths) {
      const text = await (await fetch(`scenarios/${path}`)).text();
      const loaded = await client.loadScenario(path, text);
      if (!loaded.ok) {
        results.push({ path, passed: false, detail: `invalid: ${loaded.errors.map((error) => `${error.path} ${error.message}`).join('; ')}` });
        continue;
      }
      const progress = await client.scenarioRunToEnd();
      const outcome = progress?.outcome;
      const failure = outcome?.failure;
      results.push({
        path,
        passed: outcome?.passed === true,
        detail: failure ? `step ${failure.index + 1} at steps[${failure.index}] (${failure.op}: ${failure.description}): expected ${failure.expected}, got ${failure.actual}` : outcome ? '' : 'no outcome',
      });
    }
    await client.closeScenario();
    return results;
  }, files);
  expect(outcomes).toHaveLength(files.length);
  const failed = outcomes.filter((outcome) => !outcome.passed).map((outcome) => `${outcome.path}: ${outcome.detail}`);
  expect(failed, 'scenarios that failed in the browser').toEqual([]);
  // The page kept up with every frame: the store reports it saved.
  await expect(page.getByTestId('saved-state')).toContainText('saved');
});
