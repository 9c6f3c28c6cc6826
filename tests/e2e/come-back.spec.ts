/**
 * Coming back to a simulation: by a reload, by a browser restart (the persistent context is
 * closed and launched again on the same profile) and by a take-over (a second tab takes the
 * store over; then the first tab takes it back). Each way comes back twice in one session:
 *
 * 1. while the clock plays under a workload (requests in flight, a save every 250 ms): the
 *    session comes back to a saved instant no older than the last "saved up to" the page showed,
 *    and that instant is exact — the session's export, replayed in Node, gives its disks, its
 *    virtual time and its event log;
 * 2. paused in the middle of the failover's active commit: the page comes back to exactly what it
 *    showed (disks, time, jobs, event log, history).
 *
 * After each, the session goes on: checkpoints succeed, the failover's commit runs to its end.
 * At the end the session's disks and event log equal an uninterrupted run of the same commands,
 * replayed from its export both in Node and in a fresh browser profile.
 *
 * Also: after a storage failure a reload says what it restored, and a tab that waited for the
 * store offers to open it once the owning tab closes.
 */
import type { Browser, BrowserContext, CDPSession, Page } from '@playwright/test';
import { formatTime } from '../../src/ui/lib/format';
import { EVENT_LOG_LIMIT } from '../../src/worker/saved-session';
import {
  BASE_URL,
  commandsOf,
  digest,
  ErrorWatch,
  execute,
  expect,
  launchPersistent,
  logDifferences,
  logRows,
  replayExport,
  shownState,
  temporaryProfile,
  test,
  waitForApp,
  waitSaved,
  type LogRow,
  type ShownState,
} from './helpers';

type Way = 'reload' | 'restart' | 'take-over';

/** The saved event log's bound: a restored page lists this many events at most. */
const SAVED_LOG_BOUND = EVENT_LOG_LIMIT;

/** 16 MiB disks: digests, which read every byte, stay quick. */
const SETTINGS = { seed: 1234, diskSizeBytes: 16 * 1048576, copyTimeUs: 1000 };

/** One session in one profile, with the tab that owns the simulation. */
class Session {
  context!: BrowserContext;
  page!: Page;
  /** The tab that lost the store in a take-over (it takes it back the second time). */
  other: Page | undefined;
  readonly commands: Array<Record<string, unknown>> = [];
  readonly watch = new ErrorWatch();
  readonly profile = temporaryProfile();

  async open(): Promise<void> {
    this.context = await launchPersistent(this.profile.dir);
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    this.watch.watch(this.page);
    await this.page.goto('/');
    await waitForApp(this.page);
    await expect(this.page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
  }

  /** Runs a command as the page's controls do (it goes into the page's history); it must succeed. */
  async run(step: Record<string, unknown> & { op: string }): Promise<string> {
    this.commands.push(step);
    const result = await this.page.evaluate((command) => window.coloSim.state.run(command, { quiet: true }), step);
    expect(result?.ok, `${JSON.stringify(step)} is a valid command`).toBe(true);
    const judged = result?.ok ? result.result : undefined;
    expect(judged?.passed, `${JSON.stringify(step)} succeeds: ${judged?.actual}`).toBe(true);
    return judged!.actual;
  }

  async play(wallMs: number): Promise<void> {
    await this.page.evaluate(async () => {
      await window.coloSim.state.setSpeed(1000);
      await window.coloSim.state.setPlaying(true);
    });
    // At least one save is taken while the clock runs (every 250 ms of wall time).
    const startUs = await this.savedUpToUs();
    await expect.poll(() => this.savedUpToUs(), { timeout: 20_000 }).toBeGreaterThan(startUs);
    await this.page.waitForTimeout(wallMs);
  }

  async pause(): Promise<void> {
    await this.page.evaluate(() => window.coloSim.state.setPlaying(false));
    await waitSaved(this.page);
  }

  async savedUpToUs(): Promise<number> {
    return Number((await this.page.getByTestId('saved-state').getAttribute('data-saved-up-to-us')) || -1);
  }

  /** Comes back to the simulation the given way; the page is then the one that owns it. */
  async comeBack(way: Way): Promise<void> {
    if (way === 'reload') {
      await this.page.reload();
    } else if (way === 'restart') {
      await this.context.close();
      this.context = await launchPersistent(this.profile.dir);
      this.page = this.context.pages()[0] ?? (await this.context.newPage());
      this.watch.watch(this.page);
      await this.page.goto('/');
    } else if (this.other === undefined) {
      // A second tab opens the app, is told another tab owns it, and takes it over.
      const second = await this.context.newPage();
      this.watch.watch(second);
      await second.goto('/');
      const banner = second.getByTestId('banner-locked');
      await expect(banner).toContainText('Another tab owns this simulation');
      await banner.getByRole('button', { name: 'Take over here' }).click();
      this.other = this.page;
      this.page = second;
      await expect(this.other.getByTestId('banner-locked')).toContainText('Another tab took over this simulation');
    } else {
      // The first tab takes it back.
      const first = this.other;
      const lost = first.getByTestId('banner-locked');
      await expect(lost).toContainText('Another tab took over this simulation');
      await lost.getByRole('button', { name: 'Take over here' }).click();
      this.other = this.page;
      this.page = first;
      await expect(this.other.getByTestId('banner-locked')).toContainText('Another tab took over this simulation');
    }
    await waitForApp(this.page);
    await expect(this.page.getByTestId('banner-locked')).toHaveCount(0);
    await expect(this.page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
    await expect(this.page.getByTestId('banner-restore-failed')).toHaveCount(0);
    // Coming back after a clean save says nothing about lost state.
    await expect(this.page.getByTestId('banner-restored-after-failure')).toHaveCount(0);
    await waitSaved(this.page);
    // A round trip to the worker: every frame of the restore has arrived.
    await digest(this.page);
  }

  /** The restored page is an exact instant of the session: its export replays to its disks, its time and its event log. */
  async expectExactInstant(label: string): Promise<void> {
    const shown = await shownState(this.page);
    const exported = await this.page.evaluate(() => window.coloSim.client.exportScenario('come back'));
    const replay = replayExport(exported);
    expect(replay.outcome.passed, `${label}: the export replays with every step as observed (${JSON.stringify(replay.outcome.failure)})`).toBe(true);
    expect(shown.digests, `${label}: disks equal the export's replay`).toEqual(replay.digests);
    expect(shown.nowUs, `${label}: virtual time equals the export's replay`).toBe(replay.simulation.nowUs);
    expect.soft(logDifferences(shown.rows, replay.events, SAVED_LOG_BOUND), `${label}: the event log equals the replay's last events`).toEqual([]);
    expect(commandsOf(exported), `${label}: the export holds exactly the commands sent`).toEqual(commandsOf(JSON.stringify({ steps: this.commands })));
    expect(shown.history, `${label}: the history lists every command sent`).toEqual(this.commands.map((step) => `ok ${JSON.stringify(step)}`));
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    this.profile.remove();
  }
}

/** '' when both lists of log rows are equal, else where they first differ. */
function firstRowDifference(actual: readonly LogRow[], expected: readonly LogRow[]): string {
  for (let index = 0; index < Math.max(actual.length, expected.length); index++) {
    if (actual[index]?.json !== expected[index]?.json) return `row ${index} of ${actual.length}: ${actual[index]?.json ?? 'none'}, expected ${expected[index]?.json ?? 'none'} (of ${expected.length})`;
  }
  return '';
}

async function comeBackTwice(way: Way, browser: Browser): Promise<void> {
  const session = new Session();
  const timings: string[] = [];
  let mark = Date.now();
  const lap = (label: string) => {
    timings.push(`${label} ${Date.now() - mark} ms`);
    mark = Date.now();
  };
  try {
    await session.open();
    await session.page.evaluate((settings) => window.coloSim.state.newSimulation(settings), SETTINGS);
    await session.run({ op: 'colo-start' });
    await session.run({ op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x11' });
    await session.run({ op: 'guest-write', vm: 'secondary', offset: 1048576, length: 4096, pattern: '0x22' });
    await session.run({ op: 'workload', writesPerSecond: 2000, vm: 'both', blockSize: '4K', maxBlocks: 4 });
    await session.play(600);
    lap('setup and play');

    // 1. Come back while the clock runs under the workload.
    const shownBefore = await session.savedUpToUs();
    await session.comeBack(way);
    const restoredUs = await session.page.evaluate(() => window.coloSim.state.summary!.nowUs);
    expect(restoredUs, 'the restored instant is no older than the last "saved up to" shown').toBeGreaterThanOrEqual(shownBefore);
    lap(`come back 1 (${way}, clock running)`);
    await session.expectExactInstant(`after ${way} 1`);
    lap('exact-instant check 1');

    // It goes on: checkpoints, more writes, a failover to the secondary; paused mid-commit.
    await session.run({ op: 'checkpoint' });
    await session.run({ op: 'guest-write', vm: 'primary', offset: 2 * 1048576, length: 65536, pattern: '0x33' });
    await session.play(400);
    await session.pause();
    await session.run({ op: 'checkpoint' });
    // 64 clusters for the commit to copy: it runs for 64 ms of virtual time at least.
    await session.run({ op: 'guest-write', vm: 'secondary', offset: 5 * 1048576, length: 4 * 1048576, pattern: '0x55' });
    await session.run({ op: 'failover', to: 'secondary' });
    await session.run({ op: 'run', for: '5ms' });
    await waitSaved(session.page);
    const before: ShownState = await shownState(session.page);
    expect(before.jobs, 'the failover commit is running').toEqual(['secondary commit running']);
    lap('checkpoints and failover');

    // 2. Come back paused in the middle of the commit: exactly what the page showed.
    await session.comeBack(way);
    const after = await shownState(session.page);
    expect(after.digests).toEqual(before.digests);
    expect(after.nowUs).toBe(before.nowUs);
    expect(after.coloState).toBe(before.coloState);
    expect(after.jobs).toEqual(before.jobs);
    expect(after.savedUpToUs).toBe(before.nowUs);
    expect(after.history, 'the history comes back as the page listed it').toEqual(before.history);
    const totalEvents = before.rows.at(-1)!.sequence + 1;
    expect(after.rows.length, 'the restored log holds the saved bound of events').toBe(Math.min(SAVED_LOG_BOUND, totalEvents));
    expect.soft(firstRowDifference(after.rows, before.rows.slice(-after.rows.length)), 'the restored log is the newest events the page listed').toBe('');
    lap(`come back 2 (${way}, mid-commit)`);
    await session.expectExactInstant(`after ${way} 2`);

    // The commit runs to its end; the secondary goes on alone.
    await session.run({ op: 'workload', writesPerSecond: 0 });
    await session.run({ op: 'run', until: 'idle' });
    await expect.poll(() => session.page.evaluate(() => window.coloSim.state.summary!.jobs.length)).toBe(0);
    await expect(session.page.getByTestId('colo-state')).toContainText(/failed over/i);
    await session.run({ op: 'guest-write', vm: 'secondary', offset: 3 * 1048576, length: 4096, pattern: '0x44' });
    expect(await session.run({ op: 'guest-read', vm: 'secondary', offset: 3 * 1048576, length: 4096 })).toContain('every byte 0x44');
    await waitSaved(session.page);
    lap('commit to its end');

    // The uninterrupted run of the same commands: the export replayed in Node ...
    const final = await shownState(session.page);
    const exported = await session.page.evaluate(() => window.coloSim.client.exportScenario('come back, uninterrupted'));
    expect(commandsOf(exported), 'the export holds exactly the commands sent, in order').toEqual(commandsOf(JSON.stringify({ steps: session.commands })));
    const replay = replayExport(exported);
    expect(replay.outcome.passed, `the uninterrupted run observes what the session did: ${JSON.stringify(replay.outcome.failure)}`).toBe(true);
    expect(final.digests, 'disks equal the uninterrupted run (Node)').toEqual(replay.digests);
    expect(final.nowUs).toBe(replay.simulation.nowUs);
    expect.soft(logDifferences(final.rows, replay.events, SAVED_LOG_BOUND), 'the event log equals the uninterrupted run (Node)').toEqual([]);
    lap('Node replay');

    // ... and in a fresh browser profile, command by command.
    const fresh = await browser.newContext({ baseURL: BASE_URL });
    try {
      const page = await fresh.newPage();
      session.watch.watch(page);
      await page.goto('/');
      await waitForApp(page);
      const document = JSON.parse(exported) as { setup: Record<string, string | number>; steps: Array<Record<string, unknown>> };
      await page.evaluate((settings) => window.coloSim.state.newSimulation(settings), SETTINGS);
      expect(document.setup).toMatchObject({ seed: SETTINGS.seed });
      for (const step of document.steps) {
        const { expect: _expected, ...command } = step;
        const result = await execute(page, command);
        expect(result.ok && result.result?.passed, `fresh profile: ${JSON.stringify(command)} → ${result.result?.actual}`).toBe(true);
      }
      await waitSaved(page);
      expect(await digest(page), 'disks equal the uninterrupted run (fresh profile)').toEqual(final.digests);
      const freshRows = await logRows(page);
      const dropped = await page.evaluate(() => window.coloSim.state.droppedEvents);
      // A single long command can bring more events than a frame carries: then older rows are dropped.
      expect.soft(logDifferences(freshRows, replay.events, dropped > 0 ? 0 : SAVED_LOG_BOUND, { allowGaps: dropped > 0 }), 'the fresh profile lists the same events').toEqual([]);
    } finally {
      await fresh.close();
    }
    lap('fresh-profile replay');
    expect(session.watch.unexpected()).toEqual([]);
  } finally {
    test.info().annotations.push({ type: 'timings', description: timings.join('; ') });
    console.log(`${way}: ${timings.join('; ')}`);
    await session.close();
  }
}

test.describe('the session goes on after coming back, twice, as if uninterrupted', () => {
  for (const way of ['reload', 'restart', 'take-over'] as const) {
    test(`${way}`, async ({ browser }) => {
      test.setTimeout(240_000);
      await comeBackTwice(way, browser);
    });
  }
});

/**
 * Opens the app with a small quota (as quota.spec.ts does) and writes until a save fails. Returns
 * the saved instant the page then promises a reload comes back to, the disks at that instant, and
 * the virtual time the run reached in memory after it.
 */
async function exhaustQuota(page: Page, context: BrowserContext): Promise<{ savedUpToUs: number; savedDigests: Record<string, string>; memoryUs: number; cdp: CDPSession }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(BASE_URL).origin, quotaSize: 60_000 });
  await page.goto('/');
  await waitForApp(page);
  await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
  expect((await execute(page, { op: 'colo-start' })).ok).toBe(true);

  // Writes until a save fails; what each command left is remembered by its virtual time.
  const states = new Map<number, Record<string, string>>();
  const memoryBanner = page.getByTestId('banner-memory');
  for (let block = 0; block < 200 && (await memoryBanner.count()) === 0; block++) {
    const result = await execute(page, { op: 'guest-write', vm: 'primary', offset: block * 262144, length: 65536, pattern: 1 + (block % 250) });
    expect(result.ok && result.result?.passed).toBe(true);
    states.set(await page.evaluate(() => window.coloSim.state.summary!.nowUs), await digest(page));
  }
  await expect(memoryBanner).toBeVisible();
  const status = await page.evaluate(() => window.coloSim.state.persistence);
  expect(status?.kind).toBe('memory');
  const savedUpToUs = status?.kind === 'memory' ? status.savedUpToUs : undefined;
  expect(typeof savedUpToUs, 'saving stopped after something was saved').toBe('number');
  await expect(memoryBanner).toContainText(`A reload comes back to the state saved at virtual time ${formatTime(savedUpToUs!)}`);
  const savedDigests = states.get(savedUpToUs!);
  expect(savedDigests, 'the saved instant is the end of a command').toBeDefined();

  // The run goes on in memory, past the saved state.
  expect((await execute(page, { op: 'guest-write', vm: 'secondary', offset: 60 * 1048576, length: 4096, pattern: '0x77' })).ok).toBe(true);
  const memoryUs = await page.evaluate(() => window.coloSim.state.summary!.nowUs);
  expect(memoryUs).toBeGreaterThan(savedUpToUs!);
  return { savedUpToUs: savedUpToUs!, savedDigests: savedDigests!, memoryUs, cdp };
}

/** After the reload: the page shows the saved instant, says it is the last saved state, and not that it is the run's latest. */
async function expectRestoredAfterFailure(page: Page, saved: { savedUpToUs: number; savedDigests: Record<string, string>; memoryUs: number }): Promise<void> {
  await waitForApp(page);
  await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
  const restoredBanner = page.getByTestId('banner-restored-after-failure');
  await expect(restoredBanner).toBeVisible();
  await expect(restoredBanner).toContainText(`This is the last state that was saved, at virtual time ${formatTime(saved.savedUpToUs)}.`);
  await expect(restoredBanner).toContainText('what came after it was lost');
  // It is that state, not the one the page showed last.
  expect(await page.evaluate(() => window.coloSim.state.summary!.nowUs)).toBe(saved.savedUpToUs);
  await expect(page.getByTestId('virtual-time')).toHaveText(formatTime(saved.savedUpToUs));
  expect(await digest(page)).toEqual(saved.savedDigests);
  await expect(page.getByTestId('banner-memory')).toHaveCount(0);
}

test('after saving failed, a reload (with space again) says which saved state it restored, and never calls it current', async () => {
  test.setTimeout(180_000);
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    const context = await launchPersistent(profile.dir);
    const page = context.pages()[0] ?? (await context.newPage());
    watch.watch(page);
    const saved = await exhaustQuota(page, context);
    // The user frees space; the reload can open the store again.
    await saved.cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(BASE_URL).origin });
    await page.reload();
    await expectRestoredAfterFailure(page, saved);

    // It goes on and saves again; dismissed, the banner stays away across a reload.
    expect((await execute(page, { op: 'checkpoint' })).result?.passed).toBe(true);
    await waitSaved(page);
    const restoredBanner = page.getByTestId('banner-restored-after-failure');
    await restoredBanner.getByRole('button', { name: 'Dismiss' }).click();
    await expect(restoredBanner).toHaveCount(0);
    await page.reload();
    await waitForApp(page);
    await expect(page.getByTestId('banner-restored-after-failure')).toHaveCount(0);
    await expect(page.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});

test('after saving failed, a reload with the storage still full comes back to the saved state it promised', async () => {
  test.setTimeout(180_000);
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    const context = await launchPersistent(profile.dir);
    const page = context.pages()[0] ?? (await context.newPage());
    watch.watch(page);
    const saved = await exhaustQuota(page, context);
    // The memory banner promised: "A reload comes back to the state saved at virtual time …".
    await page.reload();
    await waitForApp(page);
    await expect(page.getByTestId('virtual-time'), 'the reload comes back to the state the banner promised').toHaveText(formatTime(saved.savedUpToUs));
    expect(await digest(page)).toEqual(saved.savedDigests);
    await expect(page.getByTestId('banner-restored-after-failure')).toContainText(`This is the last state that was saved, at virtual time ${formatTime(saved.savedUpToUs)}.`);
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});

test('a tab that waited for the simulation offers to open it once the owning tab closes, and opens it as it was', async () => {
  test.setTimeout(120_000);
  const profile = temporaryProfile();
  const watch = new ErrorWatch();
  try {
    const context = await launchPersistent(profile.dir);
    const owner = context.pages()[0] ?? (await context.newPage());
    watch.watch(owner);
    await owner.goto('/');
    await waitForApp(owner);
    for (const step of [
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: 131072, pattern: '0x31' },
      { op: 'guest-write', vm: 'secondary', offset: 4194304, length: 4096, pattern: '0x32' },
    ]) {
      expect((await owner.evaluate((command) => window.coloSim.state.run(command, { quiet: true }), step))?.ok).toBe(true);
    }
    await waitSaved(owner);
    const before = await shownState(owner);

    const waiting = await context.newPage();
    watch.watch(waiting);
    await waiting.goto('/');
    await expect(waiting.getByTestId('banner-locked')).toContainText('Another tab owns this simulation');
    await expect(waiting.getByTestId('banner-store-free')).toHaveCount(0);

    await owner.close();
    const offer = waiting.getByTestId('banner-store-free');
    await expect(offer).toContainText('The tab that had this simulation has closed');
    // One banner: "take over" beside "open it here" said two things about one store.
    await expect(waiting.getByTestId('banner-locked')).toHaveCount(0);
    await offer.getByRole('button', { name: 'Open it here' }).click();
    await waitForApp(waiting);
    await expect(waiting.locator('.app')).toHaveAttribute('data-persistence', 'indexeddb');
    await expect(waiting.getByTestId('banner-store-free')).toHaveCount(0);
    await expect(waiting.getByTestId('banner-locked')).toHaveCount(0);
    await waitSaved(waiting);
    const after = await shownState(waiting);
    expect(after.digests).toEqual(before.digests);
    expect(after.nowUs).toBe(before.nowUs);
    expect(after.coloState).toBe(before.coloState);
    expect(after.history).toEqual(before.history);
    expect(firstRowDifference(after.rows, before.rows.slice(-after.rows.length))).toBe('');

    // And it goes on from there.
    const checkpoint = await waiting.evaluate(() => window.coloSim.state.run({ op: 'checkpoint' }, { quiet: true }));
    expect(checkpoint?.ok && checkpoint.result.passed, checkpoint?.ok ? checkpoint.result.actual : 'invalid').toBe(true);
    await context.close();
    expect(watch.unexpected()).toEqual([]);
  } finally {
    profile.remove();
  }
});
