/**
 * The stores of one simulation, kept in memory and remembering which chunks changed since
 * they were last saved, so a save writes only those.
 */
import type { StoreFactory, StoreRequest } from '../engine/store.js';
import { ChunkedMemoryStore, type ChunkValue } from './chunked-memory-store.js';
import type { ChunkChange } from './indexeddb-persistence.js';

export class TrackedStores {
  private readonly stores = new Map<string, ChunkedMemoryStore>();
  private readonly changed = new Map<string, Set<number>>();

  /** `saved`: chunks to start from (a reload), by image name. */
  constructor(private readonly saved: Map<string, Map<number, ChunkValue>> = new Map()) {}

  readonly factory: StoreFactory = (request: StoreRequest) => {
    const store = new ChunkedMemoryStore(request.sizeBytes);
    for (const [chunkIndex, value] of this.saved.get(request.imageName) ?? []) store.loadChunk(chunkIndex, value);
    const changed = new Set<number>();
    this.changed.set(request.imageName, changed);
    store.onChunkChanged = (chunkIndex) => changed.add(chunkIndex);
    this.stores.set(request.imageName, store);
    return store;
  };

  store(imageName: string): ChunkedMemoryStore | undefined {
    return this.stores.get(imageName);
  }

  /** The chunks changed since the last call, with their current values. */
  takeChanges(): ChunkChange[] {
    const changes: ChunkChange[] = [];
    for (const [imageName, indices] of this.changed) {
      const store = this.stores.get(imageName)!;
      for (const chunkIndex of indices) changes.push({ imageName, chunkIndex, value: store.getChunk(chunkIndex) });
      indices.clear();
    }
    return changes;
  }

  /** Puts changes back when a save failed, so the next save retries them. */
  restoreChanges(changes: readonly ChunkChange[]): void {
    for (const change of changes) this.changed.get(change.imageName)?.add(change.chunkIndex);
  }
}
