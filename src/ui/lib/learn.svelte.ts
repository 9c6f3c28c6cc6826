/**
 * The course in the app, in one place: the page's route (the simulation, the course, a lesson),
 * the learner's progress, the lesson player, and the first visit's offer. App.svelte shows what
 * this says; the logic lives in the modules it holds.
 */
import type { SimState } from '../state.svelte.js';
import { CourseProgress } from './course-progress.svelte.js';
import { LESSONS, LessonPlayer } from './lesson-player.svelte.js';
import { Router } from './route.svelte.js';

/** Set once a first visit answered the welcome card (either way). Tests set it to skip the card. */
export const WELCOME_KEY = 'colo-sim:welcome';

export class Learn {
  readonly router = new Router();
  readonly progress = new CourseProgress();
  readonly player: LessonPlayer;
  /** The welcome card is offered: nobody answered it in this browser yet. */
  welcome = $state(false);

  constructor(private readonly sim: SimState) {
    this.player = new LessonPlayer(sim, this.progress);
    try {
      this.welcome = localStorage.getItem(WELCOME_KEY) === null;
    } catch {
      // Storage off: no card (it could not be dismissed for good).
      this.welcome = false;
    }
    void this.progress.load();
  }

  get route() {
    return this.router.route;
  }

  /** The lesson the page shows, if any. */
  get lessonId(): string | null {
    return this.route.page === 'lesson' ? this.route.lessonId : null;
  }

  course(): void {
    this.router.go({ page: 'course' });
  }

  lesson(lessonId: string): void {
    this.router.go({ page: 'lesson', lessonId });
  }

  simulation(): void {
    this.router.go({ page: 'simulation' });
  }

  /** The welcome card's answer: the course's first lesson, or the simulation on its own. */
  answerWelcome(start: boolean): void {
    this.welcome = false;
    try {
      localStorage.setItem(WELCOME_KEY, start ? 'course' : 'explore');
    } catch {
      // Not remembered; the card is gone for this page.
    }
    if (start && LESSONS[0]) this.lesson(LESSONS[0].id);
  }

  /**
   * Opens the lesson of the route in the player (once the simulation is there: a reload first
   * restores what it ran), or closes the player when the route leaves the lesson.
   */
  follow(): void {
    const lessonId = this.lessonId;
    if (lessonId === null) {
      if (this.player.phase !== 'idle') this.player.close();
      return;
    }
    if (!this.sim.connected) return;
    if (this.player.entry?.id !== lessonId || this.player.phase === 'idle') void this.player.open(lessonId);
  }
}
