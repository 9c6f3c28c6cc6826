/**
 * SIGKILL of the browser at seeded random moments under load (tests/bench/browser/crash-consistency.ts
 * does the kills and the checks): after every kill the reopened simulation is an exact, saved
 * instant of the session, no older than the last "saved up to" shown, and goes on as its replay
 * does. CRASH_SEED=<seed> replays a run's choices; CRASH_E2E_KILLS sets the number of kills.
 */
import { runCrashKills } from '../bench/browser/crash-consistency';
import { BASE_URL, expect, test } from './helpers';

const KILLS = Math.max(10, Number(process.env.CRASH_E2E_KILLS ?? 10));

test('SIGKILL under load, mid-checkpoint and mid-commit: every reopen is an exact, saved instant and goes on correctly', async () => {
  test.setTimeout(420_000);
  const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 0xffffffff);
  const lines: string[] = [];
  const startedMs = Date.now();
  const reports = await runCrashKills({
    kills: KILLS,
    seed,
    baseURL: BASE_URL,
    log: (line) => {
      lines.push(line);
      console.log(line);
    },
  });
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(0);
  const replayHint = `(seed ${seed}: CRASH_SEED=${seed} npx playwright test tests/e2e/crash.spec.ts replays these kills)`;
  console.log(`${reports.length} kills in ${seconds} s ${replayHint}`);
  expect(reports.length).toBe(KILLS);
  for (const report of reports) {
    const label = `kill ${report.index + 1} (${report.kind}) ${replayHint}`;
    expect.soft(report.problems.filter((problem) => !problem.startsWith('event log:')), `${label}: exact, saved instant that goes on`).toEqual([]);
    expect.soft(report.problems.filter((problem) => problem.startsWith('event log:')), `${label}: the restored event log`).toEqual([]);
  }
  // The kills did land where they were meant to: in checkpoints and in commits.
  expect.soft(reports.some((report) => report.kind === 'commit' && report.restoredPhase === 'mid-commit'), `a reopen in the middle of the commit ${replayHint}`).toBe(true);
  expect.soft(reports.some((report) => report.kind === 'checkpoint' && report.restoredPhase === 'mid-checkpoint'), `a reopen in the middle of a checkpoint ${replayHint}`).toBe(true);
});
