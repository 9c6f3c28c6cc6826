/**
 * Property: random COLO lifecycles (issue 8) — guest writes on both VMs, checkpoints, failovers
 * to either side, and the lost host brought back as the new secondary (disk kept or fresh) with
 * COLO-FT.txt's resume runbook typed as QMP, around the cycle several times — never lose what a
 * guest may rely on.
 *
 * The model is what COLO promises: at a checkpoint the secondary VM becomes a copy of the
 * primary VM (its own writes since the last checkpoint are dropped); a failover to the secondary
 * goes on from the secondary VM's view (the primary's writes since the last checkpoint were never
 * released by colo-compare, so they are rolled back); a failover to the primary goes on from the
 * primary VM's view; a resume starts a new pair from the survivor's view. After every operation
 * every live VM reads, over the whole disk, exactly its view in the model. And the app's live
 * invariants (src/engine/invariants) follow the pair of the moment: whenever a pair is protected
 * (any generation, either direction) all three hold and check that generation's disks; after a
 * failover to the secondary and through the resume until COLO runs again, none applies. A failure
 * prints the seed (support/property-runner.ts) and the lifecycle's operations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { resolveProtectedPair } from '../../src/engine/colo/protected-pair.js';
import { DEFAULT_SETTINGS, Simulation } from '../../src/engine/colo/simulation.js';
import { generationName } from '../../src/engine/colo/topology.js';
import { LiveInvariants } from '../../src/engine/invariants/live-invariants.js';
import { executeQmp, type QmpReply } from '../../src/engine/qmp/qmp.js';
import type { HostName } from '../../src/engine/sim/events.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

import { assertProperty } from './support/property-runner.js';

const LIFECYCLES = 60;
const MAX_OPS = 40;
const KiB = 1024;
const DISK_BYTES = 256 * KiB;
const BLOCK_BYTES = 4 * KiB;
const BLOCKS = DISK_BYTES / BLOCK_BYTES;
/** x-checkpoint-delay's largest value (uint32 ms): the only checkpoints are the lifecycle's own. */
const NO_PERIODIC_CHECKPOINT_MS = 0xffff_ffff;

type LifecycleOp =
  | { readonly kind: 'write'; readonly vm: HostName; readonly block: number; readonly blocks: number; readonly pattern: number }
  | { readonly kind: 'checkpoint' }
  | { readonly kind: 'failover'; readonly to: HostName }
  | { readonly kind: 'resume'; readonly disks: 'kept' | 'fresh' }
  | { readonly kind: 'run'; readonly forUs: number };

const opArbitrary: fc.Arbitrary<LifecycleOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), vm: fc.constantFrom<HostName>('primary', 'secondary'), block: fc.nat(BLOCKS - 1), blocks: fc.integer({ min: 1, max: 8 }), pattern: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('failover' as const), to: fc.constantFrom<HostName>('primary', 'secondary') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resume' as const), disks: fc.constantFrom<'kept' | 'fresh'>('kept', 'fresh') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('run' as const), forUs: fc.integer({ min: 1, max: 20_000 }) }) },
);

/** What COLO promises each VM sees, and where the pair is in its cycle. */
interface Model {
  protectedPair: boolean;
  /** The host running alone after a failover (undefined while protected). */
  survivor: HostName | undefined;
  primaryView: Uint8Array;
  secondaryView: Uint8Array;
  resumes: number;
}

function qmpOk(sim: Simulation, host: HostName, execute: string, args?: Record<string, unknown>): unknown {
  const reply: QmpReply = executeQmp(sim, host, args === undefined ? { execute } : { execute, arguments: args });
  if ('error' in reply) throw new Error(`${execute} on the ${host} host failed: ${reply.error.desc}`);
  return reply.return;
}

function settleOk(sim: Simulation, what: string, pending: ReturnType<Simulation['checkpoint']>): void {
  const outcome = sim.settle(pending);
  if (!outcome.ok) throw new Error(`${what} failed: ${outcome.message}`);
}

function readVm(sim: Simulation, vm: HostName): Uint8Array {
  const result = sim.settle(sim.guestRead(vm, 0, DISK_BYTES));
  if (!result.ok) throw new Error(`the ${vm} VM's read failed with ${result.errno}`);
  return result.data.toBytes();
}

/** The first byte where the VM's disk and its view in the model differ, in words; undefined when equal. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  for (let offset = 0; offset < expected.length; offset++) {
    if (actual[offset] !== expected[offset]) return `at byte ${offset}: read 0x${actual[offset]!.toString(16)}, the model says 0x${expected[offset]!.toString(16)}`;
  }
  return undefined;
}

/**
 * While a pair is protected every live invariant holds (no fault is injected here) and checks
 * the current generation's hidden disk; after a failover none applies until COLO runs again (to the
 * secondary: its replication node is done; to the primary: the primary's node is done and out of
 * its quorum, though the lost secondary's graph stays frozen as its QEMU left it).
 */
function checkInvariants(sim: Simulation, live: LiveInvariants, model: Model, counts: Map<string, number>): void {
  const report = live.report();
  const described = () => report.checks.map((check) => `${check.id} ${check.status}: ${check.note}${check.broken.map((range) => ` [${range.offsetBytes}, +${range.lengthBytes}) ${range.nodes.join(', ')}: ${range.why}`).join(';')}`).join(' | ');
  if (model.protectedPair) {
    const hidden = generationName('hidden-disk', model.resumes + 1);
    expect(resolveProtectedPair(sim).names.hiddenDisk, `the protected pair's hidden disk after ${model.resumes} resumes`).toBe(hidden);
    if (report.checks.some((check) => check.status !== 'held')) throw new Error(`a live invariant does not hold on a protected pair (generation ${model.resumes + 1}): ${described()}`);
    if (!report.checks[2]!.note.includes(hidden)) throw new Error(`the live invariants do not check ${hidden}: ${described()}`);
    counts.set('live invariants held on a protected pair', (counts.get('live invariants held on a protected pair') ?? 0) + 1);
    if (model.resumes > 0) counts.set('live invariants held on a resumed pair', (counts.get('live invariants held on a resumed pair') ?? 0) + 1);
  } else {
    if (report.checks.some((check) => check.status !== 'not-applicable')) throw new Error(`a live invariant applies after a failover to the ${model.survivor}: ${described()}`);
  }
}

/** Through the resume, until COLO runs again, no live invariant applies. */
function expectNotProtected(live: LiveInvariants, when: string): void {
  const report = live.report();
  const applying = report.checks.filter((check) => check.status !== 'not-applicable');
  if (applying.length > 0) throw new Error(`${when}: ${applying.map((check) => `${check.id} is ${check.status}: ${check.note}`).join('; ')}`);
}

function checkViews(sim: Simulation, model: Model): void {
  const live: HostName[] = model.protectedPair ? ['primary', 'secondary'] : [model.survivor!];
  for (const vm of live) {
    const difference = firstDifference(readVm(sim, vm), vm === 'primary' ? model.primaryView : model.secondaryView);
    if (difference) throw new Error(`the ${vm} VM's disk is not what COLO promises ${difference}`);
  }
}

/**
 * COLO-FT.txt's resume runbook, typed as QMP on the survivor (now the primary): drive-mirror
 * sync=full to the new secondary's export, READY, stop, soft cancel, drive_add -n of a
 * replication node (mode=primary), x-blockdev-change into the VM's quorum, migrate with x-colo.
 */
function resume(sim: Simulation, model: Model, disks: 'kept' | 'fresh', live: LiveInvariants): void {
  const lost = model.survivor === 'primary' ? 'secondary' : 'primary';
  const restarted = sim.restartHost(lost, disks);
  if (!restarted.ok) throw new Error(`restart failed: ${restarted.message}`);
  expectNotProtected(live, 'after the restart');
  const view = model.survivor === 'primary' ? model.primaryView : model.secondaryView;
  const cycle = ++model.resumes;
  const quorum = sim.vmDiskNode('primary');
  const exports = sim.host('secondary').nbdServer.exportedNodes();
  expect(exports).toHaveLength(1);
  const exportName = exports[0]!.name;
  qmpOk(sim, 'primary', 'drive-mirror', { device: quorum, 'job-id': `resync${cycle}`, target: `nbd://secondary:9999/${exportName}`, mode: 'existing', format: 'raw', sync: 'full' });
  expect(sim.runUntilIdle()).toBe(true);
  expect(qmpOk(sim, 'primary', 'query-block-jobs')).toMatchObject([{ device: `resync${cycle}`, ready: true, offset: DISK_BYTES, len: DISK_BYTES }]);
  expectNotProtected(live, 'while drive-mirror resyncs');
  qmpOk(sim, 'primary', 'stop');
  qmpOk(sim, 'primary', 'block-job-cancel', { device: `resync${cycle}` });
  expect(sim.runUntilIdle()).toBe(true);
  expect(qmpOk(sim, 'primary', 'query-block-jobs')).toEqual([]);
  const node = `replication-r${cycle}`;
  expect(
    qmpOk(sim, 'primary', 'human-monitor-command', {
      'command-line': `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=secondary,file.port=9999,file.export=${exportName},node-name=${node}`,
    }),
  ).toBe('');
  qmpOk(sim, 'primary', 'x-blockdev-change', { parent: quorum, node });
  expectNotProtected(live, 'once the replication node is a quorum child, before the migration');
  startColo(sim);
  sim.runFor(10_000);
  expect(sim.replicationNode(node)?.stage).toBe('running');
  model.protectedPair = true;
  model.survivor = undefined;
  model.primaryView = view.slice();
  model.secondaryView = view.slice();
}

function startColo(sim: Simulation): void {
  qmpOk(sim, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] });
  qmpOk(sim, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': NO_PERIODIC_CHECKPOINT_MS });
  qmpOk(sim, 'primary', 'migrate', { uri: 'tcp:secondary:9998' });
}

function perform(sim: Simulation, model: Model, op: LifecycleOp, live: LiveInvariants): 'done' | 'skipped' {
  switch (op.kind) {
    case 'write': {
      const live = model.protectedPair || model.survivor === op.vm;
      if (!live) return 'skipped';
      const offsetBytes = op.block * BLOCK_BYTES;
      const lengthBytes = Math.min(op.blocks, BLOCKS - op.block) * BLOCK_BYTES;
      const result = sim.settle(sim.guestWrite(op.vm, offsetBytes, DataRuns.fill(lengthBytes, op.pattern)));
      if (!result.ok) throw new Error(`the ${op.vm} VM's write failed with ${result.errno}`);
      (op.vm === 'primary' ? model.primaryView : model.secondaryView).fill(op.pattern, offsetBytes, offsetBytes + lengthBytes);
      return 'done';
    }
    case 'checkpoint':
      if (!model.protectedPair) return 'skipped';
      settleOk(sim, 'checkpoint', sim.checkpoint());
      model.secondaryView = model.primaryView.slice();
      return 'done';
    case 'failover':
      if (!model.protectedPair) return 'skipped';
      settleOk(sim, `failover to the ${op.to}`, sim.failover(op.to));
      expect(sim.runUntilIdle()).toBe(true);
      model.protectedPair = false;
      model.survivor = op.to;
      return 'done';
    case 'resume':
      if (model.protectedPair) return 'skipped';
      resume(sim, model, op.disks, live);
      return 'done';
    case 'run':
      sim.runFor(op.forUs);
      return 'done';
  }
}

function runLifecycle(ops: readonly LifecycleOp[], counts: Map<string, number>): void {
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes: DISK_BYTES, clusterSizeBytes: BLOCK_BYTES, nbdLatencyUs: 500, copyTimeUs: 200 }, createMemoryStore);
  sim.writePatternNow('primary-disk', 0, DISK_BYTES, 0x11);
  sim.writePatternNow('secondary-disk', 0, DISK_BYTES, 0x11);
  const live = new LiveInvariants(sim);
  startColo(sim);
  sim.runFor(10_000);
  const model: Model = { protectedPair: true, survivor: undefined, primaryView: new Uint8Array(DISK_BYTES).fill(0x11), secondaryView: new Uint8Array(DISK_BYTES).fill(0x11), resumes: 0 };
  checkViews(sim, model);
  checkInvariants(sim, live, model, counts);
  ops.forEach((op, index) => {
    const previousSurvivor = model.survivor;
    try {
      if (perform(sim, model, op, live) === 'done') {
        const what = op.kind === 'resume' ? `resume (disk ${op.disks}) after a failover to the ${previousSurvivor}` : op.kind;
        counts.set(op.kind, (counts.get(op.kind) ?? 0) + 1);
        if (op.kind === 'resume') counts.set(what, (counts.get(what) ?? 0) + 1);
        checkViews(sim, model);
        checkInvariants(sim, live, model, counts);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`after operation ${index} ${JSON.stringify(op)} (resume ${model.resumes}): ${message}`);
    }
  });
  counts.set('most resumes in one lifecycle', Math.max(counts.get('most resumes in one lifecycle') ?? 0, model.resumes));
}

describe('COLO lifecycles (failover, resume replication, again) on random traces', () => {
  it('every live VM reads exactly what COLO promises it, around the cycle any number of times', () => {
    const counts = new Map<string, number>();
    assertProperty(
      'every live VM reads exactly what COLO promises it, around the cycle any number of times',
      fc.property(fc.array(opArbitrary, { minLength: 12, maxLength: MAX_OPS, size: 'max' }), (ops) => runLifecycle(ops, counts)),
      LIFECYCLES,
    );
    // The generator must keep exercising the cycle: resumes of both kinds, several per lifecycle.
    expect(counts.get('resume') ?? 0).toBeGreaterThan(LIFECYCLES / 2);
    expect(counts.get('most resumes in one lifecycle') ?? 0).toBeGreaterThanOrEqual(3);
    expect(counts.get('live invariants held on a resumed pair') ?? 0).toBeGreaterThan(LIFECYCLES);
    for (const disks of ['kept', 'fresh']) {
      for (const survivor of ['primary', 'secondary']) expect(counts.get(`resume (disk ${disks}) after a failover to the ${survivor}`) ?? 0, `resumes (disk ${disks}) after a failover to the ${survivor}`).toBeGreaterThan(0);
    }
  });
});
