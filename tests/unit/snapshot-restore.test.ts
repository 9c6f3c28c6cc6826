/**
 * A simulation saved at any instant between two scheduler entries (requests in flight, messages
 * on the wire, a commit or a checkpoint under way) and restored with its stores' bytes goes on
 * exactly as the original: same events (sequence numbers included), same bytes, same stages.
 * This is what lets the app survive a reload under any load.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { DEFAULT_SETTINGS, Simulation } from '../../src/engine/colo/simulation.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { ChunkedMemoryStore } from '../../src/storage/chunked-memory-store.js';
import type { StoreRequest } from '../../src/engine/store.js';

const settings = { ...DEFAULT_SETTINGS, diskSizeBytes: 1024 * 1024, clusterSizeBytes: 4096, copyTimeUs: 300 };

function storeRegistry() {
  const stores = new Map<string, ChunkedMemoryStore>();
  return {
    stores,
    factory: (request: StoreRequest) => {
      const store = new ChunkedMemoryStore(request.sizeBytes);
      stores.set(request.imageName, store);
      return store;
    },
  };
}

/** A copy of every store, as IndexedDB would hand them back after a reload. */
function copiedStores(source: Map<string, ChunkedMemoryStore>) {
  return (request: StoreRequest) => {
    const store = new ChunkedMemoryStore(request.sizeBytes);
    const original = source.get(request.imageName);
    if (original) for (const [index, value] of original.storedChunks()) store.loadChunk(index, typeof value === 'number' ? value : value.slice());
    return store;
  };
}

/** The snapshot as IndexedDB would give it back (structured clone), and a simulation restored from it. */
function reload(sim: Simulation, stores: Map<string, ChunkedMemoryStore>): Simulation {
  const snapshot = structuredClone(sim.snapshot());
  const restored = new Simulation(snapshot.settings, copiedStores(stores), snapshot);
  // Round trip: the restored simulation saves exactly what it was restored from.
  expect(restored.snapshot()).toEqual(snapshot);
  return restored;
}

function readAll(sim: Simulation, node: string): DataRuns {
  const result = sim.readNow(node, 0, settings.diskSizeBytes);
  if (!result.ok) throw new Error(`read of ${node} failed: ${result.errno}`);
  return result.data;
}

describe('snapshot and restore', () => {
  it('resumes a running commit and workload exactly', () => {
    const registry = storeRegistry();
    const original = new Simulation(settings, registry.factory);
    expect(original.settle(original.coloStart()).ok).toBe(true);
    original.setWorkload({ writesPerSecond: 2000, vm: 'both', blockBytes: 4096, maxBlocks: 8 });
    original.runFor(20_000);
    expect(original.settle(original.checkpoint()).ok).toBe(true);
    original.runFor(15_000);
    expect(original.settle(original.failover('secondary')).ok).toBe(true);
    original.setWorkload({ writesPerSecond: 3000, vm: 'secondary', blockBytes: 4096, maxBlocks: 4 });
    original.runFor(2_000);
    expect(original.replicationNode('replication-secondary')!.stage).toBe('failover');

    const restored = reload(original, registry.stores);

    const originalEvents: SimEvent[] = [];
    const restoredEvents: SimEvent[] = [];
    original.events.subscribe((event) => originalEvents.push(event));
    restored.events.subscribe((event) => restoredEvents.push(event));
    for (const sim of [original, restored]) {
      sim.runFor(30_000);
      sim.setWorkload(undefined);
      expect(sim.runUntilIdle()).toBe(true);
    }
    expect(originalEvents.length).toBeGreaterThan(100);
    expect(restoredEvents).toEqual(originalEvents);
    expect(restored.replicationNode('replication-secondary')!.stage).toBe('done');
    for (const node of ['primary-disk', 'secondary-disk', 'replication-secondary']) {
      expect(readAll(restored, node).equals(readAll(original, node))).toBe(true);
    }
  });

  it('an earlier snapshot is not changed by the run going on: its QMP events are shared, frozen, and later ones are not in it', () => {
    const registry = storeRegistry();
    const sim = new Simulation(settings, registry.factory);
    expect(sim.settle(sim.coloStart()).ok).toBe(true);
    sim.setWorkload({ writesPerSecond: 2000, vm: 'both', blockBytes: 4096, maxBlocks: 8 });
    sim.runFor(5_000);
    expect(sim.settle(sim.checkpoint()).ok).toBe(true);
    const early = sim.snapshot();
    const earlyJson = JSON.stringify(early);
    const kept = early.colo.qmpEvents.primary.events;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept[0]).toBe(sim.colo.qmpEventsOf('primary')[0]);
    for (const record of kept) {
      expect(Object.isFrozen(record) && Object.isFrozen(record.data)).toBe(true);
      expect(() => {
        (record as { timeUs: number }).timeUs = -1;
      }).toThrow(TypeError);
    }
    for (let round = 0; round < 3; round++) {
      sim.runFor(5_000);
      expect(sim.settle(sim.checkpoint()).ok).toBe(true);
    }
    expect(sim.colo.qmpEventsOf('primary').length).toBeGreaterThan(kept.length);
    expect(JSON.stringify(early)).toBe(earlyJson);
    // A simulation restored from it has records of its own (frozen too), equal to the snapshot's.
    const restored = new Simulation(early.settings, copiedStores(registry.stores), structuredClone(early));
    expect(restored.colo.qmpEventsOf('primary')).toEqual(kept);
    expect(restored.colo.qmpEventsOf('primary')[0]).not.toBe(kept[0]);
    expect(Object.isFrozen(restored.colo.qmpEventsOf('primary')[0])).toBe(true);
  });

  it('keeps the backup bitmap, allocation maps, faults and an opened node', () => {
    const registry = storeRegistry();
    const original = new Simulation(settings, registry.factory);
    expect(original.openReplication('primary', { nodeName: 'extra', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    expect(original.settle(original.coloStart()).ok).toBe(true);
    expect(original.writePatternNow('secondary-disk', 0, 8192, 0x22).ok).toBe(true);
    expect(original.settle(original.guestWrite('secondary', 65536, DataRuns.fill(512, 0x33))).ok).toBe(true);
    expect(original.injectFault({ kind: 'io-error', node: 'hidden-disk', on: 'write', count: 2 }).ok).toBe(true);

    const restored = reload(original, registry.stores);
    for (const sim of [original, restored]) {
      expect(sim.primary.replicationNodes.map((node) => [node.nodeName, node.stage])).toEqual([
        ['extra', 'running'],
        ['replication-primary', 'running'],
      ]);
      // The first cluster was copied in this epoch: a second write there copies nothing.
      expect(sim.writePatternNow('secondary-disk', 0, 512, 0x44).ok).toBe(true);
      // The fault still has two failures left: the next copy-before-write fails twice.
      expect(sim.writePatternNow('secondary-disk', 131072, 512, 0x55).ok).toBe(false);
      expect(sim.writePatternNow('secondary-disk', 131072, 512, 0x55).ok).toBe(false);
      expect(sim.writePatternNow('secondary-disk', 131072, 512, 0x55).ok).toBe(true);
      expect(sim.allocationOf('hidden-disk', 0, 65536)).toBe('all');
      expect(sim.allocationOf('active-disk', 65536, 4096)).toBe('all');
      expect(sim.allocationOf('active-disk', 69632, 4096)).toBe('none');
    }
    for (const node of ['hidden-disk', 'active-disk', 'secondary-disk', 'replication-secondary']) {
      expect(readAll(restored, node).equals(readAll(original, node))).toBe(true);
    }
  });

  it('restores at any instant of a busy run (forwards on the wire, a checkpoint draining, a failover, the commit, async results waiting) and goes on identically', () => {
    const registry = storeRegistry();
    const original = new Simulation({ ...settings, nbdLatencyUs: 700 }, registry.factory);
    expect(original.settle(original.coloStart()).ok).toBe(true);
    original.setWorkload({ writesPerSecond: 4000, vm: 'both', blockBytes: 4096, maxBlocks: 16 });
    const asyncWrite = original.guestWrite('primary', 0, DataRuns.fill(8192, 0x5a));
    const checkpoint = original.checkpoint();
    // Every copy is driven in lockstep with the original: the same scheduler steps, the same commands.
    const copies: Array<{ atUs: number; sim: Simulation; events: SimEvent[] }> = [];
    const live = (): Simulation[] => [original, ...copies.map((copy) => copy.sim)];
    const originalEvents: SimEvent[] = [];
    original.events.subscribe((event) => originalEvents.push(event));
    let reloadedWhileDraining = false;
    let reloadedWithForwardsOnTheWire = false;
    for (let step = 0; step < 400; step++) {
      if (step % 37 === 5) {
        if (!original.isSettled(checkpoint)) reloadedWhileDraining = true;
        if (original.link.messagesInTransit > 0) reloadedWithForwardsOnTheWire = true;
        const sim = reload(original, registry.stores);
        const events: SimEvent[] = [];
        sim.events.subscribe((event) => events.push(event));
        copies.push({ atUs: original.nowUs, sim, events });
      }
      for (const sim of live()) sim.scheduler.runNext();
      if (step === 120) for (const sim of live()) sim.failover('secondary');
    }
    expect(reloadedWhileDraining).toBe(true);
    expect(reloadedWithForwardsOnTheWire).toBe(true);
    expect(copies.length).toBeGreaterThan(8);
    for (const sim of live()) {
      sim.setWorkload(undefined);
      expect(sim.runUntilIdle()).toBe(true);
    }
    expect(original.replicationNode('replication-secondary')!.stage).toBe('done');
    for (const copy of copies) {
      expect(copy.events.length).toBeGreaterThan(0);
      expect(copy.events, `restored at ${copy.atUs} µs`).toEqual(originalEvents.slice(originalEvents.length - copy.events.length));
      expect(copy.sim.snapshot()).toEqual(original.snapshot());
    }
    for (const copy of copies) {
      for (const node of ['primary-disk', 'secondary-disk', 'active-disk', 'hidden-disk']) {
        expect(readAll(copy.sim, node).equals(readAll(original, node)), `${node} after a restore at ${copy.atUs} µs`).toBe(true);
      }
      expect(copy.sim.settle(asyncWrite).ok).toBe(true);
    }
    expect(original.settle(asyncWrite).ok).toBe(true);
  });
});
