/**
 * An append-only list saved in pages: the session's steps, a scenario's step results, the event
 * log. A save writes only the pages that gained items since the last save (and deletes pages
 * that fell out of a bounded log's window), so saving costs what was added, not the length of
 * the list.
 *
 * Items are numbered from the first ever pushed; a bounded log keeps the last `limit` of them.
 */
import type { RecordChange } from '../storage/tracked-stores.js';

export type PageKey = readonly [name: string, pageIndex: number];

/** Where the saved items are: numbers [firstIndex, endIndex). */
export interface PagedLogState {
  readonly firstIndex: number;
  readonly endIndex: number;
}

export interface PendingLogSave {
  readonly changes: Array<RecordChange<PageKey>>;
  committed(): void;
}

export class PagedLog<T> {
  /** The kept items are `items[head...]`: a bounded log drops its oldest by moving `head`, and compacts the array only once half of it is dropped, so a push costs O(1), not O(limit). */
  private items: T[] = [];
  private head = 0;
  private firstIndex = 0;
  /** Number of the first item not yet in a committed save. */
  private unsavedFrom = 0;
  private readonly savedPages = new Set<number>();

  /**
   * `name` keys its records (`[name, pageIndex]`); `limit` bounds how many items are kept
   * (the oldest go first); `encodePage` makes a page's record from its items (default: the items
   * themselves; the reader must turn it back into them). Throws on a page size or limit below 1.
   */
  constructor(
    readonly name: string,
    readonly pageSize: number,
    readonly limit: number = Number.POSITIVE_INFINITY,
    private readonly encodePage: (items: T[]) => unknown = (items) => items,
  ) {
    if (!(pageSize >= 1) || !(limit >= 1)) throw new RangeError('pageSize and limit must be at least 1');
  }

  /** Number one past the last item ever pushed. */
  get endIndex(): number {
    return this.firstIndex + this.items.length - this.head;
  }

  get state(): PagedLogState {
    return { firstIndex: this.firstIndex, endIndex: this.endIndex };
  }

  /** The items kept, oldest first. */
  get kept(): readonly T[] {
    this.compact();
    return this.items;
  }

  /** Items numbered [from, to), clipped to what is kept. */
  slice(from: number, to = this.endIndex): T[] {
    return this.items.slice(this.head + Math.max(0, from - this.firstIndex), this.head + Math.max(0, to - this.firstIndex));
  }

  push(...items: T[]): void {
    for (const item of items) this.pushOne(item);
  }

  /**
   * push of a list of any length. A spread into a call (`push(...list)`) throws a RangeError
   * ("Maximum call stack size exceeded") from about 125,000 items in V8: a scenario's results or
   * steps, or the events of one long step, can be more.
   */
  pushAll(items: Iterable<T>): void {
    for (const item of items) this.pushOne(item);
  }

  /** push of one item, without the rest array (the event log takes every event of a run this way). */
  pushOne(item: T): void {
    this.items.push(item);
    const excess = this.items.length - this.head - this.limit;
    if (excess > 0) {
      // Dropped items are let go now, not at the next compaction: until then a bounded log kept
      // up to twice its limit referenced (10,000 events for the event log).
      for (let index = this.head; index < this.head + excess; index++) this.items[index] = undefined as T;
      this.head += excess;
      this.firstIndex += excess;
      if (this.head * 2 >= this.items.length) this.compact();
    }
  }

  private compact(): void {
    if (this.head === 0) return;
    this.items = this.items.slice(this.head);
    this.head = 0;
  }

  /** Drops every item; their pages are deleted by the next save. */
  reset(): void {
    this.items = [];
    this.head = 0;
    this.firstIndex = 0;
    this.unsavedFrom = 0;
  }

  /** The records that bring the saved pages up to date. Call `committed` once they are saved. */
  takeChanges(): PendingLogSave {
    const changes: Array<RecordChange<PageKey>> = [];
    const end = this.endIndex;
    const firstPage = Math.floor(this.firstIndex / this.pageSize);
    const lastPage = end > this.firstIndex ? Math.floor((end - 1) / this.pageSize) : firstPage - 1;
    const written = new Set<number>();
    const from = Math.max(this.unsavedFrom, this.firstIndex);
    if (from < end) {
      for (let page = Math.floor(from / this.pageSize); page <= lastPage; page++) {
        const start = Math.max(page * this.pageSize, this.firstIndex);
        changes.push({ key: [this.name, page], value: this.encodePage(this.slice(start, Math.min((page + 1) * this.pageSize, end))) });
        written.add(page);
      }
    }
    const deleted: number[] = [];
    for (const page of this.savedPages) {
      if (page < firstPage || page > lastPage) {
        changes.push({ key: [this.name, page], value: undefined });
        deleted.push(page);
      }
    }
    return {
      changes,
      committed: () => {
        this.unsavedFrom = Math.max(this.unsavedFrom, end);
        for (const page of written) this.savedPages.add(page);
        for (const page of deleted) this.savedPages.delete(page);
      },
    };
  }

  /** A log as saved: `pages` holds the records read back, by page index. Throws when a page in the state is missing. */
  static loaded<T>(name: string, pageSize: number, limit: number, state: PagedLogState, pages: ReadonlyMap<number, readonly T[]>, encodePage?: (items: T[]) => unknown): PagedLog<T> {
    const log = new PagedLog<T>(name, pageSize, limit, encodePage);
    log.firstIndex = state.firstIndex;
    for (let index = state.firstIndex; index < state.endIndex; ) {
      const page = Math.floor(index / pageSize);
      const items = pages.get(page);
      if (!items) throw new Error(`the saved ${name} list is missing page ${page}`);
      const start = Math.max(page * pageSize, state.firstIndex);
      const wanted = Math.min((page + 1) * pageSize, state.endIndex) - start;
      if (items.length < wanted) throw new Error(`the saved ${name} list's page ${page} holds ${items.length} items, not ${wanted}`);
      // A page record ends where the list ended when it was last written (a full page, or the
      // list's end: the last page is rewritten whenever it gains items), but it starts where the
      // window of a bounded list began then, which may be before it begins now: its items are its last ones.
      log.items.push(...items.slice(items.length - wanted));
      index = start + wanted;
    }
    log.unsavedFrom = state.endIndex;
    for (const page of pages.keys()) log.savedPages.add(page);
    return log;
  }
}
