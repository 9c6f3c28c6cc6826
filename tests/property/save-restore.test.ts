/**
 * Property: a simulation saved and restored at random points of a random trace (guest writes
 * on both VMs, some left in flight, checkpoints, failovers, faults, a workload, commits in
 * progress, several restores per trace, some in the middle of a `run`) goes on exactly as the
 * uninterrupted run: same events (sequence numbers and times included), same final snapshot,
 * same bytes in every image.
 *
 * The save is the app's: the engine snapshot and the stores' records as TrackedStores writes
 * them, into a database that structured-clones them as IndexedDB does; the restore reads the
 * records back as the worker does. A failure prints the seed (support/property-runner.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/engine/colo/simulation.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { MemoryDatabase, MemoryPersistence } from '../../src/storage/memory-persistence.js';
import { TrackedStores } from '../../src/storage/tracked-stores.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { META_KEY, sortRecords } from '../../src/worker/saved-session.js';
import { performOp, simulationSettings, traceArbitrary, type Trace, type TraceOp } from './support/trace.js';

const TRACES = 1000;
const MAX_OPS_PER_TRACE = 30;

interface Running {
  sim: Simulation;
  stores: TrackedStores;
  persistence: MemoryPersistence;
}

/** A save as the app makes one (what changed, then the meta record), then a new engine from the records alone. */
async function saveAndRestore(running: Running, events: SimEvent[]): Promise<Running> {
  const pending = running.stores.takeChanges();
  await running.persistence.save([...pending.changes, { key: META_KEY, value: { snapshot: running.sim.snapshot() } }]);
  pending.committed();
  const persistence = new MemoryPersistence(running.persistence.database);
  await persistence.claim();
  const loaded = sortRecords(await persistence.loadAll());
  const { snapshot } = loaded.meta as { snapshot: Simulation extends never ? never : ReturnType<Simulation['snapshot']> };
  const stores = new TrackedStores(loaded.chunks);
  const sim = new Simulation(snapshot.settings, stores.factory, snapshot);
  sim.events.subscribe((event) => events.push(event));
  return { sim, stores, persistence };
}

async function start(trace: Trace, events: SimEvent[]): Promise<Running> {
  const stores = new TrackedStores();
  const sim = new Simulation(simulationSettings(trace.setup), stores.factory);
  sim.events.subscribe((event) => events.push(event));
  const persistence = new MemoryPersistence(new MemoryDatabase());
  await persistence.claim();
  await persistence.save(stores.allRecords());
  return { sim, stores, persistence };
}


/** Runs the trace; before each op whose index is in `reloadBefore`, saves and restores; a `run-for` may be split by a restore. */
async function runTrace(trace: Trace, workloadPerSecond: number, reloadBefore: ReadonlySet<number>, splitRuns: boolean): Promise<{ events: SimEvent[]; snapshot: unknown; digests: Record<string, string>; reloads: number }> {
  const events: SimEvent[] = [];
  let running = await start(trace, events);
  if (workloadPerSecond > 0) running.sim.setWorkload({ writesPerSecond: workloadPerSecond, vm: 'both', blockBytes: 4096, maxBlocks: 8 });
  let reloads = 0;
  for (const [index, op] of trace.ops.entries()) {
    if (reloadBefore.has(index)) {
      running = await saveAndRestore(running, events);
      reloads++;
    }
    if (op.op === 'run-for' && splitRuns && op.durationUs > 1) {
      const half = Math.floor(op.durationUs / 2);
      performOp(running.sim, trace.setup, { op: 'run-for', durationUs: half } satisfies TraceOp);
      running = await saveAndRestore(running, events);
      reloads++;
      performOp(running.sim, trace.setup, { op: 'run-for', durationUs: op.durationUs - half } satisfies TraceOp);
    } else {
      performOp(running.sim, trace.setup, op);
    }
  }
  running.sim.setWorkload(undefined);
  running.sim.runUntilIdle();
  return { events, snapshot: running.sim.snapshot(), digests: digestImages(running.sim), reloads };
}

describe('save and restore at random points', () => {
  it('a restored simulation goes on exactly as the uninterrupted one', async () => {
    let totalReloads = 0;
    await assertPropertyAsync(
      fc.asyncProperty(
        traceArbitrary({ withFaults: true, maxOps: MAX_OPS_PER_TRACE }),
        fc.constantFrom(0, 0, 3000),
        fc.array(fc.nat({ max: MAX_OPS_PER_TRACE + 8 }), { maxLength: 8 }),
        fc.boolean(),
        async (trace, workloadPerSecond, reloadPoints, splitRuns) => {
          const straight = await runTrace(trace, workloadPerSecond, new Set(), false);
          const reloaded = await runTrace(trace, workloadPerSecond, new Set(reloadPoints), splitRuns);
          totalReloads += reloaded.reloads;
          expect(reloaded.events).toEqual(straight.events);
          expect(reloaded.snapshot).toEqual(straight.snapshot);
          expect(reloaded.digests).toEqual(straight.digests);
        },
      ),
    );
    expect(totalReloads).toBeGreaterThan(TRACES);
    // 1000 traces take about a minute on an idle 2-core machine; a busy one (other jobs, CI
    // neighbours) can take several. Time is not what this checks, and a timeout would lose the seed.
  }, 900_000);
});

/** Checks an async property with a seed that can be replayed (as support/property-runner.ts does for sync ones). */
async function assertPropertyAsync<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>): Promise<void> {
  const seedText = process.env['PROPERTY_SEED'];
  const seed = seedText ? Number(seedText) : (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
  const path = process.env['PROPERTY_PATH'];
  const details = await fc.check(property, { seed, numRuns: TRACES, ...(path ? { path } : {}) });
  if (!details.failed) return;
  const cause = details.errorInstance;
  throw new Error(
    `${fc.defaultReportMessage(details) ?? ''}\n\nReplay: PROPERTY_SEED=${details.seed}${details.counterexamplePath ? ` PROPERTY_PATH="${details.counterexamplePath}"` : ''} npx vitest run tests/property/save-restore.test.ts`,
    cause instanceof Error ? { cause } : undefined,
  );
}
