/**
 * The saved simulation in IndexedDB, through idb-keyval (the only module that imports it).
 *
 * One object store holds every record of the saved simulation (see tracked-stores.ts and
 * worker/saved-session.ts for what they are) and an `owner` record. A save writes its records
 * in a single transaction, so what is stored is always one consistent instant: never a torn
 * cluster, never disks from one moment and state from another.
 *
 * Ownership: a tab that opens the simulation first claims it (the owner epoch goes up by one,
 * in a transaction, before it loads anything). Every save reads the epoch inside its own
 * transaction and aborts when it is no longer the claimer's, so a tab that lost the store to
 * another can never write into what the other loaded, however its saves and the take-over
 * interleave.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { OwnershipLost, PersistenceError, type Persistence, type SavedRecord } from './persistence.js';
import type { RecordChange } from './tracked-stores.js';

export { OwnershipLost, PersistenceError, type SavedRecord } from './persistence.js';

const STORE_NAME = 'simulation';
export const OWNER_KEY = 'owner';

export class IndexedDbPersistence implements Persistence {
  private epoch = 0;

  private constructor(private readonly useStore: UseStore) {}

  /** Opens the database and proves it can write; throws PersistenceError when it cannot. */
  static async open(databaseName: string): Promise<IndexedDbPersistence> {
    if (typeof indexedDB === 'undefined') throw new PersistenceError('IndexedDB is not available in this browser', false);
    try {
      const useStore = createStore(databaseName, STORE_NAME);
      await useStore('readwrite', (store) => promisifyRequest(store.put(true, 'writable')));
      return new IndexedDbPersistence(useStore);
    } catch (error) {
      throw toPersistenceError(error);
    }
  }

  /**
   * Reads what is saved without writing anything: for when the store cannot be written (out of
   * space, say), so that the page can still come back to the saved simulation, in memory.
   */
  static async readSaved(databaseName: string): Promise<SavedRecord[]> {
    if (typeof indexedDB === 'undefined') throw new PersistenceError('IndexedDB is not available in this browser', false);
    try {
      return await new IndexedDbPersistence(createStore(databaseName, STORE_NAME)).loadAll();
    } catch (error) {
      throw toPersistenceError(error);
    }
  }

  /** The epoch this connection claimed (0 before claim). */
  get ownerEpoch(): number {
    return this.epoch;
  }

  /** Takes the store for this connection: the owner epoch goes up by one; earlier owners' saves fail from now on. */
  async claim(): Promise<number> {
    try {
      this.epoch = await this.useStore('readwrite', (store) => {
        return new Promise<number>((resolve, reject) => {
          const read = store.get(OWNER_KEY);
          read.onerror = () => reject(read.error);
          read.onsuccess = () => {
            const current = (read.result as { epoch?: number } | undefined)?.epoch ?? 0;
            const next = current + 1;
            store.put({ epoch: next }, OWNER_KEY);
            store.transaction.oncomplete = () => resolve(next);
            store.transaction.onerror = () => reject(store.transaction.error);
            store.transaction.onabort = () => reject(store.transaction.error ?? new Error('the claim was aborted'));
          };
        });
      });
      return this.epoch;
    } catch (error) {
      throw toPersistenceError(error);
    }
  }

  /** Every record but the owner and the writability probe, in key order. */
  async loadAll(): Promise<SavedRecord[]> {
    const records: SavedRecord[] = [];
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
            if (cursor.key !== OWNER_KEY && cursor.key !== 'writable') records.push([cursor.key, cursor.value]);
            cursor.continue();
          };
        });
      });
    } catch (error) {
      throw toPersistenceError(error);
    }
    return records;
  }

  /**
   * Writes and deletes records in one transaction, after checking inside it that this
   * connection still owns the store. Resolves once committed; throws OwnershipLost (nothing
   * written) or PersistenceError.
   */
  async save(changes: readonly RecordChange[], options: { clearFirst?: boolean } = {}): Promise<void> {
    let lostTo: number | undefined;
    try {
      await this.useStore('readwrite', (store) => {
        const transaction = store.transaction;
        const done = promisifyRequest(transaction);
        const owner = store.get(OWNER_KEY);
        owner.onsuccess = () => {
          const current = (owner.result as { epoch?: number } | undefined)?.epoch ?? 0;
          if (current !== this.epoch) {
            lostTo = current;
            transaction.abort();
          }
        };
        if (options.clearFirst) {
          // Everything but the owner record goes.
          store.delete(IDBKeyRange.upperBound(OWNER_KEY, true));
          store.delete(IDBKeyRange.lowerBound(OWNER_KEY, true));
        }
        for (const change of changes) {
          // Keys are strings and arrays of strings and numbers (tracked-stores.ts, paged-log.ts).
          const key = change.key as IDBValidKey;
          if (change.value === undefined) store.delete(key);
          else store.put(change.value, key);
        }
        return done;
      });
    } catch (error) {
      if (lostTo !== undefined) throw new OwnershipLost(lostTo);
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
