/**
 * An in-memory SectorStore: sparse, chunked, and compact for repeated bytes.
 *
 * - Unwritten chunks are absent and read as zeros.
 * - A chunk holding one repeated byte is kept as that number, not as 32 KiB of it.
 * - Chunks are 32 KiB: below IndexedDB's 64 KiB cliff, so the IndexedDB adapter can persist
 *   each chunk as one value.
 */
import { type DataRuns, DataRunsBuilder } from '../engine/block/data-runs.js';
import type { SectorStore } from '../engine/store.js';

export const CHUNK_SIZE_BYTES = 32 * 1024;

/** A chunk as stored: a repeated byte (1-255), or its bytes. Zero chunks are not stored. */
export type ChunkValue = number | Uint8Array;

export class ChunkedMemoryStore implements SectorStore {
  private readonly chunks = new Map<number, ChunkValue>();
  /** Called with a chunk's index whenever its value changes (persistence listens here). */
  onChunkChanged: ((chunkIndex: number) => void) | undefined;

  constructor(readonly sizeBytes: number) {}

  read(offsetBytes: number, lengthBytes: number): DataRuns {
    this.checkRange(offsetBytes, lengthBytes);
    const builder = new DataRunsBuilder();
    let position = offsetBytes;
    const end = offsetBytes + lengthBytes;
    while (position < end) {
      const chunkIndex = Math.floor(position / CHUNK_SIZE_BYTES);
      const chunkStart = chunkIndex * CHUNK_SIZE_BYTES;
      const from = position - chunkStart;
      const to = Math.min(end - chunkStart, CHUNK_SIZE_BYTES);
      const value = this.chunks.get(chunkIndex);
      if (value === undefined) builder.appendFill(to - from, 0);
      else if (typeof value === 'number') builder.appendFill(to - from, value);
      else builder.appendBytes(value.slice(from, to));
      position = chunkStart + to;
    }
    return builder.build();
  }

  write(offsetBytes: number, data: DataRuns): void {
    this.checkRange(offsetBytes, data.lengthBytes);
    let runStart = offsetBytes;
    for (const run of data.runs) {
      if (run.bytes) this.writeBytes(runStart, run.bytes);
      else this.writeFill(runStart, run.lengthBytes, run.fillByte);
      runStart += run.lengthBytes;
    }
  }

  discard(offsetBytes: number, lengthBytes: number): void {
    this.checkRange(offsetBytes, lengthBytes);
    this.writeFill(offsetBytes, lengthBytes, 0);
  }

  /** Every stored (non-zero) chunk, for persistence and for measuring memory. */
  storedChunks(): IterableIterator<[number, ChunkValue]> {
    return this.chunks.entries();
  }

  getChunk(chunkIndex: number): ChunkValue | undefined {
    return this.chunks.get(chunkIndex);
  }

  /** Puts a chunk back as it was persisted, without notifying onChunkChanged. */
  loadChunk(chunkIndex: number, value: ChunkValue | undefined): void {
    if (value === undefined || value === 0) this.chunks.delete(chunkIndex);
    else this.chunks.set(chunkIndex, value);
  }

  private writeFill(offsetBytes: number, lengthBytes: number, fillByte: number): void {
    let position = offsetBytes;
    const end = offsetBytes + lengthBytes;
    while (position < end) {
      const chunkIndex = Math.floor(position / CHUNK_SIZE_BYTES);
      const chunkStart = chunkIndex * CHUNK_SIZE_BYTES;
      const from = position - chunkStart;
      const to = Math.min(end - chunkStart, this.chunkLength(chunkIndex));
      if (from === 0 && to === this.chunkLength(chunkIndex)) {
        this.setChunk(chunkIndex, fillByte);
      } else {
        const bytes = this.materialize(chunkIndex);
        bytes.fill(fillByte, from, to);
        this.setChunk(chunkIndex, compact(bytes));
      }
      position = chunkStart + to;
    }
  }

  private writeBytes(offsetBytes: number, source: Uint8Array): void {
    let position = offsetBytes;
    const end = offsetBytes + source.length;
    while (position < end) {
      const chunkIndex = Math.floor(position / CHUNK_SIZE_BYTES);
      const chunkStart = chunkIndex * CHUNK_SIZE_BYTES;
      const from = position - chunkStart;
      const to = Math.min(end - chunkStart, this.chunkLength(chunkIndex));
      const piece = source.subarray(position - offsetBytes, position - offsetBytes + (to - from));
      if (from === 0 && to === this.chunkLength(chunkIndex)) {
        // slice(): a stored subarray would keep the caller's whole buffer alive.
        this.setChunk(chunkIndex, compact(piece.slice()));
      } else {
        const bytes = this.materialize(chunkIndex);
        bytes.set(piece, from);
        this.setChunk(chunkIndex, compact(bytes));
      }
      position = chunkStart + to;
    }
  }

  /** A fresh, private copy of a chunk's bytes. */
  private materialize(chunkIndex: number): Uint8Array {
    const value = this.chunks.get(chunkIndex);
    const bytes = new Uint8Array(this.chunkLength(chunkIndex));
    if (typeof value === 'number') bytes.fill(value);
    else if (value) bytes.set(value);
    return bytes;
  }

  private setChunk(chunkIndex: number, value: ChunkValue): void {
    const previous = this.chunks.get(chunkIndex);
    if (value === 0) {
      if (previous === undefined) return;
      this.chunks.delete(chunkIndex);
    } else {
      if (typeof value === 'number' && previous === value) return;
      this.chunks.set(chunkIndex, value);
    }
    this.onChunkChanged?.(chunkIndex);
  }

  /** The last chunk may be shorter when the size is not a multiple of the chunk size. */
  private chunkLength(chunkIndex: number): number {
    return Math.min(CHUNK_SIZE_BYTES, this.sizeBytes - chunkIndex * CHUNK_SIZE_BYTES);
  }

  private checkRange(offsetBytes: number, lengthBytes: number): void {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RangeError(`range [${offsetBytes}, +${lengthBytes}) outside a store of ${this.sizeBytes} bytes`);
    }
  }
}

/** A chunk whose bytes are all equal becomes that byte. */
function compact(bytes: Uint8Array): ChunkValue {
  const first = bytes[0]!;
  for (let index = 1; index < bytes.length; index++) if (bytes[index] !== first) return bytes;
  return first;
}

export function createMemoryStore(request: { sizeBytes: number }): ChunkedMemoryStore {
  return new ChunkedMemoryStore(request.sizeBytes);
}
