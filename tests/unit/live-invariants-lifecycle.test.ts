/**
 * The live invariants follow the ROLES of the pair, not the first pair's node names (issue 8):
 * after a failover and COLO-FT.txt's "resume replication" (the guided runbook of the app, typed
 * as QMP) they check the new pair — the survivor's disk as the primary's, the restarted host's
 * active ▸ hidden ▸ data chain as the secondary's — around the cycle in both directions; they
 * hold after every checkpoint of the second and third pairs, do not apply while no pair is
 * protected, and break, naming the new pair's nodes, where a fault breaks the second pair.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, Simulation } from '../../src/engine/colo/simulation.js';
import { resolveProtectedPair, type PairNames } from '../../src/engine/colo/protected-pair.js';
import { LiveInvariants, type InvariantCheck, type InvariantReport } from '../../src/engine/invariants/live-invariants.js';
import { judgeStep, performStep, settleAsync } from '../../src/engine/scenario/step-executor.js';
import { validateStep } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { RESUME_STEPS, resumeStart } from '../../src/ui/lib/resume-runbook.js';
import { ViewBuilder } from '../../src/worker/view-builder.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Runs a step as the app does; node names are those the graph has now (any generation's). */
function run(sim: Simulation, step: Record<string, unknown>): void {
  const extraNodes = (['primary', 'secondary'] as const).flatMap((host) => [...sim.host(host).graph.nodes()].map((node) => ({ name: node.nodeName, host })));
  const validation = validateStep(step, sim.settings, extraNodes);
  if (!validation.ok) throw new Error(`not a valid step ${JSON.stringify(step)}: ${JSON.stringify(validation.errors)}`);
  const performed = performStep(sim, validation.step);
  const observed = performed.kind === 'pending' ? settleAsync(sim, performed) : performed.observed;
  const result = judgeStep(-1, { ...validation.step, expect: undefined } as typeof validation.step, observed, sim.nowUs);
  if (!result.passed) throw new Error(`${JSON.stringify(step)} → ${result.actual}`);
}

function statuses(report: InvariantReport): string[] {
  return report.checks.map((entry) => `${entry.id}: ${entry.status}`);
}

function check(report: InvariantReport, id: InvariantCheck['id']): InvariantCheck {
  return report.checks.find((candidate) => candidate.id === id)!;
}

const HELD = ['checkpoint-equal: held', 'svm-view-layers: held', 'hidden-holds-overwritten: held'];
const NOT_APPLICABLE = ['checkpoint-equal: not-applicable', 'svm-view-layers: not-applicable', 'hidden-holds-overwritten: not-applicable'];

/** COLO-FT.txt's resume runbook as the app guides it; the invariants do not apply until its last step (COLO protects the VM again). */
function resume(sim: Simulation, invariants: LiveInvariants, disks: 'kept' | 'fresh'): void {
  const view = new ViewBuilder(sim);
  const start = resumeStart(view.summary());
  expect(start, 'the guided resume applies after a failover').not.toBeNull();
  const steps = RESUME_STEPS.slice(start!);
  for (const [index, step] of steps.entries()) {
    const built = step.build(view.summary(), disks);
    expect(typeof built, `${step.id} can be built: ${String(built)}`).toBe('object');
    run(sim, built as Record<string, unknown>);
    if (index < steps.length - 1) expect(statuses(invariants.report()), `after ${step.id}`).toEqual(NOT_APPLICABLE);
  }
}

function newPair(): { sim: Simulation; invariants: LiveInvariants } {
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes: MiB }, createMemoryStore);
  const invariants = new LiveInvariants(sim);
  for (const node of ['primary-disk', 'secondary-disk']) run(sim, { op: 'write', node, offset: 0, length: MiB, pattern: '0x11' });
  run(sim, { op: 'colo-start' });
  return { sim, invariants };
}

/** Writes of both VMs and a checkpoint, the invariants held after each; their notes name `names`' nodes. */
function epochHolds(sim: Simulation, invariants: LiveInvariants, names: PairNames, pattern: number): void {
  const hex = `0x${pattern.toString(16)}`;
  expect(statuses(invariants.report())).toEqual(HELD);
  run(sim, { op: 'guest-write', vm: 'primary', offset: '64K', length: '4K', pattern: hex });
  run(sim, { op: 'guest-write', vm: 'primary', offset: '512K', length: '64K', pattern: hex });
  run(sim, { op: 'guest-write', vm: 'secondary', offset: '256K', length: '64K', pattern: '0x77' });
  let report = invariants.report();
  expect(statuses(report)).toEqual(HELD);
  expect(check(report, 'hidden-holds-overwritten').note).toBe(`${names.hiddenDisk} holds the old data of the 2 clusters the primary overwrote since the checkpoint, and nothing else`);
  expect(check(report, 'svm-view-layers').note).toBe(`the secondary VM reads each cluster from the first of ${names.activeDisk}, ${names.hiddenDisk} and ${names.secondaryDisk} that holds it`);
  run(sim, { op: 'checkpoint' });
  report = invariants.report();
  expect(statuses(report)).toEqual(HELD);
  expect(check(report, 'checkpoint-equal').note).toBe(`${names.primaryDisk}, ${names.secondaryDisk} and the secondary VM's view were equal after the last checkpoint`);
  expect(check(report, 'checkpoint-equal').checkedAtUs).toBeGreaterThan(0);
  expect(check(report, 'hidden-holds-overwritten').note).toBe(`the primary overwrote nothing since the checkpoint, and ${names.hiddenDisk} holds nothing`);
}

describe('the protected pair, resolved from the graph', () => {
  it('is the first pair at first, and not protected after a failover to the secondary', () => {
    const { sim } = newPair();
    expect(resolveProtectedPair(sim)).toMatchObject({
      names: {
        primaryQuorum: 'colo-disk',
        primaryDisk: 'primary-disk',
        replicationPrimary: 'replication-primary',
        nbdClient: 'nbd-client',
        topDisk: 'top-disk',
        replicationSecondary: 'replication-secondary',
        activeDisk: 'active-disk',
        hiddenDisk: 'hidden-disk',
        secondaryDisk: 'secondary-disk',
      },
      unprotected: undefined,
    });
    run(sim, { op: 'failover', to: 'secondary' });
    run(sim, { op: 'run', until: 'idle' });
    expect(resolveProtectedPair(sim).unprotected).toBe('replication-secondary is in stage done');
  });
});

describe('live invariants around the COLO lifecycle', () => {
  it('failover to the secondary, resume (disk kept), failover to the primary, resume (fresh disk): held after every checkpoint of the second and third pairs', () => {
    const { sim, invariants } = newPair();
    epochHolds(sim, invariants, resolveProtectedPair(sim).names, 0x22);
    run(sim, { op: 'failover', to: 'secondary' });
    run(sim, { op: 'run', until: 'idle' });
    expect(statuses(invariants.report())).toEqual(NOT_APPLICABLE);
    expect(check(invariants.report(), 'svm-view-layers').note).toBe('replication-secondary is in stage done: no epoch');

    resume(sim, invariants, 'kept');
    // The survivor (the old secondary machine) is the primary: its VM's data is its old
    // secondary-disk; the restarted old primary kept primary-disk, the new secondary's data disk.
    const second = resolveProtectedPair(sim).names;
    expect(second).toEqual({
      primaryQuorum: 'top-disk',
      primaryDisk: 'secondary-disk',
      replicationPrimary: 'replication0',
      nbdClient: 'replication0-nbd',
      topDisk: 'top-disk-2',
      replicationSecondary: 'replication-secondary-2',
      activeDisk: 'active-disk-2',
      hiddenDisk: 'hidden-disk-2',
      secondaryDisk: 'primary-disk',
    });
    // The page gets the same pair in every frame's summary.
    expect(new ViewBuilder(sim).summary().pair).toEqual({ names: second, protected: true });
    epochHolds(sim, invariants, second, 0x33);
    epochHolds(sim, invariants, second, 0x44);

    run(sim, { op: 'failover', to: 'primary' });
    run(sim, { op: 'run', until: 'idle' });
    resume(sim, invariants, 'fresh');
    const third = resolveProtectedPair(sim).names;
    expect(third).toMatchObject({ primaryDisk: 'secondary-disk', replicationPrimary: 'replication1', hiddenDisk: 'hidden-disk-3', activeDisk: 'active-disk-3', secondaryDisk: 'secondary-disk-3', topDisk: 'top-disk-3' });
    epochHolds(sim, invariants, third, 0x55);
    epochHolds(sim, invariants, third, 0x66);
  });

  it('failover to the primary (not protected until the resume), resume (fresh disk), failover to the secondary, resume (disk kept): held after every checkpoint', () => {
    const { sim, invariants } = newPair();
    run(sim, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x22' });
    run(sim, { op: 'failover', to: 'primary' });
    run(sim, { op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x23' });
    // The lost secondary's graph stays frozen (its node still in stage running), yet nothing
    // replicates any more: the pair is not protected and no invariant is checked on it.
    expect(resolveProtectedPair(sim).unprotected).toBe("not protected: the primary VM's quorum has no replication node in primary mode (a failover to the primary lets it go)");
    expect(new ViewBuilder(sim).summary().pair?.protected).toBe(false);
    expect(statuses(invariants.report())).toEqual(NOT_APPLICABLE);
    resume(sim, invariants, 'fresh');
    const second = resolveProtectedPair(sim).names;
    expect(second).toMatchObject({ primaryDisk: 'primary-disk', topDisk: 'top-disk-2', hiddenDisk: 'hidden-disk-2', activeDisk: 'active-disk-2', secondaryDisk: 'secondary-disk-2' });
    epochHolds(sim, invariants, second, 0x33);

    run(sim, { op: 'failover', to: 'secondary' });
    run(sim, { op: 'run', until: 'idle' });
    expect(check(invariants.report(), 'checkpoint-equal').note).toBe('replication-secondary-2 is in stage done: no checkpoint to check');
    resume(sim, invariants, 'kept');
    const third = resolveProtectedPair(sim).names;
    // The survivor's data is secondary-disk-2 now; the restarted machine kept primary-disk.
    expect(third).toMatchObject({ primaryDisk: 'secondary-disk-2', topDisk: 'top-disk-3', hiddenDisk: 'hidden-disk-3', activeDisk: 'active-disk-3', secondaryDisk: 'primary-disk' });
    epochHolds(sim, invariants, third, 0x44);
  });
});

describe('live invariants broken by faults in the second pair', () => {
  /** A pair resumed after a failover to the secondary, disk kept: primary secondary-disk, secondary chain active-disk-2 ▸ hidden-disk-2 ▸ primary-disk. */
  function secondPair(): { sim: Simulation; invariants: LiveInvariants } {
    const made = newPair();
    run(made.sim, { op: 'failover', to: 'secondary' });
    run(made.sim, { op: 'run', until: 'idle' });
    resume(made.sim, made.invariants, 'kept');
    expect(statuses(made.invariants.report())).toEqual(HELD);
    return made;
  }

  it("a write on the new primary whose forward fails breaks (c) at once and (a) at the next checkpoint, naming the new pair's disks", () => {
    const { sim, invariants } = secondPair();
    run(sim, { op: 'fault', kind: 'io-error', node: 'replication0-nbd', on: 'write', count: 1 });
    run(sim, { op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' });
    let report = invariants.report();
    expect(check(report, 'hidden-holds-overwritten').broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: 64 * KiB,
        nodes: ['hidden-disk-2', 'secondary-disk', 'primary-disk'],
        why: 'the primary overwrote it since the checkpoint, but hidden-disk-2 has no copy of its old data: the forwarded write never reached the secondary (injected fault)',
      },
    ]);
    expect(check(report, 'svm-view-layers').status).toBe('held');
    run(sim, { op: 'checkpoint' });
    report = invariants.report();
    expect(check(report, 'checkpoint-equal').status).toBe('broken');
    expect(check(report, 'checkpoint-equal').brokenClusters).toBe(1);
    expect(check(report, 'checkpoint-equal').broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: 64 * KiB,
        nodes: ['secondary-disk', 'primary-disk'],
        why: "secondary-disk holds mixed bytes, primary-disk 0x11: the primary's write was not replicated: the forwarded write never reached the secondary (injected fault)",
      },
    ]);
    expect(check(report, 'hidden-holds-overwritten').status).toBe('held');
  });

  it('a write error on hidden-disk-2 breaks (c): the copy-before-write into the new hidden disk failed', () => {
    const { sim, invariants } = secondPair();
    run(sim, { op: 'fault', kind: 'io-error', node: 'hidden-disk-2', on: 'write', count: 1 });
    run(sim, { op: 'guest-write', vm: 'primary', offset: '320K', length: '4K', pattern: '0x22' });
    const hidden = check(invariants.report(), 'hidden-holds-overwritten');
    expect(hidden.status).toBe('broken');
    expect(hidden.broken).toEqual([
      {
        offsetBytes: 320 * KiB,
        lengthBytes: 64 * KiB,
        nodes: ['hidden-disk-2', 'secondary-disk', 'primary-disk'],
        why: 'the primary overwrote it since the checkpoint, but hidden-disk-2 has no copy of its old data: the copy into hidden-disk-2 failed (EIO)',
      },
    ]);
  });

  it("a read error on hidden-disk-2 breaks (b) where the new secondary VM's read reaches it, and real reads agree", () => {
    const { sim, invariants } = secondPair();
    run(sim, { op: 'guest-write', vm: 'secondary', offset: 0, length: '128K', pattern: '0x33' });
    run(sim, { op: 'fault', kind: 'io-error', node: 'hidden-disk-2', on: 'read' });
    const views = check(invariants.report(), 'svm-view-layers');
    expect(views.brokenClusters).toBe(14);
    expect(views.broken).toEqual([
      {
        offsetBytes: 128 * KiB,
        lengthBytes: MiB - 128 * KiB,
        nodes: ['hidden-disk-2', 'top-disk-2'],
        why: "the secondary VM's read fails with EIO: an I/O error is injected on hidden-disk-2 (read), which the read reaches there (active-disk-2 does not hold it all)",
      },
    ]);
    for (let cluster = 0; cluster < 16; cluster++) {
      const read = sim.settle(sim.read('top-disk-2', cluster * 64 * KiB, 64 * KiB, 'check'));
      expect(read.ok, `cluster ${cluster}`).toBe(cluster < 2);
    }
  });
});
