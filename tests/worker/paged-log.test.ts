/**
 * The paged, bounded lists the session saves (its steps, a scenario's results, the event log):
 * saved a few items at a time while the window of a bounded log slides, then loaded back, they
 * hold exactly the items kept, numbered as they were.
 */
import { describe, expect, it } from 'vitest';
import { PagedLog, type PageKey } from '../../src/worker/paged-log.js';

/** A store of page records, as IndexedDB holds them; a save is all-or-nothing. */
function saveInto(store: Map<number, readonly number[]>, log: PagedLog<number>): void {
  const pending = log.takeChanges();
  for (const change of pending.changes) {
    const [, page] = change.key as PageKey;
    if (change.value === undefined) store.delete(page);
    else store.set(page, change.value as readonly number[]);
  }
  pending.committed();
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PagedLog', () => {
  it('a bounded log whose window slid between saves loads back to exactly the items it kept', () => {
    // The first kept page was saved when the window began earlier: its record starts before the
    // window does now (a restored event log once listed older events in its place, then a gap).
    const log = new PagedLog<number>('events', 8, 20);
    const store = new Map<number, readonly number[]>();
    let next = 0;
    const push = (count: number) => {
      for (let index = 0; index < count; index++) log.push(next++);
    };
    push(20);
    saveInto(store, log);
    push(13);
    saveInto(store, log);
    const loaded = PagedLog.loaded<number>('events', 8, 20, log.state, store);
    expect(loaded.kept).toEqual(log.kept);
    expect(loaded.kept).toEqual(Array.from({ length: 20 }, (_, index) => 13 + index));
  });

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`random pushes, saves and reloads keep every item at its number (seed ${seed})`, () => {
      const random = seeded(seed);
      const pageSize = 1 + Math.floor(random() * 16);
      const limit = random() < 0.2 ? Number.POSITIVE_INFINITY : 1 + Math.floor(random() * 60);
      let log = new PagedLog<number>('log', pageSize, limit);
      const store = new Map<number, readonly number[]>();
      let next = 0;
      for (let round = 0; round < 200; round++) {
        const count = Math.floor(random() * random() * 3 * pageSize);
        for (let index = 0; index < count; index++) log.push(next++);
        // Any range reads the items of those numbers that are still kept (the window is the newest `limit`).
        const from = Math.floor(random() * (next + 2)) - 1;
        const to = from + Math.floor(random() * 2 * pageSize);
        const firstKept = Math.max(0, next - limit);
        const expected = Array.from({ length: Math.max(0, Math.min(to, next) - Math.max(from, firstKept)) }, (_, index) => Math.max(from, firstKept) + index);
        expect(log.slice(from, to), `slice(${from}, ${to}) in round ${round}`).toEqual(expected);
        expect(log.state.endIndex).toBe(next);
        if (random() < 0.7) saveInto(store, log);
        if (random() < 0.2) {
          saveInto(store, log);
          const loaded = PagedLog.loaded<number>('log', pageSize, limit, log.state, store);
          expect(loaded.kept, `round ${round}, page size ${pageSize}, limit ${limit}`).toEqual(log.kept);
          expect(loaded.state).toEqual(log.state);
          // Items are their own numbers: the window is the newest `limit` of them.
          if (loaded.kept.length > 0) expect(loaded.kept[0]).toBe(log.state.firstIndex);
          log = loaded;
        }
      }
    });
  }
});
