/**
 * The cost of replication read from a run's events: forwarded bytes, copy-before-write copies,
 * buffer occupancy, what each checkpoint empties, the commit's duration and bytes.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { ReplicationCost } from '../../src/engine/stats/replication-cost.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

function costOf(steps: unknown[]) {
  const validation = validateScenarioText(JSON.stringify({ format: 'colo-sim/1', title: 'cost', setup: { diskSize: '1M', clusterSize: '64K', copyTime: '100us' }, steps }));
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  const cost = new ReplicationCost(64 * 1024);
  const outcome = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => cost.observe(event) }).runToEnd();
  expect(outcome.passed, JSON.stringify(outcome.failure)).toBe(true);
  return cost.report();
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
