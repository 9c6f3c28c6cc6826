/**
 * What the time-travel specs share: the session they travel through, a fresh run of its steps
 * for reference, and waiting for the views to show a moment.
 */
import type { Page } from '@playwright/test';
import { ScenarioRunner } from '../../src/engine/scenario/runner';
import { validateScenarioText } from '../../src/engine/scenario/validate';
import type { SimEvent } from '../../src/engine/sim/events';
import { createMemoryStore } from '../../src/storage/chunked-memory-store';
import { digestImages } from '../../src/worker/disk-digest';
import { execute, expect, visibleCells } from './helpers';

/** A fresh run of an exported session, step by step: the disks' digests and the events after each step. */
export function replaySteps(text: string): { digests: Array<Record<string, string>>; eventCounts: number[]; events: SimEvent[] } {
  const validation = validateScenarioText(text);
  if (!validation.ok) throw new Error(`the export is not a valid scenario: ${JSON.stringify(validation.errors.slice(0, 3))}`);
  const events: SimEvent[] = [];
  const runner = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => events.push(event) });
  const digests = [digestImages(runner.simulation)];
  const eventCounts = [0];
  while (runner.nextStepIndex < validation.scenario.steps.length) {
    runner.step();
    digests.push(digestImages(runner.simulation));
    eventCounts.push(events.length);
  }
  return { digests, eventCounts, events };
}

/** The session the specs travel through: COLO, writes on both sides, a checkpoint, a failover. */
export const SESSION_COMMANDS: ReadonlyArray<Record<string, unknown>> = [
  { op: 'colo-start' },
  { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' },
  { op: 'guest-write', vm: 'secondary', offset: '128K', length: '64K', pattern: '0x22' },
  { op: 'checkpoint' },
  { op: 'guest-write', vm: 'primary', offset: '256K', length: '4K', pattern: '0x33' },
  { op: 'failover', to: 'secondary' },
  { op: 'guest-write', vm: 'secondary', offset: 0, length: '4K', pattern: '0x44' },
];

/** A new 1 MiB simulation with the commands above, run through the page's client (the clock stopped: no time steps between them). */
export async function buildSession(page: Page): Promise<{ cellsAt: string[] }> {
  await page.evaluate(() => window.coloSim.state.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536, seed: 7 }));
  await expect(page.getByTestId('timeline')).toHaveAttribute('data-step-count', '0');
  const cellsAt = [await visibleCells(page)];
  for (const [index, command] of SESSION_COMMANDS.entries()) {
    const result = await execute(page, command);
    expect(result.ok, JSON.stringify(command)).toBe(true);
    await expect(page.getByTestId('timeline')).toHaveAttribute('data-step', String(index + 1));
    // The grids as drawn live, once every change of the command is applied.
    cellsAt.push(await visibleCells(page));
  }
  return { cellsAt };
}

/** Waits until the views show moment `step` (the worker's frame has arrived, nothing is on its way). */
export async function shownAt(page: Page, step: number): Promise<void> {
  const strip = page.getByTestId('timeline');
  await expect(strip).toHaveAttribute('data-step', String(step));
  await expect(strip).toHaveAttribute('data-busy', 'false');
  await expect(strip).toHaveAttribute('data-within', '');
}

/** The x (page px) of moment `step` on the strip's track (TimelineStrip: the thumb runs from 8 px to width − 8 px). */
export async function xOfStep(page: Page, step: number, stepCount: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('timeline-slider').boundingBox())!;
  return { x: box.x + 8 + (step / stepCount) * (box.width - 16), y: box.y + box.height / 2 };
}
