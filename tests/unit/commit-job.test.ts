/**
 * The active commit started by stop(failover=true) on the secondary (reference §5): its first
 * dirty set is every 64 KiB granule allocated in active-disk or hidden-disk; each copy takes
 * copyTimeUs of virtual time; secondary VM writes during the commit are committed too; on
 * completion replication-secondary's file is secondary-disk, stage done, error 0; on failure or
 * cancel the graph is restored and the stage is failover-failed with error -EIO.
 */
import { describe, expect, it } from 'vitest';
import type { CommitJob } from '../../src/engine/jobs/commit-job.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { DiskModel, expectSameBytes, KiB, MiB, mixedBytes } from './support/bytes.js';
import {
  eventsOfKind,
  guestWritePattern,
  newSimulation,
  readBytes,
  readWholeDisk,
  recordEvents,
  replicationNode,
  startSecondary,
  writeOutcome,
  writePattern,
} from './support/simulation.js';

const GRANULE = 64 * KiB;
const COPY_TIME_US = 1000;
const DISK = 1 * MiB;

/**
 * A secondary after one epoch: secondary-disk held mixed bytes at the checkpoint; the primary's
 * forwarded writes hit granules 2 and 10 (hidden-disk holds their checkpoint data); the
 * secondary VM wrote into granules 3 and 10 (active-disk). Dirty granules: 2, 3 and 10.
 */
function secondaryAfterAnEpoch() {
  const sim = newSimulation({ diskSizeBytes: DISK, clusterSizeBytes: 4 * KiB, copyTimeUs: COPY_TIME_US });
  const checkpoint = mixedBytes(DISK, 2);
  expect(writeOutcome(sim, 'secondary-disk', 0, checkpoint)).toBe('ok');
  startSecondary(sim);
  const svmView = new DiskModel(DISK);
  svmView.set(0, checkpoint);
  expect(writePattern(sim, 'secondary-disk', 130 * KiB, 512, 0x44)).toBe('ok');
  expect(writePattern(sim, 'secondary-disk', 10 * GRANULE + 1 * KiB, 2 * KiB, 0x45)).toBe('ok');
  expect(guestWritePattern(sim, 'secondary', 200 * KiB, 4 * KiB, 0x33)).toBe('ok');
  svmView.fill(200 * KiB, 4 * KiB, 0x33);
  expect(guestWritePattern(sim, 'secondary', 10 * GRANULE + 8 * KiB, 512, 0x34)).toBe('ok');
  svmView.fill(10 * GRANULE + 8 * KiB, 512, 0x34);
  expectSameBytes(readWholeDisk(sim, 'top-disk'), svmView.bytes, 'secondary VM view before failover');
  return { sim, svmView, dirtyGranules: [2, 3, 10] };
}

function stopWithFailover(sim: Simulation): CommitJob {
  const outcome = sim.replication('secondary', 'stop', { failover: true });
  expect(outcome).toEqual({ ok: true });
  const node = replicationNode(sim, 'replication-secondary');
  expect(node.stage).toBe('failover');
  const job = node.commit;
  if (!job) throw new Error('no commit job');
  return job;
}

/** Granules (of the given list) where secondary-disk already holds the secondary VM's view. */
function committedGranules(sim: Simulation, svmView: DiskModel, granules: readonly number[]): number[] {
  const secondary = readWholeDisk(sim, 'secondary-disk');
  return granules.filter((granule) => {
    const start = granule * GRANULE;
    for (let offset = start; offset < start + GRANULE; offset++) if (secondary[offset] !== svmView.bytes[offset]) return false;
    return true;
  });
}

describe('the active commit: what it copies', () => {
  it('starts with every granule allocated in active-disk or hidden-disk dirty', () => {
    const { sim, dirtyGranules } = secondaryAfterAnEpoch();
    const events = recordEvents(sim);
    const job = stopWithFailover(sim);
    expect(job.granularityBytes).toBe(GRANULE);
    sim.runFor(0);
    // One granule is read and in flight, the others dirty: len = offset + dirty + in flight.
    expect(job.offsetBytes).toBe(0);
    expect(job.lenBytes).toBe(dirtyGranules.length * GRANULE);
    expect(sim.runUntilIdle()).toBe(true);
    const copied = eventsOfKind(events, 'job-progress')
      .filter((event) => event.copiedLengthBytes > 0)
      .map((event) => [event.copiedOffsetBytes / GRANULE, event.copiedLengthBytes]);
    expect(copied.map(([granule]) => granule).sort((a, b) => a! - b!)).toEqual(dirtyGranules);
    expect(copied.every(([, length]) => length === GRANULE)).toBe(true);
  });

  it('a granule allocated only in hidden-disk is committed, rolling back the primary’s write', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    expect(readBytes(sim, 'secondary-disk', 130 * KiB, 512).every((byte) => byte === 0x44)).toBe(true);
    stopWithFailover(sim);
    expect(sim.runUntilIdle()).toBe(true);
    expectSameBytes(readBytes(sim, 'secondary-disk', 2 * GRANULE, GRANULE), svmView.range(2 * GRANULE, GRANULE), 'granule 2');
  });

  it('with nothing allocated, completes without copying anything', () => {
    const sim = newSimulation({ diskSizeBytes: DISK, copyTimeUs: COPY_TIME_US });
    startSecondary(sim);
    const events = recordEvents(sim);
    const job = stopWithFailover(sim);
    sim.runFor(0);
    expect(eventsOfKind(events, 'job-completed')).toHaveLength(1);
    expect(job.offsetBytes).toBe(0);
    expect(job.lenBytes).toBe(0);
    expect(replicationNode(sim, 'replication-secondary').stage).toBe('done');
  });
});

describe('the active commit: virtual time and progress', () => {
  it('each copy takes copyTimeUs; secondary-disk gains one granule of the SVM view per copy', () => {
    const { sim, svmView, dirtyGranules } = secondaryAfterAnEpoch();
    const job = stopWithFailover(sim);
    const startedUs = sim.nowUs;
    sim.runFor(0);
    expect(committedGranules(sim, svmView, dirtyGranules)).toEqual([]);
    for (let copies = 1; copies <= dirtyGranules.length; copies++) {
      sim.runFor(COPY_TIME_US - 1);
      expect(job.offsetBytes, `just before copy ${copies} completes`).toBe((copies - 1) * GRANULE);
      expect(committedGranules(sim, svmView, dirtyGranules)).toHaveLength(copies - 1);
      sim.runFor(1);
      expect(sim.nowUs).toBe(startedUs + copies * COPY_TIME_US);
      expect(job.offsetBytes, `when copy ${copies} completes`).toBe(copies * GRANULE);
      expect(job.lenBytes).toBe(dirtyGranules.length * GRANULE);
      expect(committedGranules(sim, svmView, dirtyGranules)).toHaveLength(copies);
      if (copies < dirtyGranules.length) expect(replicationNode(sim, 'replication-secondary').stage).toBe('failover');
    }
    expect(replicationNode(sim, 'replication-secondary').stage).toBe('done');
  });

  it('the secondary VM’s view does not change while the commit runs', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    stopWithFailover(sim);
    for (let step = 0; step < 8; step++) {
      expectSameBytes(readWholeDisk(sim, 'top-disk'), svmView.bytes, `view at ${sim.nowUs} us`);
      sim.runFor(COPY_TIME_US / 2);
    }
  });

  it('offset never decreases and stays <= len, with the secondary VM writing throughout', () => {
    const { sim } = secondaryAfterAnEpoch();
    const events = recordEvents(sim);
    const job = stopWithFailover(sim);
    let previousOffset = 0;
    for (let step = 0; step < 40 && replicationNode(sim, 'replication-secondary').stage === 'failover'; step++) {
      sim.runFor(300);
      if (step < 20) expect(guestWritePattern(sim, 'secondary', ((step * 7) % 16) * GRANULE + 512, 4 * KiB, 0x60 + step)).toBe('ok');
      expect(job.offsetBytes).toBeGreaterThanOrEqual(previousOffset);
      expect(job.offsetBytes).toBeLessThanOrEqual(job.lenBytes);
      previousOffset = job.offsetBytes;
    }
    expect(sim.runUntilIdle()).toBe(true);
    const progress = eventsOfKind(events, 'job-progress');
    expect(progress.length).toBeGreaterThan(5);
    progress.forEach((event, index) => {
      expect(event.offsetBytes).toBeLessThanOrEqual(event.lenBytes);
      if (index > 0) expect(event.offsetBytes).toBeGreaterThanOrEqual(progress[index - 1]!.offsetBytes);
    });
    expect(replicationNode(sim, 'replication-secondary').stage).toBe('done');
  });
});

describe('the active commit: secondary VM writes during the commit', () => {
  it('dirty their granules again (len grows) and are committed', () => {
    const { sim, svmView, dirtyGranules } = secondaryAfterAnEpoch();
    const job = stopWithFailover(sim);
    sim.runFor(COPY_TIME_US + COPY_TIME_US / 2);
    // One copy done, the second in flight.
    expect(job.offsetBytes).toBe(GRANULE);
    const [firstCopied] = committedGranules(sim, svmView, dirtyGranules);
    expect(firstCopied).toBeDefined();
    expect(guestWritePattern(sim, 'secondary', firstCopied! * GRANULE + 4 * KiB, 4 * KiB, 0x55)).toBe('ok');
    svmView.fill(firstCopied! * GRANULE + 4 * KiB, 4 * KiB, 0x55);
    expect(guestWritePattern(sim, 'secondary', 12 * GRANULE, 512, 0x56)).toBe('ok');
    svmView.fill(12 * GRANULE, 512, 0x56);
    // len is re-set on the job's next iteration (when the copy in flight completes):
    // offset + dirty + in flight = 2 copied + 2 dirty + 1 in flight of the 3 left (1 old, 2 new).
    expect(job.lenBytes).toBe(3 * GRANULE);
    sim.runFor(COPY_TIME_US / 2);
    expect(job.offsetBytes).toBe(2 * GRANULE);
    expect(job.lenBytes).toBe(5 * GRANULE);
    expectSameBytes(readWholeDisk(sim, 'top-disk'), svmView.bytes, 'view after the writes');
    expect(sim.runUntilIdle()).toBe(true);
    expect(job.offsetBytes).toBe(5 * GRANULE);
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), svmView.bytes, 'secondary-disk after the commit');
  });
});

describe('the active commit: completion', () => {
  it('points replication-secondary at secondary-disk, stage done, error 0, secondary-disk == the SVM view', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    const events = recordEvents(sim);
    const job = stopWithFailover(sim);
    const node = replicationNode(sim, 'replication-secondary');
    expect(node.file!.nodeName).toBe(job.mirrorTop.nodeName);
    expect(node.getError()).toMatchObject({ outcome: 'error', message: 'I/O error occurred' });
    expect(sim.runUntilIdle()).toBe(true);

    expect(node.stage).toBe('done');
    expect(node.error).toBe(0);
    expect(node.getError()).toEqual({ outcome: 'ok' });
    expect(node.file).toBe(sim.findNode('secondary-disk'));
    expect(node.child('hidden disk')).toBeUndefined();
    expect(node.child('secondary disk')).toBeUndefined();
    expect(node.commit).toBeUndefined();
    expect(sim.secondary.jobs.ofType('commit')).toBeUndefined();
    expect(sim.findNode(job.mirrorTop.nodeName)).toBeUndefined();
    expect(eventsOfKind(events, 'job-completed')).toHaveLength(1);
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), svmView.bytes, 'secondary-disk');
    expectSameBytes(readWholeDisk(sim, 'top-disk'), svmView.bytes, 'secondary VM view');
    // Writes now go straight to secondary-disk.
    expect(guestWritePattern(sim, 'secondary', 15 * GRANULE, 512, 0x99)).toBe('ok');
    expect(readBytes(sim, 'secondary-disk', 15 * GRANULE, 512).every((byte) => byte === 0x99)).toBe(true);
    expect(sim.allocationOf('active-disk', 15 * GRANULE, GRANULE)).toBe('none');
  });
});

describe('the active commit: failure', () => {
  function expectFailedOver(sim: Simulation, svmView: DiskModel): void {
    const node = replicationNode(sim, 'replication-secondary');
    expect(node.stage).toBe('failover-failed');
    expect(node.error).toBe('EIO');
    expect(node.file).toBe(sim.findNode('active-disk'));
    expect(node.commit).toBeUndefined();
    expect(sim.secondary.jobs.ofType('commit')).toBeUndefined();
    expect(sim.findNode('active-disk-mirror-top')).toBeUndefined();
    expect(node.getError()).toMatchObject({ outcome: 'error', message: 'I/O error occurred' });
    expectSameBytes(readWholeDisk(sim, 'top-disk'), svmView.bytes, 'secondary VM view after the failure');
  }

  it('an I/O error writing secondary-disk fails the commit after that copy’s time', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    expect(sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 }).ok).toBe(true);
    const events = recordEvents(sim);
    stopWithFailover(sim);
    const startedUs = sim.nowUs;
    sim.runFor(COPY_TIME_US - 1);
    expect(replicationNode(sim, 'replication-secondary').stage).toBe('failover');
    sim.runFor(1);
    expect(eventsOfKind(events, 'job-failed').filter((event) => event.jobType === 'commit').map((event) => [event.jobType, event.errno, event.cancelled, event.timeUs])).toEqual([
      ['commit', 'EIO', false, startedUs + COPY_TIME_US],
    ]);
    expectFailedOver(sim, svmView);
  });

  it('an I/O error writing secondary-disk after some copies keeps them, and the view', () => {
    const { sim, svmView, dirtyGranules } = secondaryAfterAnEpoch();
    stopWithFailover(sim);
    sim.runFor(COPY_TIME_US + 1);
    expect(sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 }).ok).toBe(true);
    expect(sim.runUntilIdle()).toBe(true);
    expectFailedOver(sim, svmView);
    expect(committedGranules(sim, svmView, dirtyGranules)).toHaveLength(1);
  });

  it('an I/O error reading active-disk fails the commit', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    expect(sim.injectFault({ kind: 'io-error', node: 'active-disk', on: 'read', count: 1 }).ok).toBe(true);
    stopWithFailover(sim);
    expect(sim.runUntilIdle()).toBe(true);
    expectFailedOver(sim, svmView);
  });

  it('cancel-job on the commit also ends in failover-failed', () => {
    const { sim, svmView } = secondaryAfterAnEpoch();
    const events = recordEvents(sim);
    stopWithFailover(sim);
    sim.runFor(COPY_TIME_US / 2);
    expect(sim.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'commit' })).toEqual({ ok: true });
    expect(sim.runUntilIdle()).toBe(true);
    expect(eventsOfKind(events, 'job-failed').filter((event) => event.jobType === 'commit').map((event) => [event.jobType, event.cancelled])).toEqual([['commit', true]]);
    expectFailedOver(sim, svmView);
  });
});

describe('QEMU’s tests/unit/test-replication.c, read exactly (reference §7.5)', () => {
  it('secondary/stop: after failover the first half reads 0x33 and the second half 0x11, not the 0x22 the loose check accepts', () => {
    const sim = newSimulation({ diskSizeBytes: DISK, clusterSizeBytes: 64 * KiB, copyTimeUs: COPY_TIME_US });
    const half = DISK / 2;
    expect(writePattern(sim, 'secondary-disk', 0, DISK, 0x11)).toBe('ok');
    startSecondary(sim);
    // The local disk gets 0x22 in the second half (through its BlockBackend, so copy-before-write runs).
    expect(writePattern(sim, 'secondary-disk', half, half, 0x22)).toBe('ok');
    expect(readBytes(sim, 'top-disk', half, half).every((byte) => byte === 0x11)).toBe(true);
    expect(guestWritePattern(sim, 'secondary', 0, half, 0x33)).toBe('ok');
    stopWithFailover(sim);
    expect(sim.runUntilIdle()).toBe(true);
    for (const node of ['top-disk', 'secondary-disk']) {
      const bytes = readWholeDisk(sim, node);
      expect(bytes.subarray(0, half).every((byte) => byte === 0x33), `${node} first half`).toBe(true);
      expect(bytes.subarray(half).every((byte) => byte === 0x11), `${node} second half`).toBe(true);
    }
  });
});
