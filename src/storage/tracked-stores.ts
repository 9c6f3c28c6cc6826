/**
 * The stores of one simulation, kept in memory, and the records that save them.
 *
 * A saved store is a set of records keyed by image:
 * - `['region', image, regionIndex]`: the chunks of a region (CHUNKS_PER_REGION chunks) that
 *   are one repeated byte or a few runs, as `[chunkIndex, value]` pairs. These are tens of bytes
 *   each, so a region record stays small however many writes touched it, and a save writes one
 *   record per region that changed rather than one per chunk.
 * - `['chunk', image, chunkIndex]`: a chunk of literal bytes (32 KiB), on its own, below
 *   IndexedDB's 64 KiB cliff.
 * Zero chunks are in no record.
 *
 * The stores remember which chunks changed since the last save, so a save costs what changed.
 */
import type { StoreFactory, StoreRequest } from '../engine/store.js';
import { ChunkedMemoryStore, type ChunkValue, type FillRuns } from './chunked-memory-store.js';

export const CHUNKS_PER_REGION = 16;

export type StoreRecordKey = readonly ['region', string, number] | readonly ['chunk', string, number];

export interface RegionRecord {
  /** Chunks of the region that are one byte (a number) or runs, ascending by index. */
  readonly chunks: ReadonlyArray<readonly [chunkIndex: number, value: number | FillRuns]>;
}

/** A record to write (`value`) or delete (`value` undefined). */
export interface RecordChange<Key = unknown> {
  readonly key: Key;
  readonly value: unknown;
}

/** Chunks read back from saved records, by image. */
export type LoadedChunks = Map<string, Map<number, ChunkValue>>;

/** What a save must write, and what to do once it committed or failed. */
export interface PendingStoreSave {
  readonly changes: Array<RecordChange<StoreRecordKey>>;
  /** The save committed: the records are now what is saved. */
  committed(): void;
  /** The save failed: the same chunks will be saved next time. */
  failed(): void;
}

export function isStoreRecordKey(key: unknown): key is StoreRecordKey {
  return Array.isArray(key) && key.length === 3 && (key[0] === 'region' || key[0] === 'chunk') && typeof key[1] === 'string' && typeof key[2] === 'number';
}

/** Adds a saved store record to `into`. Throws on a record of the wrong shape. */
export function loadStoreRecord(into: LoadedChunks, key: StoreRecordKey, value: unknown): void {
  const [kind, imageName, index] = key;
  let image = into.get(imageName);
  if (!image) into.set(imageName, (image = new Map()));
  if (kind === 'chunk') {
    if (!(value instanceof Uint8Array) && typeof value !== 'number') throw new Error(`saved chunk ${imageName}/${index} is neither bytes nor a byte`);
    image.set(index, value);
    return;
  }
  const region = value as RegionRecord;
  if (!region || !Array.isArray(region.chunks)) throw new Error(`saved region ${imageName}/${index} has no chunks`);
  for (const [chunkIndex, chunk] of region.chunks) image.set(chunkIndex, chunk);
}

export class TrackedStores {
  private readonly stores = new Map<string, ChunkedMemoryStore>();
  private readonly changed = new Map<string, Set<number>>();
  /** Chunks that have a `chunk` record in the saved state, by image. */
  private readonly literalRecords = new Map<string, Set<number>>();
  /** `over`: the saved chunks of images no store was made for yet (their records go at the next save). */
  private readonly staleBaseline = new Map<string, Set<number>>();
  private loadContents = true;

  /**
   * Stores that start empty over a database holding `baseline` (another simulation's saved
   * chunks, by image): the next save rewrites or deletes every baseline record, so what is saved
   * becomes exactly these stores' contents, at the cost of what differs (time travel).
   */
  static over(baseline: LoadedChunks): TrackedStores {
    const stores = new TrackedStores(baseline);
    stores.loadContents = false;
    for (const [imageName, chunks] of baseline) stores.staleBaseline.set(imageName, new Set(chunks.keys()));
    return stores;
  }

  /** `saved`: chunks to start from (a reload), by image name. */
  constructor(private readonly saved: LoadedChunks = new Map()) {
    for (const [imageName, chunks] of saved) {
      const literal = new Set<number>();
      for (const [chunkIndex, value] of chunks) if (value instanceof Uint8Array) literal.add(chunkIndex);
      this.literalRecords.set(imageName, literal);
    }
  }

  readonly factory: StoreFactory = (request: StoreRequest) => {
    const store = new ChunkedMemoryStore(request.sizeBytes);
    if (this.loadContents) for (const [chunkIndex, value] of this.saved.get(request.imageName) ?? []) store.loadChunk(chunkIndex, value);
    // Over a baseline: every saved chunk of the image is rewritten or deleted by the next save.
    const changed = new Set<number>(this.loadContents ? [] : (this.staleBaseline.get(request.imageName) ?? []));
    this.staleBaseline.delete(request.imageName);
    this.changed.set(request.imageName, changed);
    store.onChunkChanged = (chunkIndex) => changed.add(chunkIndex);
    this.stores.set(request.imageName, store);
    return store;
  };

  store(imageName: string): ChunkedMemoryStore | undefined {
    return this.stores.get(imageName);
  }

  imageNames(): IterableIterator<string> {
    return this.stores.keys();
  }

  /** Whether any chunk changed since the last save. */
  get hasChanges(): boolean {
    for (const indices of this.changed.values()) if (indices.size > 0) return true;
    return false;
  }

  /**
   * The record changes that make the saved stores equal the current ones. Until `committed` or
   * `failed` is called, the chunks count as saved; call exactly one of them.
   */
  takeChanges(): PendingStoreSave {
    const changes: Array<RecordChange<StoreRecordKey>> = [];
    const taken = new Map<string, number[]>();
    const literalAfter = new Map<string, Set<number>>();
    // Images of the baseline that this simulation never made: their records go.
    const stale = [...this.staleBaseline];
    for (const [imageName, indices] of stale) {
      const regions = new Set<number>();
      for (const chunkIndex of indices) {
        if (this.literalRecords.get(imageName)?.has(chunkIndex)) changes.push({ key: ['chunk', imageName, chunkIndex], value: undefined });
        regions.add(Math.floor(chunkIndex / CHUNKS_PER_REGION));
      }
      for (const regionIndex of [...regions].sort((a, b) => a - b)) changes.push({ key: ['region', imageName, regionIndex], value: undefined });
      literalAfter.set(imageName, new Set());
    }
    this.staleBaseline.clear();
    for (const [imageName, indices] of this.changed) {
      if (indices.size === 0) continue;
      const store = this.stores.get(imageName)!;
      const literalBefore = this.literalRecords.get(imageName) ?? new Set<number>();
      const literal = new Set(literalBefore);
      const regions = new Set<number>();
      for (const chunkIndex of indices) {
        const value = store.getChunk(chunkIndex);
        if (value instanceof Uint8Array) {
          changes.push({ key: ['chunk', imageName, chunkIndex], value });
          literal.add(chunkIndex);
        } else if (literal.delete(chunkIndex)) {
          changes.push({ key: ['chunk', imageName, chunkIndex], value: undefined });
        }
        regions.add(Math.floor(chunkIndex / CHUNKS_PER_REGION));
      }
      for (const regionIndex of [...regions].sort((a, b) => a - b)) {
        const chunks: Array<readonly [number, number | FillRuns]> = [];
        const first = regionIndex * CHUNKS_PER_REGION;
        for (let chunkIndex = first; chunkIndex < first + CHUNKS_PER_REGION; chunkIndex++) {
          const value = store.getChunk(chunkIndex);
          if (value !== undefined && !(value instanceof Uint8Array)) chunks.push([chunkIndex, value]);
        }
        changes.push({ key: ['region', imageName, regionIndex], value: chunks.length > 0 ? ({ chunks } satisfies RegionRecord) : undefined });
      }
      taken.set(imageName, [...indices]);
      literalAfter.set(imageName, literal);
      indices.clear();
    }
    return {
      changes,
      committed: () => {
        for (const [imageName, literal] of literalAfter) this.literalRecords.set(imageName, literal);
      },
      failed: () => {
        for (const [imageName, indices] of stale) if (!this.stores.has(imageName)) this.staleBaseline.set(imageName, indices);
        for (const [imageName, indices] of taken) for (const chunkIndex of indices) this.changed.get(imageName)?.add(chunkIndex);
      },
    };
  }

  /**
   * Every record of the current stores, as a fresh save would write them (a simulation saved
   * for the first time, or into an empty database).
   */
  allRecords(): Array<RecordChange<StoreRecordKey>> {
    for (const [imageName, store] of this.stores) {
      const changed = this.changed.get(imageName)!;
      for (const [chunkIndex] of store.storedChunks()) changed.add(chunkIndex);
    }
    this.literalRecords.clear();
    const pending = this.takeChanges();
    pending.committed();
    return pending.changes.filter((change) => change.value !== undefined);
  }
}
