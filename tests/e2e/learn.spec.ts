/**
 * The lesson player in Chromium: every lesson of public/lessons completed with the keyed answers
 * (the engine's values: the reveal must say so) and "Show me" for its tasks; a task done with the
 * normal controls (a click on a grid); a wrong answer revealing the explanation and the engine's
 * value; a lesson opened by its URL; keyboard-only completion of a lesson.
 */
import { digest, expect, openApp, test } from './helpers';
import { answer, LESSONS, openLesson, playerState, playToEnd, snapshot, stopCount, waitForChange } from './lesson-helpers';

for (const { file, json } of LESSONS) {
  test(`lesson ${file}: right answers and "Show me" complete it`, async ({ page }) => {
    test.setTimeout(120_000);
    await openLesson(page, json.lesson.id);
    await expect(page.getByRole('heading', { name: json.title })).toBeVisible();
    await expect(page.getByTestId('lesson-step')).toHaveText(`Step 1 of ${stopCount(json)}`);
    await playToEnd(page, json);
    await expect(page.getByTestId('lesson-finished')).toContainText('Lesson complete');
    await expect(page.getByTestId('lesson-step')).toHaveText(`Step ${stopCount(json)} of ${stopCount(json)}`);
    // The run passed every step: the scenario's outcome says so.
    const outcome = await page.evaluate(() => (window.coloSim.state as unknown as { scenario: { outcome?: { passed: boolean } } }).scenario.outcome);
    expect(outcome?.passed).toBe(true);
  });
}

test('a wrong answer reveals the engine\'s value and the explanation; the views outline what the question looked at', async ({ page }) => {
  const { json } = LESSONS[0]!;
  await openLesson(page, json.lesson.id);
  let firstAsk = -1;
  await playToEnd(page, json, {
    onStop: async (view, step) => {
      if (view === 'ask' && firstAsk < 0) {
        firstAsk = step;
        throw new Error('stop here');
      }
    },
  }).catch((error: Error) => {
    if (error.message !== 'stop here') throw error;
  });
  const ask = json.steps[firstAsk]!;
  const wrong = ask.choices!.find((choice) => choice !== ask.answer)!;
  // Before the reveal the views outline the probe's node (a stage probe: replication-secondary).
  await expect(page.locator('.graph-svg g.node.focused[data-node="replication-secondary"]')).toHaveCount(1);
  await answer(page, json, wrong);
  await expect(page.getByTestId('lesson-reveal')).toContainText("the engine's value");
  await expect(page.getByTestId('lesson-reveal').locator('li.engine')).toHaveText(new RegExp(`^${ask.answer}`));
  await expect(page.getByTestId('lesson-reveal').locator('li.wrong')).toHaveText(new RegExp(`^${wrong}`));
  await expect(page.getByTestId('lesson-live')).toHaveText(`Not quite: you chose ${wrong}; the engine's value is ${ask.answer}. ${ask.explain}`);
  // The run goes on (the engine decided, not the learner).
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-reveal')).toHaveCount(0);
});

test('a task done with the normal controls: a click on primary-disk\'s cell writes as the primary VM and reaches the goal', async ({ page }) => {
  const entry = LESSONS.find((lesson) => lesson.json.lesson.id === 'hidden-disk-keeps-the-past')!;
  const json = entry.json;
  await openLesson(page, json.lesson.id);
  const task = json.steps.findIndex((step) => step.op === 'task');
  await playToEnd(page, json, {
    onStop: async (view, step) => {
      if (view === 'task' && step === task) throw new Error('stop here');
    },
  }).catch((error: Error) => {
    if (error.message !== 'stop here') throw error;
  });
  await expect(page.getByTestId('lesson-task')).toContainText(json.steps[task]!.goal!);
  // The goal's cells are outlined: hidden-disk [128K, 192K) is cell 2 of 16.
  await expect(page.locator('[data-testid="lesson-player"]')).toHaveAttribute('data-view', 'task');
  // The controls are the learner's now.
  await expect(page.locator('aside.side button:has-text("COLO start")')).toBeEnabled();
  // A write of the secondary VM does not reach the goal; the player says why.
  await page.getByTestId('lesson-hint-button').click();
  await expect(page.getByTestId('lesson-hint')).toHaveText(`Hint: ${json.steps[task]!.hint}`);
  const active = page.locator('[data-disk="active-disk"] canvas.grid-base');
  const activeBox = (await active.boundingBox())!;
  const pitch = activeBox.width / 8;
  await active.click({ position: { x: 2.5 * pitch, y: 0.5 * pitch } });
  await expect(page.getByTestId('lesson-not-yet')).toHaveText('Not yet: hidden-disk [131072, +65536) is not allocated, not all allocated');
  await expect(page.getByTestId('lesson-task-done')).toHaveCount(0);
  // The primary VM's write to cell 2 (the brush, 0x22) reaches it.
  const primary = page.locator('[data-disk="primary-disk"] canvas.grid-base');
  const primaryBox = (await primary.boundingBox())!;
  await primary.click({ position: { x: 2.5 * (primaryBox.width / 8), y: 0.5 * (primaryBox.width / 8) } });
  await expect(page.getByTestId('lesson-task-done')).toHaveText('You reached the goal with the controls.');
  await expect(page.locator('aside.side button:has-text("COLO start")')).toBeDisabled();
  // A reload keeps the learner's own run and says so.
  await page.reload();
  await expect(page.getByTestId('lesson-task-done')).toHaveText('You reached the goal with the controls.', { timeout: 30_000 });
  await playToEnd(page, json);
  await expect(page.getByTestId('lesson-finished')).toBeVisible();
});

test('a lesson opens by its URL, and the browser\'s Back and Forward move between the course and it', async ({ page }) => {
  const { json } = LESSONS[17]!;
  await openApp(page, '/#/learn');
  await expect(page.getByTestId('course-page')).toBeVisible();
  await page.locator(`[data-lesson="${json.lesson.id}"] h3 a`).click();
  await expect(page).toHaveURL(new RegExp(`#/learn/${json.lesson.id}$`));
  await expect(page.getByRole('heading', { name: json.title })).toBeVisible();
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading');
  await page.goBack();
  await expect(page.getByTestId('course-page')).toBeVisible();
  await page.goForward();
  await expect(page.getByTestId('lesson-player')).toBeVisible();
  await expect(page.getByRole('heading', { name: json.title })).toBeVisible();
  // An unknown id says so.
  await page.goto('/#/learn/no-such-lesson');
  await expect(page.getByTestId('lesson-player')).toContainText('No lesson has the id “no-such-lesson”.');
});

test('keyboard only: a lesson from its first step to the next lesson, with ] [ h m, the arrows and Enter', async ({ page }) => {
  test.setTimeout(120_000);
  const entry = LESSONS.find((lesson) => lesson.json.lesson.id === 'hidden-disk-keeps-the-past')!;
  const json = entry.json;
  await openApp(page, '/');
  // The Learn button, then the lesson's link, by keyboard.
  await page.getByTestId('learn').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('course-page')).toBeVisible();
  await page.locator(`[data-lesson="${json.lesson.id}"] h3 a`).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading', { timeout: 30_000 });
  let wentBack = false;
  for (let guard = 0; guard < 3 * json.steps.length; guard++) {
    const { view, step } = await playerState(page);
    if (view === 'finished') break;
    const before = await snapshot(page);
    if (view === 'ask' && (await page.getByTestId('lesson-reveal').count()) === 0) {
      // The first choice has the keyboard; arrows move to the keyed answer, Enter commits.
      const ask = json.steps[step]!;
      await expect(page.getByTestId('lesson-ask').getByRole('radio').first()).toBeFocused();
      const target = ask.choices!.indexOf(ask.answer!);
      await page.keyboard.press('Space');
      for (let move = 0; move < target; move++) await page.keyboard.press('ArrowDown');
      await expect(page.getByTestId('lesson-ask').getByRole('radio', { name: ask.answer!, exact: true })).toBeChecked();
      await page.keyboard.press('Enter');
      await waitForChange(page, before);
      await expect(page.getByTestId('lesson-verdict')).toHaveText(`✓ Right: the engine's value is ${ask.answer}.`);
      continue;
    }
    if (view === 'task' && (await page.getByTestId('lesson-task-done').count()) === 0) {
      await page.keyboard.press('h');
      await expect(page.getByTestId('lesson-hint')).toBeVisible();
      await page.keyboard.press('m');
    } else if (view === 'ask' && !wentBack && step > 5) {
      // [ goes back a step: the question before is asked again, unanswered.
      wentBack = true;
      await page.keyboard.press('[');
    } else await page.keyboard.press(']');
    await waitForChange(page, before);
  }
  await expect(page.getByTestId('lesson-finished')).toBeVisible();
  expect(wentBack).toBe(true);
  await expect(page.getByTestId('lesson-next-lesson')).toBeFocused();
  await page.keyboard.press(']');
  const next = LESSONS[LESSONS.indexOf(entry) + 1]!;
  await expect(page).toHaveURL(new RegExp(`#/learn/${next.json.lesson.id}$`));
  await expect(page.getByRole('heading', { name: next.json.title })).toBeVisible();
});

test('"Show me" after the learner\'s own actions starts the task again from its start, then runs the solution', async ({ page }) => {
  const entry = LESSONS.find((lesson) => lesson.json.lesson.id === 'hidden-disk-keeps-the-past')!;
  const json = entry.json;
  await openLesson(page, json.lesson.id);
  const task = json.steps.findIndex((step) => step.op === 'task');
  await playToEnd(page, json, {
    onStop: async (view, step) => {
      if (view === 'task' && step === task) throw new Error('stop here');
    },
  }).catch((error: Error) => {
    if (error.message !== 'stop here') throw error;
  });
  const atTask = await digest(page);
  // The secondary VM writes cell 2 of active-disk: not the goal.
  const active = page.locator('[data-disk="active-disk"] canvas.grid-base');
  const activeBox = (await active.boundingBox())!;
  await active.click({ position: { x: 2.5 * (activeBox.width / 8), y: 0.5 * (activeBox.width / 8) } });
  await expect(page.getByTestId('lesson-not-yet')).toBeVisible();
  expect((await digest(page))['active-disk']).not.toBe(atTask['active-disk']);
  await page.getByTestId('lesson-show-me').click();
  await expect(page.getByTestId('lesson-task-done')).toHaveText('The solution ran and reached the goal.');
  // The learner's write is gone (the lesson was replayed to the task); the solution wrote as the primary VM only.
  const after = await digest(page);
  expect(after['active-disk']).toBe(atTask['active-disk']);
  expect(after['hidden-disk']).not.toBe(atTask['hidden-disk']);
});
