/**
 * The Cost tab's comparison of two checkpoint intervals: the worker's figures for each run are
 * exactly what `colo-sim run --stats` prints for the two scenario files it returns (both files
 * in one CLI run, as a user would type it), the session is left as it was, and bad input is a
 * sentence, not an exception.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/cli.js';
import type { CostReport } from '../../src/engine/stats/replication-cost.js';
import { DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import { checkpointComparison, MAX_WRITES_PER_RUN, writesPerRun } from '../../src/engine/stats/checkpoint-comparison.js';
import type { CheckpointComparisonRequest } from '../../src/worker/protocol.js';
import { mustExecute, openSession } from './support/session-harness.js';

const SMALL = { diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536, seed: 11 };

/** `colo-sim run A.json B.json --stats`: the stats of each file, in order. */
async function cliStats(texts: readonly string[]): Promise<CostReport[]> {
  const dir = mkdtempSync(join(tmpdir(), 'colo-compare-'));
  try {
    const files = texts.map((text, index) => {
      const file = join(dir, `interval-${index + 1}.json`);
      writeFileSync(file, text);
      return file;
    });
    let stdout = '';
    const status = await main(['run', ...files, '--stats'], { stdout: (chunk) => (stdout += chunk), stderr: () => undefined });
    expect(status, stdout).toBe(0);
    return (JSON.parse(stdout) as { results: Array<{ stats: CostReport }> }).results.map((result) => result.stats);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REQUEST: CheckpointComparisonRequest = { intervalsMs: [1000, 5000], durationMs: 12_000, workload: { writesPerSecond: 100, vm: 'both', blockBytes: 4096, maxBlocks: 16 } };

describe('compareCheckpointIntervals', () => {
  it("gives each interval's figures exactly as colo-sim run --stats does for the scenarios it returns, and leaves the session alone", async () => {
    const { session } = await openSession('checkpoint-comparison-1');
    await session.newSimulation(SMALL);
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' });
    const digestBefore = await session.digestDisks();
    const exportBefore = await session.exportScenario('before');

    const answer = await session.compareCheckpointIntervals(REQUEST);
    if (!answer.ok) throw new Error(answer.message);
    expect(answer.runs.map((run) => run.intervalMs)).toEqual(REQUEST.intervalsMs);
    const cli = await cliStats(answer.runs.map((run) => run.scenarioText));
    expect(answer.runs.map((run) => run.stats)).toEqual(cli);

    // The two files differ only in the delay they set, and carry the session's settings.
    const [first, second] = answer.runs.map((run) => JSON.parse(run.scenarioText) as { setup: Record<string, unknown>; steps: Array<Record<string, unknown>> });
    expect(first!.setup).toEqual(second!.setup);
    expect(first!.setup['seed']).toBe(SMALL.seed);
    expect(first!.steps.slice(1)).toEqual(second!.steps.slice(1));
    expect(first!.steps[0]!['arguments']).toEqual({ 'x-checkpoint-delay': REQUEST.intervalsMs[0] });
    expect(second!.steps[0]!['arguments']).toEqual({ 'x-checkpoint-delay': REQUEST.intervalsMs[1] });

    // Not two empty reports: both forwarded writes, and the shorter interval checkpointed more often.
    for (const run of answer.runs) {
      expect(run.stats.nbd.bytesForwarded).toBeGreaterThan(0);
      expect(run.stats.checkpoints.length).toBeGreaterThan(0);
    }
    expect(answer.runs[0]!.stats.checkpoints.length).toBeGreaterThan(answer.runs[1]!.stats.checkpoints.length);

    expect(await session.digestDisks()).toEqual(digestBefore);
    expect(await session.exportScenario('before')).toEqual(exportBefore);
  });

  it('refuses bad input with a sentence naming what is wrong', async () => {
    const { session } = await openSession('checkpoint-comparison-2');
    await session.newSimulation(SMALL);
    const cases: Array<[Partial<CheckpointComparisonRequest>, RegExp]> = [
      [{ intervalsMs: [0, 5000] }, /first interval must be more than 0 ms/],
      [{ intervalsMs: [1000, -1] }, /second interval must be more than 0 ms/],
      [{ intervalsMs: [1000, 2.5] }, /second interval must be a whole number/],
      [{ intervalsMs: [Number.NaN, 1000] }, /first interval must be a number/],
      [{ durationMs: 0 }, /duration must be a whole number of milliseconds, more than 0/],
      [{ workload: { ...REQUEST.workload, writesPerSecond: 0 } }, /rate of more than 0/],
      [{ workload: { ...REQUEST.workload, writesPerSecond: 100_000 }, durationMs: 600_000 }, new RegExp(`at most ${MAX_WRITES_PER_RUN.toLocaleString('en-US')} `)],
      // The new user's case: 5,000 writes/s for 20 s is twice the limit, refused before running.
      [{ workload: { ...REQUEST.workload, writesPerSecond: 5000 }, durationMs: 20_000 }, new RegExp(`about ${writesPerRun(5000, 20_000).toLocaleString('en-US')} writes per run`)],
      // One write over the limit (rate × duration), refused.
      [{ workload: { ...REQUEST.workload, writesPerSecond: 1000 }, durationMs: MAX_WRITES_PER_RUN + 1 }, new RegExp(`about ${(MAX_WRITES_PER_RUN + 1).toLocaleString('en-US')} writes per run`)],
    ];
    for (const [change, message] of cases) {
      const answer = await session.compareCheckpointIntervals({ ...REQUEST, ...change });
      expect(answer.ok, JSON.stringify(change)).toBe(false);
      if (!answer.ok) expect(answer.message).toMatch(message);
    }
  });

  it('counts writes per run as rate × duration and takes exactly the limit (the scenarios are built, not run)', () => {
    expect(writesPerRun(5000, 20_000)).toBe((5000 * 20_000) / 1000);
    const atLimit = checkpointComparison({ ...REQUEST, workload: { ...REQUEST.workload, writesPerSecond: 1000 }, durationMs: MAX_WRITES_PER_RUN, settings: DEFAULT_SETTINGS });
    expect(atLimit.ok, atLimit.ok ? '' : atLimit.message).toBe(true);
    const over = checkpointComparison({ ...REQUEST, workload: { ...REQUEST.workload, writesPerSecond: 1000 }, durationMs: MAX_WRITES_PER_RUN + 1, settings: DEFAULT_SETTINGS });
    expect(over.ok).toBe(false);
  });
});
