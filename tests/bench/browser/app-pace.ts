/**
 * The app's own pace, in the browser, with saving on: guest writes per second of wall time that
 * the worker sustains under a workload it cannot keep up with (so it runs flat out), beside how
 * often it saved; and a scenario of 100,000 steps: how long it takes to load and to run to its
 * end, against `colo-sim run` of the same file (the CLI's pace) and the engine in this process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  readonly rounds: number;
  /** Medians over the rounds, ms. Until the page shows the scenario loaded. */
  readonly loadMs: number;
  /** Until the page shows the outcome of "run to end". */
  readonly runMs: number;
  /** Until the run's last save has committed. */
  readonly savedMs: number;
  /** `colo-sim run FILE` as a user runs it: the whole process (Node's start, reading, validating, running). */
  readonly cliMs: number;
  /** The same engine in this process, validation and run (no process start). */
  readonly engineMs: number;
  /** Of engineMs, the run alone (the steps, without reading and validating the file). */
  readonly engineRunMs: number;
  /** Median over the rounds of runMs / cliMs, each round's pair measured back to back. */
  readonly runToCliRatio: number;
  readonly passed: boolean;
  /** Each round's figures, ms, in order: the first round is the worker's first run of the engine (not yet optimised by the JIT). */
  readonly each: ReadonlyArray<{ readonly runMs: number; readonly cliMs: number }>;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Loads and runs a `steps`-step scenario in the app `rounds` times, each time right after the
 * CLI ran the same file (so a load on the machine falls on both alike), and the engine in this
 * process once per round. Needs the built CLI (bin/colo-sim.js, which `npm install` builds).
 */
export async function measureBigScenario(page: Page, steps = 100_000, rounds = 3): Promise<BigScenarioFigures> {
  const text = bigScenarioText(steps);
  const directory = mkdtempSync(join(tmpdir(), 'colo-sim-bench-'));
  const file = join(directory, 'big.json');
  writeFileSync(file, text);
  const load: number[] = [], run: number[] = [], saved: number[] = [], cli: number[] = [], engine: number[] = [], engineRun: number[] = [], ratio: number[] = [];
  let passed = true;
  try {
    for (let round = 0; round < rounds; round++) {
      const engineStarted = performance.now();
      const validation = validateScenarioText(text);
      if (!validation.ok) throw new Error(`the big scenario is invalid: ${JSON.stringify(validation.errors.slice(0, 3))}`);
      const runStarted = performance.now();
      const engineOutcome = new ScenarioRunner(validation.scenario, createMemoryStore).runToEnd();
      engine.push(performance.now() - engineStarted);
      engineRun.push(performance.now() - runStarted);
      if (!engineOutcome.passed) throw new Error(`the big scenario fails in Node: ${JSON.stringify(engineOutcome.failure)}`);
      const cliStarted = performance.now();
      const result = spawnSync(process.execPath, ['bin/colo-sim.js', 'run', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      cli.push(performance.now() - cliStarted);
      if (result.status !== 0) throw new Error(`colo-sim run of the big scenario exited with ${result.status}: ${result.stderr}`);
      const figures = await runInApp(page, text);
      load.push(figures.loadMs);
      run.push(figures.runMs);
      saved.push(figures.savedMs);
      ratio.push(figures.runMs / cli.at(-1)!);
      passed &&= figures.passed;
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return { steps, rounds, loadMs: median(load), runMs: median(run), savedMs: median(saved), cliMs: median(cli), engineMs: median(engine), engineRunMs: median(engineRun), runToCliRatio: median(ratio), passed, each: run.map((runMs, index) => ({ runMs, cliMs: cli[index]! })) };
}

async function runInApp(page: Page, scenarioText: string): Promise<{ loadMs: number; runMs: number; savedMs: number; passed: boolean }> {
  const figures = await page.evaluate(async (text) => {
    const state = window.coloSim.state;
    const loadStarted = performance.now();
    // The pace measurement (or the round before) left a session of its own, so the page asks
    // before replacing it (as it asks a user); the bench answers yes at once.
    const loading = state.loadScenarioText('big.json', text);
    state.replaceRequest?.answer(true);
    const loaded = await loading;
    // Loaded means the page shows it: the step list and the first frame are there.
    while (state.scenario === null || state.scenario.nextStepIndex !== 0) await new Promise((resolve) => setTimeout(resolve, 10));
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
  }, scenarioText);
  if (!figures.loaded) throw new Error('the big scenario did not load in the app');
  return figures;
}
