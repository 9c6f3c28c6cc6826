/**
 * The replication filter (block/replication.c, reference §2): I/O by stage and mode, the
 * primary swallowing forward errors, FAILOVER_FAILED routing per extent, requests ignored after
 * failover, QEMU's stop quirks, and the *_all walks (newest node first, first error stops).
 */
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import type { ReplicationNode } from '../../src/engine/replication/replication-node.js';
import type { Stage } from '../../src/engine/sim/events.js';
import { DiskModel, expectEveryByte, expectSameBytes, filled, KiB, MiB } from './support/bytes.js';
import {
  eventsOfKind,
  guestWritePattern,
  newSimulation,
  ownLayer,
  readBytes,
  readOutcome,
  readWholeDisk,
  recordEvents,
  replicationNode,
  startSecondary,
  writePattern,
} from './support/simulation.js';

const DISK = 1 * MiB;
const C64K = 64 * KiB;

// ---- the secondary in each stage ------------------------------------------------------------

type SecondarySetup = 'none' | 'running' | 'failover' | 'failover-failed' | 'done after commit' | 'done after stop(false)';

/**
 * secondary-disk holds 0x11; once running, the secondary VM wrote 0x33 over [0, 64K) (active
 * disk) and a forwarded write put 0x22 over [128K, 192K) of secondary-disk (hidden disk holds
 * the 0x11 it replaced). Returns the secondary VM's view.
 */
function secondaryIn(setup: SecondarySetup) {
  const sim = newSimulation({ diskSizeBytes: DISK, clusterSizeBytes: 4 * KiB, copyTimeUs: 1000 });
  expect(writePattern(sim, 'secondary-disk', 0, DISK, 0x11)).toBe('ok');
  const view = new DiskModel(DISK);
  view.fill(0, DISK, 0x11);
  const node = replicationNode(sim, 'replication-secondary');
  if (setup !== 'none') {
    startSecondary(sim);
    expect(guestWritePattern(sim, 'secondary', 0, C64K, 0x33)).toBe('ok');
    view.fill(0, C64K, 0x33);
    expect(writePattern(sim, 'secondary-disk', 2 * C64K, C64K, 0x22)).toBe('ok');
  }
  if (setup === 'failover' || setup === 'done after commit') {
    expect(sim.replication('secondary', 'stop', { failover: true }).ok).toBe(true);
    if (setup === 'done after commit') expect(sim.runUntilIdle()).toBe(true);
  }
  if (setup === 'failover-failed') {
    sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 });
    expect(sim.replication('secondary', 'stop', { failover: true }).ok).toBe(true);
    expect(sim.runUntilIdle()).toBe(true);
  }
  if (setup === 'done after stop(false)') {
    expect(sim.replication('secondary', 'stop', { failover: false })).toMatchObject({ ok: false, message: 'Backup job was cancelled unexpectedly' });
  }
  const expectedStage: Record<SecondarySetup, Stage> = {
    none: 'none',
    running: 'running',
    failover: 'failover',
    'failover-failed': 'failover-failed',
    'done after commit': 'done',
    'done after stop(false)': 'done',
  };
  expect(node.stage).toBe(expectedStage[setup]);
  return { sim, node, view };
}

/** Where a write through replication-secondary lands in each stage (reference §2 table). */
const SECONDARY_WRITE_LANDS: Record<Exclude<SecondarySetup, 'none' | 'failover-failed'>, 'active-disk' | 'secondary-disk'> = {
  running: 'active-disk',
  failover: 'active-disk',
  'done after commit': 'secondary-disk',
  'done after stop(false)': 'active-disk',
};

describe('secondary I/O by stage', () => {
  it('NONE: reads and writes fail with EIO', () => {
    const { sim } = secondaryIn('none');
    expect(readOutcome(sim, 'replication-secondary', 0, 4096)).toBe('EIO');
    expect(writePattern(sim, 'replication-secondary', 0, 4096, 0x77)).toBe('EIO');
    expect(readOutcome(sim, 'top-disk', 0, 4096)).toBe('EIO');
    expect(sim.allocationOf('active-disk', 0, DISK)).toBe('none');
    expectEveryByte(readBytes(sim, 'secondary-disk', 0, 4096), 0x11, 'secondary-disk [0, 4096]');
  });

  for (const setup of ['running', 'failover', 'failover-failed', 'done after commit', 'done after stop(false)'] as const) {
    it(`${setup}: reads go to the file and return the secondary VM's view`, () => {
      const { sim, view } = secondaryIn(setup);
      expectSameBytes(readBytes(sim, 'replication-secondary', 0, DISK), view.bytes, 'read through replication-secondary');
    });
  }

  for (const setup of ['running', 'failover', 'done after commit', 'done after stop(false)'] as const) {
    it(`${setup}: writes go to the file (${SECONDARY_WRITE_LANDS[setup]})`, () => {
      const { sim, view } = secondaryIn(setup);
      const offset = 4 * C64K;
      expect(writePattern(sim, 'replication-secondary', offset, 4 * KiB, 0x77)).toBe('ok');
      view.fill(offset, 4 * KiB, 0x77);
      const lands = SECONDARY_WRITE_LANDS[setup];
      expect(sim.allocationOf('active-disk', offset, 4 * KiB)).toBe(lands === 'active-disk' ? 'all' : 'none');
      expectEveryByte(readBytes(sim, 'secondary-disk', offset, 4 * KiB), lands === 'secondary-disk' ? 0x77 : 0x11, 'secondary-disk [offset, 4 * KiB]');
      expectSameBytes(readBytes(sim, 'replication-secondary', 0, DISK), view.bytes, 'view after the write');
    });
  }

  it('FAILOVER: a write lands in active-disk and is committed with the rest', () => {
    const { sim, view } = secondaryIn('failover');
    expect(writePattern(sim, 'replication-secondary', 9 * C64K, 512, 0x78)).toBe('ok');
    view.fill(9 * C64K, 512, 0x78);
    expect(sim.runUntilIdle()).toBe(true);
    expect(replicationNode(sim, 'replication-secondary').stage).toBe('done');
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), view.bytes, 'secondary-disk after the commit');
  });
});

describe('FAILOVER_FAILED: writes are routed per extent', () => {
  it('allocated extents (active or hidden) go to active-disk, the others straight to secondary-disk', () => {
    const { sim, view } = secondaryIn('failover-failed');
    const secondary = new DiskModel(DISK);
    secondary.fill(0, DISK, 0x11);
    secondary.fill(2 * C64K, C64K, 0x22);
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), secondary.bytes, 'secondary-disk before');
    // [0, 64K) is allocated in active, [128K, 192K) in hidden; [64K, 128K) and [192K, 256K) in neither.
    expect(writePattern(sim, 'replication-secondary', 0, 4 * C64K, 0x77)).toBe('ok');
    view.fill(0, 4 * C64K, 0x77);
    secondary.fill(C64K, C64K, 0x77);
    secondary.fill(3 * C64K, C64K, 0x77);
    expect(sim.allocationOf('active-disk', 0, C64K)).toBe('all');
    expect(sim.allocationOf('active-disk', C64K, C64K)).toBe('none');
    expect(sim.allocationOf('active-disk', 2 * C64K, C64K)).toBe('all');
    expect(sim.allocationOf('active-disk', 3 * C64K, DISK - 3 * C64K)).toBe('none');
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), secondary.bytes, 'secondary-disk after');
    expectSameBytes(readWholeDisk(sim, 'replication-secondary'), view.bytes, 'view after');
  });

  it('splits a write at a sector boundary inside a cluster-aligned extent', () => {
    const { sim, view } = secondaryIn('failover-failed');
    // [60K, 68K): [60K, 64K) is allocated in active, [64K, 68K) nowhere.
    expect(writePattern(sim, 'replication-secondary', 60 * KiB, 8 * KiB, 0x88)).toBe('ok');
    view.fill(60 * KiB, 8 * KiB, 0x88);
    expect(sim.allocationOf('active-disk', C64K, 4 * KiB)).toBe('none');
    expectEveryByte(ownLayer(sim, 'active-disk', 60 * KiB, 4 * KiB), 0x88, 'active-disk own layer [60 * KiB, 4 * KiB]');
    expectEveryByte(readBytes(sim, 'secondary-disk', 60 * KiB, 4 * KiB), 0x11, 'secondary-disk [60K, 64K)');
    expectEveryByte(readBytes(sim, 'secondary-disk', 64 * KiB, 4 * KiB), 0x88, 'secondary-disk [64K, 68K)');
    expectSameBytes(readWholeDisk(sim, 'replication-secondary'), view.bytes, 'view after');
  });

  it('a write into a hidden-only extent allocates active-disk’s cluster, copying up from hidden', () => {
    const { sim, view } = secondaryIn('failover-failed');
    expect(writePattern(sim, 'replication-secondary', 130 * KiB, 512, 0x99)).toBe('ok');
    view.fill(130 * KiB, 512, 0x99);
    expect(sim.allocationOf('active-disk', 128 * KiB, 4 * KiB)).toBe('all');
    expect(sim.allocationOf('active-disk', 132 * KiB, 4 * KiB)).toBe('none');
    const expectedCluster = filled(4 * KiB, 0x11);
    expectedCluster.fill(0x99, 2 * KiB, 2 * KiB + 512);
    expectSameBytes(ownLayer(sim, 'active-disk', 128 * KiB, 4 * KiB), expectedCluster, 'active-disk cluster at 128K');
    expectEveryByte(readBytes(sim, 'secondary-disk', 128 * KiB, 4 * KiB), 0x22, 'secondary-disk [128 * KiB, 4 * KiB]');
    expectSameBytes(readWholeDisk(sim, 'replication-secondary'), view.bytes, 'view after');
  });

  it('the first failing extent stops the write and returns its error', () => {
    const { sim } = secondaryIn('failover-failed');
    sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 });
    // [0, 128K): [0, 64K) to active (succeeds), then [64K, 128K) to secondary-disk (fails).
    expect(writePattern(sim, 'replication-secondary', 0, 2 * C64K, 0x55)).toBe('EIO');
    expectEveryByte(ownLayer(sim, 'active-disk', 0, C64K), 0x55, 'active-disk own layer [0, C64K]');
    expectEveryByte(readBytes(sim, 'secondary-disk', C64K, C64K), 0x11, 'secondary-disk [C64K, C64K]');
    sim.injectFault({ kind: 'io-error', node: 'active-disk', on: 'write', count: 1 });
    // [0, 128K) again: the first extent (active) fails, so secondary-disk is not written.
    expect(writePattern(sim, 'replication-secondary', 0, 2 * C64K, 0x56)).toBe('EIO');
    expectEveryByte(readBytes(sim, 'secondary-disk', C64K, C64K), 0x11, 'secondary-disk [C64K, C64K]');
    expectEveryByte(ownLayer(sim, 'active-disk', 0, C64K), 0x55, 'active-disk own layer [0, C64K]');
  });
});

// ---- the primary in each stage --------------------------------------------------------------

/**
 * The primary node in a stage. NONE, RUNNING and DONE are reached by QEMU's calls; FAILOVER and
 * FAILOVER_FAILED cannot be reached by a primary node (its stop goes straight to DONE), so the
 * node is put there with restoreState to check replication_get_io_status for them too.
 */
function primaryIn(stage: Stage) {
  const sim = newSimulation({ diskSizeBytes: DISK });
  expect(writePattern(sim, 'secondary-disk', 0, DISK, 0x11)).toBe('ok');
  const node = replicationNode(sim, 'replication-primary');
  if (stage === 'running' || stage === 'done') expect(sim.replication('primary', 'start').ok).toBe(true);
  if (stage === 'done') expect(sim.replication('primary', 'stop').ok).toBe(true);
  if (stage === 'failover' || stage === 'failover-failed') node.restoreState({ stage, error: 0, backupJob: undefined, commitJob: undefined });
  expect(node.stage).toBe(stage);
  return { sim, node };
}

describe('primary I/O by stage', () => {
  for (const stage of ['none', 'running', 'failover', 'failover-failed', 'done'] as const) {
    it(`${stage}: reads fail with EIO`, () => {
      const { sim } = primaryIn(stage);
      expect(readOutcome(sim, 'replication-primary', 0, 4096)).toBe('EIO');
    });

    const forwarded = stage === 'running';
    it(`${stage}: writes ${forwarded ? 'are forwarded over NBD to secondary-disk' : 'fail with EIO'}`, () => {
      const { sim } = primaryIn(stage);
      const issuedUs = sim.nowUs;
      expect(writePattern(sim, 'replication-primary', C64K, 4 * KiB, 0x77)).toBe(forwarded ? 'ok' : 'EIO');
      expectEveryByte(readBytes(sim, 'secondary-disk', C64K, 4 * KiB), forwarded ? 0x77 : 0x11, 'secondary-disk [C64K, 4 * KiB]');
      expectEveryByte(readBytes(sim, 'primary-disk', C64K, 4 * KiB), 0, 'primary-disk');
      // A forward is a round trip: it completes after twice the one-way latency.
      if (forwarded) expect(sim.nowUs - issuedUs).toBe(2 * sim.settings.nbdLatencyUs);
    });
  }
});

describe('the primary swallows forward errors into s->error', () => {
  it('a write failing on the secondary returns success and records EIO; get-error reports it until stop', () => {
    const { sim, node } = primaryIn('running');
    expect(node.error).toBe(0);
    expect(sim.replication('primary', 'get-error')).toEqual({ ok: true });
    sim.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 });
    expect(writePattern(sim, 'replication-primary', 0, 4 * KiB, 0x22)).toBe('ok');
    expectEveryByte(readBytes(sim, 'secondary-disk', 0, 4 * KiB), 0x11, 'secondary-disk [0, 4 * KiB]');
    expect(node.error).toBe('EIO');
    expect(sim.replication('primary', 'get-error')).toEqual({ ok: false, message: 'I/O error occurred' });
    // A later successful forward does not clear it.
    expect(writePattern(sim, 'replication-primary', 0, 4 * KiB, 0x23)).toBe('ok');
    expect(node.error).toBe('EIO');
    expect(sim.replication('primary', 'stop')).toEqual({ ok: true });
    expect(node.error).toBe(0);
    expect(sim.replication('primary', 'get-error')).toEqual({ ok: true });
  });

  it('a write while the NBD link is down returns success and records EIO; the guest write succeeds', () => {
    const sim = newSimulation({ diskSizeBytes: DISK });
    expect(sim.settle(sim.coloStart()).ok).toBe(true);
    const node = replicationNode(sim, 'replication-primary');
    sim.injectFault({ kind: 'link-down' });
    expect(guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x44)).toBe('ok');
    expectEveryByte(readBytes(sim, 'primary-disk', 0, 4 * KiB), 0x44, 'primary-disk [0, 4 * KiB]');
    expectEveryByte(readBytes(sim, 'secondary-disk', 0, 4 * KiB), 0, 'secondary-disk');
    expect(node.error).toBe('EIO');
  });

  it('an error other than EIO on the secondary reaches the primary as EINVAL (NBD) and is recorded', () => {
    const sim = newSimulation({ diskSizeBytes: DISK });
    expect(sim.replication('primary', 'start').ok).toBe(true);
    sim.injectFault({ kind: 'eject', node: 'secondary-disk' });
    expect(writePattern(sim, 'replication-primary', 0, 512, 0x44)).toBe('ok');
    expect(replicationNode(sim, 'replication-primary').error).toBe('EINVAL');
  });
});

describe('secondary errors are returned unchanged', () => {
  it('an I/O error under the secondary reaches the secondary VM', () => {
    const { sim } = secondaryIn('running');
    sim.injectFault({ kind: 'io-error', node: 'active-disk', on: 'write', count: 1 });
    expect(guestWritePattern(sim, 'secondary', 0, 512, 0x44)).toBe('EIO');
    sim.injectFault({ kind: 'eject', node: 'hidden-disk' });
    expect(readOutcome(sim, 'top-disk', 5 * C64K, 512)).toBe('ENOMEDIUM');
    expect(replicationNode(sim, 'replication-secondary').error).toBe(0);
  });
});

// ---- control calls by stage ------------------------------------------------------------------

function ignoredCalls(sim: Simulation, node: ReplicationNode, host: 'primary' | 'secondary') {
  const events = recordEvents(sim);
  const before = { stage: node.stage, error: node.error, file: node.file };
  expect(sim.replication(host, 'start', { mode: 'secondary' })).toEqual({ ok: true });
  expect(sim.replication(host, 'start', { mode: 'primary' })).toEqual({ ok: true });
  expect(sim.replication(host, 'checkpoint')).toEqual({ ok: true });
  expect(sim.replication(host, 'stop', { failover: false })).toEqual({ ok: true });
  expect(sim.replication(host, 'stop', { failover: true })).toEqual({ ok: true });
  expect({ stage: node.stage, error: node.error, file: node.file }).toEqual(before);
  const calls = eventsOfKind(events, 'replication-call').filter((event) => event.node === node.nodeName);
  expect(calls.map((event) => [event.action, event.outcome])).toEqual([
    ['start', 'ignored'],
    ['start', 'ignored'],
    ['checkpoint', 'ignored'],
    ['stop', 'ignored'],
    ['stop', 'ignored'],
  ]);
  return events;
}

describe('requests after failover are ignored', () => {
  it('DONE after the commit: start (either mode), checkpoint and stop change nothing; get-error succeeds', () => {
    const { sim, node } = secondaryIn('done after commit');
    const secondaryBefore = readWholeDisk(sim, 'secondary-disk');
    const events = ignoredCalls(sim, node, 'secondary');
    expect(eventsOfKind(events, 'job-created')).toEqual([]);
    expect(sim.replication('secondary', 'get-error')).toEqual({ ok: true });
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), secondaryBefore, 'secondary-disk');
  });

  it('FAILOVER: start, checkpoint and stop are ignored, the commit goes on; get-error fails (error is -EIO)', () => {
    const { sim, node, view } = secondaryIn('failover');
    const job = node.commit;
    expect(job).toBeDefined();
    ignoredCalls(sim, node, 'secondary');
    expect(node.commit).toBe(job);
    expect(sim.replication('secondary', 'get-error')).toMatchObject({ ok: false, message: 'I/O error occurred' });
    expect(sim.runUntilIdle()).toBe(true);
    expect(node.stage).toBe('done');
    expectSameBytes(readWholeDisk(sim, 'secondary-disk'), view.bytes, 'secondary-disk after the commit');
  });

  it('a stopped primary (DONE) ignores a later start, even with the other mode', () => {
    const { sim, node } = primaryIn('done');
    ignoredCalls(sim, node, 'primary');
  });
});

describe('FAILOVER_FAILED has no way back', () => {
  it('start, stop and checkpoint fail; get-error fails', () => {
    const { sim, node } = secondaryIn('failover-failed');
    expect(sim.replication('secondary', 'start')).toEqual({ ok: false, message: 'Block replication is running or done' });
    expect(sim.replication('secondary', 'stop', { failover: true })).toEqual({ ok: false, message: 'Block replication is not running' });
    expect(sim.replication('secondary', 'checkpoint')).toEqual({ ok: false, message: 'Backup job was cancelled unexpectedly' });
    expect(sim.replication('secondary', 'get-error')).toEqual({ ok: false, message: 'I/O error occurred' });
    expect(node.stage).toBe('failover-failed');
  });
});

describe('QEMU quirks of stop on the secondary', () => {
  it('stop(false) fails with "Backup job was cancelled unexpectedly", yet the stage is done and the buffers stay', () => {
    const { sim, node, view } = secondaryIn('running');
    const activeBefore = ownLayer(sim, 'active-disk', 0, DISK);
    const hiddenBefore = ownLayer(sim, 'hidden-disk', 0, DISK);
    const outcome = sim.replication('secondary', 'stop', { failover: false });
    expect(outcome).toMatchObject({ ok: false, message: 'Backup job was cancelled unexpectedly' });
    expect(node.stage).toBe('done');
    expect(node.file).toBe(sim.findNode('active-disk'));
    expect(node.backup).toBeUndefined();
    expect(sim.secondary.jobs.all()).toEqual([]);
    expect(sim.allocationOf('active-disk', 0, C64K)).toBe('all');
    expect(sim.allocationOf('hidden-disk', 2 * C64K, C64K)).toBe('all');
    expectSameBytes(ownLayer(sim, 'active-disk', 0, DISK), activeBefore, 'active-disk');
    expectSameBytes(ownLayer(sim, 'hidden-disk', 0, DISK), hiddenBefore, 'hidden-disk');
    expectSameBytes(readWholeDisk(sim, 'top-disk'), view.bytes, 'secondary VM view');
    // error = -EIO from the cancelled backup job, and nothing clears it.
    expect(node.error).toBe('EIO');
    expect(sim.replication('secondary', 'get-error')).toMatchObject({ ok: false, message: 'I/O error occurred' });
    expect(sim.replication('secondary', 'checkpoint')).toEqual({ ok: true });
    expect(sim.replication('secondary', 'get-error')).toMatchObject({ ok: false, message: 'I/O error occurred' });
  });

  it('stop(true): get-error fails during FAILOVER and succeeds once the commit is done', () => {
    const { sim, node } = secondaryIn('running');
    expect(sim.replication('secondary', 'get-error')).toEqual({ ok: true });
    expect(sim.replication('secondary', 'stop', { failover: true })).toEqual({ ok: true });
    expect(node.error).toBe('EIO');
    expect(sim.replication('secondary', 'get-error')).toMatchObject({ ok: false, message: 'I/O error occurred' });
    expect(sim.runUntilIdle()).toBe(true);
    expect(sim.replication('secondary', 'get-error')).toEqual({ ok: true });
  });

  it('the primary’s stop makes it DONE with error 0, whatever the failover flag', () => {
    for (const failover of [false, true]) {
      const { sim, node } = primaryIn('running');
      node.restoreState({ stage: 'running', error: 'EIO', backupJob: undefined, commitJob: undefined });
      expect(sim.replication('primary', 'stop', { failover })).toEqual({ ok: true });
      expect(node.stage).toBe('done');
      expect(node.error).toBe(0);
    }
  });

  it('the primary’s checkpoint is a no-op in NONE and RUNNING', () => {
    for (const stage of ['none', 'running'] as const) {
      const { sim, node } = primaryIn(stage);
      expect(sim.replication('primary', 'checkpoint')).toEqual({ ok: true });
      expect(node.stage).toBe(stage);
    }
  });
});

// ---- *_all -------------------------------------------------------------------------------

describe('replication_*_all walks the host’s nodes newest first and stops at the first error', () => {
  it('calls every node, newest first', () => {
    const sim = newSimulation({ diskSizeBytes: DISK });
    expect(sim.openReplication('primary', { nodeName: 'older', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    expect(sim.openReplication('primary', { nodeName: 'newer', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    expect(sim.primary.replicationNodes.map((node) => node.nodeName)).toEqual(['newer', 'older', 'replication-primary']);
    const events = recordEvents(sim);
    expect(sim.replication('primary', 'start')).toEqual({ ok: true });
    expect(sim.replication('primary', 'checkpoint')).toEqual({ ok: true });
    expect(sim.replication('primary', 'get-error')).toEqual({ ok: true });
    expect(sim.replication('primary', 'stop')).toEqual({ ok: true });
    const calls = eventsOfKind(events, 'replication-call').map((event) => `${event.action}:${event.node}`);
    const order = ['newer', 'older', 'replication-primary'];
    expect(calls).toEqual(['start', 'checkpoint', 'get-error', 'stop'].flatMap((action) => order.map((name) => `${action}:${name}`)));
  });

  it('stops at the first error: nodes after it are not called', () => {
    const sim = newSimulation({ diskSizeBytes: DISK });
    // A secondary-mode node on the primary host fails start(primary) with the mode error.
    expect(sim.openReplication('primary', { nodeName: 'wrong-mode', mode: 'secondary', topId: 'colo-disk', file: 'nbd-client' }).ok).toBe(true);
    expect(sim.openReplication('primary', { nodeName: 'newest', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    const events = recordEvents(sim);
    expect(sim.replication('primary', 'start')).toEqual({ ok: false, message: "The parameter mode's value is invalid, needs 1, but got 0" });
    expect(eventsOfKind(events, 'replication-call').map((event) => [event.node, event.outcome])).toEqual([
      ['newest', 'ok'],
      ['wrong-mode', 'error'],
    ]);
    expect(replicationNode(sim, 'newest').stage).toBe('running');
    expect(replicationNode(sim, 'wrong-mode').stage).toBe('none');
    expect(replicationNode(sim, 'replication-primary').stage).toBe('none');
  });

  it('get-error stops at the first node with an error', () => {
    const sim = newSimulation({ diskSizeBytes: DISK });
    expect(sim.replication('primary', 'start').ok).toBe(true);
    expect(sim.openReplication('primary', { nodeName: 'unstarted', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    const events = recordEvents(sim);
    expect(sim.replication('primary', 'get-error')).toEqual({ ok: false, message: 'Block replication is not running' });
    expect(eventsOfKind(events, 'replication-call').map((event) => event.node)).toEqual(['unstarted']);
  });
});
