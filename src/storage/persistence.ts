/**
 * Where a saved simulation lives: the interface the worker's session saves through, with two
 * implementations: IndexedDB in the browser (indexeddb-persistence.ts) and memory
 * (memory-persistence.ts, for `colo-sim run --reload-each-step` and the tests), which keep the
 * same records and the same ownership rule.
 */
import type { RecordChange } from './tracked-stores.js';

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

/** Another tab claimed the store after this one: this one must stop writing. */
export class OwnershipLost extends Error {
  constructor(readonly currentEpoch: number) {
    super('another tab has taken over this simulation');
    this.name = 'OwnershipLost';
  }
}

export type SavedRecord = readonly [key: unknown, value: unknown];

export interface Persistence {
  /** Takes the store for this connection: the owner epoch goes up by one; earlier owners' saves fail from now on. */
  claim(): Promise<number>;
  /** Every record of the saved simulation (not the owner record). */
  loadAll(): Promise<SavedRecord[]>;
  /**
   * Writes (value defined) and deletes (value undefined) records in one transaction, after
   * checking inside it that this connection still owns the store; `clearFirst` deletes every
   * other record first. Throws OwnershipLost (nothing written) or PersistenceError.
   */
  save(changes: readonly RecordChange[], options?: { clearFirst?: boolean }): Promise<void>;
}
