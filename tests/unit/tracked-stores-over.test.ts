/**
 * TrackedStores.over: stores that start empty over what the database holds (another moment of
 * the simulation) save as the difference from it — records of chunks that changed are
 * rewritten, of chunks now zero deleted, of images the new simulation never made deleted — so
 * what is saved is exactly the new stores.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { MemoryDatabase, MemoryPersistence } from '../../src/storage/memory-persistence.js';
import { ChunkedMemoryStore, CHUNK_SIZE_BYTES } from '../../src/storage/chunked-memory-store.js';
import { TrackedStores, type LoadedChunks } from '../../src/storage/tracked-stores.js';
import { sortRecords } from '../../src/worker/saved-session.js';

const SIZE = 1024 * 1024;

async function saved(persistence: MemoryPersistence): Promise<LoadedChunks> {
  return sortRecords(await persistence.loadAll()).chunks;
}

function contentsOf(chunks: LoadedChunks, image: string): string {
  const store = new ChunkedMemoryStore(SIZE);
  for (const [index, value] of chunks.get(image) ?? []) store.loadChunk(index, value);
  return store.read(0, SIZE).runs.map((run) => (run.bytes ? `${run.lengthBytes}b` : `${run.lengthBytes}x${run.fillByte}`)).join(' ');
}

describe('TrackedStores.over', () => {
  it('saves the new stores as a difference from the old ones', async () => {
    const persistence = new MemoryPersistence(new MemoryDatabase());
    await persistence.claim();
    const before = new TrackedStores();
    const a = before.factory({ imageName: 'a', sizeBytes: SIZE });
    const gone = before.factory({ imageName: 'gone', sizeBytes: SIZE });
    a.write(0, DataRuns.fill(CHUNK_SIZE_BYTES, 0x11));
    a.write(20 * CHUNK_SIZE_BYTES, DataRuns.fromBytes(Uint8Array.from({ length: CHUNK_SIZE_BYTES }, (_, i) => i % 251)));
    gone.write(CHUNK_SIZE_BYTES, DataRuns.fill(100, 0x22));
    await persistence.save(before.allRecords());

    const baseline: LoadedChunks = new Map([...before.imageNames()].map((name) => [name, new Map(before.store(name)!.storedChunks())]));
    const after = TrackedStores.over(baseline);
    const newA = after.factory({ imageName: 'a', sizeBytes: SIZE });
    expect(newA.read(0, SIZE).isAllZero()).toBe(true);
    newA.write(2 * CHUNK_SIZE_BYTES, DataRuns.fill(10, 0x33));
    const fresh = after.factory({ imageName: 'fresh', sizeBytes: SIZE });
    fresh.write(0, DataRuns.fill(5, 0x44));
    const changes = after.takeChanges();
    await persistence.save(changes.changes);
    changes.committed();

    const reloaded = await saved(persistence);
    expect(contentsOf(reloaded, 'a')).toBe(`${2 * CHUNK_SIZE_BYTES}x0 10x51 ${SIZE - 2 * CHUNK_SIZE_BYTES - 10}x0`);
    expect(reloaded.has('gone')).toBe(false);
    expect(contentsOf(reloaded, 'fresh')).toBe(`5x68 ${SIZE - 5}x0`);
    // Nothing else is left in the database: the literal chunk of 'a' went too.
    expect([...(reloaded.get('a') ?? new Map()).keys()]).toEqual([2]);
  });
});
