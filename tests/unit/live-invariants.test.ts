/**
 * The live invariants (src/engine/invariants): (a) after a checkpoint primary-disk, secondary-disk
 * and the secondary VM's view are equal; (b) during an epoch the secondary VM's view is
 * secondary-disk overlaid by hidden-disk then active-disk; (c) hidden-disk holds exactly the
 * clusters the primary overwrote since the checkpoint. Each is shown holding on a healthy run,
 * and broken by a fault, naming the clusters and why. Where (b) says a cluster is broken, a real
 * read by the secondary VM fails there, and where it holds, the read returns the overlay of the
 * layers. Checking changes nothing: no event, no fault used up.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { LiveInvariants, type InvariantCheck, type InvariantReport } from '../../src/engine/invariants/live-invariants.js';
import { performStep } from '../../src/engine/scenario/step-executor.js';
import { validateStep } from '../../src/engine/scenario/validate.js';
import { Simulation as SimulationClass } from '../../src/engine/colo/simulation.js';
import { DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A 1 MiB pair (16 clusters of 64 KiB), both disks 0x11, with the invariants following it. */
function pair(): { sim: Simulation; invariants: LiveInvariants; act: (step: Record<string, unknown>) => void } {
  const sim = new SimulationClass({ ...DEFAULT_SETTINGS, diskSizeBytes: MiB }, createMemoryStore);
  const invariants = new LiveInvariants(sim);
  const act = (step: Record<string, unknown>) => {
    const validation = validateStep(step, sim.settings, []);
    if (!validation.ok) throw new Error(`invalid step ${JSON.stringify(step)}: ${JSON.stringify(validation.errors)}`);
    const performed = performStep(sim, validation.step);
    if (performed.kind === 'pending') throw new Error('async steps are not used here');
  };
  act({ op: 'write', node: 'primary-disk', offset: 0, length: '1M', pattern: '0x11' });
  act({ op: 'write', node: 'secondary-disk', offset: 0, length: '1M', pattern: '0x11' });
  return { sim, invariants, act };
}

function check(report: InvariantReport, id: InvariantCheck['id']): InvariantCheck {
  return report.checks.find((candidate) => candidate.id === id)!;
}

function statuses(report: InvariantReport): string[] {
  return report.checks.map((entry) => `${entry.id}: ${entry.status}`);
}

describe('live invariants on a healthy run', () => {
  it('do not apply before replication runs on the secondary', () => {
    const { invariants } = pair();
    const report = invariants.report();
    expect(report.clusterBytes).toBe(64 * KiB);
    expect(statuses(report)).toEqual(['checkpoint-equal: not-applicable', 'svm-view-layers: not-applicable', 'hidden-holds-overwritten: not-applicable']);
    expect(check(report, 'checkpoint-equal').note).toBe('replication-secondary is in stage none: no checkpoint to check');
    expect(check(report, 'svm-view-layers').note).toBe('replication-secondary is in stage none: no epoch');
  });

  it('hold through COLO start, writes of both VMs and a checkpoint', () => {
    const { sim, invariants, act } = pair();
    act({ op: 'colo-start' });
    let report = invariants.report();
    expect(statuses(report)).toEqual(['checkpoint-equal: held', 'svm-view-layers: held', 'hidden-holds-overwritten: held']);
    expect(check(report, 'hidden-holds-overwritten').note).toBe('the primary overwrote nothing since the checkpoint, and hidden-disk holds nothing');

    act({ op: 'guest-write', vm: 'primary', offset: '64K', length: '4K', pattern: '0x22' });
    act({ op: 'guest-write', vm: 'primary', offset: '96K', length: '4K', pattern: '0x44' });
    act({ op: 'guest-write', vm: 'secondary', offset: '256K', length: '64K', pattern: '0x33' });
    report = invariants.report();
    expect(statuses(report)).toEqual(['checkpoint-equal: held', 'svm-view-layers: held', 'hidden-holds-overwritten: held']);
    expect(check(report, 'hidden-holds-overwritten').note).toBe('hidden-disk holds the old data of the 1 cluster the primary overwrote since the checkpoint, and nothing else');

    // (a) is checked as the secondary's replication_do_checkpoint returns (COLO's checkpoint goes on after it).
    const secondaryCheckpoints: number[] = [];
    sim.events.subscribe((event) => {
      if (event.kind === 'replication-call' && event.node === 'replication-secondary' && event.action === 'checkpoint') secondaryCheckpoints.push(event.timeUs);
    });
    act({ op: 'checkpoint' });
    report = invariants.report();
    expect(statuses(report)).toEqual(['checkpoint-equal: held', 'svm-view-layers: held', 'hidden-holds-overwritten: held']);
    expect(secondaryCheckpoints).toHaveLength(1);
    expect(check(report, 'checkpoint-equal').checkedAtUs).toBe(secondaryCheckpoints[0]);
    expect(check(report, 'checkpoint-equal').note).toBe("primary-disk, secondary-disk and the secondary VM's view were equal after the last checkpoint");
  });

  it('do not apply after a failover (no more epochs)', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'guest-write', vm: 'secondary', offset: 0, length: '64K', pattern: '0x33' });
    act({ op: 'failover', to: 'secondary' });
    expect(statuses(invariants.report())).toEqual(['checkpoint-equal: not-applicable', 'svm-view-layers: not-applicable', 'hidden-holds-overwritten: not-applicable']);
    expect(check(invariants.report(), 'hidden-holds-overwritten').note).toBe('replication-secondary is in stage failover: no epoch');
    act({ op: 'run', until: 'idle' });
    expect(check(invariants.report(), 'checkpoint-equal').note).toBe('replication-secondary is in stage done: no checkpoint to check');
  });
});

describe('live invariants broken by faults', () => {
  it('an I/O error on hidden-disk (read) breaks (b) where the secondary VM reads through hidden-disk, and real reads agree', () => {
    const { sim, invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'guest-write', vm: 'secondary', offset: 0, length: '128K', pattern: '0x33' });
    act({ op: 'guest-write', vm: 'primary', offset: '192K', length: '4K', pattern: '0x22' });
    act({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'read' });
    const report = invariants.report();
    const views = check(report, 'svm-view-layers');
    expect(views.status).toBe('broken');
    expect(views.brokenClusters).toBe(14);
    expect(views.broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: MiB - 128 * KiB,
        nodes: ['hidden-disk', 'top-disk'],
        why: "the secondary VM's read fails with EIO: an I/O error is injected on hidden-disk (read), which the read reaches there (active-disk does not hold it all)",
      },
    ]);
    // (c) is about what hidden-disk holds, not about reading it.
    expect(check(report, 'hidden-holds-overwritten').status).toBe('held');
    // A real read of each cluster by the secondary VM fails exactly where (b) says.
    for (let cluster = 0; cluster < 16; cluster++) {
      const read = sim.settle(sim.read('top-disk', cluster * 64 * KiB, 64 * KiB, 'check'));
      const inBroken = views.broken.some((range) => cluster * 64 * KiB >= range.offsetBytes && cluster * 64 * KiB < range.offsetBytes + range.lengthBytes);
      expect(read.ok, `cluster ${cluster}`).toBe(!inBroken);
      if (read.ok) expect(read.data.equals(DataRuns.fill(64 * KiB, 0x33)), `cluster ${cluster}`).toBe(true);
    }
  });

  it('held (b): the secondary VM reads the overlay of active-disk over hidden-disk over secondary-disk', () => {
    const { sim, invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x22' });
    act({ op: 'guest-write', vm: 'secondary', offset: '64K', length: '4K', pattern: '0x33' });
    act({ op: 'guest-write', vm: 'primary', offset: '512K', length: '64K', pattern: '0x44' });
    expect(check(invariants.report(), 'svm-view-layers').status).toBe('held');
    const read = sim.settle(sim.read('top-disk', 0, MiB, 'check'));
    if (!read.ok) throw new Error(read.errno);
    const expected = DataRuns.concat([DataRuns.fill(64 * KiB, 0x11), DataRuns.fill(4 * KiB, 0x33), DataRuns.fill(60 * KiB, 0x11), DataRuns.fill(MiB - 128 * KiB, 0x11)]);
    expect(read.data.equals(expected)).toBe(true);
  });

  it('an I/O error on hidden-disk (write) breaks (c): the primary overwrote a cluster whose old data could not be copied; then (a) at the next checkpoint', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    act({ op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' });
    let report = invariants.report();
    const hidden = check(report, 'hidden-holds-overwritten');
    expect(hidden.status).toBe('broken');
    expect(hidden.broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: 64 * KiB,
        nodes: ['hidden-disk', 'primary-disk', 'secondary-disk'],
        why: 'the primary overwrote it since the checkpoint, but hidden-disk has no copy of its old data: the copy into hidden-disk failed (EIO)',
      },
    ]);
    expect(check(report, 'svm-view-layers').status).toBe('held');

    // The primary never asks get_error (reference §6): the checkpoint succeeds with the pair apart.
    act({ op: 'checkpoint' });
    report = invariants.report();
    const equal = check(report, 'checkpoint-equal');
    expect(equal.status).toBe('broken');
    expect(equal.broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: 64 * KiB,
        nodes: ['primary-disk', 'secondary-disk'],
        why: "primary-disk holds mixed bytes, secondary-disk 0x11: the primary's write was not replicated: the forwarded write failed on the secondary (EIO)",
      },
    ]);
    // A new epoch: nothing overwritten yet, so (c) holds again.
    expect(check(report, 'hidden-holds-overwritten').status).toBe('held');
  });

  it('a cancelled backup job breaks (c): the primary\'s write lands on secondary-disk with no copy', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'cancel-job', host: 'secondary', type: 'backup' });
    act({ op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x22' });
    const hidden = check(invariants.report(), 'hidden-holds-overwritten');
    expect(hidden.status).toBe('broken');
    expect(hidden.broken.map((range) => [range.offsetBytes, range.lengthBytes, range.why])).toEqual([
      [
        0,
        64 * KiB,
        'the primary overwrote it since the checkpoint, but hidden-disk has no copy of its old data: it landed on secondary-disk with no copy: the backup job is gone (cancelled or failed), so copy-before-write no longer guards secondary-disk',
      ],
    ]);
  });

  it('the NBD link down breaks (c): the forwarded write never reached the secondary', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'link-down' });
    act({ op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x22' });
    const hidden = check(invariants.report(), 'hidden-holds-overwritten');
    expect(hidden.broken.map((range) => [range.offsetBytes, range.why])).toEqual([
      [64 * KiB, 'the primary overwrote it since the checkpoint, but hidden-disk has no copy of its old data: the forwarded write never reached the secondary (NBD link down)'],
    ]);
  });

  // Found by the fault property test (seed 977017756): a write sent to replication-primary itself,
  // as QEMU's test-replication.c does, writes no primary disk; when its forward fails, nothing
  // was overwritten and the pair still agrees there.
  it('a failed forward of a write sent to replication-primary itself breaks nothing: no primary disk was written', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'link-down' });
    act({ op: 'write', node: 'replication-primary', offset: 0, length: 512, pattern: '0x00', expect: { ok: true } });
    act({ op: 'fault', kind: 'clear' });
    expect(statuses(invariants.report())).toEqual(['checkpoint-equal: held', 'svm-view-layers: held', 'hidden-holds-overwritten: held']);
  });

  it('a checkpoint that cannot empty active-disk breaks (a) and (c): the buffers keep the last epoch', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'guest-write', vm: 'secondary', offset: 0, length: '64K', pattern: '0x33' });
    act({ op: 'guest-write', vm: 'primary', offset: '128K', length: '64K', pattern: '0x22' });
    act({ op: 'fault', kind: 'io-error', node: 'active-disk', on: 'write', count: 1 });
    act({ op: 'checkpoint' });
    const report = invariants.report();
    const message = 'Failed to empty active_disk.qcow2: Input/output error';
    expect(check(report, 'checkpoint-equal').broken.map((range) => [range.offsetBytes, range.nodes, range.why])).toEqual([
      [0, ['active-disk', 'secondary-disk', 'top-disk'], `the secondary VM reads 0x33 from active-disk, secondary-disk holds 0x11: the checkpoint did not empty active-disk (${message})`],
      [128 * KiB, ['hidden-disk', 'secondary-disk', 'top-disk'], `the secondary VM reads 0x11 from hidden-disk, secondary-disk holds 0x22: the checkpoint did not empty hidden-disk (${message})`],
    ]);
    expect(check(report, 'hidden-holds-overwritten').broken.map((range) => [range.offsetBytes, range.why])).toEqual([
      [128 * KiB, `hidden-disk still holds it from before the checkpoint: the checkpoint that began this epoch failed (${message})`],
    ]);
  });

  it('a write straight into hidden-disk breaks (c)', () => {
    const { invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'write', node: 'hidden-disk', offset: '320K', length: '64K', pattern: '0x99' });
    expect(check(invariants.report(), 'hidden-holds-overwritten').broken.map((range) => [range.offsetBytes, range.nodes, range.why])).toEqual([
      [320 * KiB, ['hidden-disk'], 'it was written into hidden-disk directly, not by copy-before-write'],
    ]);
  });

  it('the pair started apart breaks (a) at COLO start, naming the primary VM\'s unreplicated write', () => {
    const { invariants, act } = pair();
    act({ op: 'guest-write', vm: 'primary', offset: '192K', length: '64K', pattern: '0x22' });
    act({ op: 'colo-start' });
    expect(check(invariants.report(), 'checkpoint-equal').broken.map((range) => [range.offsetBytes, range.why])).toEqual([
      [192 * KiB, "primary-disk holds 0x22, secondary-disk 0x11: the primary's write was not replicated: replication-primary did not forward it (replication stage is none (primary))"],
    ]);
  });
});

describe('live invariants as looks', () => {
  it('checking emits no event and uses up no fault', () => {
    const { sim, invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'read', count: 1 });
    let events = 0;
    sim.events.subscribe(() => events++);
    const before = sim.findNode('hidden-disk')!.faults.describe();
    invariants.report();
    invariants.report();
    expect(events).toBe(0);
    expect(sim.findNode('hidden-disk')!.faults.describe()).toEqual(before);
    expect(before).toEqual(['read x1']);
  });

  it('a saved state checks on as before after a restore', () => {
    const { sim, invariants, act } = pair();
    act({ op: 'colo-start' });
    act({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    act({ op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' });
    const state = JSON.parse(JSON.stringify(invariants.saveState())) as ReturnType<LiveInvariants['saveState']>;
    invariants.stop();
    const restored = new LiveInvariants(sim, state);
    expect(restored.report()).toEqual(invariants.report());
    expect(check(restored.report(), 'hidden-holds-overwritten').status).toBe('broken');
  });
});
