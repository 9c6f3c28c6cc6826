/**
 * The cost of replication read from a run's events: forwarded bytes, copy-before-write copies,
 * buffer occupancy, what each checkpoint empties, the commit's duration and bytes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/cli.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { ReplicationCost } from '../../src/engine/stats/replication-cost.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

function scenarioText(steps: unknown[]): string {
  return JSON.stringify({ format: 'colo-sim/1', title: 'cost', setup: { diskSize: '1M', clusterSize: '64K', copyTime: '100us' }, steps });
}

function costOf(steps: unknown[]) {
  const validation = validateScenarioText(scenarioText(steps));
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  const cost = new ReplicationCost(64 * 1024);
  const outcome = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => cost.observe(event) }).runToEnd();
  expect(outcome.passed, JSON.stringify(outcome.failure)).toBe(true);
  return cost.report(outcome.virtualTimeUs);
}

describe('replication cost', () => {
  it('counts forwards, copies, what checkpoints empty and what the commit copies', () => {
    const report = costOf([
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x22' },
      { op: 'guest-write', vm: 'primary', offset: '4K', length: '4K', pattern: '0x23' },
      { op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' },
      { op: 'checkpoint' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: '8K', pattern: '0x44' },
      { op: 'guest-write', vm: 'secondary', offset: '192K', length: '4K', pattern: '0x55' },
      { op: 'failover', to: 'secondary' },
      { op: 'run', until: 'idle' },
    ]);
    expect(report.nbd).toEqual({ writesForwarded: 3, bytesForwarded: 65536 + 4096 + 8192, forwardsFailed: 0 });
    // Cluster 0 is copied once per epoch: the second write in it copies nothing. Both copies are of zeros.
    expect(report.copyBeforeWrite).toEqual({ copies: 2, bytes: 2 * 65536, zeroCopies: 1, failed: 0 });
    expect(report.checkpoints.map(({ ok, activeClustersFreed, hiddenClustersFreed }) => ({ ok, activeClustersFreed, hiddenClustersFreed }))).toEqual([
      // COLO start's own checkpoint (replication_start's first secondary_do_checkpoint) is not a COLO checkpoint.
      { ok: true, activeClustersFreed: 1, hiddenClustersFreed: 1 },
    ]);
    // The commit copies the granules allocated in active (192K) or hidden (0): two of 64 KiB.
    expect(report.commits).toHaveLength(1);
    expect(report.commits[0]).toMatchObject({ bytesCopied: 2 * 65536, outcome: 'completed' });
    expect(report.commits[0]!.endUs! - report.commits[0]!.startUs).toBe(2 * 100);
    expect(report.series.bytesForwarded.map((point) => point.value)).toEqual([65536, 69632, 77824]);
    expect(report.series.hiddenClusters.map((point) => point.value)).toEqual([0, 1, 0, 1]);
    expect(report.series.activeClusters.map((point) => point.value)).toEqual([0, 1, 0, 1]);
  });

  it("counts the periodic checkpoints of x-checkpoint-delay's timer, which no step asks for", () => {
    // Worked by hand: the delay (1 s) is the period from COLO's start (1 ms: CHECKPOINT_READY
    // takes two 500 µs NBD hops here); the secondary VM's write allocates one active cluster,
    // which the first periodic checkpoint empties; the second finds nothing to empty.
    const report = costOf([
      { op: 'qmp', host: 'primary', execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 1000 } },
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' },
      { op: 'run', for: '2500ms' },
    ]);
    expect(report.checkpoints.map(({ ok, startUs, activeClustersFreed, hiddenClustersFreed }) => ({ ok, startUs, activeClustersFreed, hiddenClustersFreed }))).toEqual([
      { ok: true, startUs: 1_001_000, activeClustersFreed: 1, hiddenClustersFreed: 0 },
      { ok: true, startUs: 2_001_000, activeClustersFreed: 0, hiddenClustersFreed: 0 },
    ]);
  });

  it('a failed checkpoint is recorded as failed, with what it emptied before failing', () => {
    const report = costOf([
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'secondary', offset: 0, length: '4K', pattern: '0x33' },
      { op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' },
      { op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 },
      { op: 'checkpoint', expect: { error: 'Failed to empty hidden_disk.qcow2: Input/output error' } },
    ]);
    expect(report.checkpoints.map(({ ok, activeClustersFreed, hiddenClustersFreed }) => ({ ok, activeClustersFreed, hiddenClustersFreed }))).toEqual([{ ok: false, activeClustersFreed: 1, hiddenClustersFreed: 0 }]);
  });
});

/**
 * Worked by hand (1 MiB disks, 64 KiB clusters, a commit granule copied in 100 µs):
 * - 0+4K (primary): 4,096 bytes forwarded; the secondary's copy-before-write copies cluster 0
 *   (zeros) into the hidden disk: hidden 1 cluster.
 * - 64K+128K (primary): 131,072 forwarded; clusters 1 and 2 copied in one task of 128 KiB
 *   (zeros): hidden 3.
 * - 0+8K (primary): 8,192 forwarded; cluster 0 already copied this epoch: no copy.
 * - 256K+4K (secondary VM): the active disk allocates cluster 4: active 1.
 * - 512K+65K (secondary VM): clusters 8 and 9: active 3, at the same instant (local writes take
 *   no virtual time), so the series has one point for both.
 * - checkpoint: make_empty frees 3 active and 3 hidden clusters = 6 x 64 KiB = 393,216 bytes.
 * - 0+4K (primary): 4,096 forwarded; cluster 0 copied again, now holding 0x13 (not zeros): hidden 1.
 * - failover to the secondary: the active commit copies the one granule allocated (hidden
 *   cluster 0): 65,536 bytes in 100 µs.
 * Totals: 4 writes, 147,456 bytes forwarded; 3 copies of 262,144 bytes, 2 of zeros.
 */
describe('replication cost across the lifecycle', () => {
  it('every failover\'s commit is its own entry, even when a later one reuses the job id', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync('public/scenarios/lifecycle/01-secondary-resume-replication.json', 'utf8');
    const validation = validateScenarioText(text);
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    const cost = new ReplicationCost(validation.scenario.settings.clusterSizeBytes);
    const created: Array<{ jobId: string; startUs: number }> = [];
    const finished: number[] = [];
    new ScenarioRunner(validation.scenario, createMemoryStore, {
      onEvent: (event) => {
        cost.observe(event);
        if (event.kind === 'job-created' && event.jobType === 'commit') created.push({ jobId: event.jobId, startUs: event.timeUs });
        if (event.kind === 'job-completed' && created.some((commit) => commit.jobId === event.jobId)) finished.push(event.timeUs);
      },
    }).runToEnd();
    // Two failovers, two commits; the scenario's second one reuses the first one's job id.
    expect(created).toHaveLength(2);
    expect(created[1]!.jobId).toBe(created[0]!.jobId);
    const commits = cost.report().commits;
    expect(commits.map(({ jobId, startUs }) => ({ jobId, startUs }))).toEqual(created);
    expect(commits.map((commit) => commit.endUs)).toEqual(finished);
    expect(commits.every((commit) => commit.outcome === 'completed' && commit.bytesCopied > 0)).toBe(true);
  });
});

describe('replication cost, worked by hand', () => {
  const steps = [
    { op: 'colo-start' },
    { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x11' },
    { op: 'guest-write', vm: 'primary', offset: '64K', length: '128K', pattern: '0x12' },
    { op: 'guest-write', vm: 'primary', offset: 0, length: '8K', pattern: '0x13' },
    { op: 'guest-write', vm: 'secondary', offset: '256K', length: '4K', pattern: '0x21' },
    { op: 'guest-write', vm: 'secondary', offset: '512K', length: '65K', pattern: '0x22' },
    { op: 'checkpoint' },
    { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x14' },
    { op: 'failover', to: 'secondary' },
    { op: 'run', until: 'idle' },
  ];

  it('totals, checkpoints, the commit, occupancy and series', () => {
    const report = costOf(steps);
    expect(report.nbd).toEqual({ writesForwarded: 4, bytesForwarded: 147456, forwardsFailed: 0 });
    expect(report.copyBeforeWrite).toEqual({ copies: 3, bytes: 262144, zeroCopies: 2, failed: 0 });
    expect(report.checkpoints).toHaveLength(1);
    const [checkpoint] = report.checkpoints;
    expect(checkpoint).toMatchObject({ ok: true, activeClustersFreed: 3, hiddenClustersFreed: 3, bytesFreed: 393216 });
    expect(checkpoint!.startUs).not.toBeNull();
    expect(checkpoint!.endUs).toBeGreaterThanOrEqual(checkpoint!.startUs!);
    expect(report.commits).toHaveLength(1);
    expect(report.commits[0]).toMatchObject({ bytesCopied: 65536, durationUs: 100, outcome: 'completed' });
    expect(report.occupancy).toEqual({ activeClusters: 0, hiddenClusters: 1, activePeakClusters: 3, hiddenPeakClusters: 3 });
    expect(report.series.bytesForwarded.map((point) => point.value)).toEqual([4096, 135168, 143360, 147456]);
    expect(report.series.cbwCopies.map((point) => point.value)).toEqual([1, 2, 3]);
    expect(report.series.cbwBytes.map((point) => point.value)).toEqual([65536, 196608, 262144]);
    // The first 0 of each is replication_start's own make_empty at COLO start.
    expect(report.series.hiddenClusters.map((point) => point.value)).toEqual([0, 1, 3, 0, 1]);
    // The secondary VM's two writes are local and take no virtual time: one instant, one point (3).
    expect(report.series.activeClusters.map((point) => point.value)).toEqual([0, 3, 0]);
    const times = report.series.bytesForwarded.map((point) => point.timeUs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(report.virtualTimeUs).toBeGreaterThanOrEqual(report.commits[0]!.endUs!);
  });

  it('colo-sim run --stats prints the same figures as JSON', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'colo-sim-stats-'));
    const file = join(directory, 'cost.json');
    writeFileSync(file, scenarioText(steps));
    let stdout = '';
    const exitCode = await main(['run', file, '--stats'], { stdout: (text) => (stdout += text), stderr: () => {} });
    expect(exitCode).toBe(0);
    const printed = JSON.parse(stdout) as { results: Array<{ status: string; stats: ReturnType<typeof costOf> }> };
    expect(printed.results[0]!.status).toBe('pass');
    expect(printed.results[0]!.stats).toEqual(JSON.parse(JSON.stringify(costOf(steps))));
    let reloading = '';
    expect(await main(['run', file, '--stats', '--reload-each-step'], { stdout: (text) => (reloading += text), stderr: () => {} })).toBe(0);
    expect((JSON.parse(reloading) as typeof printed).results[0]!.stats).toEqual(printed.results[0]!.stats);
  });

  it("runs to the run's virtual time, past the last event (a quiet `run for`), in the report and in --stats", async () => {
    const quiet = [{ op: 'colo-start' }, { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x22' }, { op: 'run', for: '4ms' }];
    const validation = validateScenarioText(scenarioText(quiet));
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    const cost = new ReplicationCost(64 * 1024);
    const runner = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => cost.observe(event) });
    const outcome = runner.runToEnd();
    const lastEventUs = cost.report().virtualTimeUs;
    expect(outcome.virtualTimeUs).toBe(lastEventUs + 4000);
    expect(cost.report(outcome.virtualTimeUs).virtualTimeUs).toBe(outcome.virtualTimeUs);
    // The report never goes back before its last event.
    expect(cost.report(0).virtualTimeUs).toBe(lastEventUs);

    const directory = mkdtempSync(join(tmpdir(), 'colo-sim-stats-'));
    const file = join(directory, 'quiet.json');
    writeFileSync(file, scenarioText(quiet));
    for (const extra of [[], ['--reload-each-step']]) {
      let stdout = '';
      expect(await main(['run', file, '--stats', ...extra], { stdout: (text) => (stdout += text), stderr: () => {} })).toBe(0);
      const printed = JSON.parse(stdout) as { results: Array<{ stats: { virtualTimeUs: number } }> };
      expect(printed.results[0]!.stats.virtualTimeUs, extra.join(' ')).toBe(outcome.virtualTimeUs);
    }
  });
});
