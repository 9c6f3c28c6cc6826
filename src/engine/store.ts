/**
 * The SectorStore port: where an image keeps its bytes. The engine is given a factory of
 * stores and never knows whether they live in memory or in IndexedDB.
 *
 * Offsets and lengths are in bytes. Bytes never written, or discarded, read as zeros.
 */
import type { DataRuns } from './block/data-runs.js';

export interface SectorStore {
  readonly sizeBytes: number;
  read(offsetBytes: number, lengthBytes: number): DataRuns;
  write(offsetBytes: number, data: DataRuns): void;
  /** Forgets the range, which then reads as zeros and costs nothing. */
  discard(offsetBytes: number, lengthBytes: number): void;
}

/** Identifies a store: the image it belongs to. */
export interface StoreRequest {
  readonly imageName: string;
  readonly sizeBytes: number;
}

export type StoreFactory = (request: StoreRequest) => SectorStore;

/**
 * A store that can hand out its contents as a frozen value and take such a value back, without
 * copying bytes (a timeline keyframe keeps one per image). The value must never change after it
 * is handed out, and must only be given back to a store of the same implementation and size.
 */
export interface CapturableStore extends SectorStore {
  captureContents(): unknown;
  restoreContents(contents: unknown): void;
  /** Rough bytes a capture adds to what the store holds (shared values not counted). */
  contentsBytes(contents: unknown): number;
}

export function isCapturableStore(store: SectorStore): store is CapturableStore {
  const candidate = store as Partial<CapturableStore>;
  return typeof candidate.captureContents === 'function' && typeof candidate.restoreContents === 'function';
}
