/**
 * Hard kills of the browser under load: SIGKILL every Chromium process of a profile at seeded
 * random moments while the clock plays a workload of a few thousand writes/s (also in the middle
 * of a COLO checkpoint, while a checkpoint command is being answered, and in the middle of the
 * failover's active commit), relaunch on the same profile, and check each time that
 *
 * - the reopened simulation is no older than the last "saved up to" the page showed before the kill;
 * - it is an exact instant of the session: its export, replayed in Node, passes (every step
 *   observes what the session observed) and gives the page's disks and virtual time; the event
 *   log the page lists is the replay's last events;
 * - it goes on correctly: a checkpoint succeeds or fails exactly as it does in the replay, a
 *   failover completes and its commit runs to its end, with the same disks as the replay.
 *
 * Used by tests/e2e/crash.spec.ts (a dozen kills per CI run) and by `npm run bench` (CRASH_KILLS,
 * default 50), which prints how many kills came back to an exact, saved instant.
 */
import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from '@playwright/test';
import type { SimEvent } from '../../../src/engine/sim/events';
import { EVENT_LOG_LIMIT } from '../../../src/worker/saved-session';
import { preview } from 'vite';
import {
  browserPids,
  commandsOf,
  continueReplay,
  ErrorWatch,
  killBrowser,
  launchPersistent,
  logDifferences,
  logRows,
  replayDigests,
  replayExport,
  seededRandom,
  temporaryProfile,
  type Replay,
} from '../../e2e/helpers';

export type KillKind = 'load' | 'checkpoint' | 'checkpoint-command' | 'commit';
export const KILL_KINDS: readonly KillKind[] = ['load', 'checkpoint', 'checkpoint-command', 'commit'];

export interface KillReport {
  readonly index: number;
  readonly kind: KillKind;
  /** The run's simulation seed. */
  readonly simulationSeed: number;
  /** Wall time the clock played before the kill (after the run's setup). */
  readonly playedMs: number;
  /** The last `data-saved-up-to-us` the page showed before the kill. */
  readonly shownSavedUpToUs: number;
  /** What the page showed when it was killed. */
  readonly shownAtKill: string;
  readonly processesKilled: number;
  /** Virtual time of the reopened simulation. */
  readonly restoredUs: number | null;
  /** Where the reopened simulation is: 'running', 'mid-checkpoint', 'mid-commit', 'failed over', ... */
  readonly restoredPhase: string;
  /** No older than shown, and exactly the export's replay (disks, time, every step as observed). */
  readonly exact: boolean;
  /** The restored event log equals the replay's last events. */
  readonly logEqual: boolean;
  /** The checkpoint, failover and commit after the reopen did what the replay did. */
  readonly wentOn: boolean;
  readonly problems: readonly string[];
  readonly wallMs: number;
}

export interface CrashRunOptions {
  readonly kills: number;
  readonly seed: number;
  readonly baseURL: string;
  /** Progress lines (one per kill). */
  readonly log?: (line: string) => void;
}

/** The saved event log's bound. */
const SAVED_LOG_BOUND = EVENT_LOG_LIMIT;
/** 16 MiB disks: digests (which read every byte) stay quick. */
const DISK_BYTES = 16 * 1024 * 1024;
const WORKLOAD = { op: 'workload', writesPerSecond: 3000, vm: 'both', blockSize: '4K', maxBlocks: 4 } as const;

/** Tracks the page's "saved up to" chip: every value it shows is reported to this process at once. */
class SavedShown {
  last = -1;
}

async function openPage(context: BrowserContext, baseURL: string, shown: SavedShown, watch: ErrorWatch): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  watch.watch(page);
  await page.exposeBinding('coloSimSavedShown', (_source, value: number) => {
    shown.last = value;
  });
  await page.goto(`${baseURL}/`);
  await page.locator('.app[data-ready="true"]').waitFor({ timeout: 60_000 });
  await page.waitForFunction('window.coloSim.state.persistence !== null', undefined, { timeout: 60_000 });
  // Every change of the chip's data-saved-up-to-us goes to this process as it happens.
  await page.evaluate(`(() => {
    const chip = document.querySelector('[data-testid="saved-state"]');
    const report = () => window.coloSimSavedShown(Number(chip.getAttribute('data-saved-up-to-us') || -1));
    new MutationObserver(report).observe(chip, { attributes: true, attributeFilter: ['data-saved-up-to-us'] });
    report();
  })()`);
  return page;
}

interface PageCommandResult {
  readonly ok: boolean;
  readonly passed?: boolean;
  readonly actual?: string;
  readonly errors?: unknown;
}

async function command(page: Page, step: Record<string, unknown>): Promise<PageCommandResult> {
  return page.evaluate(
    `window.coloSim.client.execute(${JSON.stringify(step)}).then((r) => (r.ok ? { ok: true, passed: r.result.passed, actual: r.result.actual } : { ok: false, errors: r.errors }))`,
  ) as Promise<PageCommandResult>;
}

async function must(page: Page, step: Record<string, unknown>): Promise<void> {
  const result = await command(page, step);
  if (!result.ok || !result.passed) throw new Error(`${JSON.stringify(step)} failed: ${JSON.stringify(result)}`);
}

interface PageSummary {
  readonly nowUs: number;
  readonly coloState: string;
  readonly vmsRunning: boolean;
  readonly jobs: string[];
  readonly persistence: string;
  readonly savedUpToUs: number | null;
}

function summaryOf(page: Page): Promise<PageSummary> {
  return page.evaluate(`(() => {
    const state = window.coloSim.state;
    const summary = state.summary;
    return {
      nowUs: summary.nowUs,
      coloState: summary.coloState,
      vmsRunning: summary.vmsRunning,
      jobs: summary.jobs.map((job) => job.host + ' ' + job.type + ' ' + job.status),
      persistence: state.persistence ? state.persistence.kind : 'connecting',
      savedUpToUs: state.savedUpToUs,
    };
  })()`) as Promise<PageSummary>;
}

function digests(page: Page): Promise<Record<string, string>> {
  return page.evaluate('window.coloSim.client.digestDisks()') as Promise<Record<string, string>>;
}

/** The page's event log as a count, its first and last sequence numbers and a hash of every row's JSON (a row by row copy is slow to fetch). */
interface LogFingerprint {
  readonly count: number;
  readonly first: number;
  readonly last: number;
  readonly hash: string;
}

function pageLogFingerprint(page: Page): Promise<LogFingerprint> {
  return page.evaluate(`(() => {
    const entries = window.coloSim.state.log.filter(undefined);
    let hash = 2166136261;
    for (const entry of entries) {
      const text = JSON.stringify(entry.event);
      for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 16777619) >>> 0;
      hash = Math.imul(hash ^ 10, 16777619) >>> 0;
    }
    return { count: entries.length, first: entries.length ? entries[0].event.sequence : -1, last: entries.length ? entries[entries.length - 1].event.sequence : -1, hash: hash.toString(16) };
  })()`) as Promise<LogFingerprint>;
}

function referenceFingerprint(events: readonly SimEvent[], count: number): LogFingerprint {
  const tail = events.slice(Math.max(0, events.length - count));
  let hash = 2166136261;
  for (const event of tail) {
    const text = JSON.stringify(event);
    for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 16777619) >>> 0;
    hash = Math.imul(hash ^ 10, 16777619) >>> 0;
  }
  return { count: tail.length, first: tail[0]?.sequence ?? -1, last: tail.at(-1)?.sequence ?? -1, hash: hash.toString(16) };
}

/** Where a replayed session stands, from its events: in a checkpoint, in the commit, or neither. */
function phaseOf(replay: Replay, summary: PageSummary): string {
  let inCheckpoint = false;
  let inCommit = false;
  for (const event of replay.events) {
    // A checkpoint command (colo events), or the COLO thread's own checkpoint transaction (x-checkpoint-delay).
    if ((event.kind === 'colo' && event.phase === 'checkpoint-begin') || (event.kind === 'colo-change' && event.change === 'checkpoint transaction begins')) inCheckpoint = true;
    if ((event.kind === 'colo' && event.phase === 'checkpoint-end') || (event.kind === 'colo-change' && event.change === 'checkpoint transaction done')) inCheckpoint = false;
    if (event.kind === 'job-created' && event.jobType === 'commit') inCommit = true;
    if ((event.kind === 'job-completed' || event.kind === 'job-failed') && event.jobType === 'commit') inCommit = false;
  }
  if (inCommit) return 'mid-commit';
  if (inCheckpoint) return 'mid-checkpoint';
  if (summary.coloState === 'running') return 'colo running';
  return summary.coloState;
}

/**
 * A new run on the open page: a new simulation (16 MiB disks, NBD latency 10 ms: a checkpoint takes about 40 ms
 * of virtual time), COLO, checkpoints every `checkpointDelayMs`, the workload, the clock playing.
 */
async function startRun(page: Page, simulationSeed: number, checkpointDelayMs: number, shown: SavedShown): Promise<void> {
  await page.evaluate(`window.coloSim.state.newSimulation(${JSON.stringify({ seed: simulationSeed, diskSizeBytes: DISK_BYTES, nbdLatencyUs: 10_000, copyTimeUs: 1000 })})`);
  await must(page, { op: 'colo-start' });
  await must(page, { op: 'qmp', host: 'primary', execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': checkpointDelayMs } });
  await must(page, WORKLOAD);
  // The first save of this run is shown: from now on every value reported belongs to it.
  await page.waitForFunction('window.coloSim.state.saved === true', undefined, { timeout: 30_000 });
  await page.evaluate('(async () => { await window.coloSim.state.setSpeed(1000); await window.coloSim.state.setPlaying(true); })()');
  shown.last = Number((await page.getByTestId('saved-state').getAttribute('data-saved-up-to-us')) || -1);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `kills` kills on one profile and reports each. Throws only when the harness itself
 * cannot go on (Chromium does not start, the app never shows); everything the app does wrong is
 * in the reports.
 */
export async function runCrashKills(options: CrashRunOptions): Promise<KillReport[]> {
  const random = seededRandom(options.seed);
  const between = (low: number, high: number) => Math.round(low + random() * (high - low));
  const kinds: KillKind[] = [];
  for (let index = 0; index < options.kills; index++) kinds.push(KILL_KINDS[index % KILL_KINDS.length]!);
  for (let index = kinds.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [kinds[index], kinds[other]] = [kinds[other]!, kinds[index]!];
  }
  const profile = temporaryProfile();
  const reports: KillReport[] = [];
  const shown = new SavedShown();
  let context: BrowserContext | undefined;
  try {
    context = await launchPersistent(profile.dir, options.baseURL);
    let watch = new ErrorWatch();
    let page = await openPage(context, options.baseURL, shown, watch);
    for (let index = 0; index < kinds.length; index++) {
      const kind = kinds[index]!;
      const startedMs = Date.now();
      const simulationSeed = Math.floor(random() * 0xffffffff);
      const problems: string[] = [];
      const laps: string[] = [];
      let lapMs = Date.now();
      const lap = (label: string) => {
        laps.push(`${label} ${Date.now() - lapMs}`);
        lapMs = Date.now();
      };

      // ---- a run under load, and the kill ------------------------------------------------------
      // Checkpoints every 20 ms for a kill meant to land in one (two thirds of the time is inside one), else every 200 ms.
      await startRun(page, simulationSeed, kind === 'checkpoint' ? 20 : 200, shown);
      lap('setup');
      const playStartedMs = Date.now();
      let note = '';
      if (kind === 'load' || kind === 'checkpoint') {
        await sleep(between(300, 1500));
      } else if (kind === 'checkpoint-command') {
        await sleep(between(200, 600));
        // How long a checkpoint command takes to be answered under this load ...
        const sentMs = Date.now();
        await must(page, { op: 'checkpoint' });
        const answerMs = Date.now() - sentMs;
        note = `a checkpoint command took ${answerMs} ms; `;
        await sleep(between(100, 400));
        // ... and the next one is sent and not awaited: the kill lands while the worker runs it, saves it, or answers it.
        void page.evaluate(`window.coloSim.client.execute({ op: 'checkpoint' })`).catch(() => undefined);
        await sleep(between(0, Math.round(answerMs * 1.5)));
      } else {
        await sleep(between(300, 800));
        await must(page, { op: 'failover', to: 'secondary' });
        await sleep(between(200, 1500));
      }
      const playedMs = Date.now() - playStartedMs;
      const atKill = await summaryOf(page).catch(() => undefined);
      const shownAtKill = !atKill ? 'nothing' : `${note}${atKill.coloState}${atKill.vmsRunning ? '' : ', VMs paused'}${atKill.jobs.length ? `, ${atKill.jobs.join(' + ')}` : ''} at ${atKill.nowUs} µs`;
      const shownSavedUpToUs = shown.last;
      const processesKilled = await killBrowser(profile.dir);
      await context.close().catch(() => undefined);
      lap('play+kill');
      if (watch.unexpected().length > 0) problems.push(`console errors before the kill: ${watch.unexpected().join(' | ')}`);

      // ---- reopen ------------------------------------------------------------------------------
      context = await launchPersistent(profile.dir, options.baseURL);
      lap('launch');
      watch = new ErrorWatch();
      page = await openPage(context, options.baseURL, shown, watch);
      lap('open');
      const restored = await summaryOf(page);
      let exact = false;
      let logEqual = false;
      let wentOn = false;
      let restoredPhase = restored.coloState;
      const failed = await page.getByTestId('banner-restore-failed').count();
      if (restored.persistence !== 'indexeddb' || failed > 0) {
        problems.push(`the reopened page's persistence is ${restored.persistence}${failed ? ' (the saved simulation could not be restored)' : ''}`);
      } else {
        // An exact instant of the history, no older than what was shown as saved.
        if (restored.nowUs < shownSavedUpToUs) problems.push(`reopened at ${restored.nowUs} µs, older than the ${shownSavedUpToUs} µs shown as saved before the kill`);
        const pageDigests = await digests(page);
        const exported = (await page.evaluate(`window.coloSim.client.exportScenario('crash ${index}')`)) as string;
        lap('digest+export');
        const replay = replayExport(exported);
        lap('replay');
        restoredPhase = phaseOf(replay, restored);
        if (kind === 'checkpoint-command') restoredPhase += commandsOf(exported).filter((step) => step.op === 'checkpoint').length === 2 ? ', the killed checkpoint command saved' : ', from before the killed checkpoint command';
        const replayProblems: string[] = [];
        if (!replay.outcome.passed) replayProblems.push(`the export's replay fails at step ${replay.outcome.failure?.index} (${replay.outcome.failure?.description}): expected ${replay.outcome.failure?.expected}, got ${replay.outcome.failure?.actual}`);
        if (JSON.stringify(replay.digests) !== JSON.stringify(pageDigests)) replayProblems.push(`disks differ from the export's replay: page ${JSON.stringify(pageDigests)}, replay ${JSON.stringify(replay.digests)}`);
        if (replay.simulation.nowUs !== restored.nowUs) replayProblems.push(`virtual time ${restored.nowUs} µs, the replay's ${replay.simulation.nowUs} µs`);
        problems.push(...replayProblems);
        exact = problems.length === 0;
        // The restored log is the saved one: the newest SAVED_LOG_BOUND events. Rows are fetched only to explain a difference.
        const fingerprint = await pageLogFingerprint(page);
        const expectedFingerprint = referenceFingerprint(replay.events, SAVED_LOG_BOUND);
        const logProblems = JSON.stringify(fingerprint) === JSON.stringify(expectedFingerprint) ? [] : logDifferences(await logRows(page), replay.events, SAVED_LOG_BOUND);
        if (logProblems.length === 0 && JSON.stringify(fingerprint) !== JSON.stringify(expectedFingerprint)) logProblems.push(`the log's fingerprint ${JSON.stringify(fingerprint)} is not the replay's ${JSON.stringify(expectedFingerprint)}`);
        logEqual = logProblems.length === 0;
        lap('log');
        problems.push(...logProblems.map((problem) => `event log: ${problem}`));

        // It goes on: the same commands on the page and on the replay give the same results.
        const goOn: Array<Record<string, unknown>> = [];
        if (restored.coloState === 'running') goOn.push({ op: 'checkpoint' }, { op: 'failover', to: 'secondary' });
        goOn.push({ op: 'workload', writesPerSecond: 0 }, { op: 'run', until: 'idle' });
        const goOnProblems: string[] = [];
        for (const step of goOn) {
          const onPage = await command(page, step);
          const onReplay = continueReplay(replay, step);
          if (!onPage.ok || onPage.passed !== onReplay.passed || onPage.actual !== onReplay.actual) {
            goOnProblems.push(`${JSON.stringify(step)}: page ${onPage.ok ? `${onPage.passed ? 'succeeded' : 'failed'} (${onPage.actual})` : `refused it ${JSON.stringify(onPage.errors)}`}, replay ${onReplay.passed ? 'succeeded' : 'failed'} (${onReplay.actual})`);
            break;
          }
        }
        const after = await summaryOf(page);
        if (goOnProblems.length === 0) {
          if (after.coloState !== 'failed-over' || after.jobs.length > 0) goOnProblems.push(`after going on: COLO ${after.coloState}, jobs ${after.jobs.join(', ') || 'none'} (expected failed over, no job)`);
          const finalDigests = await digests(page);
          if (JSON.stringify(finalDigests) !== JSON.stringify(replayDigests(replay))) goOnProblems.push(`after going on, disks differ from the replay's`);
          if (after.nowUs !== replay.simulation.nowUs) goOnProblems.push(`after going on: ${after.nowUs} µs, the replay ${replay.simulation.nowUs} µs`);
        }
        wentOn = goOnProblems.length === 0;
        lap('go on');
        problems.push(...goOnProblems);
      }
      if (watch.unexpected().length > 0) problems.push(`console errors after the reopen: ${watch.unexpected().join(' | ')}`);
      if (await page.getByTestId('banner-error').count()) problems.push(`error banner: ${await page.getByTestId('banner-error').first().innerText()}`);
      const report: KillReport = {
        index,
        kind,
        simulationSeed,
        playedMs,
        shownSavedUpToUs,
        shownAtKill,
        processesKilled,
        restoredUs: restored.nowUs,
        restoredPhase,
        exact,
        logEqual,
        wentOn,
        problems,
        wallMs: Date.now() - startedMs,
      };
      reports.push(report);
      options.log?.(
        `kill ${index + 1}/${kinds.length} (${kind}, played ${playedMs} ms; page showed ${shownAtKill}; saved up to ${shownSavedUpToUs} µs; ${processesKilled} processes): ` +
          `reopened at ${restored.nowUs} µs, ${restoredPhase}: ${exact ? 'exact' : 'NOT EXACT'}, log ${logEqual ? 'equal' : 'differs'}, ${wentOn ? 'went on' : 'did NOT go on'} (${report.wallMs} ms: ${laps.join(', ')})` +
          (problems.length ? `\n    ${problems.join('\n    ')}` : ''),
      );
    }
    return reports;
  } finally {
    if (browserPids(profile.dir).length > 0) await context?.close().catch(() => undefined);
    if (browserPids(profile.dir).length > 0) await killBrowser(profile.dir);
    profile.remove();
  }
}

/** `npm run bench`: N kills (CRASH_KILLS, default 50) on the built app; prints how many came back to an exact, saved instant. */
export async function benchCrashConsistency(write: (line: string) => void): Promise<void> {
  const kills = Number(process.env.CRASH_KILLS ?? 50);
  const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 0xffffffff);
  if (!existsSync('dist/index.html')) throw new Error('build the app first (dist/ is missing)');
  const server = await preview({ logLevel: 'silent', preview: { port: 0, host: '127.0.0.1' } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview server address');
  try {
    const startedMs = Date.now();
    const reports = await runCrashKills({
      kills,
      seed,
      baseURL: `http://127.0.0.1:${address.port}`,
      log: process.env.CRASH_VERBOSE ? (line) => write(`  ${line}\n`) : undefined,
    });
    const exact = reports.filter((report) => report.exact).length;
    const logEqual = reports.filter((report) => report.logEqual).length;
    const wentOn = reports.filter((report) => report.wentOn).length;
    const phases = new Map<string, number>();
    for (const report of reports) phases.set(report.restoredPhase, (phases.get(report.restoredPhase) ?? 0) + 1);
    write(`Crash consistency (SIGKILL of Chromium under a 3,000 writes/s workload, seed ${seed}): ${exact} of ${reports.length} kills came back to an exact, saved instant\n`);
    write(
      `  reopened ${[...phases].map(([phase, count]) => `${count} ${phase}`).join(', ')}; ${wentOn} of ${reports.length} went on as the replay did; ${logEqual} of ${reports.length} event logs equal the replay's; ${((Date.now() - startedMs) / 1000).toFixed(0)} s\n`,
    );
    for (const report of reports.filter((candidate) => candidate.problems.length > 0).slice(0, 5)) {
      write(`  kill ${report.index + 1} (${report.kind}, simulation seed ${report.simulationSeed}): ${report.problems.slice(0, 3).join('; ')}\n`);
    }
  } finally {
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
