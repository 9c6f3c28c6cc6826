/**
 * Random traces for the replication property tests: what a trace is, how fast-check makes one,
 * and how one operation is performed on a Simulation (with no checking; see checked-run.ts).
 */
import fc from 'fast-check';
import { DataRunsBuilder, type DataRuns } from '../../../src/engine/block/data-runs.js';
import type { ReadResult, WriteResult } from '../../../src/engine/block/errno.js';
import { NODE, Simulation, type Fault, type Pending, type SimulationSettings, type StepOutcome } from '../../../src/engine/colo/simulation.js';
import type { HostName, ReplicationMode } from '../../../src/engine/sim/events.js';
import type { SectorStore, StoreFactory } from '../../../src/engine/store.js';
import { createMemoryStore } from '../../../src/storage/chunked-memory-store.js';
import { SECTOR_BYTES } from './sectors.js';

/** The qcow2 cluster sizes of the active and hidden disks the traces use. */
export const QCOW2_CLUSTER_SIZES_BYTES = [512, 4096, 64 * 1024, 128 * 1024] as const;

export interface TraceSetup {
  /** 256 KiB to 1 MiB; often not a multiple of the cluster size. */
  readonly diskSizeSectors: number;
  readonly qcow2ClusterSizeBytes: (typeof QCOW2_CLUSTER_SIZES_BYTES)[number];
  readonly nbdLatencyUs: number;
  readonly commitCopyTimeUs: number;
}

/** A sector range; resolved against the disk when run (offset modulo the disk, length clipped). */
export interface SectorRange {
  readonly offsetSectors: number;
  readonly lengthSectors: number;
}

/** Sector k of the write holds (patternByte + k * patternStepPerSector) & 0xff. */
export interface WritePattern {
  readonly patternByte: number;
  readonly patternStepPerSector: number;
}

export const IMAGE_NODES = [NODE.primaryDisk, NODE.secondaryDisk, NODE.hiddenDisk, NODE.activeDisk] as const;
export const FAULTABLE_NODES = [NODE.primaryDisk, NODE.nbdClient, NODE.secondaryDisk, NODE.hiddenDisk, NODE.activeDisk] as const;

export type TraceOp =
  | ({ readonly op: 'guest-write'; readonly vm: HostName } & SectorRange & WritePattern)
  /** A primary VM write issued without waiting: its forward is still on the wire when the next op runs. */
  | ({ readonly op: 'guest-write-async' } & SectorRange & WritePattern)
  | ({ readonly op: 'guest-read'; readonly vm: HostName } & SectorRange)
  /** A write as the NBD export receives it: through whatever sits above secondary-disk. */
  | ({ readonly op: 'export-write' } & SectorRange & WritePattern)
  /** I/O addressed straight to the primary's replication filter (QEMU's test_primary_* do this). */
  | ({ readonly op: 'primary-filter-write' } & SectorRange & WritePattern)
  | ({ readonly op: 'primary-filter-read' } & SectorRange)
  | { readonly op: 'colo-start' }
  | { readonly op: 'checkpoint' }
  | { readonly op: 'failover'; readonly to: HostName }
  | { readonly op: 'replication'; readonly host: HostName; readonly action: 'start'; readonly mode: ReplicationMode }
  | { readonly op: 'replication'; readonly host: HostName; readonly action: 'checkpoint' | 'get-error' }
  | { readonly op: 'replication'; readonly host: HostName; readonly action: 'stop'; readonly failover: boolean }
  | { readonly op: 'run-for'; readonly durationUs: number }
  | { readonly op: 'run-until-idle' }
  | { readonly op: 'fault'; readonly fault: Fault };

export interface Trace {
  readonly setup: TraceSetup;
  readonly ops: readonly TraceOp[];
}

// ---- arbitraries ---------------------------------------------------------------------------

const MAX_DISK_SECTORS = (1024 * 1024) / SECTOR_BYTES;
const MIN_DISK_SECTORS = (256 * 1024) / SECTOR_BYTES;
const SECTORS_PER_64K = (64 * 1024) / SECTOR_BYTES;

const setupArbitrary: fc.Arbitrary<TraceSetup> = fc.record({
  diskSizeSectors: fc.oneof(
    // whole multiples of 128 KiB, so every cluster size divides the disk
    { weight: 2, arbitrary: fc.integer({ min: 2, max: 8 }).map((count) => count * 2 * SECTORS_PER_64K) },
    // any sector count: usually not a multiple of the cluster size (a short last cluster)
    { weight: 3, arbitrary: fc.integer({ min: MIN_DISK_SECTORS, max: MAX_DISK_SECTORS }) },
  ),
  qcow2ClusterSizeBytes: fc.constantFrom(...QCOW2_CLUSTER_SIZES_BYTES),
  nbdLatencyUs: fc.constantFrom(50, 500),
  commitCopyTimeUs: fc.constantFrom(20, 200, 1000),
});

const rangeArbitrary: fc.Arbitrary<SectorRange> = fc.record({
  offsetSectors: fc.oneof(
    fc.integer({ min: 0, max: MAX_DISK_SECTORS - 1 }),
    // on a 64 KiB boundary, or just before one: the cluster edges are where bugs live
    fc.integer({ min: 0, max: 15 }).map((index) => index * SECTORS_PER_64K),
    fc.integer({ min: 1, max: 16 }).map((index) => index * SECTORS_PER_64K - 1),
  ),
  lengthSectors: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 16 }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 * SECTORS_PER_64K }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: MAX_DISK_SECTORS }) },
  ),
});

const patternArbitrary: fc.Arbitrary<WritePattern> = fc.record({
  patternByte: fc.integer({ min: 0, max: 255 }),
  patternStepPerSector: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
});

const host = fc.constantFrom<HostName>('primary', 'secondary');

function withRange<T extends object>(fields: fc.Arbitrary<T>): fc.Arbitrary<T & SectorRange> {
  return fc.tuple(fields, rangeArbitrary).map(([value, range]) => ({ ...value, ...range }));
}

function withRangeAndPattern<T extends object>(fields: fc.Arbitrary<T>): fc.Arbitrary<T & SectorRange & WritePattern> {
  return fc.tuple(fields, rangeArbitrary, patternArbitrary).map(([value, range, pattern]) => ({ ...value, ...range, ...pattern }));
}

const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('io-error' as const),
      node: fc.constantFrom(...FAULTABLE_NODES),
      on: fc.constantFrom('read' as const, 'write' as const, 'any' as const),
      count: fc.constantFrom(1, 2, 3, undefined),
    }).map(({ count, ...rest }) => (count === undefined ? rest : { ...rest, count })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'link-down' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'link-up' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('cancel-job' as const),
      host: fc.constantFrom<HostName>('secondary', 'secondary', 'secondary', 'primary'),
      type: fc.constantFrom('backup' as const, 'commit' as const, 'commit' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('eject' as const), node: fc.constantFrom(...IMAGE_NODES) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

/** A fault that makes a running commit fail, after a moment of commit progress or at once. */
const commitBreakingOpsArbitrary: fc.Arbitrary<TraceOp[]> = fc
  .tuple(
    fc.option(fc.integer({ min: 1, max: 600 }), { freq: 1 }),
    fc.constantFrom<Fault>(
      { kind: 'cancel-job', host: 'secondary', type: 'commit' },
      { kind: 'io-error', node: NODE.secondaryDisk, on: 'write', count: 1 },
      { kind: 'io-error', node: NODE.activeDisk, on: 'read', count: 1 },
    ),
    fc.boolean(),
  )
  .map(([runForUs, fault, thenUntilIdle]) => [
    ...(runForUs === null ? [] : [{ op: 'run-for' as const, durationUs: runForUs }]),
    { op: 'fault' as const, fault },
    ...(thenUntilIdle ? [{ op: 'run-until-idle' as const }] : []),
  ]);

function opArbitrary(withFaults: boolean): fc.Arbitrary<TraceOp> {
  const ops: Array<fc.WeightedArbitrary<TraceOp>> = [
    { weight: 20, arbitrary: withRangeAndPattern(fc.record({ op: fc.constant('guest-write' as const), vm: host })) },
    { weight: 5, arbitrary: withRangeAndPattern(fc.record({ op: fc.constant('guest-write-async' as const) })) },
    { weight: 8, arbitrary: withRange(fc.record({ op: fc.constant('guest-read' as const), vm: host })) },
    { weight: 6, arbitrary: withRangeAndPattern(fc.record({ op: fc.constant('export-write' as const) })) },
    { weight: 2, arbitrary: withRangeAndPattern(fc.record({ op: fc.constant('primary-filter-write' as const) })) },
    { weight: 1, arbitrary: withRange(fc.record({ op: fc.constant('primary-filter-read' as const) })) },
    { weight: 4, arbitrary: fc.constant({ op: 'colo-start' as const }) },
    { weight: 10, arbitrary: fc.constant({ op: 'checkpoint' as const }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('failover' as const), to: host }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('replication' as const), host, action: fc.constant('start' as const), mode: host }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('replication' as const), host, action: fc.constantFrom('checkpoint' as const, 'get-error' as const) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('replication' as const), host, action: fc.constant('stop' as const), failover: fc.boolean() }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('run-for' as const),
        // short steps land in the middle of a commit, long ones let it finish
        durationUs: fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 4000 })),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ op: 'run-until-idle' as const }) },
  ];
  if (withFaults) ops.push({ weight: 12, arbitrary: fc.record({ op: fc.constant('fault' as const), fault: faultArbitrary }) });
  return fc.oneof(...ops);
}

/**
 * A trace: a small disk and 1 to `maxOps` operations, usually starting with COLO start, and
 * often with a failover to the secondary somewhere in the middle, so that most traces spend
 * their time in the interesting stages (running, the commit, after it).
 */
export function traceArbitrary(options: { withFaults: boolean; maxOps: number }): fc.Arbitrary<Trace> {
  return fc
    .record({
      setup: setupArbitrary,
      startsWithColoStart: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      failoverToSecondaryAtFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }),
      // with faults: often break the commit right after that failover, so FAILOVER_FAILED
      // (and its per-extent write routing) is reached often enough
      faultsAfterFailover: options.withFaults ? fc.option(commitBreakingOpsArbitrary, { freq: 2 }) : fc.constant(null),
      // lengths spread over 1..maxOps (size 'max'); a minimum of 1 lets failures shrink to a few ops
      ops: fc.array(opArbitrary(options.withFaults), { minLength: 1, maxLength: options.maxOps, size: 'max' }),
    })
    .map(({ setup, startsWithColoStart, failoverToSecondaryAtFraction, faultsAfterFailover, ops }) => {
      const withFailover = [...ops];
      if (failoverToSecondaryAtFraction !== null) {
        const failover: TraceOp[] = [{ op: 'failover', to: 'secondary' }, ...(faultsAfterFailover ?? [])];
        withFailover.splice(Math.floor(failoverToSecondaryAtFraction * ops.length), 0, ...failover);
      }
      return { setup, ops: startsWithColoStart ? [{ op: 'colo-start' as const }, ...withFailover] : withFailover };
    });
}

// ---- running one operation -----------------------------------------------------------------

export function simulationSettings(setup: TraceSetup): SimulationSettings {
  return {
    diskSizeBytes: setup.diskSizeSectors * SECTOR_BYTES,
    clusterSizeBytes: setup.qcow2ClusterSizeBytes,
    seed: 1,
    nbdLatencyUs: setup.nbdLatencyUs,
    copyTimeUs: setup.commitCopyTimeUs,
    vmstateLoadUs: 1000,
  };
}

export function newSimulation(setup: TraceSetup, createStore: StoreFactory = createMemoryStore): Simulation {
  return new Simulation(simulationSettings(setup), createStore);
}

/**
 * The memory store, counting the writes and discards of each image's store, so a checker can
 * re-read only the images whose bytes may have changed (nothing else can change them).
 */
export function countingStoreFactory(): { createStore: StoreFactory; changesOf: (imageName: string) => number } {
  const changes = new Map<string, number>();
  const bump = (imageName: string) => changes.set(imageName, (changes.get(imageName) ?? 0) + 1);
  const createStore: StoreFactory = (request) => {
    const store = createMemoryStore(request);
    const counted: SectorStore = {
      sizeBytes: store.sizeBytes,
      read: (offsetBytes, lengthBytes) => store.read(offsetBytes, lengthBytes),
      write: (offsetBytes, data) => {
        bump(request.imageName);
        store.write(offsetBytes, data);
      },
      discard: (offsetBytes, lengthBytes) => {
        bump(request.imageName);
        store.discard(offsetBytes, lengthBytes);
      },
    };
    return counted;
  };
  return { createStore, changesOf: (imageName) => changes.get(imageName) ?? 0 };
}

export interface ResolvedRange {
  readonly offsetSectors: number;
  readonly lengthSectors: number;
}

export function resolveRange(range: SectorRange, diskSizeSectors: number): ResolvedRange {
  const offsetSectors = range.offsetSectors % diskSizeSectors;
  return { offsetSectors, lengthSectors: Math.max(1, Math.min(range.lengthSectors, diskSizeSectors - offsetSectors)) };
}

/** One byte per sector of the write's data. */
export function patternSectors(pattern: WritePattern, lengthSectors: number): Uint8Array {
  const sectors = new Uint8Array(lengthSectors);
  for (let index = 0; index < lengthSectors; index++) sectors[index] = (pattern.patternByte + index * pattern.patternStepPerSector) & 0xff;
  return sectors;
}

function dataOf(sectors: Uint8Array): DataRuns {
  const builder = new DataRunsBuilder();
  for (const value of sectors) builder.appendFill(SECTOR_BYTES, value);
  return builder.build();
}

export type OpOutcome =
  | { readonly kind: 'write'; readonly result: WriteResult }
  | { readonly kind: 'issued'; readonly pending: Pending<WriteResult>; readonly answeredAtOnce: WriteResult | undefined }
  | { readonly kind: 'read'; readonly result: ReadResult }
  | { readonly kind: 'control'; readonly outcome: StepOutcome }
  | { readonly kind: 'run'; readonly reachedIdle: boolean };

/** Performs `op` on `sim` and waits for it, as a scenario step would. */
export function performOp(sim: Simulation, setup: TraceSetup, op: TraceOp): OpOutcome {
  switch (op.op) {
    case 'guest-write':
    case 'export-write':
    case 'primary-filter-write': {
      const range = resolveRange(op, setup.diskSizeSectors);
      const data = dataOf(patternSectors(op, range.lengthSectors));
      const offsetBytes = range.offsetSectors * SECTOR_BYTES;
      const future =
        op.op === 'guest-write'
          ? sim.guestWrite(op.vm, offsetBytes, data)
          : sim.write(op.op === 'export-write' ? NODE.secondaryDisk : NODE.replicationPrimary, offsetBytes, data);
      return { kind: 'write', result: sim.settle(future) };
    }
    case 'guest-write-async': {
      const range = resolveRange(op, setup.diskSizeSectors);
      const data = dataOf(patternSectors(op, range.lengthSectors));
      const pending = sim.guestWrite('primary', range.offsetSectors * SECTOR_BYTES, data);
      return { kind: 'issued', pending, answeredAtOnce: sim.peek(pending) };
    }
    case 'guest-read':
    case 'primary-filter-read': {
      const range = resolveRange(op, setup.diskSizeSectors);
      const offsetBytes = range.offsetSectors * SECTOR_BYTES;
      const lengthBytes = range.lengthSectors * SECTOR_BYTES;
      const future = op.op === 'guest-read' ? sim.guestRead(op.vm, offsetBytes, lengthBytes) : sim.read(NODE.replicationPrimary, offsetBytes, lengthBytes);
      return { kind: 'read', result: sim.settle(future) };
    }
    case 'colo-start':
      return { kind: 'control', outcome: sim.settle(sim.coloStart()) };
    case 'checkpoint':
      return { kind: 'control', outcome: sim.settle(sim.checkpoint()) };
    case 'failover':
      return { kind: 'control', outcome: sim.settle(sim.failover(op.to)) };
    case 'replication':
      switch (op.action) {
        case 'start':
          return { kind: 'control', outcome: sim.replication(op.host, 'start', { mode: op.mode }) };
        case 'stop':
          return { kind: 'control', outcome: sim.replication(op.host, 'stop', { failover: op.failover }) };
        default:
          return { kind: 'control', outcome: sim.replication(op.host, op.action) };
      }
    case 'run-for':
      sim.runFor(op.durationUs);
      return { kind: 'run', reachedIdle: sim.isIdle() };
    case 'run-until-idle':
      return { kind: 'run', reachedIdle: sim.runUntilIdle() };
    case 'fault':
      return { kind: 'control', outcome: sim.injectFault(op.fault) };
  }
}

export function describeOutcome(outcome: OpOutcome): string {
  switch (outcome.kind) {
    case 'write':
      return outcome.result.ok ? 'ok' : `error ${outcome.result.errno}`;
    case 'issued':
      return outcome.answeredAtOnce ? `completed at once: ${outcome.answeredAtOnce.ok ? 'ok' : `error ${outcome.answeredAtOnce.errno}`}` : 'in flight';
    case 'read':
      return outcome.result.ok ? `ok (${outcome.result.data.describe()})` : `error ${outcome.result.errno}`;
    case 'control':
      return outcome.outcome.ok ? 'ok' : `error "${outcome.outcome.message}"`;
    case 'run':
      return outcome.reachedIdle ? 'idle' : 'not idle';
  }
}

/** A short description of an operation with its resolved range, for failure reports. */
export function describeOp(op: TraceOp, diskSizeSectors: number): string {
  const range = (value: SectorRange) => {
    const resolved = resolveRange(value, diskSizeSectors);
    return `sectors [${resolved.offsetSectors}, +${resolved.lengthSectors}) = bytes [${resolved.offsetSectors * SECTOR_BYTES}, +${resolved.lengthSectors * SECTOR_BYTES})`;
  };
  const pattern = (value: WritePattern) =>
    `pattern 0x${value.patternByte.toString(16).padStart(2, '0')}${value.patternStepPerSector ? ` stepping ${value.patternStepPerSector}/sector` : ''}`;
  switch (op.op) {
    case 'guest-write':
      return `guest-write ${op.vm} ${range(op)} ${pattern(op)}`;
    case 'guest-write-async':
      return `guest-write primary (async, not awaited) ${range(op)} ${pattern(op)}`;
    case 'export-write':
      return `write secondary-disk (NBD export) ${range(op)} ${pattern(op)}`;
    case 'primary-filter-write':
      return `write replication-primary ${range(op)} ${pattern(op)}`;
    case 'guest-read':
      return `guest-read ${op.vm} ${range(op)}`;
    case 'primary-filter-read':
      return `read replication-primary ${range(op)}`;
    case 'colo-start':
    case 'checkpoint':
    case 'run-until-idle':
      return op.op;
    case 'failover':
      return `failover to ${op.to}`;
    case 'replication':
      return `replication ${op.host} ${op.action}${op.action === 'start' ? ` mode=${op.mode}` : ''}${op.action === 'stop' ? ` failover=${op.failover}` : ''}`;
    case 'run-for':
      return `run for ${op.durationUs} us`;
    case 'fault':
      return `fault ${JSON.stringify(op.fault)}`;
  }
}
