/**
 * Shared by the lesson specs: the course's files, and driving the lesson player (its state is in
 * data-view and data-step of [data-testid="lesson-player"]).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, openApp } from './helpers';

export interface LessonJson {
  title: string;
  lesson: { id: string; order: number };
  steps: Array<{ op: string; answer?: string; choices?: string[]; explain?: string; text?: string; goal?: string; hint?: string }>;
}

const LESSON_DIR = 'public/lessons';
export const LESSONS: Array<{ file: string; json: LessonJson }> = readdirSync(LESSON_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ file: name, json: JSON.parse(readFileSync(join(LESSON_DIR, name), 'utf8')) as LessonJson }))
  .sort((a, b) => a.json.lesson.order - b.json.lesson.order);

const STOPS = new Set(['say', 'ask', 'task']);

export function stopCount(json: LessonJson): number {
  return json.steps.filter((step) => STOPS.has(step.op)).length;
}

/** The player's current step: what it shows (data-view) and at which step index (data-step). */
export async function playerState(page: Page): Promise<{ view: string; step: number }> {
  const player = page.getByTestId('lesson-player');
  return { view: (await player.getAttribute('data-view')) ?? '', step: Number((await player.getAttribute('data-step')) || -1) };
}

/** Waits until the player shows something other than `previous` (a new step, or the same step revealed). */
export async function waitForChange(page: Page, previous: string): Promise<void> {
  await expect
    .poll(async () => {
      const state = await playerState(page);
      const revealed = await page.getByTestId('lesson-reveal').count();
      const done = await page.getByTestId('lesson-task-done').count();
      return `${state.view}:${state.step}:${revealed}:${done}`;
    })
    .not.toBe(previous);
}

export async function snapshot(page: Page): Promise<string> {
  const state = await playerState(page);
  return `${state.view}:${state.step}:${await page.getByTestId('lesson-reveal').count()}:${await page.getByTestId('lesson-task-done').count()}`;
}

export async function openLesson(page: Page, id: string): Promise<void> {
  await openApp(page, `/#/learn/${id}`);
  await expect(page.getByTestId('lesson-player')).toBeVisible();
  await expect(page.getByTestId('lesson-player')).not.toHaveAttribute('data-view', 'loading', { timeout: 30_000 });
}

/**
 * Answers the question on screen with `choice`, checks the reveal (right or wrong against the
 * keyed answer, which the lessons test proves is the engine's value), and leaves it revealed.
 */
export async function answer(page: Page, json: LessonJson, choice: string): Promise<void> {
  const { step } = await playerState(page);
  const ask = json.steps[step]!;
  await page.getByTestId('lesson-ask').getByRole('radio', { name: choice, exact: true }).check();
  const before = await snapshot(page);
  await page.getByTestId('lesson-commit').click();
  await waitForChange(page, before);
  const verdict = page.getByTestId('lesson-verdict');
  if (choice === ask.answer) await expect(verdict).toHaveText(`✓ Right: the engine's value is ${ask.answer}.`);
  else await expect(verdict).toHaveText(`✗ Not quite: you chose ${choice}; the engine's value is ${ask.answer}.`);
  if (ask.explain) await expect(page.getByTestId('lesson-explain')).toHaveText(ask.explain);
}

/** Plays a lesson from where the player is to its end: right answers, "Show me" for tasks. */
export async function playToEnd(page: Page, json: LessonJson, options: { onStop?: (view: string, step: number) => Promise<void> } = {}): Promise<void> {
  for (let guard = 0; guard < 3 * json.steps.length + 5; guard++) {
    const { view, step } = await playerState(page);
    await options.onStop?.(view, step);
    if (view === 'finished') return;
    const before = await snapshot(page);
    if (view === 'say') {
      await expect(page.getByTestId('lesson-say')).toHaveText(json.steps[step]!.text!);
      await page.getByTestId('lesson-next').click();
    } else if (view === 'ask') {
      if ((await page.getByTestId('lesson-reveal').count()) === 0) {
        await answer(page, json, json.steps[step]!.answer!);
        continue;
      }
      await page.getByTestId('lesson-next').click();
    } else if (view === 'task') {
      if ((await page.getByTestId('lesson-task-done').count()) === 0) await page.getByTestId('lesson-show-me').click();
      else await page.getByTestId('lesson-next').click();
    } else throw new Error(`the player shows "${view}" at step ${step}: ${await page.getByTestId('lesson-player').innerText()}`);
    await waitForChange(page, before);
  }
  throw new Error('the lesson did not end');
}

