/**
 * The learner's progress through the course, as the course page and the player show it: per
 * lesson not started, in progress at a step, or done. Kept in IndexedDB by
 * storage/course-progress-store.ts, so it survives reloads.
 */
import { CourseProgressStore, type LessonProgress } from '../../storage/course-progress-store.js';

export type { LessonProgress } from '../../storage/course-progress-store.js';

export class CourseProgress {
  /** By lesson id; a lesson without an entry is not started. */
  byLesson = $state.raw<ReadonlyMap<string, LessonProgress>>(new Map());
  loaded = $state(false);
  private readonly store = new CourseProgressStore();

  async load(): Promise<void> {
    this.byLesson = await this.store.loadAll();
    this.loaded = true;
  }

  get persistent(): boolean {
    return this.store.persistent;
  }

  of(lessonId: string): LessonProgress | undefined {
    return this.byLesson.get(lessonId);
  }

  /** Records where the learner is; a lesson once done stays done. */
  async record(lessonId: string, progress: Omit<LessonProgress, 'updatedAtMs'>): Promise<void> {
    const previous = this.byLesson.get(lessonId);
    const next: LessonProgress = { ...progress, status: previous?.status === 'done' ? 'done' : progress.status, updatedAtMs: Date.now() };
    const copy = new Map(this.byLesson);
    copy.set(lessonId, next);
    this.byLesson = copy;
    await this.store.save(lessonId, next);
  }
}
