/// <reference path="./globals.d.ts" />
/**
 * Shared helpers for the browser tests: a page fixture that fails the test on console errors,
 * waiting for the app, running steps through the page's client, and persistent contexts that
 * launch Chromium exactly as playwright.config.ts does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test as base, type BrowserContext, type Page } from '@playwright/test';
import config from '../../playwright.config';
import type { Simulation } from '../../src/engine/colo/simulation';
import { ScenarioRunner, type ScenarioOutcome } from '../../src/engine/scenario/runner';
import { judgeStep, performStep, settleAsync, type StepResult } from '../../src/engine/scenario/step-executor';
import { validateScenarioText, validateStep } from '../../src/engine/scenario/validate';
import type { SimEvent } from '../../src/engine/sim/events';
import { createMemoryStore } from '../../src/storage/chunked-memory-store';
import { digestImages } from '../../src/worker/disk-digest';

export const BASE_URL = config.use?.baseURL ?? 'http://127.0.0.1:4173';

/** Collects console errors, Svelte's warnings and page errors; `allow` lists patterns a test expects. */
export class ErrorWatch {
  readonly errors: string[] = [];
  private readonly allowed: RegExp[] = [];

  watch(page: Page): void {
    page.on('console', (message) => {
      if (message.type() === 'error') this.record(`console: ${message.text()}`);
      // Svelte's runtime warnings (https://svelte.dev/e/...) name a bug in the page: a derived read
      // after its block was destroyed once showed stale values.
      else if (message.type() === 'warning' && message.text().includes('svelte.dev/e/')) this.record(`svelte warning: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.record(`pageerror: ${error.message}`));
  }

  allow(pattern: RegExp): void {
    this.allowed.push(pattern);
  }

  private record(text: string): void {
    this.errors.push(text);
  }

  unexpected(): string[] {
    return this.errors.filter((text) => !this.allowed.some((pattern) => pattern.test(text)));
  }
}

/**
 * `page` that fails its test on any console error, Svelte warning or uncaught page error. Automatic:
 * every test has it, not only those that ask for `errorWatch` (to allow what they expect).
 */
export const test = base.extend<{ errorWatch: ErrorWatch }>({
  errorWatch: [
    async ({ page }, use) => {
      const watch = new ErrorWatch();
      watch.watch(page);
      await use(watch);
      expect(watch.unexpected(), 'console errors, Svelte warnings and page errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the app shows a simulation. */
export async function waitForApp(page: Page): Promise<void> {
  await expect(page.locator('.app[data-ready="true"]')).toBeVisible({ timeout: 30_000 });
}

/** The welcome card's key (src/ui/lib/learn.svelte.ts): set, the first visit's card is not offered. */
export const WELCOME_KEY = 'colo-sim:welcome';

/** Marks the welcome card as answered before any page script runs, so first-load flows start on the simulation. */
export async function skipWelcome(target: Page | BrowserContext): Promise<void> {
  await target.addInitScript((key) => {
    try {
      if (localStorage.getItem(key) === null) localStorage.setItem(key, 'explore');
    } catch {
      // Storage off: the app offers no card then.
    }
  }, WELCOME_KEY);
}

export async function openApp(page: Page, path = '/', options: { welcome?: boolean } = {}): Promise<void> {
  if (!options.welcome) await skipWelcome(page);
  await page.goto(path);
  await waitForApp(page);
}

/** Runs one step through the page's worker client; returns its CommandResult. */
export function execute(page: Page, step: Record<string, unknown>): Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }> {
  return page.evaluate((command) => window.coloSim.client.execute(command) as Promise<{ ok: boolean; result?: { passed: boolean; actual: string } }>, step);
}

export function digest(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => window.coloSim.client.digestDisks());
}

/** Applies every pending cell change on the page and hashes what the grids show. */
export function visibleCells(page: Page): Promise<string> {
  return page.evaluate(() => {
    const disks = window.coloSim.state.disks;
    disks.flush();
    let hash = 2166136261;
    const names = [...disks.images.keys(), 'svm-view'].sort();
    for (const name of names) {
      const image = disks.get(name);
      if (!image) continue;
      for (let index = 0; index < image.content.length; index++) {
        hash = Math.imul(hash ^ image.content[index]!, 16777619) >>> 0;
        hash = Math.imul(hash ^ image.allocated[index]!, 16777619) >>> 0;
      }
    }
    return `${names.join(',')}:${hash.toString(16)}`;
  });
}

/** Waits until the worker says the state on screen is saved in IndexedDB. */
export async function waitSaved(page: Page): Promise<void> {
  await expect(page.getByTestId('saved-state')).toHaveText(/^\s*saved\s*$/);
}

/** A Chromium with a real profile on disk (IndexedDB survives reloads and restarts). */
export async function launchPersistent(userDataDir: string, baseURL = BASE_URL): Promise<BrowserContext> {
  const launch = config.use?.launchOptions ?? {};
  const context = await chromium.launchPersistentContext(userDataDir, {
    headless: true,
    ...(launch.executablePath ? { executablePath: launch.executablePath } : {}),
    args: launch.args ?? [],
    viewport: config.use?.viewport ?? { width: 1600, height: 1000 },
    baseURL,
  });
  await skipWelcome(context);
  return context;
}

export function temporaryProfile(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'colo-sim-profile-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const SCREENSHOT_DIR = 'test-results/screenshots';

/** A phone's, a tablet's, a laptop's and a projector's window: the four sizes every layout is checked at. */
export const FOUR_SIZES = [
  { width: 390, height: 844 },
  { width: 768, height: 1024 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;

/** Disk grid titles cut (wider than their box) or overlapping another's, and subtitles cut. */
export async function diskTitleProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const names = [...document.querySelectorAll<HTMLElement>('[data-disk] figcaption .name')];
    const boxes = names.map((name) => ({ name: name.textContent ?? '', rect: name.getBoundingClientRect(), cut: name.scrollWidth > name.clientWidth + 1 }));
    for (const box of boxes) if (box.cut) problems.push(`${box.name}: title cut`);
    for (let first = 0; first < boxes.length; first++)
      for (let second = first + 1; second < boxes.length; second++) {
        const a = boxes[first]!.rect;
        const b = boxes[second]!.rect;
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) problems.push(`${boxes[first]!.name} overlaps ${boxes[second]!.name}`);
      }
    for (const sub of document.querySelectorAll<HTMLElement>('[data-disk] .sub')) if (sub.scrollWidth > sub.clientWidth + 1 || sub.scrollHeight > sub.clientHeight + 1) problems.push(`${sub.textContent}: subtitle cut`);
    return problems;
  });
}

/**
 * Clicks a library entry over a session that holds the user's own commands: the page asks before
 * replacing it (the replace dialog), and the test answers "Replace it".
 */
export async function openOverSession(page: Page, libraryPath: string): Promise<void> {
  await page.locator(`[data-path="${libraryPath}"]`).click();
  await expect(page.getByTestId('replace-dialog')).toBeVisible();
  await page.getByTestId('replace-confirm').click();
  await expect(page.getByTestId('scenario-loaded')).toBeVisible();
}

// ---- coming back: what the page shows, the uninterrupted run, killing the browser ------------

/** One row of the page's event log (window.coloSim.state.log), as compared with a reference run. */
export interface LogRow {
  readonly sequence: number;
  readonly timeUs: number;
  readonly kind: string;
  /** The whole event as JSON. */
  readonly json: string;
}

/** The page's event log, oldest first. */
export function logRows(page: Page): Promise<LogRow[]> {
  return page.evaluate(() =>
    window.coloSim.state.log.filter(undefined).map((entry) => ({ sequence: entry.event.sequence, timeUs: entry.event.timeUs, kind: entry.event.kind, json: JSON.stringify(entry.event) })),
  );
}

export function rowOf(event: SimEvent): LogRow {
  return { sequence: event.sequence, timeUs: event.timeUs, kind: event.kind, json: JSON.stringify(event) };
}

/**
 * Differences between the page's event log and a reference run's events (every event, in order):
 * each row the page lists must be the reference's event with that sequence number (kind, time,
 * every field), the rows must run without a gap (unless `allowGaps`: the page dropped events of a
 * frame that had too many) up to the reference's last event, and the log
 * must hold at least `atLeast` rows (it is a bounded ring: older events may be gone). Empty
 * when they agree.
 */
export function logDifferences(rows: readonly LogRow[], reference: readonly SimEvent[], atLeast: number, options: { allowGaps?: boolean } = {}): string[] {
  const problems: string[] = [];
  const lastReference = reference.at(-1);
  if (rows.length < Math.min(atLeast, reference.length)) problems.push(`the log lists ${rows.length} events, expected at least ${Math.min(atLeast, reference.length)} of the ${reference.length}`);
  if (rows.length === 0) return reference.length === 0 ? problems : [...problems, 'the log is empty'];
  if (!lastReference) return [...problems, `the log lists ${rows.length} events, the reference run has none`];
  if (rows.at(-1)!.sequence !== lastReference.sequence) problems.push(`the log ends at event #${rows.at(-1)!.sequence} (${rows.at(-1)!.kind} at ${rows.at(-1)!.timeUs} µs), the reference at #${lastReference.sequence} (${lastReference.kind} at ${lastReference.timeUs} µs)`);
  for (let index = 0; index < rows.length && problems.length < 8; index++) {
    const row = rows[index]!;
    if (index > 0 && (options.allowGaps ? row.sequence <= rows[index - 1]!.sequence : row.sequence !== rows[index - 1]!.sequence + 1)) problems.push(`the log goes from event #${rows[index - 1]!.sequence} to #${row.sequence}`);
    const expected = reference[row.sequence];
    if (!expected || expected.sequence !== row.sequence) problems.push(`the log lists event #${row.sequence} (${row.kind} at ${row.timeUs} µs), which the reference run does not have`);
    else if (rowOf(expected).json !== row.json) problems.push(`event #${row.sequence} differs:\n      page      ${row.json}\n      reference ${rowOf(expected).json}`);
  }
  return problems;
}

/** An export replayed in Node without interruption: the reference run. */
export interface Replay {
  readonly outcome: ScenarioOutcome;
  readonly digests: Record<string, string>;
  readonly events: SimEvent[];
  readonly simulation: Simulation;
  readonly stepCount: number;
}

/** Replays an exported session (a scenario file) in this process, as `colo-sim run` does. */
export function replayExport(text: string): Replay {
  const validation = validateScenarioText(text);
  if (!validation.ok) throw new Error(`the export is not a valid scenario: ${JSON.stringify(validation.errors.slice(0, 5))}`);
  const events: SimEvent[] = [];
  const runner = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => events.push(event) });
  const outcome = runner.runToEnd();
  return { outcome, digests: digestImages(runner.simulation), events, simulation: runner.simulation, stepCount: validation.scenario.steps.length };
}

/** Runs one more command on a reference run, as the worker runs a command the page sends. */
export function continueReplay(replay: Replay, step: Record<string, unknown>): StepResult {
  const sim = replay.simulation;
  const validation = validateStep(step, sim.settings, []);
  if (!validation.ok) throw new Error(`not a valid step: ${JSON.stringify(validation.errors)}`);
  const performed = performStep(sim, validation.step);
  const observed = performed.kind === 'pending' ? settleAsync(sim, performed) : performed.observed;
  return judgeStep(-1, { ...validation.step, expect: undefined } as typeof validation.step, observed, sim.nowUs);
}

export function replayDigests(replay: Replay): Record<string, string> {
  return digestImages(replay.simulation);
}

/** The steps of an export that are commands (not the `run` steps that replay the time between them), without their recorded expectations. */
export function commandsOf(exportText: string): Array<Record<string, unknown>> {
  const steps = (JSON.parse(exportText) as { steps: Array<Record<string, unknown>> }).steps;
  return steps
    .filter((step) => step.op !== 'run' || step.until !== undefined)
    .map((step) => {
      const { expect: _expect, ...rest } = step;
      return rest;
    });
}

/** What the page shows of the simulation, for comparing before and after coming back. */
export interface ShownState {
  readonly nowUs: number;
  readonly coloState: string;
  readonly jobs: string[];
  readonly digests: Record<string, string>;
  readonly rows: LogRow[];
  readonly history: string[];
  readonly savedUpToUs: number | null;
}

export async function shownState(page: Page): Promise<ShownState> {
  const summary = await page.evaluate(() => {
    const state = window.coloSim.state;
    return {
      nowUs: state.summary!.nowUs,
      coloState: state.summary!.coloState,
      jobs: state.summary!.jobs.map((job) => `${job.host} ${job.type} ${job.status}`),
      history: state.history.map((entry) => `${entry.status} ${JSON.stringify(entry.step)}`),
      savedUpToUs: state.savedUpToUs,
    };
  });
  return { ...summary, digests: await digest(page), rows: await logRows(page) };
}

/** PIDs of every Chromium process running on this profile (found by its --user-data-dir). */
export function browserPids(userDataDir: string): number[] {
  let output: string;
  try {
    output = execFileSync('pgrep', ['-f', '--', `--user-data-dir=${userDataDir}`], { encoding: 'utf8' });
  } catch (error) {
    // pgrep exits 1 when nothing matches.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** SIGKILLs every Chromium process of this profile (as a crash or a power cut would end them); returns how many. */
export async function killBrowser(userDataDir: string): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = browserPids(userDataDir);
    if (pids.length === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // Already gone.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Chromium processes of ${userDataDir} survive SIGKILL: ${browserPids(userDataDir).join(', ')}`);
}

/** A small seeded PRNG (mulberry32) for the tests' random choices; the seed is printed on failure. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
