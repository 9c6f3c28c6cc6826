/**
 * The course's progress in IndexedDB, through idb-keyval, in a database of its own
 * (COURSE_DATABASE, object store "progress", one record per lesson id). A saved simulation lives
 * in another database (indexeddb-persistence.ts: one per simulation, whose owner epoch one tab
 * claims and every save checks), so the progress is never part of a simulation's saves, its
 * ownership or its "new simulation" wipe, and any tab may write it: a lesson's record is written
 * whole, the last write wins.
 *
 * When IndexedDB cannot be used (a private window, no quota), the progress is kept in memory for
 * this page and `persistent` says so; nothing is reported as an error.
 */
import { createStore, entries, set, type UseStore } from 'idb-keyval';

/** Not a simulation's name: `?db=` must not name it (it has no "simulation" store). */
export const COURSE_DATABASE = 'colo-sim-course';
const STORE_NAME = 'progress';

export interface LessonProgress {
  readonly status: 'in-progress' | 'done';
  /** The step the learner is at (a say, an ask or a task), as its index in the lesson's steps. */
  readonly stepIndex: number;
  /** The same step as the course page counts it: its number (from 1) among the lesson's say, ask and task steps. */
  readonly stop: number;
  /** The learner is looking at the outcome of the ask or task just before `stepIndex`. */
  readonly reviewing: boolean;
  /** The learner's answer to that ask. */
  readonly choice?: string;
  /** That task was done with the controls (not by "Show me"). */
  readonly byHand?: boolean;
  /** Wall-clock milliseconds of the last change. */
  readonly updatedAtMs: number;
}

export class CourseProgressStore {
  private useStore: UseStore | undefined;
  private readonly memory = new Map<string, LessonProgress>();

  /** Whether the progress survives a reload (IndexedDB works), as far as the last call could tell. */
  persistent = false;

  /** Every lesson's progress, by lesson id. */
  async loadAll(): Promise<Map<string, LessonProgress>> {
    try {
      const store = this.store();
      const records = await entries<string, LessonProgress>(store);
      this.persistent = true;
      for (const [id, progress] of records) if (typeof id === 'string' && isProgress(progress)) this.memory.set(id, progress);
    } catch {
      this.persistent = false;
    }
    return new Map(this.memory);
  }

  async save(lessonId: string, progress: LessonProgress): Promise<void> {
    this.memory.set(lessonId, progress);
    try {
      await set(lessonId, progress, this.store());
      this.persistent = true;
    } catch {
      this.persistent = false;
    }
  }

  private store(): UseStore {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    this.useStore ??= createStore(COURSE_DATABASE, STORE_NAME);
    return this.useStore;
  }
}

function isProgress(value: unknown): value is LessonProgress {
  if (!value || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return (record['status'] === 'in-progress' || record['status'] === 'done') && typeof record['stepIndex'] === 'number' && typeof record['stop'] === 'number' && typeof record['reviewing'] === 'boolean';
}
