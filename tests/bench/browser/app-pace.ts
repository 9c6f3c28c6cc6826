/**
 * The app's own pace, in the browser, with saving on: guest writes per second of wall time that
 * the worker sustains under a workload it cannot keep up with (so it runs flat out), beside how
 * often it saved; and a scenario of 100,000 steps: how long it takes to load and to run to its
 * end, against the engine run directly in Node (the CLI's pace).
 */
import type { Page } from '@playwright/test';
import { ScenarioRunner } from '../../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../../src/storage/chunked-memory-store.js';
import { bigScenarioText } from '../../support/big-scenario.js';

export interface AppPace {
  readonly writesPerWallSecond: number;
  readonly savesPerWallSecond: number;
  readonly seconds: number;
}

/** Plays a workload far above what the worker can do for `seconds` and counts what it did. */
export async function measureAppPace(page: Page, seconds = 8): Promise<AppPace> {
  await page.evaluate(async () => {
    const client = window.coloSim.client;
    await client.newSimulation({ diskSizeBytes: 64 * 1024 * 1024, clusterSizeBytes: 64 * 1024 });
    await client.execute({ op: 'colo-start' });
    await client.execute({ op: 'workload', writesPerSecond: 100000, vm: 'both', blockSize: '4K', maxBlocks: 4 });
  });
  const sample = () =>
    page.evaluate(() => {
      const summary = window.coloSim.state.summary;
      return { writes: summary?.workload?.writesIssued ?? 0, saved: window.coloSim.state.savedUpToUs ?? 0, wallMs: performance.now() };
    });
  // Virtual time runs as fast as the worker can go: the workload decides how busy it is.
  await page.evaluate(() => window.coloSim.state.setSpeed(1_000_000).then(() => window.coloSim.state.setPlaying(true)));
  await page.waitForTimeout(1000);
  const start = await sample();
  let saves = 0;
  let lastSaved = start.saved;
  const endAt = Date.now() + seconds * 1000;
  while (Date.now() < endAt) {
    await page.waitForTimeout(100);
    const now = await sample();
    if (now.saved !== lastSaved) saves++;
    lastSaved = now.saved;
  }
  const end = await sample();
  await page.evaluate(() => window.coloSim.state.setPlaying(false));
  const wallSeconds = (end.wallMs - start.wallMs) / 1000;
  return { writesPerWallSecond: (end.writes - start.writes) / wallSeconds, savesPerWallSecond: saves / wallSeconds, seconds: wallSeconds };
}

export interface BigScenarioFigures {
  readonly steps: number;
  readonly loadMs: number;
  /** Until the page shows the outcome. */
  readonly runMs: number;
  /** Until the run's last save has committed. */
  readonly savedMs: number;
  readonly nodeRunMs: number;
  readonly passed: boolean;
}

export async function measureBigScenario(page: Page, steps = 100_000): Promise<BigScenarioFigures> {
  const text = bigScenarioText(steps);
  const nodeStarted = performance.now();
  const validation = validateScenarioText(text);
  if (!validation.ok) throw new Error(`the big scenario is invalid: ${JSON.stringify(validation.errors.slice(0, 3))}`);
  const nodeOutcome = new ScenarioRunner(validation.scenario, createMemoryStore).runToEnd();
  const nodeRunMs = performance.now() - nodeStarted;
  if (!nodeOutcome.passed) throw new Error(`the big scenario fails in Node: ${JSON.stringify(nodeOutcome.failure)}`);
  const figures = await page.evaluate(async (scenarioText) => {
    const state = window.coloSim.state;
    const loadStarted = performance.now();
    // The pace measurement left commands of its own in the session, so the page asks before
    // replacing it (as it asks a user); the bench answers yes at once.
    const loading = state.loadScenarioText('big.json', scenarioText);
    state.replaceRequest?.answer(true);
    const loaded = await loading;
    // Loaded means the page shows it: the step list and the first frame are there.
    while (state.scenario === null) await new Promise((resolve) => setTimeout(resolve, 10));
    const loadMs = performance.now() - loadStarted;
    const runStarted = performance.now();
    const running = state.scenarioRunToEnd();
    // Run: until the page shows the outcome. Saved: until the run's last save has committed
    // (its call returns then).
    while (!state.scenario?.done) await new Promise((resolve) => setTimeout(resolve, 5));
    const runMs = performance.now() - runStarted;
    await running;
    const savedMs = performance.now() - runStarted;
    return { loaded, loadMs, runMs, savedMs, passed: state.scenario.outcome?.passed ?? false };
  }, text);
  if (!figures.loaded) throw new Error('the big scenario did not load in the app');
  return { steps, loadMs: figures.loadMs, runMs: figures.runMs, savedMs: figures.savedMs, nodeRunMs, passed: figures.passed };
}
