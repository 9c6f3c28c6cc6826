/**
 * The saved simulation in IndexedDB, through idb-keyval (the only module that imports it).
 *
 * One object store holds a `meta` record (settings, engine snapshot, session steps) and one
 * record per stored disk chunk, keyed ["chunk", image, index]. A save writes the changed chunks
 * and the meta record in a single transaction, so what is stored is always one consistent
 * instant: never a torn cluster, never disks from one moment and state from another.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { ChunkValue } from './chunked-memory-store.js';

export const META_KEY = 'meta';
const STORE_NAME = 'simulation';

export type ChunkKey = ['chunk', string, number];

export interface ChunkChange {
  readonly imageName: string;
  readonly chunkIndex: number;
  /** undefined: the chunk reads as zeros again and its record is deleted. */
  readonly value: ChunkValue | undefined;
}

export interface SavedState<Meta> {
  readonly meta: Meta | undefined;
  readonly chunks: Map<string, Map<number, ChunkValue>>;
}

/** IndexedDB refused: unavailable (private mode, disabled), or out of quota. */
export class PersistenceError extends Error {
  constructor(
    message: string,
    readonly quotaExceeded: boolean,
  ) {
    super(message);
    this.name = 'PersistenceError';
  }
}

export class IndexedDbPersistence<Meta> {
  private constructor(private readonly useStore: UseStore) {}

  /** Opens the database and proves it can write; throws PersistenceError when it cannot. */
  static async open<Meta>(databaseName: string): Promise<IndexedDbPersistence<Meta>> {
    if (typeof indexedDB === 'undefined') throw new PersistenceError('IndexedDB is not available in this browser', false);
    try {
      const useStore = createStore(databaseName, STORE_NAME);
      await useStore('readwrite', (store) => promisifyRequest(store.put(true, 'writable')));
      return new IndexedDbPersistence<Meta>(useStore);
    } catch (error) {
      throw toPersistenceError(error);
    }
  }

  async load(): Promise<SavedState<Meta>> {
    const chunks = new Map<string, Map<number, ChunkValue>>();
    let meta: Meta | undefined;
    try {
      await this.useStore('readonly', (store) => {
        const request = store.openCursor();
        return new Promise<void>((resolve, reject) => {
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const cursor = request.result;
            if (!cursor) {
              resolve();
              return;
            }
            const key = cursor.key;
            if (key === META_KEY) meta = cursor.value as Meta;
            else if (Array.isArray(key) && key[0] === 'chunk') {
              const imageName = String(key[1]);
              let image = chunks.get(imageName);
              if (!image) chunks.set(imageName, (image = new Map()));
              image.set(Number(key[2]), cursor.value as ChunkValue);
            }
            cursor.continue();
          };
        });
      });
    } catch (error) {
      throw toPersistenceError(error);
    }
    return { meta, chunks };
  }

  /** Writes the changed chunks and the meta record atomically; resolves once committed. */
  async save(changes: readonly ChunkChange[], meta: Meta): Promise<void> {
    try {
      await this.useStore('readwrite', (store) => {
        for (const change of changes) {
          const key: ChunkKey = ['chunk', change.imageName, change.chunkIndex];
          if (change.value === undefined) store.delete(key);
          else store.put(change.value, key);
        }
        store.put(meta, META_KEY);
        return promisifyRequest(store.transaction);
      });
    } catch (error) {
      throw toPersistenceError(error);
    }
  }

  async clear(): Promise<void> {
    try {
      await this.useStore('readwrite', (store) => {
        store.clear();
        return promisifyRequest(store.transaction);
      });
    } catch (error) {
      throw toPersistenceError(error);
    }
  }
}

function toPersistenceError(error: unknown): PersistenceError {
  if (error instanceof PersistenceError) return error;
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'QuotaExceededError') return new PersistenceError(`IndexedDB is out of space (${message})`, true);
  return new PersistenceError(`IndexedDB failed: ${name ? `${name}: ` : ''}${message}`, false);
}
