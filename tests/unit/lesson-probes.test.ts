/**
 * Every probe of the lesson contract, computed by src/engine/lesson/probes.ts on a live
 * simulation: read (node and vm), served-by, stage, get-error, allocated, job and count (since the
 * lesson's start and since the last checkpoint). A probe looks without changing the model.
 */
import { describe, expect, it } from 'vitest';
import { evaluateProbe, impossibleValue, LessonCounter, type ProbeOutcome } from '../../src/engine/lesson/probes.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import type { Probe } from '../../src/engine/scenario/schema.js';
import { KiB, MiB } from './support/bytes.js';
import { guestWritePattern, newSimulation, writePattern } from './support/simulation.js';

/** A pair with both disks at 0x11 and COLO running, clusters of 64 KiB. */
function runningPair(): Simulation {
  const sim = newSimulation({ clusterSizeBytes: 64 * KiB });
  writePattern(sim, 'primary-disk', 0, MiB, 0x11);
  writePattern(sim, 'secondary-disk', 0, MiB, 0x11);
  expect(sim.settle(sim.coloStart())).toEqual({ ok: true });
  return sim;
}

function value(outcome: ProbeOutcome): string {
  if (!outcome.ok) throw new Error(`the probe failed: ${outcome.message}`);
  return outcome.value;
}

const read = (where: { node: string } | { vm: 'primary' | 'secondary' }, offset: number, length: number): Probe => ({ read: { ...where, offset, length } });
const servedBy = (offset: number, length: number): Probe => ({ 'served-by': { vm: 'secondary', offset, length } });

describe('read', () => {
  it('gives the byte every byte of the range holds, through a node or a VM', () => {
    const sim = runningPair();
    guestWritePattern(sim, 'primary', 0, 64 * KiB, 0x22);
    expect(value(evaluateProbe(sim, read({ node: 'secondary-disk' }, 0, 64 * KiB)))).toBe('0x22');
    expect(value(evaluateProbe(sim, read({ vm: 'primary' }, 0, 64 * KiB)))).toBe('0x22');
    // The secondary VM still sees the checkpoint: the hidden disk holds the old 0x11.
    expect(value(evaluateProbe(sim, read({ vm: 'secondary' }, 0, 64 * KiB)))).toBe('0x11');
  });

  it('gives "mixed" when the bytes differ', () => {
    const sim = runningPair();
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x22);
    expect(value(evaluateProbe(sim, read({ node: 'primary-disk' }, 0, 64 * KiB)))).toBe('mixed');
  });

  it('gives the errno of a read that fails, and leaves a counted fault unused', () => {
    const sim = runningPair();
    expect(sim.injectFault({ kind: 'io-error', node: 'active-disk', on: 'read', count: 1 })).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, read({ vm: 'secondary' }, 0, 4 * KiB)))).toBe('EIO');
    // The look did not use the fault up: the VM's own read still fails, once.
    expect(sim.readNow('top-disk', 0, 4 * KiB)).toEqual({ ok: false, errno: 'EIO' });
    expect(sim.readNow('top-disk', 0, 4 * KiB).ok).toBe(true);
  });

  it('gives EIO for the secondary VM before replication starts (stage none refuses I/O)', () => {
    const sim = newSimulation();
    expect(value(evaluateProbe(sim, read({ vm: 'secondary' }, 0, 4 * KiB)))).toBe('EIO');
  });

  it('takes no virtual time for a local read', () => {
    const sim = runningPair();
    const before = sim.nowUs;
    evaluateProbe(sim, read({ node: 'hidden-disk' }, 0, 64 * KiB));
    expect(sim.nowUs).toBe(before);
  });
});

describe('served-by', () => {
  it('names the layer whose own data the secondary VM reads: secondary disk, hidden disk, active disk', () => {
    const sim = runningPair();
    expect(value(evaluateProbe(sim, servedBy(0, 64 * KiB)))).toBe('secondary-disk');
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x22); // copy-before-write: the hidden disk keeps 0x11
    expect(value(evaluateProbe(sim, servedBy(0, 64 * KiB)))).toBe('hidden-disk');
    guestWritePattern(sim, 'secondary', 0, 64 * KiB, 0x33); // the secondary VM's own write
    expect(value(evaluateProbe(sim, servedBy(0, 64 * KiB)))).toBe('active-disk');
  });

  it('gives "mixed" when layers share the range, and an errno when the read fails', () => {
    const sim = runningPair();
    guestWritePattern(sim, 'secondary', 0, 64 * KiB, 0x33);
    expect(value(evaluateProbe(sim, servedBy(0, 128 * KiB)))).toBe('mixed');
    sim.injectFault({ kind: 'eject', node: 'hidden-disk' });
    expect(value(evaluateProbe(sim, servedBy(64 * KiB, 64 * KiB)))).toBe('ENOMEDIUM');
  });

  it('follows the roles: after a restart it reads through the new secondary VM\'s disk and names its generation\'s images', () => {
    const sim = runningPair();
    expect(sim.settle(sim.failover('secondary'))).toEqual({ ok: true });
    expect(sim.runUntilIdle()).toBe(true);
    // The lost primary comes back as the new secondary: its VM's disk is top-disk-2 (stage none until COLO starts again).
    expect(sim.restartHost('primary', 'fresh')).toEqual({ ok: true });
    expect(sim.vmDiskNode('secondary')).toBe('top-disk-2');
    expect(value(evaluateProbe(sim, servedBy(0, 64 * KiB)))).toBe('EIO');
    expect(value(evaluateProbe(sim, read({ vm: 'primary' }, 0, 64 * KiB)))).toBe('0x11');
    expect(impossibleValue(servedBy(0, 64 * KiB), 'hidden-disk-2')).toBeUndefined();
    expect(impossibleValue(servedBy(0, 64 * KiB), 'hidden-disk-x')).toBeDefined();
  });

  it('names the secondary disk after the failover commit completed', () => {
    const sim = runningPair();
    guestWritePattern(sim, 'secondary', 0, 64 * KiB, 0x33);
    expect(sim.settle(sim.failover('secondary'))).toEqual({ ok: true });
    expect(sim.runUntilIdle()).toBe(true);
    expect(value(evaluateProbe(sim, servedBy(0, 64 * KiB)))).toBe('secondary-disk');
  });
});

describe('stage, get-error, allocated, job', () => {
  it('stage follows the replication node', () => {
    const sim = newSimulation();
    expect(value(evaluateProbe(sim, { stage: { node: 'replication-secondary' } }))).toBe('none');
    expect(sim.settle(sim.coloStart())).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, { stage: { node: 'replication-secondary' } }))).toBe('running');
    expect(value(evaluateProbe(sim, { stage: { node: 'replication-primary' } }))).toBe('running');
    expect(evaluateProbe(sim, { stage: { node: 'nothing-here' } })).toEqual({ ok: false, message: 'nothing-here does not exist' });
  });

  it('get-error gives "ok" or QEMU\'s message', () => {
    const sim = newSimulation();
    expect(value(evaluateProbe(sim, { 'get-error': { host: 'secondary' } }))).toBe('Block replication is not running');
    expect(sim.settle(sim.coloStart())).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, { 'get-error': { host: 'primary' } }))).toBe('ok');
    sim.injectFault({ kind: 'cancel-job', host: 'secondary', type: 'backup' });
    expect(value(evaluateProbe(sim, { 'get-error': { host: 'secondary' } }))).toBe('I/O error occurred');
  });

  it('allocated gives all, none or some of the image\'s own layer', () => {
    const sim = runningPair();
    guestWritePattern(sim, 'secondary', 0, 64 * KiB, 0x33);
    expect(value(evaluateProbe(sim, { allocated: { node: 'active-disk', offset: 0, length: 64 * KiB } }))).toBe('all');
    expect(value(evaluateProbe(sim, { allocated: { node: 'active-disk', offset: 64 * KiB, length: 64 * KiB } }))).toBe('none');
    expect(value(evaluateProbe(sim, { allocated: { node: 'active-disk', offset: 0, length: 128 * KiB } }))).toBe('some');
  });

  it('job gives running or absent', () => {
    const sim = newSimulation();
    expect(value(evaluateProbe(sim, { job: { host: 'secondary', type: 'backup' } }))).toBe('absent');
    expect(sim.settle(sim.coloStart())).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, { job: { host: 'secondary', type: 'backup' } }))).toBe('running');
    expect(value(evaluateProbe(sim, { job: { host: 'secondary', type: 'commit' } }))).toBe('absent');
  });
});

describe('count', () => {
  const cbwSince = (since: 'lesson-start' | 'last-checkpoint'): Probe => ({ count: { event: 'cbw-copy', since } });

  it('counts events since the lesson started and since the last checkpoint', () => {
    const sim = runningPair();
    const { counter } = LessonCounter.follow(sim);
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x22);
    guestWritePattern(sim, 'primary', 8 * KiB, 4 * KiB, 0x22); // same cluster: copied once only
    guestWritePattern(sim, 'primary', 64 * KiB, 4 * KiB, 0x22);
    expect(value(evaluateProbe(sim, cbwSince('lesson-start'), counter))).toBe('2');
    expect(value(evaluateProbe(sim, cbwSince('last-checkpoint'), counter))).toBe('2');
    expect(sim.settle(sim.checkpoint())).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, cbwSince('last-checkpoint'), counter))).toBe('0');
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x44);
    expect(value(evaluateProbe(sim, cbwSince('last-checkpoint'), counter))).toBe('1');
    expect(value(evaluateProbe(sim, cbwSince('lesson-start'), counter))).toBe('3');
  });

  it('does not count what probes and checks cause, and a primary checkpoint does not restart the count', () => {
    const sim = runningPair();
    const { counter } = LessonCounter.follow(sim);
    const reads: Probe = { count: { event: 'io-issued', since: 'lesson-start' } };
    evaluateProbe(sim, read({ vm: 'secondary' }, 0, 4 * KiB), counter);
    evaluateProbe(sim, servedBy(0, 4 * KiB), counter);
    expect(value(evaluateProbe(sim, reads, counter))).toBe('0');
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x22);
    expect(value(evaluateProbe(sim, reads, counter))).toBe('1');
    expect(sim.replication('primary', 'checkpoint')).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, cbwSince('last-checkpoint'), counter))).toBe('1');
    expect(sim.replication('secondary', 'checkpoint')).toEqual({ ok: true });
    expect(value(evaluateProbe(sim, cbwSince('last-checkpoint'), counter))).toBe('0');
  });

  it('saves and restores its counts as plain data', () => {
    const sim = runningPair();
    const { counter, stop } = LessonCounter.follow(sim);
    guestWritePattern(sim, 'primary', 0, 4 * KiB, 0x22);
    stop();
    const state = JSON.parse(JSON.stringify(counter.saveState()));
    const restored = new LessonCounter(() => undefined, state);
    expect(restored.count('cbw-copy', 'lesson-start')).toBe(1);
    expect(restored.count('cbw-copy', 'last-checkpoint')).toBe(1);
  });

  it('needs a lesson run', () => {
    const sim = runningPair();
    expect(evaluateProbe(sim, cbwSince('lesson-start'))).toEqual({ ok: false, message: 'a count probe needs a lesson run (the runner counts the events)' });
  });
});

describe('the values a probe can give (for validation)', () => {
  it('accepts each probe\'s values and refuses others', () => {
    expect(impossibleValue(read({ node: 'top-disk' }, 0, 512), '0x1f')).toBeUndefined();
    expect(impossibleValue(read({ node: 'top-disk' }, 0, 512), 'EIO')).toBeUndefined();
    expect(impossibleValue(read({ node: 'top-disk' }, 0, 512), '0x1F')).toMatch(/lower-case/);
    expect(impossibleValue(servedBy(0, 512), 'hidden-disk')).toBeUndefined();
    expect(impossibleValue(servedBy(0, 512), 'hidden')).toMatch(/served-by/);
    expect(impossibleValue({ stage: { node: 'replication-secondary' } }, 'failover-failed')).toBeUndefined();
    expect(impossibleValue({ stage: { node: 'replication-secondary' } }, 'stopped')).toMatch(/stage/);
    expect(impossibleValue({ 'get-error': { host: 'primary' } }, 'anything QEMU says')).toBeUndefined();
    expect(impossibleValue({ allocated: { node: 'hidden-disk', offset: 0, length: 512 } }, 'some')).toBeUndefined();
    expect(impossibleValue({ job: { host: 'secondary', type: 'commit' } }, 'done')).toMatch(/running/);
    expect(impossibleValue({ count: { event: 'cbw-copy', since: 'lesson-start' } }, '12')).toBeUndefined();
    expect(impossibleValue({ count: { event: 'cbw-copy', since: 'lesson-start' } }, 'two')).toMatch(/digits/);
  });
});
