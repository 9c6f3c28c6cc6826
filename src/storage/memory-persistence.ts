/**
 * A saved simulation kept in memory, record for record as IndexedDB keeps it: values are
 * structured-cloned on the way in and out (as IndexedDB does), every save is all or nothing,
 * and the owner epoch is checked as in indexeddb-persistence.ts. Several connections may share
 * one MemoryDatabase, like tabs sharing a database.
 */
import { OwnershipLost, type Persistence, type SavedRecord } from './persistence.js';
import type { RecordChange } from './tracked-stores.js';

export class MemoryDatabase {
  readonly records = new Map<string, SavedRecord>();
  ownerEpoch = 0;
}

export class MemoryPersistence implements Persistence {
  private epoch = 0;

  constructor(readonly database: MemoryDatabase = new MemoryDatabase()) {}

  async claim(): Promise<number> {
    this.epoch = ++this.database.ownerEpoch;
    return this.epoch;
  }

  async loadAll(): Promise<SavedRecord[]> {
    return [...this.database.records.values()].map(([key, value]) => [structuredClone(key), structuredClone(value)] as const);
  }

  async save(changes: readonly RecordChange[], options: { clearFirst?: boolean } = {}): Promise<void> {
    if (this.database.ownerEpoch !== this.epoch) throw new OwnershipLost(this.database.ownerEpoch);
    // Cloned before anything changes, so a value that cannot be cloned fails the whole save.
    const cloned = changes.map((change) => ({ key: structuredClone(change.key), value: change.value === undefined ? undefined : structuredClone(change.value) }));
    if (options.clearFirst) this.database.records.clear();
    for (const change of cloned) {
      const id = JSON.stringify(change.key);
      if (change.value === undefined) this.database.records.delete(id);
      else this.database.records.set(id, [change.key, change.value]);
    }
  }
}
