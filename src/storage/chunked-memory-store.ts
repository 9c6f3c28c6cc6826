/**
 * An in-memory SectorStore: sparse, chunked, and compact for repeated bytes.
 *
 * - Unwritten chunks are absent and read as zeros.
 * - A chunk is kept in the smallest of three forms: one repeated byte (a number), a few runs of
 *   repeated bytes (`FillRuns`), or its literal bytes. Scenario and workload data are patterns,
 *   so a chunk that several writes touched stays a handful of runs: it costs tens of bytes in
 *   memory and in IndexedDB, not 32 KiB.
 * - Chunks are 32 KiB: below IndexedDB's 64 KiB cliff, so a chunk of literal bytes is persisted
 *   as one value.
 */
import { type DataRuns, DataRunsBuilder } from '../engine/block/data-runs.js';
import type { CapturableStore } from '../engine/store.js';

export const CHUNK_SIZE_BYTES = 32 * 1024;

/** Runs of repeated bytes covering a whole chunk, flat: [lengthBytes, fillByte, lengthBytes, fillByte, ...]. Never empty, never one run. */
export type FillRuns = readonly number[];

/** A chunk as stored: a repeated byte (1-255), runs of repeated bytes, or literal bytes. Zero chunks are not stored. */
export type ChunkValue = number | FillRuns | Uint8Array;

/** A chunk of literal bytes with at most this many runs is kept as runs instead. */
const MAX_FILL_RUNS = 64;

/**
 * Chunk values are never changed in place (a write makes a new value), so a copy of the chunk map
 * is a frozen capture of the contents that shares every value with the store.
 */
export class ChunkedMemoryStore implements CapturableStore {
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
      appendChunk(builder, this.chunks.get(chunkIndex), from, to);
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

  /** The contents now, frozen: a copy of the chunk map sharing its (immutable) values. */
  captureContents(): ReadonlyMap<number, ChunkValue> {
    return new Map(this.chunks);
  }

  /** Makes the contents those of a capture (of a store of the same size); every chunk that changes is reported to onChunkChanged. */
  restoreContents(contents: unknown): void {
    if (!(contents instanceof Map)) throw new TypeError('restoreContents takes a value captureContents returned');
    const captured = contents as ReadonlyMap<number, ChunkValue>;
    for (const chunkIndex of [...this.chunks.keys()]) if (!captured.has(chunkIndex)) this.setChunk(chunkIndex, 0);
    for (const [chunkIndex, value] of captured) {
      if (this.chunks.get(chunkIndex) === value) continue;
      this.chunks.set(chunkIndex, value);
      this.onChunkChanged?.(chunkIndex);
    }
  }

  /**
   * What a capture adds: its map, 48 bytes an entry. Its values are shared with the store and with
   * other captures while their chunks are unchanged, and are not counted (a heap measurement, as
   * `npm run bench` makes, gives the whole figure).
   */
  contentsBytes(contents: unknown): number {
    return 48 * (contents as ReadonlyMap<number, ChunkValue>).size;
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
      const chunkLength = this.chunkLength(chunkIndex);
      const from = position - chunkStart;
      const to = Math.min(end - chunkStart, chunkLength);
      if (from === 0 && to === chunkLength) {
        this.setChunk(chunkIndex, fillByte);
      } else {
        const value = this.chunks.get(chunkIndex);
        if (value instanceof Uint8Array) {
          const bytes = value.slice();
          bytes.fill(fillByte, from, to);
          this.setChunk(chunkIndex, compact(bytes));
        } else {
          this.setChunk(chunkIndex, spliceFill(toRuns(value, chunkLength), from, to, fillByte));
        }
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
      const bytes = from === 0 && to === this.chunkLength(chunkIndex) ? new Uint8Array(piece.length) : this.materialize(chunkIndex);
      // A copy: a stored view would keep the caller's whole buffer alive, and the caller may change it.
      bytes.set(piece, from);
      this.setChunk(chunkIndex, compact(bytes));
      position = chunkStart + to;
    }
  }

  /** A fresh, private copy of a chunk's bytes. */
  private materialize(chunkIndex: number): Uint8Array {
    const value = this.chunks.get(chunkIndex);
    const bytes = new Uint8Array(this.chunkLength(chunkIndex));
    if (value === undefined) return bytes;
    if (typeof value === 'number') bytes.fill(value);
    else if (value instanceof Uint8Array) bytes.set(value);
    else {
      let position = 0;
      for (let index = 0; index < value.length; index += 2) {
        bytes.fill(value[index + 1]!, position, position + value[index]!);
        position += value[index]!;
      }
    }
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

/** Appends bytes [from, to) of a chunk to a read. */
function appendChunk(builder: DataRunsBuilder, value: ChunkValue | undefined, from: number, to: number): void {
  if (value === undefined) builder.appendFill(to - from, 0);
  else if (typeof value === 'number') builder.appendFill(to - from, value);
  // A copy: the reader may keep or change what it got.
  else if (value instanceof Uint8Array) builder.appendBytes(value.slice(from, to));
  else {
    let runStart = 0;
    for (let index = 0; index < value.length && runStart < to; index += 2) {
      const runEnd = runStart + value[index]!;
      if (runEnd > from) builder.appendFill(Math.min(runEnd, to) - Math.max(runStart, from), value[index + 1]!);
      runStart = runEnd;
    }
  }
}

/** A number or runs chunk (or an absent one) as runs. */
function toRuns(value: number | FillRuns | undefined, chunkLength: number): FillRuns {
  if (value === undefined) return [chunkLength, 0];
  if (typeof value === 'number') return [chunkLength, value];
  return value;
}

/** The runs with [from, to) set to `fillByte`, neighbours of the same byte merged; one run becomes its byte. */
function spliceFill(runs: FillRuns, from: number, to: number, fillByte: number): ChunkValue {
  const out: number[] = [];
  const push = (lengthBytes: number, byte: number): void => {
    if (lengthBytes <= 0) return;
    if (out.length > 0 && out[out.length - 1] === byte) out[out.length - 2] = out[out.length - 2]! + lengthBytes;
    else out.push(lengthBytes, byte);
  };
  let runStart = 0;
  let inserted = false;
  for (let index = 0; index < runs.length; index += 2) {
    const runEnd = runStart + runs[index]!;
    const byte = runs[index + 1]!;
    push(Math.min(runEnd, from) - runStart, byte);
    if (!inserted && runEnd > from) {
      push(to - from, fillByte);
      inserted = true;
    }
    push(runEnd - Math.max(runStart, to), byte);
    runStart = runEnd;
  }
  return out.length === 2 ? out[1]! : out;
}

/** Literal bytes in their smallest form: one byte, a few runs, or the bytes. */
function compact(bytes: Uint8Array): ChunkValue {
  const runs: number[] = [];
  let runStart = 0;
  for (let index = 1; index <= bytes.length; index++) {
    if (index < bytes.length && bytes[index] === bytes[runStart]) continue;
    runs.push(index - runStart, bytes[runStart]!);
    if (runs.length > 2 * MAX_FILL_RUNS) return bytes;
    runStart = index;
  }
  return runs.length === 2 ? runs[1]! : runs;
}

export function createMemoryStore(request: { sizeBytes: number }): ChunkedMemoryStore {
  return new ChunkedMemoryStore(request.sizeBytes);
}
