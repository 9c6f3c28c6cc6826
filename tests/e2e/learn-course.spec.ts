/**
 * The course around the player: the first visit's welcome card, the course page and the
 * learner's progress across reloads, a lesson opened over the user's own simulation (the page
 * asks first), the live invariants beside the views, axe on the course page, a question before
 * and after its reveal and a task, and screenshots of them at 1280 and 390 px.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { execute, expect, openApp, SCREENSHOT_DIR, test } from './helpers';
import { answer, LESSONS, openLesson, playerState, playToEnd, snapshot, stopCount, waitForChange } from './lesson-helpers';

/** Plays until the player shows `view` at a step for which `at` says yes; throws if the lesson ends first. */
async function playUntil(page: Page, json: (typeof LESSONS)[number]['json'], at: (view: string, step: number, revealed: boolean) => boolean): Promise<void> {
  const stop = new Error('reached');
  await playToEnd(page, json, {
    onStop: async (view, step) => {
      const revealed = (await page.getByTestId('lesson-reveal').count()) > 0 || (await page.getByTestId('lesson-task-done').count()) > 0;
      if (at(view, step, revealed)) throw stop;
    },
  }).then(
    () => {
      throw new Error('the lesson ended before the wanted step');
    },
    (error: unknown) => {
      if (error !== stop) throw error;
    },
  );
}

test('the first visit offers the course; either answer is remembered', async ({ page }) => {
  await openApp(page, '/', { welcome: true });
  await expect(page.getByTestId('welcome')).toBeVisible();
  await page.getByTestId('welcome-explore').click();
  await expect(page.getByTestId('welcome')).toHaveCount(0);
  await page.reload();
  await expect(page.locator('.app[data-ready="true"]')).toBeVisible();
  await expect(page.getByTestId('welcome')).toHaveCount(0);

  await page.evaluate(() => localStorage.removeItem('colo-sim:welcome'));
  await page.reload();
  await expect(page.getByTestId('welcome')).toBeVisible();
  await page.getByTestId('welcome-start').click();
  await expect(page).toHaveURL(new RegExp(`#/learn/${LESSONS[0]!.json.lesson.id}$`));
  await expect(page.getByRole('heading', { name: LESSONS[0]!.json.title })).toBeVisible();
  await expect(page.getByTestId('welcome')).toHaveCount(0);
});

test('the course page lists the lessons in order with their minutes, topics and progress; progress survives reloads', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page, '/#/learn');
  const rows = page.getByTestId('course-lesson');
  await expect(rows).toHaveCount(LESSONS.length);
  for (const [index, { json }] of LESSONS.entries()) {
    const row = rows.nth(index);
    await expect(row).toHaveAttribute('data-lesson', json.lesson.id);
    await expect(row.locator('h3')).toHaveText(json.title);
    await expect(row).toContainText(`${(json.lesson as { minutes?: number }).minutes} min`);
    await expect(row.getByTestId('course-status')).toHaveText('not started');
  }
  await expect(rows.first().getByRole('list', { name: 'Topics' })).toContainText('the two hosts, their block graphs and the roles of the disks');

  // Into lesson 2, three steps on.
  const { json } = LESSONS[1]!;
  await rows.nth(1).locator('h3 a').click();
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading');
  for (let press = 0; press < 3; press++) {
    const before = await snapshot(page);
    await page.getByTestId('lesson-next').click();
    await waitForChange(page, before);
  }
  const where = await playerState(page);
  const stepText = await page.getByTestId('lesson-step').textContent();
  expect(stepText).toBe(`Step 4 of ${stopCount(json)}`);

  // A reload comes back to the same step, and the course page says where the learner is.
  await page.reload();
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading', { timeout: 30_000 });
  expect(await playerState(page)).toEqual(where);
  await expect(page.getByTestId('lesson-step')).toHaveText(stepText!);

  // Answered (wrongly), then reloaded: the reveal comes back with the learner's own answer.
  expect(where.view).toBe('ask');
  const ask = json.steps[where.step]!;
  const wrong = ask.choices!.find((choice) => choice !== ask.answer)!;
  await answer(page, json, wrong);
  await page.reload();
  await expect(page.getByTestId('lesson-reveal')).toBeVisible({ timeout: 30_000 });
  expect(await playerState(page)).toEqual(where);
  await expect(page.getByTestId('lesson-verdict')).toHaveText(`✗ Not quite: you chose ${wrong}; the engine's value is ${ask.answer}.`);
  await page.getByTestId('learn').click();
  await expect(rows.nth(1).getByTestId('course-status')).toHaveText(`in progress: step 4 of ${stopCount(json)}`);
  await page.reload();
  await expect(rows.nth(1).getByTestId('course-status')).toHaveText(`in progress: step 4 of ${stopCount(json)}`);

  // Finished: done, also after a reload, and the summary counts it.
  await page.getByTestId('course-continue').click();
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading');
  await playToEnd(page, json);
  await page.getByTestId('learn').click();
  await expect(rows.nth(1).getByTestId('course-status')).toHaveText('✓ done');
  await page.reload();
  await expect(rows.nth(1).getByTestId('course-status')).toHaveText('✓ done');
  await expect(page.getByTestId('course-done')).toHaveText(`1 of ${LESSONS.length} done`);
});

test('opening a lesson over the user\'s own simulation asks first, and keeps it when told to', async ({ page }) => {
  await openApp(page, '/');
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);
  expect((await execute(page, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x5a' })).ok).toBe(true);
  const time = await page.getByTestId('virtual-time').textContent();
  await page.getByTestId('learn').click();
  await page.locator(`[data-lesson="${LESSONS[2]!.json.lesson.id}"] h3 a`).click();
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('lesson-player')).toContainText('You kept your own simulation.');
  await expect(page.getByTestId('virtual-time')).toHaveText(time!);
  await expect(page.getByTestId('colo-state')).toContainText('COLO running');
  // Asked again, and replaced.
  await page.getByRole('button', { name: 'Open the lesson' }).click();
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await page.getByTestId('replace-confirm').click();
  await expect(page.getByTestId('lesson-player')).toHaveAttribute('data-view', 'say');
  await expect(page.getByTestId('lesson-step')).toHaveText(`Step 1 of ${stopCount(LESSONS[2]!.json)}`);
});

test('the invariants are shown beside the views, always: held on a healthy run, broken by a fault with where and why', async ({ page }) => {
  await openApp(page, '/');
  await page.evaluate(() => window.coloSim.client.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 }));
  const invariant = (id: string) => page.getByTestId(`invariant-${id}`);
  await expect(invariant('checkpoint-equal')).toHaveAttribute('data-status', 'not-applicable');
  await execute(page, { op: 'colo-start' });
  for (const id of ['checkpoint-equal', 'svm-view-layers', 'hidden-holds-overwritten']) await expect(invariant(id)).toHaveAttribute('data-status', 'held');
  await execute(page, { op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
  await execute(page, { op: 'guest-write', vm: 'primary', offset: 131072, length: 4096, pattern: '0x22' });
  await expect(invariant('hidden-holds-overwritten')).toHaveAttribute('data-status', 'broken');
  const range = invariant('hidden-holds-overwritten').getByRole('button');
  await expect(range).toHaveText('[128 KiB, 192 KiB) the primary overwrote it since the checkpoint, but hidden-disk has no copy of its old data: the copy into hidden-disk failed (EIO)');
  // Pressing the range outlines it: hidden-disk's node in the graph.
  await range.click();
  await expect(range).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.graph-svg g.node.focused[data-node="hidden-disk"]')).toHaveCount(1);
  await execute(page, { op: 'checkpoint' });
  await expect(invariant('checkpoint-equal')).toHaveAttribute('data-status', 'broken');
  await expect(invariant('checkpoint-equal')).toContainText("primary-disk holds mixed bytes, secondary-disk 0x00: the primary's write was not replicated: the forwarded write failed on the secondary (EIO)");
});

interface Finding {
  state: string;
  id: string;
  impact: string;
  targets: string[];
}

async function audit(page: Page, state: string): Promise<Finding[]> {
  // Let the frame's cell flashes fade (they are drawn on canvas, never read by axe, but they cover text while they last).
  await page.waitForTimeout(400);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => ({ state, id: violation.id, impact: node.impact ?? violation.impact ?? 'unknown', targets: node.target.map(String) })),
  );
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.mouse.move(1, 1);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
}

for (const width of [1280, 390]) {
  test(`axe and screenshots at ${width} px: the course page, a question before and after its reveal, a task and a task done`, async ({ page }) => {
    test.setTimeout(150_000);
    await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
    const findings: Finding[] = [];
    await openApp(page, '/#/learn');
    await expect(page.getByTestId('course-lesson')).toHaveCount(LESSONS.length);
    findings.push(...(await audit(page, 'course page')));
    await shoot(page, `learn-course-${width}`);

    const { json } = LESSONS.find((lesson) => lesson.json.lesson.id === 'hidden-disk-keeps-the-past')!;
    await openLesson(page, json.lesson.id);
    // The question about the served-by probe, with cells to outline.
    const servedBy = json.steps.findIndex((step) => step.op === 'ask' && step.answer === 'hidden-disk');
    await playUntil(page, json, (view, step, revealed) => view === 'ask' && step === servedBy && !revealed);
    await page.getByTestId('lesson-ask').getByRole('radio', { name: 'hidden-disk', exact: true }).check();
    await page.waitForTimeout(900);
    findings.push(...(await audit(page, 'a question before the reveal')));
    await shoot(page, `learn-question-${width}`);
    const before = await snapshot(page);
    await page.getByTestId('lesson-commit').click();
    await waitForChange(page, before);
    await page.waitForTimeout(900);
    findings.push(...(await audit(page, 'a question after the reveal')));
    await shoot(page, `learn-revealed-${width}`);

    await playUntil(page, json, (view, _step, revealed) => view === 'task' && !revealed);
    await page.getByTestId('lesson-hint-button').click();
    findings.push(...(await audit(page, 'a task')));
    await shoot(page, `learn-task-${width}`);
    const atTask = await snapshot(page);
    await page.getByTestId('lesson-show-me').click();
    await waitForChange(page, atTask);
    await page.waitForTimeout(1500);
    findings.push(...(await audit(page, 'a task done')));
    await shoot(page, `learn-task-done-${width}`);

    for (const finding of findings) console.log(`[axe] ${finding.state}: ${finding.impact} ${finding.id} at ${finding.targets.join(' ')}`);
    // Every impact, moderate and minor too: the course's views are new and start clean (a11y.spec holds the rest of the app to serious and critical).
    expect(findings.map((finding) => `${finding.state}: ${finding.impact} ${finding.id} at ${finding.targets.join(' ')}`)).toEqual([]);
  });
}
