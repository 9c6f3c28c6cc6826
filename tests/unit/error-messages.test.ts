/**
 * Every error message the engine reports, each reached through real calls and compared exactly
 * with QEMU's words (block/replication.c, block.c, migration/colo*.c), checks in QEMU's order.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { BlockBackend } from '../../src/engine/block/graph.js';
import { QuorumNode } from '../../src/engine/block/quorum.js';
import { Host } from '../../src/engine/colo/host.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { MESSAGES } from '../../src/engine/replication/messages.js';
import { checkState } from '../../src/engine/scenario/step-executor.js';
import { KiB, MiB } from './support/bytes.js';
import { newEnv, newQcow2, newRaw } from './support/block-env.js';
import { guestWritePattern, newSimulation, replicationNode, startSecondary, writePattern } from './support/simulation.js';

const DISK = 1 * MiB;

function sim(): Simulation {
  return newSimulation({ diskSizeBytes: DISK });
}

function failsWith(outcome: { ok: boolean; message?: string }): string {
  expect(outcome.ok).toBe(false);
  return outcome.message ?? '(no message)';
}

describe('the message table is QEMU’s words', () => {
  // Written from QEMU's sources, not from the engine: a message added to the engine without a
  // test here, or reworded, fails this test.
  const QEMU_WORDS: Record<keyof typeof MESSAGES, string> = {
    missingMode: 'Missing the option mode',
    primaryTopId: 'The primary side does not support option top-id',
    missingTopId: 'Missing the option top-id',
    badMode: "The option mode's value should be primary or secondary",
    runningOrDone: 'Block replication is running or done',
    wrongMode: "The parameter mode's value is invalid, needs 0, but got 1",
    activeNoBacking: "Active disk doesn't have backing file",
    hiddenNoBacking: "Hidden disk doesn't have backing file",
    secondaryNoBackend: "The secondary disk doesn't have block backend",
    lengthsDiffer: "Active disk, hidden disk, secondary disk's length are not the same",
    noMakeEmpty: "Active disk or hidden disk doesn't support make_empty",
    invalidTop: 'No top_bs or it is invalid',
    backupCancelled: 'Backup job was cancelled unexpectedly',
    activeEjected: 'Active disk active-disk is ejected',
    hiddenEjected: 'Hidden disk hidden-disk is ejected',
    failedToEmpty: 'Failed to empty active_disk.qcow2: Input/output error',
    notRunning: 'Block replication is not running',
    ioErrorOccurred: 'I/O error occurred',
    duplicateNode: "Duplicate nodes with node-name='replication-primary'",
    fileMissing: 'A block device must be specified for "file"',
    cannotFind: "Cannot find device='nowhere' nor node-name='nowhere'",
    featureDisabled: "The feature 'colo' is not enabled",
    failoverAlreadyActive: 'COLO failover is already activated',
  };

  it('every message, with the arguments the tests below use', () => {
    const rendered: Record<string, string> = {};
    for (const [key, value] of Object.entries(MESSAGES)) {
      if (typeof value === 'string') rendered[key] = value;
    }
    rendered.wrongMode = MESSAGES.wrongMode('primary', 'secondary');
    rendered.activeEjected = MESSAGES.activeEjected('active-disk');
    rendered.hiddenEjected = MESSAGES.hiddenEjected('hidden-disk');
    rendered.failedToEmpty = MESSAGES.failedToEmpty('active_disk.qcow2', 'EIO');
    rendered.duplicateNode = MESSAGES.duplicateNode('replication-primary');
    rendered.cannotFind = MESSAGES.cannotFind('nowhere');
    rendered.featureDisabled = MESSAGES.featureDisabled('colo');
    expect(rendered).toEqual(QEMU_WORDS);
  });
});

describe('open (replication_open, after the block layer opens the file child)', () => {
  it('reports each option error', () => {
    const s = sim();
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', file: 'nbd-client' }))).toBe('Missing the option mode');
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', mode: 'primary', topId: 'colo-disk', file: 'nbd-client' }))).toBe(
      'The primary side does not support option top-id',
    );
    expect(failsWith(s.openReplication('secondary', { nodeName: 'extra', mode: 'secondary', file: 'active-disk' }))).toBe('Missing the option top-id');
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', mode: 'Primary', file: 'nbd-client' }))).toBe(
      "The option mode's value should be primary or secondary",
    );
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', mode: 'primary' }))).toBe('A block device must be specified for "file"');
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', mode: 'primary', file: 'nowhere' }))).toBe("Cannot find device='nowhere' nor node-name='nowhere'");
    expect(failsWith(s.openReplication('primary', { nodeName: 'replication-primary', mode: 'primary', file: 'nbd-client' }))).toBe(
      "Duplicate nodes with node-name='replication-primary'",
    );
    // None of the failed opens registered a node.
    expect(s.findNode('extra')).toBeUndefined();
    expect(s.primary.replicationNodes.map((node) => node.nodeName)).toEqual(['replication-primary']);
  });

  it('checks in QEMU’s order: node name, then file, then mode, then top-id', () => {
    const s = sim();
    // Duplicate name beats a missing file and a missing mode.
    expect(failsWith(s.openReplication('primary', { nodeName: 'replication-primary' }))).toBe("Duplicate nodes with node-name='replication-primary'");
    // A missing file beats a missing mode.
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra' }))).toBe('A block device must be specified for "file"');
    // An unknown file beats a bad mode.
    expect(failsWith(s.openReplication('primary', { nodeName: 'extra', mode: 'bogus', file: 'nowhere' }))).toBe("Cannot find device='nowhere' nor node-name='nowhere'");
    // A missing mode beats a top-id given.
    expect(failsWith(s.openReplication('secondary', { nodeName: 'extra', topId: 'top-disk', file: 'active-disk' }))).toBe('Missing the option mode');
    // An unknown mode is checked after the two known ones, so top-id is not looked at.
    expect(failsWith(s.openReplication('secondary', { nodeName: 'extra', mode: 'backup', file: 'active-disk' }))).toBe(
      "The option mode's value should be primary or secondary",
    );
  });
});

describe('start (replication_start)', () => {
  it('the mode must match the node’s: needs/got printed as numbers (primary 0, secondary 1)', () => {
    const s = sim();
    expect(failsWith(s.replication('secondary', 'start', { mode: 'primary' }))).toBe("The parameter mode's value is invalid, needs 1, but got 0");
    expect(failsWith(s.replication('primary', 'start', { mode: 'secondary' }))).toBe("The parameter mode's value is invalid, needs 0, but got 1");
  });

  it('RUNNING: "Block replication is running or done", checked before the mode', () => {
    const s = sim();
    startSecondary(s);
    expect(failsWith(s.replication('secondary', 'start'))).toBe('Block replication is running or done');
    expect(failsWith(s.replication('secondary', 'start', { mode: 'primary' }))).toBe('Block replication is running or done');
  });

  it('FAILOVER_FAILED: "Block replication is running or done", checked before the mode', () => {
    const s = sim();
    startSecondary(s);
    guestWritePattern(s, 'secondary', 0, 4 * KiB, 0x33);
    s.injectFault({ kind: 'io-error', node: 'secondary-disk', on: 'write', count: 1 });
    s.replication('secondary', 'stop', { failover: true });
    expect(s.runUntilIdle()).toBe(true);
    expect(replicationNode(s, 'replication-secondary').stage).toBe('failover-failed');
    expect(failsWith(s.replication('secondary', 'start', { mode: 'primary' }))).toBe('Block replication is running or done');
  });

  it('DONE: ignored, and that check comes before the mode check', () => {
    const s = sim();
    expect(s.replication('primary', 'start').ok).toBe(true);
    expect(s.replication('primary', 'stop').ok).toBe(true);
    expect(s.replication('primary', 'start', { mode: 'secondary' })).toEqual({ ok: true });
    expect(replicationNode(s, 'replication-primary').stage).toBe('done');
  });

  it('"Active disk doesn\'t have backing file" and "Hidden disk doesn\'t have backing file"', () => {
    const s = sim();
    expect(s.openReplication('secondary', { nodeName: 'over-hidden', mode: 'secondary', topId: 'top-disk', file: 'hidden-disk' }).ok).toBe(true);
    expect(failsWith(s.replication('secondary', 'start'))).toBe("Hidden disk doesn't have backing file");
    expect(s.openReplication('secondary', { nodeName: 'over-raw', mode: 'secondary', topId: 'top-disk', file: 'secondary-disk' }).ok).toBe(true);
    expect(failsWith(s.replication('secondary', 'start'))).toBe("Active disk doesn't have backing file");
    expect(replicationNode(s, 'over-hidden').stage).toBe('none');
    expect(replicationNode(s, 'over-raw').stage).toBe('none');
  });

  it('a wrong mode is reported before the chain is looked at', () => {
    const s = sim();
    expect(s.openReplication('secondary', { nodeName: 'over-raw', mode: 'secondary', topId: 'top-disk', file: 'secondary-disk' }).ok).toBe(true);
    expect(failsWith(s.replication('secondary', 'start', { mode: 'primary' }))).toBe("The parameter mode's value is invalid, needs 1, but got 0");
  });

  it('"The secondary disk doesn\'t have block backend" once copy-before-write holds the NBD export', () => {
    const s = sim();
    startSecondary(s);
    expect(s.openReplication('secondary', { nodeName: 'second', mode: 'secondary', topId: 'top-disk', file: 'active-disk' }).ok).toBe(true);
    expect(failsWith(s.replication('secondary', 'start'))).toBe("The secondary disk doesn't have block backend");
    expect(replicationNode(s, 'second').stage).toBe('none');
  });

  it('"Active disk, hidden disk, secondary disk\'s length are not the same" when a length is unknown (ejected)', () => {
    for (const ejected of ['active-disk', 'hidden-disk', 'secondary-disk']) {
      const s = sim();
      s.injectFault({ kind: 'eject', node: ejected });
      expect(failsWith(s.replication('secondary', 'start')), ejected).toBe("Active disk, hidden disk, secondary disk's length are not the same");
      expect(replicationNode(s, 'replication-secondary').stage).toBe('none');
      expect(s.secondary.jobs.ofType('backup')).toBeUndefined();
    }
  });

  it('"Active disk, hidden disk, secondary disk\'s length are not the same" and "... doesn\'t support make_empty" on a hand-built chain', () => {
    // QEMU's chain with images of other sizes and formats; the fixed topology cannot have them.
    const env = newEnv();
    const build = (activeSizeBytes: number, activeIsRaw: boolean) => {
      const host = new Host('secondary', env, { copyTimeUs: 100, nextRequestId: () => 1 });
      const secondary = newRaw(env, 'sec', DISK);
      const hidden = newQcow2(env, 'hid', DISK, 64 * KiB, secondary);
      const active = activeIsRaw ? newRaw(env, 'act', activeSizeBytes) : newQcow2(env, 'act', activeSizeBytes, 64 * KiB);
      // A raw image standing in for a format with backing files but no make_empty.
      active.children.set('backing', hidden);
      for (const node of [secondary, hidden, active]) host.graph.add(node);
      host.graph.backends.push(new BlockBackend('export', secondary, 'sec'));
      const rep = host.addReplicationNode('rep', 'secondary', 'top', 'act');
      const top = new QuorumNode('top', 'secondary', env);
      top.children.set('children.0', rep);
      host.graph.add(top);
      host.graph.backends.push(new BlockBackend('vm', top, 'top'));
      return { host, rep };
    };
    const shorter = build(DISK - 512, false);
    expect(shorter.rep.start('secondary')).toEqual({ outcome: 'error', message: "Active disk, hidden disk, secondary disk's length are not the same" });
    const noMakeEmpty = build(DISK, true);
    expect(noMakeEmpty.rep.start('secondary')).toEqual({ outcome: 'error', message: "Active disk or hidden disk doesn't support make_empty" });
    expect(noMakeEmpty.rep.stage).toBe('none');
    const fine = build(DISK, false);
    expect(fine.rep.start('secondary')).toEqual({ outcome: 'ok' });
  });

  it('"No top_bs or it is invalid": top-id names no node, or a node that is not a root', () => {
    for (const topId of ['no-such-node', 'replication-secondary']) {
      const s = sim();
      expect(s.openReplication('secondary', { nodeName: 'bad-top', mode: 'secondary', topId, file: 'active-disk' }).ok).toBe(true);
      expect(failsWith(s.replication('secondary', 'start')), topId).toBe('No top_bs or it is invalid');
      expect(replicationNode(s, 'bad-top').stage).toBe('none');
      expect(s.secondary.jobs.ofType('backup')).toBeUndefined();
    }
  });

  it('reports an error of its first checkpoint, yet replication runs with error 0', () => {
    const s = sim();
    s.injectFault({ kind: 'io-error', node: 'active-disk', on: 'write', count: 1 });
    const outcome = s.replication('secondary', 'start');
    expect(failsWith(outcome)).toBe('Failed to empty active_disk.qcow2: Input/output error');
    const node = replicationNode(s, 'replication-secondary');
    expect(node.stage).toBe('running');
    expect(node.error).toBe(0);
    expect(s.replication('secondary', 'get-error')).toEqual({ ok: true });
  });
});

describe('checkpoint (secondary_do_checkpoint)', () => {
  it('"Backup job was cancelled unexpectedly": not started, or the backup job was cancelled', () => {
    const s = sim();
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Backup job was cancelled unexpectedly');
    startSecondary(s);
    expect(s.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' }).ok).toBe(true);
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Backup job was cancelled unexpectedly');
  });

  it('"Active disk active-disk is ejected": the bitmap is reset first, nothing is emptied', () => {
    const s = sim();
    startSecondary(s);
    writePattern(s, 'secondary-disk', 0, 512, 0x22);
    const backup = replicationNode(s, 'replication-secondary').backup!;
    expect([...backup.copyState.copiedClusterIndices()]).toEqual([0]);
    s.injectFault({ kind: 'eject', node: 'active-disk' });
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Active disk active-disk is ejected');
    expect([...backup.copyState.copiedClusterIndices()]).toEqual([]);
    expect(s.allocationOf('hidden-disk', 0, 64 * KiB)).toBe('all');
  });

  it('"Hidden disk hidden-disk is ejected": the active disk was emptied before', () => {
    const s = sim();
    startSecondary(s);
    guestWritePattern(s, 'secondary', 0, 4 * KiB, 0x33);
    s.injectFault({ kind: 'eject', node: 'hidden-disk' });
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Hidden disk hidden-disk is ejected');
    expect(s.allocationOf('active-disk', 0, DISK)).toBe('none');
  });

  it('"Failed to empty <file>: Input/output error", for the active disk then the hidden disk', () => {
    const s = sim();
    startSecondary(s);
    guestWritePattern(s, 'secondary', 0, 4 * KiB, 0x33);
    writePattern(s, 'secondary-disk', 128 * KiB, 512, 0x22);
    s.injectFault({ kind: 'io-error', node: 'active-disk', on: 'write', count: 1 });
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Failed to empty active_disk.qcow2: Input/output error');
    // The error skips the hidden disk.
    expect(s.allocationOf('active-disk', 0, 4 * KiB)).toBe('all');
    expect(s.allocationOf('hidden-disk', 128 * KiB, 64 * KiB)).toBe('all');
    s.injectFault({ kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    expect(failsWith(s.replication('secondary', 'checkpoint'))).toBe('Failed to empty hidden_disk.qcow2: Input/output error');
    expect(s.allocationOf('active-disk', 0, DISK)).toBe('none');
    expect(s.allocationOf('hidden-disk', 128 * KiB, 64 * KiB)).toBe('all');
    expect(s.replication('secondary', 'checkpoint')).toEqual({ ok: true });
    expect(s.allocationOf('hidden-disk', 0, DISK)).toBe('none');
  });
});

describe('get-error and stop', () => {
  it('"Block replication is not running": get-error and stop before start', () => {
    const s = sim();
    expect(failsWith(s.replication('primary', 'get-error'))).toBe('Block replication is not running');
    expect(failsWith(s.replication('secondary', 'get-error'))).toBe('Block replication is not running');
    expect(failsWith(s.replication('primary', 'stop'))).toBe('Block replication is not running');
    expect(failsWith(s.replication('secondary', 'stop', { failover: true }))).toBe('Block replication is not running');
  });

  it('"I/O error occurred": after the backup job ended while running', () => {
    const s = sim();
    startSecondary(s);
    s.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' });
    expect(replicationNode(s, 'replication-secondary').stage).toBe('running');
    expect(failsWith(s.replication('secondary', 'get-error'))).toBe('I/O error occurred');
  });

  it('"Backup job was cancelled unexpectedly": stop without failover on the secondary', () => {
    const s = sim();
    startSecondary(s);
    expect(failsWith(s.replication('secondary', 'stop', { failover: false }))).toBe('Backup job was cancelled unexpectedly');
  });
});

describe('COLO (migration/colo.c, colo-failover.c)', () => {
  it('colo-failover.c qmp_x_colo_lost_heartbeat: "The feature \'colo\' is not enabled" before COLO started (QERR_FEATURE_DISABLED)', () => {
    const s = sim();
    expect(failsWith(s.settle(s.failover('secondary')))).toBe("The feature 'colo' is not enabled");
    expect(failsWith(s.settle(s.failover('primary')))).toBe("The feature 'colo' is not enabled");
    expect(replicationNode(s, 'replication-secondary').stage).toBe('none');
    // A refused request changes nothing: the link is up and both hosts run.
    expect(s.link.isUp).toBe(true);
    expect(s.colo.primary.state.crashed || s.colo.secondary.state.crashed).toBe(false);
  });

  // colo.c secondary_vm_do_failover / primary_vm_do_failover move the migration state from COLO to
  // COMPLETED, so get_colo_mode() is COLO_MODE_NONE again and the first check refuses.
  it('colo-failover.c qmp_x_colo_lost_heartbeat: the same refusal after a completed failover', () => {
    const s = sim();
    expect(s.settle(s.coloStart()).ok).toBe(true);
    expect(s.settle(s.failover('secondary')).ok).toBe(true);
    expect(failsWith(s.settle(s.failover('secondary')))).toBe("The feature 'colo' is not enabled");
  });

  it('colo-failover.c failover_request_active: "COLO failover is already activated" for a request while one is pending', () => {
    const s = sim();
    expect(s.settle(s.coloStart()).ok).toBe(true);
    const inFlight = s.guestWrite('primary', 0, DataRuns.fill(65536, 0x42));
    const first = s.failover('primary');
    expect(s.isSettled(first)).toBe(false);
    expect(s.colo.primary.state.failover).toBe('require');
    expect(s.coloState).toBe('failing-over');
    expect(failsWith(s.settle(s.failover('primary')))).toBe('COLO failover is already activated');
    expect(s.settle(first).ok).toBe(true);
    expect(s.isSettled(inFlight)).toBe(true);
    expect(s.colo.primary.state.failover).toBe('completed');
    expect(s.coloState).toBe('failed-over');
    expect(s.vmRunning('primary')).toBe(true);
  });

  it('a failover to the host that was lost is refused (colo-sim: the lost host runs nothing)', () => {
    const s = sim();
    expect(s.settle(s.coloStart()).ok).toBe(true);
    expect(s.settle(s.failover('secondary')).ok).toBe(true);
    expect(failsWith(s.settle(s.failover('primary')))).toBe('The primary host is lost: a failover runs on the surviving host');
    expect(replicationNode(s, 'replication-primary').stage).toBe('running');
  });

  it('colo.c colo_process_incoming_thread: the secondary\'s replication_start_all error ends COLO start; the primary still waits for CHECKPOINT_READY', () => {
    const s = sim();
    s.injectFault({ kind: 'eject', node: 'hidden-disk' });
    expect(failsWith(s.settle(s.coloStart()))).toBe("Active disk, hidden disk, secondary disk's length are not the same");
    expect(replicationNode(s, 'replication-primary').stage).toBe('none');
    expect(s.colo.secondary.state.thread?.place).toBe('exited');
    expect(s.colo.primary.state.thread?.place).toBe('waiting-ready');
    expect(s.colo.qmpEventsOf('secondary').map((event) => [event.name, event.data])).toContainEqual(['COLO_EXIT', { mode: 'secondary', reason: 'error' }]);
  });

  it('colo.c colo_incoming_process_checkpoint: replication_get_error_all comes before replication_do_checkpoint_all', () => {
    const s = sim();
    expect(s.settle(s.coloStart()).ok).toBe(true);
    s.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' });
    // The replication checkpoint would say "Backup job was cancelled unexpectedly"; get-error comes first.
    expect(failsWith(s.settle(s.checkpoint()))).toBe('I/O error occurred');
  });

  it('colo.c secondary_vm_do_failover: replication_stop_all(true)\'s error is only logged; the step reports it, and the failover happens', () => {
    const s = sim();
    expect(s.settle(s.coloStart()).ok).toBe(true);
    expect(s.openReplication('secondary', { nodeName: 'late', mode: 'secondary', topId: 'top-disk', file: 'active-disk' }).ok).toBe(true);
    expect(failsWith(s.settle(s.failover('secondary')))).toBe('Block replication is not running');
    expect(s.coloState).toBe('failed-over');
    expect(s.link.isUp).toBe(false);
  });
});

describe('the simulation’s own errors', () => {
  it('faults on nodes that do not exist or are not images, and jobs that are not running', () => {
    const s = sim();
    expect(failsWith(s.injectFault({ kind: 'io-error', node: 'nowhere', on: 'read' }))).toBe('no node named nowhere');
    expect(failsWith(s.injectFault({ kind: 'eject', node: 'top-disk' }))).toBe('top-disk is not an image');
    expect(failsWith(s.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' }))).toBe('No backup job is running on the secondary host');
    expect(failsWith(s.injectFault({ kind: 'cancel-job', host: 'primary', type: 'commit' }))).toBe('No commit job is running on the primary host');
  });

  it('checks that do not hold say what was found', () => {
    const s = sim();
    writePattern(s, 'primary-disk', 3 * 512, 512, 0x11);
    expect(checkState(s, { op: 'check', stage: { node: 'replication-secondary', is: 'running' } })).toEqual({
      ok: false,
      message: 'replication-secondary is in stage none, not running',
    });
    expect(checkState(s, { op: 'check', job: { host: 'secondary', type: 'backup', is: 'running' } })).toEqual({
      ok: false,
      message: 'the backup job on secondary is absent, not running',
    });
    expect(checkState(s, { op: 'check', allocated: { node: 'active-disk', offset: 0, length: 65536, is: 'all' } })).toEqual({
      ok: false,
      message: 'active-disk [0, +65536) is not allocated, not all allocated',
    });
    expect(checkState(s, { op: 'check', same: ['secondary-disk', 'primary-disk'] })).toEqual({
      ok: false,
      message: 'secondary-disk and primary-disk differ at offset 1536 (0x00 vs 0x11)',
    });
    expect(checkState(s, { op: 'check', same: ['primary-disk', 'replication-secondary'] })).toEqual({
      ok: false,
      message: 'reading replication-secondary failed with EIO',
    });
  });
});
