/**
 * The worker's replicationCost() against `colo-sim run --stats` for the exported session: the
 * page shows exactly what the CLI prints, after colo-start, writes, a checkpoint and a failover,
 * and in the past (time travel) the figures are those of the session up to the moment shown.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/cli.js';
import type { CostReport } from '../../src/engine/stats/replication-cost.js';
import { mustExecute, openSession } from './support/session-harness.js';

const SMALL = { diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 };

/** Runs the CLI with --stats on `text` (written to a file, as a user would) and returns its stats. */
async function cliStats(text: string): Promise<CostReport> {
  const dir = mkdtempSync(join(tmpdir(), 'colo-cost-'));
  try {
    const file = join(dir, 'session.json');
    writeFileSync(file, text);
    let stdout = '';
    const status = await main(['run', file, '--stats'], { stdout: (chunk) => (stdout += chunk), stderr: () => undefined });
    expect(status).toBe(0);
    const parsed = JSON.parse(stdout) as { results: Array<{ stats: CostReport }> };
    return parsed.results[0]!.stats;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('replicationCost', () => {
  it('equals colo-sim run --stats for the exported session, and follows time travel', async () => {
    const { session } = await openSession('replication-cost-1');
    await session.newSimulation(SMALL);
    await mustExecute(session, { op: 'colo-start' });
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' });
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: '128K', length: '128K', pattern: '0x22' });
    await mustExecute(session, { op: 'guest-write', vm: 'secondary', offset: '512K', length: '64K', pattern: '0x33' });
    await mustExecute(session, { op: 'checkpoint' });
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x44' });
    await mustExecute(session, { op: 'failover', to: 'secondary' });
    await mustExecute(session, { op: 'run', for: '1s' });

    const result = await session.replicationCost();
    if (!result.ok) throw new Error(result.message);
    const stats = result.stats;
    expect(stats).toEqual(await cliStats(await session.exportScenario('cost')));

    // Figures a reader can check by hand, so the comparison above cannot pass on two empty reports:
    // three primary writes forwarded (64K + 128K + 64K, all before the failover; none after it).
    expect(stats.nbd.writesForwarded).toBe(3);
    expect(stats.nbd.bytesForwarded).toBe(3 * 65536 + 65536);
    expect(stats.checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(stats.checkpoints[0]!.ok).toBe(true);
    expect(stats.commits.length).toBe(1);
    expect(stats.commits[0]!.outcome).toBe('completed');
    expect(stats.series.bytesForwarded.at(-1)!.value).toBe(stats.nbd.bytesForwarded);

    // Shown at step 4 (after the third write, before the checkpoint): no checkpoint, no commit yet.
    const travelled = await session.goToStep(4);
    expect(travelled.ok).toBe(true);
    const past = await session.replicationCost();
    if (!past.ok) throw new Error(past.message);
    expect(past.stats).toEqual(await cliStats(await session.exportScenario('cost at step 4')));
    expect(past.stats.checkpoints).toEqual([]);
    expect(past.stats.commits).toEqual([]);
  });
});
