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
