/**
 * The in-memory SectorStore: sparse (unwritten chunks are absent and read as zeros), chunked
 * in 32 KiB, a chunk of one repeated byte kept as that number, change notifications per chunk.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { CHUNK_SIZE_BYTES, ChunkedMemoryStore, createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { DiskModel, expectSameBytes, filled, KiB, MiB, mixedBytes, runsOf } from './support/bytes.js';

const CHUNK = 32 * KiB;

function storedChunkIndices(store: ChunkedMemoryStore): number[] {
  return [...store.storedChunks()].map(([index]) => index).sort((a, b) => a - b);
}

function watch(store: ChunkedMemoryStore): number[] {
  const changed: number[] = [];
  store.onChunkChanged = (chunkIndex) => changed.push(chunkIndex);
  return changed;
}

describe('ChunkedMemoryStore: sparse', () => {
  it('chunks are 32 KiB', () => {
    expect(CHUNK_SIZE_BYTES).toBe(CHUNK);
  });

  it('reads zeros where nothing was written, and stores nothing for it', () => {
    const store = new ChunkedMemoryStore(64 * MiB);
    const data = store.read(0, 64 * MiB);
    expect(data.lengthBytes).toBe(64 * MiB);
    expect(data.uniformByte()).toBe(0);
    expect(data.runs).toHaveLength(1);
    expect(storedChunkIndices(store)).toEqual([]);
  });

  it('a read of an unwritten range between written chunks is zeros', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(0, DataRuns.fill(CHUNK, 0x11));
    store.write(3 * CHUNK, DataRuns.fill(CHUNK, 0x22));
    expect(store.read(CHUNK, 2 * CHUNK).uniformByte()).toBe(0);
    expect(storedChunkIndices(store)).toEqual([0, 3]);
  });

  it('writing zeros over a whole unwritten chunk stores nothing', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(CHUNK, DataRuns.zeros(2 * CHUNK));
    store.write(5 * CHUNK + 512, DataRuns.zeros(512));
    expect(storedChunkIndices(store)).toEqual([]);
  });

  it('a chunk that becomes all zeros again is dropped', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(1000, DataRuns.fill(100, 0x77));
    expect(storedChunkIndices(store)).toEqual([0]);
    store.write(1000, DataRuns.zeros(100));
    expect(storedChunkIndices(store)).toEqual([]);
    expect(store.getChunk(0)).toBeUndefined();
  });
});

describe('ChunkedMemoryStore: chunks of one repeated byte', () => {
  it('a whole chunk of one byte is stored as that number', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(2 * CHUNK, DataRuns.fill(CHUNK, 0x5a));
    expect(store.getChunk(2)).toBe(0x5a);
  });

  it('a write across chunks stores partial chunks as runs and full ones as numbers', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(1000, DataRuns.fill(2 * CHUNK, 0x11));
    // [1000, 1000 + 64 KiB) covers chunk 0 from 1000, chunk 1 whole, chunk 2 up to 1000.
    expect(storedChunkIndices(store)).toEqual([0, 1, 2]);
    expect(store.getChunk(1)).toBe(0x11);
    expect(store.getChunk(0)).toEqual([1000, 0, CHUNK - 1000, 0x11]);
    expect(store.getChunk(2)).toEqual([1000, 0x11, CHUNK - 1000, 0]);
  });

  it('fills splice runs: neighbours of one byte merge, and a chunk back to one byte is that number', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(0, DataRuns.fill(CHUNK, 0x33));
    store.write(4096, DataRuns.fill(512, 0x44));
    store.write(8192, DataRuns.fill(1024, 0x55));
    expect(store.getChunk(0)).toEqual([4096, 0x33, 512, 0x44, 3584, 0x33, 1024, 0x55, CHUNK - 9216, 0x33]);
    store.write(4608, DataRuns.fill(3584, 0x44));
    expect(store.getChunk(0)).toEqual([4096, 0x33, 4096, 0x44, 1024, 0x55, CHUNK - 9216, 0x33]);
    store.write(4096, DataRuns.fill(5120, 0x33));
    expect(store.getChunk(0)).toBe(0x33);
  });

  it('literal bytes are kept as bytes while they have many runs, and become runs or a number when they have few', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(0, DataRuns.fill(CHUNK, 0x33));
    const patch = mixedBytes(512, 1);
    store.write(4096, runsOf(patch));
    expect(store.getChunk(0)).toBeInstanceOf(Uint8Array);
    store.write(4096, runsOf(filled(512, 0x33)));
    expect(store.getChunk(0)).toBe(0x33);
    store.write(0, runsOf(filled(512, 0x01)));
    expect(store.getChunk(0)).toEqual([512, 0x01, CHUNK - 512, 0x33]);
  });

  it('a whole chunk of literal bytes that are all equal is stored as a number', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(CHUNK, new DataRuns([{ lengthBytes: CHUNK, bytes: filled(CHUNK, 0x44) }], CHUNK));
    expect(store.getChunk(1)).toBe(0x44);
  });
});

describe('ChunkedMemoryStore: reads and writes against a plain byte array', () => {
  it('a sequence of partial writes, fills and discards reads back exactly', () => {
    const size = 10 * CHUNK;
    const store = new ChunkedMemoryStore(size);
    const model = new DiskModel(size);
    const operations: Array<['fill', number, number, number] | ['bytes', number, number, number] | ['discard', number, number]> = [
      ['fill', 0, 3 * CHUNK, 0x11],
      ['bytes', 5000, 40000, 1],
      ['fill', CHUNK - 512, 1024, 0x22],
      ['discard', 2 * CHUNK + 100, CHUNK],
      ['bytes', 7 * CHUNK, 2 * CHUNK, 2],
      ['fill', 8 * CHUNK + 7, 13, 0],
      ['discard', 9 * CHUNK, CHUNK],
      ['bytes', 9 * CHUNK + 512, 512, 3],
    ];
    for (const operation of operations) {
      if (operation[0] === 'fill') {
        const [, offset, length, byte] = operation;
        store.write(offset, DataRuns.fill(length, byte));
        model.fill(offset, length, byte);
      } else if (operation[0] === 'bytes') {
        const [, offset, length, seed] = operation;
        const bytes = mixedBytes(length, seed);
        store.write(offset, runsOf(bytes));
        model.set(offset, bytes);
      } else {
        const [, offset, length] = operation;
        store.discard(offset, length);
        model.fill(offset, length, 0);
      }
      expectSameBytes(store.read(0, size).toBytes(), model.bytes, `after ${operation.join(' ')}`);
    }
    for (const [offset, length] of [
      [0, 1],
      [CHUNK - 1, 2],
      [5000, 40000],
      [7 * CHUNK + 3, CHUNK + 10],
      [size - 1, 1],
    ] as const) {
      expectSameBytes(store.read(offset, length).toBytes(), model.range(offset, length), `read [${offset}, +${length})`);
    }
  });
});

describe('ChunkedMemoryStore: discard', () => {
  it('forgets whole chunks and zeroes partial ones', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(0, DataRuns.fill(4 * CHUNK, 0x66));
    store.discard(CHUNK / 2, 2 * CHUNK);
    expect(storedChunkIndices(store)).toEqual([0, 2, 3]);
    expect(store.getChunk(3)).toBe(0x66);
    const expected = filled(4 * CHUNK, 0x66);
    expected.fill(0, CHUNK / 2, CHUNK / 2 + 2 * CHUNK);
    expectSameBytes(store.read(0, 4 * CHUNK).toBytes(), expected, 'after discard');
  });
});

describe('ChunkedMemoryStore: size not a multiple of the chunk size', () => {
  const size = 2 * CHUNK + 1536;

  it('the last chunk is short: a write up to the end fills it and is stored as a number', () => {
    const store = new ChunkedMemoryStore(size);
    store.write(2 * CHUNK, DataRuns.fill(1536, 0x99));
    expect(store.getChunk(2)).toBe(0x99);
    expectSameBytes(store.read(2 * CHUNK - 512, 2048).toBytes(), Uint8Array.from([...filled(512, 0), ...filled(1536, 0x99)]), 'end of disk');
  });

  it('literal bytes in the short last chunk are stored at its own length', () => {
    const store = new ChunkedMemoryStore(size);
    const bytes = mixedBytes(1536, 5);
    store.write(2 * CHUNK, runsOf(bytes));
    const chunk = store.getChunk(2);
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect((chunk as Uint8Array).length).toBe(1536);
    expectSameBytes(store.read(2 * CHUNK, 1536).toBytes(), bytes, 'last chunk');
  });

  it('a partial write into the short last chunk keeps it short', () => {
    const store = new ChunkedMemoryStore(size);
    store.write(size - 512, DataRuns.fill(512, 0x12));
    expect(store.getChunk(2)).toEqual([1024, 0, 512, 0x12]);
    expect(store.read(2 * CHUNK, 1536).toBytes()).toEqual(Uint8Array.from({ length: 1536 }, (_, index) => (index < 1024 ? 0 : 0x12)));
  });

  it('ranges beyond the end throw a RangeError', () => {
    const store = new ChunkedMemoryStore(size);
    expect(() => store.read(size - 512, 1024)).toThrow(RangeError);
    expect(() => store.write(size, DataRuns.fill(512, 1))).toThrow(RangeError);
    expect(() => store.discard(-512, 512)).toThrow(RangeError);
  });
});

describe('ChunkedMemoryStore: onChunkChanged', () => {
  it('names every chunk whose value changes', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const changed = watch(store);
    store.write(CHUNK - 512, DataRuns.fill(CHUNK + 1024, 0x11));
    expect(changed).toEqual([0, 1, 2]);
  });

  it('is not called when a whole chunk is filled with the byte it already holds', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(0, DataRuns.fill(CHUNK, 0x21));
    const changed = watch(store);
    store.write(0, DataRuns.fill(CHUNK, 0x21));
    expect(changed).toEqual([]);
  });

  it('is not called for zeros written where nothing is stored', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const changed = watch(store);
    store.write(0, DataRuns.zeros(3 * CHUNK));
    store.discard(4 * CHUNK, 100);
    expect(changed).toEqual([]);
  });

  it('is called when a discard drops a chunk', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    store.write(2 * CHUNK, DataRuns.fill(CHUNK, 0x21));
    const changed = watch(store);
    store.discard(0, 4 * CHUNK);
    expect(changed).toEqual([2]);
  });

  it('is not called by loadChunk, which restores persisted chunks', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const changed = watch(store);
    store.loadChunk(3, 0x42);
    store.loadChunk(4, mixedBytes(CHUNK, 8));
    store.loadChunk(5, 0);
    expect(changed).toEqual([]);
    expect(storedChunkIndices(store)).toEqual([3, 4]);
    expect(store.read(3 * CHUNK, CHUNK).uniformByte()).toBe(0x42);
    store.loadChunk(3, undefined);
    expect(storedChunkIndices(store)).toEqual([4]);
  });
});

describe('ChunkedMemoryStore: buffers', () => {
  it('a stored chunk does not share memory with the caller’s buffer', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const big = mixedBytes(4 * CHUNK, 6);
    store.write(0, DataRuns.fromBytes(big));
    const chunk = store.getChunk(1);
    expect(chunk).toBeInstanceOf(Uint8Array);
    // Its own buffer of exactly one chunk: not a view that keeps the caller's 128 KiB alive.
    expect((chunk as Uint8Array).buffer).not.toBe(big.buffer);
    expect((chunk as Uint8Array).buffer.byteLength).toBe(CHUNK);
    const before = big.slice();
    big.fill(0xee);
    expectSameBytes(store.read(0, 4 * CHUNK).toBytes(), before, 'after the caller reused its buffer');
  });

  it('a partial-chunk write copies the caller’s bytes', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const bytes = mixedBytes(1000, 2);
    store.write(100, DataRuns.fromBytes(bytes));
    const expected = bytes.slice();
    bytes.fill(0);
    expectSameBytes(store.read(100, 1000).toBytes(), expected, 'partial write');
  });

  it('changing the bytes a read returned does not change the store', () => {
    const store = new ChunkedMemoryStore(1 * MiB);
    const bytes = mixedBytes(CHUNK, 3);
    store.write(0, runsOf(bytes));
    const read = store.read(0, CHUNK);
    for (const run of read.runs) run.bytes?.fill(0xaa);
    expectSameBytes(store.read(0, CHUNK).toBytes(), bytes, 'after changing a read');
  });

  it('createMemoryStore makes an empty store of the requested size', () => {
    const store = createMemoryStore({ sizeBytes: 3 * CHUNK });
    expect(store.sizeBytes).toBe(3 * CHUNK);
    expect(storedChunkIndices(store)).toEqual([]);
  });
});
