/**
 * Runs in the browser (served by Vite): write throughput of the IndexedDB-backed stores, as the
 * worker saves them, against raw IndexedDB batched writes of 60 KiB values, in the same run.
 * Both write the same random (incompressible) bytes: Chromium compresses IndexedDB values, so a
 * baseline of zero-filled values would measure the compressor, not the stores' overhead.
 */
import { clear, createStore, promisifyRequest } from 'idb-keyval';
import { DataRuns } from '../../../src/engine/block/data-runs.js';
import { IndexedDbPersistence } from '../../../src/storage/indexeddb-persistence.js';
import { TrackedStores } from '../../../src/storage/tracked-stores.js';

const TOTAL_BYTES = 48 * 1024 * 1024;
const WRITE_BYTES = 64 * 1024;
/** Bytes written between two saves, as a busy frame of the app would. */
const BYTES_PER_SAVE = 4 * 1024 * 1024;
const RAW_VALUE_BYTES = 60 * 1024;
const RAW_BATCH = 64;

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed * 2654435761 || 1;
  for (let index = 0; index < length; index += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
    bytes[index + 1] = (state >>> 8) & 0xff;
    bytes[index + 2] = (state >>> 16) & 0xff;
    bytes[index + 3] = (state >>> 24) & 0xff;
  }
  return bytes;
}

/** One save as the app makes it: the changed chunks and a small meta record, in one transaction. */
async function saveChanges(persistence: IndexedDbPersistence, stores: TrackedStores): Promise<void> {
  const pending = stores.takeChanges();
  await persistence.save([...pending.changes, { key: 'meta', value: { note: 'bench' } }]);
  pending.committed();
}

async function storesMiBps(): Promise<number> {
  const persistence = await IndexedDbPersistence.open('bench-stores');
  await persistence.claim();
  await persistence.save([], { clearFirst: true });
  const stores = new TrackedStores();
  const store = stores.factory({ imageName: 'bench-disk', sizeBytes: TOTAL_BYTES });
  const payloads = Array.from({ length: 16 }, (_, index) => randomBytes(WRITE_BYTES, index + 1));
  const started = performance.now();
  let sinceSave = 0;
  for (let offset = 0; offset < TOTAL_BYTES; offset += WRITE_BYTES) {
    // No copy here: the raw side puts its pool's buffers as they are, and the store copies what it keeps.
    store.write(offset, DataRuns.fromBytes(payloads[(offset / WRITE_BYTES) % payloads.length]!));
    sinceSave += WRITE_BYTES;
    if (sinceSave >= BYTES_PER_SAVE) {
      await saveChanges(persistence, stores);
      sinceSave = 0;
    }
  }
  await saveChanges(persistence, stores);
  const seconds = (performance.now() - started) / 1000;
  await persistence.save([], { clearFirst: true });
  return TOTAL_BYTES / 1024 / 1024 / seconds;
}

async function rawMiBps(): Promise<number> {
  const useStore = createStore('bench-raw', 'values');
  await clear(useStore);
  const payloads = Array.from({ length: 16 }, (_, index) => randomBytes(RAW_VALUE_BYTES, index + 1));
  const count = Math.floor(TOTAL_BYTES / RAW_VALUE_BYTES);
  const started = performance.now();
  for (let start = 0; start < count; start += RAW_BATCH) {
    await useStore('readwrite', (store) => {
      for (let index = start; index < Math.min(count, start + RAW_BATCH); index++) store.put(payloads[index % payloads.length]!, index);
      return promisifyRequest(store.transaction);
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await clear(useStore);
  return (count * RAW_VALUE_BYTES) / 1024 / 1024 / seconds;
}

async function main(): Promise<void> {
  // Alternate, so neither side always runs on a warmer disk cache.
  const stores: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < 5; round++) {
    raw.push(await rawMiBps());
    stores.push(await storesMiBps());
  }
  const best = (values: number[]) => Math.max(...values);
  (window as unknown as { benchResult: unknown }).benchResult = { storesMiBps: best(stores), rawMiBps: best(raw) };
  document.getElementById('status')!.textContent = 'done';
}

main().catch((error: unknown) => {
  (window as unknown as { benchError: string }).benchError = String(error);
  document.getElementById('status')!.textContent = 'failed';
});
