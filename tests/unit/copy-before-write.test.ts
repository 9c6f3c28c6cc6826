/**
 * The backup job's copy-before-write filter above secondary-disk (reference §3): every write
 * reaching secondary-disk first copies each cluster it touches that has not been copied in this
 * checkpoint epoch, whole, into hidden-disk. Cluster size max(64 KiB, hidden's cluster size).
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { DiskModel, expectSameBytes, KiB, MiB, mixedBytes } from './support/bytes.js';
import {
  allocatedClusters,
  clusterRange,
  eventsOfKind,
  newSimulation,
  ownLayer,
  readBytes,
  recordEvents,
  replicationNode,
  startSecondary,
  writeOutcome,
  writePattern,
} from './support/simulation.js';

const C64K = 64 * KiB;

/**
 * A running secondary whose secondary-disk holds mixed bytes over `prefilledBytes` (written
 * before start, so nothing was copied), and the model of what secondary-disk holds.
 */
function runningSecondary(settings: { diskSizeBytes?: number; clusterSizeBytes?: number; prefilledBytes?: number } = {}) {
  const diskSizeBytes = settings.diskSizeBytes ?? 1 * MiB;
  const sim = newSimulation({ diskSizeBytes, clusterSizeBytes: settings.clusterSizeBytes ?? 4 * KiB });
  const prefilled = settings.prefilledBytes ?? diskSizeBytes;
  const secondary = new DiskModel(diskSizeBytes);
  secondary.set(0, mixedBytes(prefilled, 1));
  expect(writeOutcome(sim, 'secondary-disk', 0, secondary.range(0, prefilled))).toBe('ok');
  startSecondary(sim);
  return { sim, secondary, checkpoint: secondary.clone() };
}

/** The hidden disk's qcow2 clusters that lie in backup clusters [first, last]. */
function hiddenClustersOf(sim: Simulation, firstBackupCluster: number, lastBackupCluster: number, backupClusterBytes = C64K): number[] {
  const hiddenCluster = sim.settings.clusterSizeBytes;
  const perBackupCluster = backupClusterBytes / hiddenCluster;
  return clusterRange(firstBackupCluster * perBackupCluster, (lastBackupCluster + 1) * perBackupCluster - 1);
}

function copyState(sim: Simulation) {
  const backup = replicationNode(sim, 'replication-secondary').backup;
  if (!backup) throw new Error('no backup job');
  return backup.copyState;
}

describe('copy-before-write: the first write to a cluster', () => {
  it('copies the whole 64 KiB cluster into hidden-disk before the write lands', () => {
    const { sim, secondary, checkpoint } = runningSecondary();
    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', 70 * KiB, 1 * KiB, 0x22)).toBe('ok');
    secondary.fill(70 * KiB, 1 * KiB, 0x22);

    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 1, 1));
    expectSameBytes(ownLayer(sim, 'hidden-disk', C64K, C64K), checkpoint.range(C64K, C64K), 'hidden-disk cluster 1');
    expectSameBytes(readBytes(sim, 'secondary-disk', 0, 1 * MiB), secondary.bytes, 'secondary-disk');
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes, event.zeroes])).toEqual([[C64K, C64K, false]]);
    // The copy comes before the write lands on secondary-disk.
    const copyIndex = events.findIndex((event) => event.kind === 'cbw-copy');
    const landedIndex = events.findIndex((event) => event.kind === 'write-landed' && event.node === 'secondary-disk');
    expect(copyIndex).toBeGreaterThanOrEqual(0);
    expect(landedIndex).toBeGreaterThan(copyIndex);
  });

  it('keeps the secondary VM’s view at the checkpoint (hidden over secondary)', () => {
    const { sim, checkpoint } = runningSecondary();
    writePattern(sim, 'secondary-disk', 0, 200 * KiB, 0x22);
    expectSameBytes(readBytes(sim, 'hidden-disk', 0, 1 * MiB), checkpoint.bytes, 'hidden over secondary');
    expectSameBytes(readBytes(sim, 'top-disk', 0, 1 * MiB), checkpoint.bytes, 'secondary VM view');
  });

  it('copies every cluster a write touches, each one whole', () => {
    const { sim, secondary, checkpoint } = runningSecondary();
    // [130K, 330K) touches backup clusters 2 (128K) to 5 (320K-384K).
    expect(writePattern(sim, 'secondary-disk', 130 * KiB, 200 * KiB, 0x33)).toBe('ok');
    secondary.fill(130 * KiB, 200 * KiB, 0x33);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 2, 5));
    expectSameBytes(ownLayer(sim, 'hidden-disk', 2 * C64K, 4 * C64K), checkpoint.range(2 * C64K, 4 * C64K), 'hidden clusters 2-5');
    expectSameBytes(readBytes(sim, 'secondary-disk', 0, 1 * MiB), secondary.bytes, 'secondary-disk');
  });

  it('a forwarded primary write is copied the same way', () => {
    const { sim, checkpoint } = runningSecondary();
    expect(sim.replication('primary', 'start').ok).toBe(true);
    const result = sim.settle(sim.guestWrite('primary', 5 * C64K + 512, DataRuns.fill(512, 0x44)));
    expect(result.ok).toBe(true);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 5, 5));
    expectSameBytes(ownLayer(sim, 'hidden-disk', 5 * C64K, C64K), checkpoint.range(5 * C64K, C64K), 'hidden cluster 5');
  });
});

describe('copy-before-write: clusters already copied', () => {
  it('are skipped, so hidden-disk keeps the oldest data of the epoch', () => {
    const { sim, secondary, checkpoint } = runningSecondary();
    writePattern(sim, 'secondary-disk', C64K, 4 * KiB, 0x22);
    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', C64K, C64K, 0x33)).toBe('ok');
    secondary.fill(C64K, C64K, 0x33);
    expect(eventsOfKind(events, 'cbw-copy')).toEqual([]);
    expectSameBytes(ownLayer(sim, 'hidden-disk', C64K, C64K), checkpoint.range(C64K, C64K), 'hidden cluster 1');
    expectSameBytes(readBytes(sim, 'secondary-disk', C64K, C64K), secondary.range(C64K, C64K), 'secondary cluster 1');
  });

  it('a write over copied and uncopied clusters copies only the uncopied ones', () => {
    const { sim, checkpoint } = runningSecondary();
    writePattern(sim, 'secondary-disk', C64K, 512, 0x22);
    writePattern(sim, 'secondary-disk', 3 * C64K, 512, 0x22);
    const events = recordEvents(sim);
    writePattern(sim, 'secondary-disk', 0, 5 * C64K, 0x33);
    const copied = eventsOfKind(events, 'cbw-copy').flatMap((event) => clusterRange(event.offsetBytes / C64K, (event.offsetBytes + event.lengthBytes) / C64K - 1));
    expect(copied.sort((a, b) => a - b)).toEqual([0, 2, 4]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 0, 4));
    expectSameBytes(ownLayer(sim, 'hidden-disk', 0, 5 * C64K), checkpoint.range(0, 5 * C64K), 'hidden clusters 0-4');
  });

  it('copy each cluster at most once per epoch, always whole', () => {
    const { sim, checkpoint } = runningSecondary();
    const events = recordEvents(sim);
    const writes: Array<[number, number]> = [
      [0, 512],
      [60 * KiB, 8 * KiB],
      [64 * KiB, 512],
      [200 * KiB, 300 * KiB],
      [250 * KiB, 4 * KiB],
      [1 * MiB - 512, 512],
      [0, 1 * MiB],
    ];
    writes.forEach(([offset, length], index) => expect(writePattern(sim, 'secondary-disk', offset, length, 0x40 + index)).toBe('ok'));
    const copied = eventsOfKind(events, 'cbw-copy').flatMap((event) => {
      expect(event.offsetBytes % C64K).toBe(0);
      expect(event.lengthBytes % C64K).toBe(0);
      return clusterRange(event.offsetBytes / C64K, (event.offsetBytes + event.lengthBytes) / C64K - 1);
    });
    expect(copied.sort((a, b) => a - b)).toEqual(clusterRange(0, 15));
    expectSameBytes(ownLayer(sim, 'hidden-disk', 0, 1 * MiB), checkpoint.bytes, 'hidden-disk');
  });
});

describe('copy-before-write: a cluster of zeros', () => {
  it('is still copied, so hidden-disk is allocated there and masks the new data', () => {
    const { sim } = runningSecondary({ prefilledBytes: 512 * KiB });
    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', 10 * C64K + 512, 512, 0x55)).toBe('ok');
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 10, 10));
    expect(sim.allocationOf('hidden-disk', 10 * C64K, C64K)).toBe('all');
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes, event.zeroes])).toEqual([[10 * C64K, C64K, true]]);
    expectSameBytes(readBytes(sim, 'hidden-disk', 10 * C64K, C64K), new Uint8Array(C64K), 'hidden over secondary at cluster 10');
    expect(readBytes(sim, 'secondary-disk', 10 * C64K + 512, 512).every((byte) => byte === 0x55)).toBe(true);
  });
});

describe('copy-before-write across a checkpoint', () => {
  it('a checkpoint sets every bit again: the next write copies the cluster again, with the new epoch’s data', () => {
    const { sim, secondary } = runningSecondary();
    writePattern(sim, 'secondary-disk', C64K, C64K, 0x22);
    secondary.fill(C64K, C64K, 0x22);
    expect([...copyState(sim).copiedClusterIndices()]).toEqual([1]);
    expect(sim.replication('secondary', 'checkpoint').ok).toBe(true);
    expect([...copyState(sim).copiedClusterIndices()]).toEqual([]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual([]);
    const epoch2 = secondary.clone();

    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', C64K + 512, 512, 0x33)).toBe('ok');
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes])).toEqual([[C64K, C64K]]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 1, 1));
    expectSameBytes(ownLayer(sim, 'hidden-disk', C64K, C64K), epoch2.range(C64K, C64K), 'hidden cluster 1 in epoch 2');
  });
});

describe('cancelling the backup job', () => {
  it('drops the filter: the NBD export and replication point at secondary-disk again, and writes copy nothing', () => {
    const { sim } = runningSecondary();
    const secondaryDisk = sim.findNode('secondary-disk')!;
    const filterName = 'secondary-disk-cbw';
    expect(sim.findNode(filterName)).toBeDefined();
    expect(sim.secondary.graph.backendNamed('nbd-export')!.root!.nodeName).toBe(filterName);
    // The hidden disk's backing link never moved (it would make a loop).
    expect(sim.findNode('hidden-disk')!.child('backing')).toBe(secondaryDisk);

    expect(sim.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' }).ok).toBe(true);
    expect(sim.findNode(filterName)).toBeUndefined();
    expect(sim.secondary.graph.backendNamed('nbd-export')!.root).toBe(secondaryDisk);
    expect(replicationNode(sim, 'replication-secondary').child('secondary disk')).toBe(secondaryDisk);
    expect(sim.secondary.jobs.ofType('backup')).toBeUndefined();

    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', 3 * C64K, 512, 0x66)).toBe('ok');
    expect(eventsOfKind(events, 'cbw-copy')).toEqual([]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual([]);
  });
});

describe('a failed copy', () => {
  for (const failing of [
    { node: 'hidden-disk', on: 'write' },
    { node: 'secondary-disk', on: 'read' },
  ] as const) {
    it(`(io-error on ${failing.node} ${failing.on}) fails the write, sets the bits again, and a retry copies`, () => {
      const { sim, secondary, checkpoint } = runningSecondary();
      expect(sim.injectFault({ kind: 'io-error', node: failing.node, on: failing.on, count: 1 }).ok).toBe(true);
      const events = recordEvents(sim);
      // [100K, 140K) touches clusters 1 and 2: one copy task, which fails.
      expect(writePattern(sim, 'secondary-disk', 100 * KiB, 40 * KiB, 0x77)).toBe('EIO');
      const failedCopies = eventsOfKind(events, 'cbw-copy');
      expect(failedCopies).toHaveLength(1);
      expect(failedCopies[0]).toMatchObject({ errno: 'EIO' });
      expect(copyState(sim).needsCopy(1)).toBe(true);
      expect(copyState(sim).needsCopy(2)).toBe(true);
      expect(allocatedClusters(sim, 'hidden-disk')).toEqual([]);
      // The write did not land.
      expectSameBytes(readBytes(sim, 'secondary-disk', 0, 1 * MiB), secondary.bytes, 'secondary-disk after the failed write');

      expect(writePattern(sim, 'secondary-disk', 100 * KiB, 40 * KiB, 0x77)).toBe('ok');
      secondary.fill(100 * KiB, 40 * KiB, 0x77);
      expect(copyState(sim).needsCopy(1)).toBe(false);
      expect(copyState(sim).needsCopy(2)).toBe(false);
      expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 1, 2));
      expectSameBytes(ownLayer(sim, 'hidden-disk', C64K, 2 * C64K), checkpoint.range(C64K, 2 * C64K), 'hidden clusters 1-2');
      expectSameBytes(readBytes(sim, 'secondary-disk', 0, 1 * MiB), secondary.bytes, 'secondary-disk after the retry');
    });
  }

  it('only the clusters of the failed copy are set again; clusters copied before it stay copied', () => {
    const { sim, checkpoint } = runningSecondary();
    writePattern(sim, 'secondary-disk', 2 * C64K, 512, 0x11);
    // The hidden disk accepts the first copy of the next write, then fails one.
    const hidden = sim.findNode('hidden-disk')!;
    let hiddenWrites = 0;
    sim.events.subscribe((event) => {
      if (event.kind === 'write-landed' && event.node === 'hidden-disk' && ++hiddenWrites === 1) hidden.faults.add('write', 1);
    });
    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', 0, 4 * C64K, 0x22)).toBe('EIO');
    const copies = eventsOfKind(events, 'cbw-copy');
    expect(copies.map((event) => event.errno ?? 'ok')).toEqual(['ok', 'EIO']);
    const state = copyState(sim);
    // Cluster 0 was in the first (successful) copy, cluster 2 was copied before, cluster 3 comes after the failure.
    expect(state.needsCopy(0)).toBe(false);
    expect(state.needsCopy(2)).toBe(false);
    expect(state.needsCopy(3)).toBe(true);
    for (const cluster of [0, 1, 2, 3]) {
      const allocation = sim.allocationOf('hidden-disk', cluster * C64K, C64K);
      expect(allocation, `hidden cluster ${cluster}`).toBe(state.needsCopy(cluster) ? 'none' : 'all');
      if (allocation === 'all') expectSameBytes(ownLayer(sim, 'hidden-disk', cluster * C64K, C64K), checkpoint.range(cluster * C64K, C64K), `hidden cluster ${cluster}`);
    }
  });
});

describe('a write that fails after its copy succeeded', () => {
  it('(io-error on secondary-disk write) fails, but the cluster stays copied: hidden-disk keeps the checkpoint data', () => {
    const { sim, secondary, checkpoint } = runningSecondary();
    expect(sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 }).ok).toBe(true);
    expect(writePattern(sim, 'secondary-disk', 4 * C64K, 512, 0x77)).toBe('EIO');
    expect(copyState(sim).needsCopy(4)).toBe(false);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(hiddenClustersOf(sim, 4, 4));
    expectSameBytes(ownLayer(sim, 'hidden-disk', 4 * C64K, C64K), checkpoint.range(4 * C64K, C64K), 'hidden cluster 4');
    expectSameBytes(readBytes(sim, 'secondary-disk', 0, 1 * MiB), secondary.bytes, 'secondary-disk after the failed write');
    const events = recordEvents(sim);
    expect(writePattern(sim, 'secondary-disk', 4 * C64K, 512, 0x77)).toBe('ok');
    expect(eventsOfKind(events, 'cbw-copy')).toEqual([]);
  });
});

describe('copy granularity is max(64 KiB, hidden-disk’s cluster size)', () => {
  it('128 KiB clusters: the copy unit is 128 KiB', () => {
    const { sim, checkpoint } = runningSecondary({ clusterSizeBytes: 128 * KiB });
    const events = recordEvents(sim);
    writePattern(sim, 'secondary-disk', 130 * KiB, 512, 0x22);
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes])).toEqual([[128 * KiB, 128 * KiB]]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual([1]);
    expect(sim.allocationOf('hidden-disk', 0, 128 * KiB)).toBe('none');
    expectSameBytes(ownLayer(sim, 'hidden-disk', 128 * KiB, 128 * KiB), checkpoint.range(128 * KiB, 128 * KiB), 'hidden cluster 1');
  });

  it('512-byte clusters: the copy unit is still 64 KiB, allocating 128 hidden clusters', () => {
    const { sim } = runningSecondary({ clusterSizeBytes: 512 });
    writePattern(sim, 'secondary-disk', C64K + 1024, 512, 0x22);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual(clusterRange(128, 255));
  });

  it('2 MiB clusters on a disk not a multiple of them: one 2 MiB copy, the last one cut at the end', () => {
    const diskSizeBytes = 5 * MiB;
    const { sim, checkpoint } = runningSecondary({ clusterSizeBytes: 2 * MiB, diskSizeBytes });
    const events = recordEvents(sim);
    writePattern(sim, 'secondary-disk', 2 * MiB + 512, 512, 0x22);
    writePattern(sim, 'secondary-disk', diskSizeBytes - 512, 512, 0x23);
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes])).toEqual([
      [2 * MiB, 2 * MiB],
      [4 * MiB, 1 * MiB],
    ]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual([1, 2]);
    expectSameBytes(ownLayer(sim, 'hidden-disk', 2 * MiB, 3 * MiB), checkpoint.range(2 * MiB, 3 * MiB), 'hidden clusters 1-2');
  });

  it('the last 64 KiB cluster of a disk not a multiple of 64 KiB is copied up to the end of the disk', () => {
    const diskSizeBytes = 1 * MiB + 4 * KiB;
    const { sim, checkpoint } = runningSecondary({ diskSizeBytes });
    const events = recordEvents(sim);
    writePattern(sim, 'secondary-disk', 1 * MiB + 512, 512, 0x22);
    expect(eventsOfKind(events, 'cbw-copy').map((event) => [event.offsetBytes, event.lengthBytes])).toEqual([[1 * MiB, 4 * KiB]]);
    expect(allocatedClusters(sim, 'hidden-disk')).toEqual([256]);
    expectSameBytes(ownLayer(sim, 'hidden-disk', 1 * MiB, 4 * KiB), checkpoint.range(1 * MiB, 4 * KiB), 'hidden last cluster');
  });
});
