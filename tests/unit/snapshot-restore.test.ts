/**
 * A simulation saved at a quiescent instant and restored (with its stores' bytes) goes on
 * exactly as the original: same events, same bytes, same stages. This is what lets the app
 * survive a reload in the middle of a commit or a workload.
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

function stripSequence(events: SimEvent[]): unknown[] {
  return events.map(({ sequence: _sequence, ...rest }) => rest);
}

function advanceToQuiescent(sim: Simulation): void {
  let guard = 0;
  while (!sim.isQuiescent()) {
    if (!sim.scheduler.runNext() || ++guard > 100_000) throw new Error('never quiescent');
  }
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
    expect(original.coloStart().ok).toBe(true);
    original.setWorkload({ writesPerSecond: 2000, vm: 'both', blockBytes: 4096, maxBlocks: 8 });
    original.runFor(20_000);
    expect(original.settle(original.checkpoint()).ok).toBe(true);
    original.runFor(15_000);
    expect(original.settle(original.failover('secondary')).ok).toBe(true);
    original.setWorkload({ writesPerSecond: 3000, vm: 'secondary', blockBytes: 4096, maxBlocks: 4 });
    original.runFor(2_000);
    advanceToQuiescent(original);
    expect(original.replicationNode('replication-secondary')!.stage).toBe('failover');

    const snapshot = structuredClone(original.snapshot());
    const restored = new Simulation(settings, copiedStores(registry.stores), snapshot);

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
    expect(stripSequence(restoredEvents)).toEqual(stripSequence(originalEvents));
    expect(restored.replicationNode('replication-secondary')!.stage).toBe('done');
    for (const node of ['primary-disk', 'secondary-disk', 'replication-secondary']) {
      expect(readAll(restored, node).equals(readAll(original, node))).toBe(true);
    }
  });

  it('keeps the backup bitmap, allocation maps, faults and an opened node', () => {
    const registry = storeRegistry();
    const original = new Simulation(settings, registry.factory);
    expect(original.openReplication('primary', { nodeName: 'extra', mode: 'primary', file: 'nbd-client' }).ok).toBe(true);
    expect(original.coloStart().ok).toBe(true);
    expect(original.writePatternNow('secondary-disk', 0, 8192, 0x22).ok).toBe(true);
    expect(original.settle(original.guestWrite('secondary', 65536, DataRuns.fill(512, 0x33))).ok).toBe(true);
    expect(original.injectFault({ kind: 'io-error', node: 'hidden-disk', on: 'write', count: 2 }).ok).toBe(true);

    const restored = new Simulation(settings, copiedStores(registry.stores), structuredClone(original.snapshot()));
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

  it('refuses to snapshot while requests are in flight', () => {
    const sim = new Simulation(settings, storeRegistry().factory);
    expect(sim.coloStart().ok).toBe(true);
    sim.guestWrite('primary', 0, DataRuns.fill(4096, 1));
    expect(sim.isQuiescent()).toBe(false);
    expect(() => sim.snapshot()).toThrow(/quiescent/);
  });
});
