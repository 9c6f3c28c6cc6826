/**
 * The guided "resume replication" runbook (src/ui/lib/resume-runbook.ts), run on the engine as
 * the app runs it (each step built from the state just before it runs): after a failover either
 * way it ends with COLO running again in the new direction, the new secondary's disk equal to
 * the primary VM's byte for byte; and the cycle goes round twice.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, Simulation } from '../../src/engine/colo/simulation.js';
import { judgeStep, performStep, settleAsync } from '../../src/engine/scenario/step-executor.js';
import { validateStep } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { analyseRoles, primaryVmDisk } from '../../src/ui/lib/host-roles.js';
import { freeReplicationName, lostHost, RESUME_STEPS, resumeStart } from '../../src/ui/lib/resume-runbook.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { ViewBuilder } from '../../src/worker/view-builder.js';

function run(sim: Simulation, step: Record<string, unknown>): { passed: boolean; actual: string } {
  const validation = validateStep(step, sim.settings, []);
  if (!validation.ok) throw new Error(`not a valid step ${JSON.stringify(step)}: ${JSON.stringify(validation.errors)}`);
  const performed = performStep(sim, validation.step);
  const observed = performed.kind === 'pending' ? settleAsync(sim, performed) : performed.observed;
  const result = judgeStep(-1, { ...validation.step, expect: undefined } as typeof validation.step, observed, sim.nowUs);
  return { passed: result.passed, actual: result.actual };
}

/** Runs the guided resume from where it starts; returns the ids of the steps it ran. */
function guidedResume(sim: Simulation, disks: 'kept' | 'fresh'): string[] {
  const view = new ViewBuilder(sim);
  const start = resumeStart(view.summary());
  expect(start, 'the guided resume applies after a failover').not.toBeNull();
  const ran: string[] = [];
  for (const step of RESUME_STEPS.slice(start!)) {
    const built = step.build(view.summary(), disks);
    expect(typeof built, `${step.id} can be built: ${String(built)}`).toBe('object');
    const result = run(sim, built as Record<string, unknown>);
    expect(result.passed, `${step.id}: ${JSON.stringify(built)} → ${result.actual}`).toBe(true);
    ran.push(step.id);
  }
  return ran;
}

function newPair(): Simulation {
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes: 1024 * 1024 }, createMemoryStore);
  for (const node of ['primary-disk', 'secondary-disk']) expect(run(sim, { op: 'write', node, offset: 0, length: 1024 * 1024, pattern: '0x11' }).passed).toBe(true);
  expect(run(sim, { op: 'colo-start' }).passed).toBe(true);
  return sim;
}

/** Whether the new secondary holds what the primary VM reads: its base image against the primary VM's disk. */
function expectPairEqual(sim: Simulation): void {
  const roles = analyseRoles(new ViewBuilder(sim).summary());
  const digests = digestImages(sim);
  const primaryDisk = primaryVmDisk(roles)!;
  const secondaryBase = roles.hosts.secondary.slots.base!;
  // Content only: a raw digest covers bytes (allocation of a raw image is all).
  expect(digests[secondaryBase], `${secondaryBase} = ${primaryDisk}`).toBe(digests[primaryDisk]);
}

describe('guided resume replication', () => {
  it('does not apply while COLO protects the VM', () => {
    const sim = newPair();
    expect(resumeStart(new ViewBuilder(sim).summary())).toBeNull();
  });

  it('after a failover to the secondary: restart, resync, new quorum child, COLO again the other way; then round again after a failover to the primary', () => {
    const sim = newPair();
    expect(run(sim, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' }).passed).toBe(true);
    expect(run(sim, { op: 'checkpoint' }).passed).toBe(true);
    expect(run(sim, { op: 'guest-write', vm: 'primary', offset: 65536, length: 65536, pattern: '0x33' }).passed).toBe(true);
    expect(run(sim, { op: 'failover', to: 'secondary' }).passed).toBe(true);
    expect(lostHost(new ViewBuilder(sim).summary())).toBe('primary');
    // The failover step returns once the survivor's failover is complete: the guide starts at the restart.
    expect(new ViewBuilder(sim).summary().colo.secondary.failover).toBe('completed');
    expect(guidedResume(sim, 'kept')).toEqual(['restart', 'mirror', 'sync', 'stop', 'cancel', 'cancelled', 'drive-add', 'add-child', 'capabilities', 'migrate', 'protected']);
    let summary = new ViewBuilder(sim).summary();
    expect(summary.coloState).toBe('running');
    // The survivor (the old secondary machine) is the primary; its chain's names stay.
    const roles = analyseRoles(summary);
    expect(roles.hosts.primary.slots.quorum).toBe('top-disk');
    expect(roles.hosts.primary.slots['out-repl']).toBe('replication0');
    expect(summary.nodes.find((node) => node.name === 'replication0')?.replication?.stage).toBe('running');
    expectPairEqual(sim);
    // The rolled-back 0x33 is nowhere: the new pair holds 0x22 then 0x11.
    expect(run(sim, { op: 'guest-read', vm: 'primary', offset: 65536, length: 65536, expect: { pattern: '0x11' } }).passed).toBe(true);

    // Protected: a write, a checkpoint, then the new secondary is lost; the guide runs again, with a fresh disk.
    expect(run(sim, { op: 'guest-write', vm: 'primary', offset: 131072, length: 65536, pattern: '0x44' }).passed).toBe(true);
    expect(run(sim, { op: 'checkpoint' }).passed).toBe(true);
    expect(run(sim, { op: 'failover', to: 'primary' }).passed).toBe(true);
    summary = new ViewBuilder(sim).summary();
    expect(lostHost(summary)).toBe('secondary');
    // replication0 is still open (done), so the next node needs another name.
    expect(freeReplicationName(summary)).toBe('replication1');
    const ran = guidedResume(sim, 'fresh');
    expect(ran[0]).toBe(summary.colo.primary.failover === 'completed' ? 'restart' : 'settle');
    summary = new ViewBuilder(sim).summary();
    expect(summary.coloState).toBe('running');
    expect(analyseRoles(summary).hosts.primary.slots['out-repl']).toBe('replication1');
    expectPairEqual(sim);
    expect(run(sim, { op: 'guest-read', vm: 'primary', offset: 131072, length: 65536, expect: { pattern: '0x44' } }).passed).toBe(true);
  });

  it('after a failover to the primary: no swap, a fresh disk resynced', () => {
    const sim = newPair();
    expect(run(sim, { op: 'guest-write', vm: 'primary', offset: 0, length: 65536, pattern: '0x22' }).passed).toBe(true);
    expect(run(sim, { op: 'failover', to: 'primary' }).passed).toBe(true);
    expect(run(sim, { op: 'guest-write', vm: 'primary', offset: 65536, length: 65536, pattern: '0x33' }).passed).toBe(true);
    guidedResume(sim, 'fresh');
    const summary = new ViewBuilder(sim).summary();
    expect(summary.coloState).toBe('running');
    expect(analyseRoles(summary).hosts.primary.slots.quorum).toBe('colo-disk');
    expect(analyseRoles(summary).hosts.secondary.slots.base).toBe('secondary-disk-2');
    expectPairEqual(sim);
  });

  it('starts from the mirror when the lost host was restarted by hand', () => {
    const sim = newPair();
    expect(run(sim, { op: 'failover', to: 'secondary' }).passed).toBe(true);
    expect(run(sim, { op: 'run', until: 'idle' }).passed).toBe(true);
    expect(run(sim, { op: 'restart', host: 'primary', disks: 'kept' }).passed).toBe(true);
    expect(RESUME_STEPS[resumeStart(new ViewBuilder(sim).summary())!]!.id).toBe('mirror');
  });
});
