/**
 * The lesson player's logic: which step of a lesson is on screen, and what the learner's actions
 * do to the lesson the worker runs (a scenario with a lesson block).
 *
 * The player stops at say, ask and task steps; the steps between two stops run on the way
 * ("Next" runs a narration and the steps after it up to the next stop). A question runs only
 * when the learner commits an answer: the engine computes the probe then, and its value (never
 * the file's keyed answer) decides right or wrong. At a task the worker lets the learner use the
 * normal controls and tests the goal after each action; "Show me" runs the task's solution.
 * "Back" and "Restart" load the lesson again and replay it up to the step (the engine is
 * deterministic, so the replay is the same run). Where the learner is, is kept as course
 * progress, so a reload, or a visit days later, comes back to the same step.
 */
import lessonIndex from 'virtual:lesson-index';
import type { StepResult } from '../../engine/scenario/runner.js';
import type { SimState } from '../state.svelte.js';
import type { CourseProgress } from './course-progress.svelte.js';
import { isStop, LESSON_SCENARIO_PREFIX, nextStop, parseLessonFile, previousStop, stopIndices, stopNumber, type AskStep, type LessonFile, type SayStep, type TaskStep } from './lesson-plan.js';

export type LessonEntry = (typeof lessonIndex)[number];

export const LESSONS: readonly LessonEntry[] = lessonIndex;

/** The name a lesson is loaded under in the worker (the scenario panel and exports show it). */
export function scenarioNameOf(entry: LessonEntry): string {
  return `${LESSON_SCENARIO_PREFIX}${entry.file}`;
}

export type PlayerView =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  /** Opening the lesson would have replaced the user's own simulation, and the user kept it. */
  | { readonly kind: 'declined' }
  /** The lesson is no longer what the simulation runs (closed, or replaced from elsewhere). */
  | { readonly kind: 'detached' }
  | { readonly kind: 'say'; readonly index: number; readonly step: SayStep }
  | { readonly kind: 'ask'; readonly index: number; readonly step: AskStep; readonly reveal: Reveal | null }
  | { readonly kind: 'task'; readonly index: number; readonly step: TaskStep; readonly done: { readonly byHand: boolean } | null; readonly notYet: string }
  /** The next step is not one the player stops at (the run was stepped elsewhere): Next runs on to the next stop. */
  | { readonly kind: 'run'; readonly index: number }
  | { readonly kind: 'finished' }
  /** The lesson's own run failed at a step that is not on screen (a lesson that states something false). */
  | { readonly kind: 'failed'; readonly result: StepResult };

export interface Reveal {
  /** The engine's value for the probe (undefined when it could not compute one). */
  readonly value: string | undefined;
  /** The learner's committed answer (unknown when the question was run elsewhere). */
  readonly choice: string | null;
  /** The learner's answer is the engine's value. */
  readonly right: boolean;
  /** The lesson's keyed answer disagrees with the engine: the run stopped there. */
  readonly lessonProblem: string | null;
}

export class LessonPlayer {
  entry = $state.raw<LessonEntry | null>(null);
  file = $state.raw<LessonFile | null>(null);
  phase = $state<'idle' | 'loading' | 'ready' | 'error' | 'declined'>('idle');
  error = $state('');
  /** The step on screen (an index into the lesson's steps; steps.length once every step ran). */
  shown = $state(0);
  /** The step on screen has run: its outcome is shown (an answered question, a done task). */
  reviewing = $state(false);
  /** The choice selected and not committed yet. */
  choice = $state<string | null>(null);
  /** The answer the learner committed to the question under review. */
  committed = $state<string | null>(null);
  hintShown = $state(false);
  /** The task under review was done by the learner's own actions (not by "Show me"). */
  byHand = $state(false);
  busy = $state(false);
  private text = '';
  private openToken = 0;
  /** The simulation when the task on screen began: "Show me" replays the lesson to it if the learner changed anything. */
  private taskBaseline: { history: number; nowUs: number } | null = null;

  constructor(
    private readonly sim: SimState,
    private readonly progress: CourseProgress,
  ) {}

  get steps(): LessonFile['steps'] {
    return this.file?.steps ?? [];
  }

  get stopCount(): number {
    return stopIndices(this.steps).length;
  }

  /** The lesson this player shows is the scenario the simulation runs. */
  get attached(): boolean {
    return this.entry !== null && this.sim.scenario?.name === scenarioNameOf(this.entry);
  }

  get nextEntry(): LessonEntry | undefined {
    const position = LESSONS.findIndex((candidate) => candidate.id === this.entry?.id);
    return position >= 0 ? LESSONS[position + 1] : undefined;
  }

  resultAt(index: number): StepResult | undefined {
    const results = this.sim.scenario?.results ?? [];
    for (let position = results.length - 1; position >= 0; position--) if (results[position]!.index === index) return results[position];
    return undefined;
  }

  get view(): PlayerView {
    if (this.phase === 'idle' || this.phase === 'loading') return { kind: 'loading' };
    if (this.phase === 'error') return { kind: 'error', message: this.error };
    if (this.phase === 'declined') return { kind: 'declined' };
    if (!this.attached) return { kind: 'detached' };
    const steps = this.steps;
    const index = this.shown;
    const step = steps[index];
    const failure = this.sim.scenario?.outcome?.failure;
    if (failure && failure.index !== index) return { kind: 'failed', result: failure };
    if (index >= steps.length || !step) return { kind: 'finished' };
    if (step.op === 'ask') {
      const result = this.reviewing ? this.resultAt(index) : undefined;
      return { kind: 'ask', index, step: step as AskStep, reveal: result ? this.revealOf(result) : null };
    }
    if (step.op === 'task') {
      const done = this.reviewing && this.resultAt(index) ? { byHand: this.byHand } : null;
      return { kind: 'task', index, step: step as TaskStep, done, notYet: this.sim.scenario?.learnerTask?.notYet ?? '' };
    }
    if (step.op === 'say') return { kind: 'say', index, step: step as SayStep };
    return { kind: 'run', index };
  }

  private revealOf(result: StepResult): Reveal {
    const value = result.value;
    const choice = this.committed;
    return {
      value,
      choice,
      right: choice !== null && value !== undefined && choice === value,
      lessonProblem: result.passed ? null : `The lesson keys ${result.expected}; ${result.actual}. The lesson's run stops here.`,
    };
  }

  // ---- opening ---------------------------------------------------------------------------------

  /** Opens a lesson by id: where the simulation already runs it, or where the learner left it, or at its start. */
  async open(lessonId: string): Promise<void> {
    const token = ++this.openToken;
    const entry = LESSONS.find((candidate) => candidate.id === lessonId);
    this.resetStepState();
    if (!entry) {
      this.entry = null;
      this.error = `No lesson has the id “${lessonId}”.`;
      this.phase = 'error';
      return;
    }
    this.entry = entry;
    this.phase = 'loading';
    let file: LessonFile;
    try {
      const response = await fetch(`lessons/${entry.file}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.text = await response.text();
      file = parseLessonFile(this.text);
      if (!this.progress.loaded) await this.progress.load();
    } catch (error) {
      if (token !== this.openToken) return;
      this.error = `The lesson could not be fetched: ${error instanceof Error ? error.message : String(error)}`;
      this.phase = 'error';
      return;
    }
    if (token !== this.openToken) return;
    this.file = file;
    const steps = file.steps;
    if (this.attached) {
      // The simulation runs this lesson already (a reload, or back from the course page).
      const next = this.sim.scenario!.nextStepIndex;
      const saved = this.progress.of(entry.id);
      const previous = steps[next - 1];
      if (saved?.reviewing && saved.stepIndex === next - 1 && (previous?.op === 'ask' || previous?.op === 'task')) {
        this.shown = next - 1;
        this.reviewing = true;
        this.committed = saved.choice ?? null;
        this.byHand = previous.op === 'task' && saved.byHand === true;
      } else this.shown = next;
      this.phase = 'ready';
      this.beginTaskBaseline();
      await this.record();
      return;
    }
    const saved = this.progress.of(entry.id);
    let target = nextStop(steps, 0);
    let reviewing = false;
    if (saved?.status === 'in-progress' && saved.stepIndex > 0 && saved.stepIndex < steps.length) {
      target = saved.stepIndex;
      const step = steps[target];
      reviewing = saved.reviewing && (step?.op === 'ask' || step?.op === 'task');
    }
    const loaded = await this.sim.loadScenarioText(scenarioNameOf(entry), this.text, { upToStep: reviewing ? target + 1 : target });
    if (token !== this.openToken) return;
    if (!loaded) {
      if (this.sim.fileProblem) {
        this.error = `The lesson file is not valid: ${this.sim.fileProblem.errors.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`;
        this.phase = 'error';
      } else this.phase = 'declined';
      return;
    }
    this.shown = target;
    this.reviewing = reviewing;
    this.committed = reviewing ? (saved?.choice ?? null) : null;
    // The replay ran the task's solution: what is on screen is its state, not the learner's.
    this.byHand = false;
    this.phase = 'ready';
    this.beginTaskBaseline();
    await this.record();
  }

  /** Forgets the lesson on screen (the page left it). */
  close(): void {
    this.openToken++;
    this.phase = 'idle';
    this.entry = null;
    this.file = null;
  }

  // ---- the learner's actions ------------------------------------------------------------------

  /** Moves on: past the narration or the outcome on screen, running the steps up to the next stop. */
  async next(): Promise<void> {
    const view = this.view;
    if (this.busy || !(view.kind === 'say' || view.kind === 'run' || (view.kind === 'ask' && view.reveal) || (view.kind === 'task' && view.done))) return;
    if (view.kind === 'ask' && view.reveal?.lessonProblem) return;
    await this.run(async () => {
      if (this.reviewing) {
        this.reviewing = false;
        this.committed = null;
      } else await this.sim.scenarioStep({ settled: true });
      await this.runToStop();
    });
  }

  /** Commits the selected answer: the engine computes the probe now, and reveals its value. */
  async commit(): Promise<void> {
    const view = this.view;
    const choice = this.choice;
    if (this.busy || view.kind !== 'ask' || view.reveal || choice === null) return;
    await this.run(async () => {
      await this.sim.scenarioStep({ settled: true });
      this.committed = choice;
      this.reviewing = this.resultAt(view.index) !== undefined;
    });
  }

  /** Runs the task's solution, from the task's start (the lesson is replayed to it if the learner changed anything). */
  async showMe(): Promise<void> {
    const view = this.view;
    if (this.busy || view.kind !== 'task' || view.done) return;
    await this.run(async () => {
      await this.sim.setPlaying(false);
      if (this.learnerActed()) await this.replayTo(view.index);
      await this.sim.scenarioStep({ settled: true });
      if (this.resultAt(view.index) && this.sim.scenario?.nextStepIndex === view.index + 1) {
        this.reviewing = true;
        this.byHand = false;
      }
    });
  }

  showHint(): void {
    if (this.view.kind === 'task') this.hintShown = true;
  }

  /** The previous stop: the lesson is loaded again and replayed up to it. */
  async back(): Promise<void> {
    if (this.busy || !this.file) return;
    const target = previousStop(this.steps, Math.min(this.shown, this.steps.length)) ?? nextStop(this.steps, 0);
    await this.run(() => this.replayTo(target));
  }

  async restart(): Promise<void> {
    if (this.busy || !this.file) return;
    await this.run(() => this.replayTo(nextStop(this.steps, 0)));
  }

  /**
   * Follows the simulation when it moved without the player: a task the learner finished with
   * the normal controls, or steps run from the scenario panel.
   */
  sync(): void {
    if (this.phase !== 'ready' || this.busy || !this.attached) return;
    const next = this.sim.scenario!.nextStepIndex;
    if (this.reviewing) {
      if (next !== this.shown + 1) {
        this.reviewing = false;
        this.shown = next;
        void this.record();
      }
      return;
    }
    const step = this.steps[this.shown];
    if (next === this.shown + 1 && (step?.op === 'task' || step?.op === 'ask') && this.resultAt(this.shown)) {
      this.reviewing = true;
      if (step.op === 'task') {
        this.byHand = true;
        // The worker stopped the clock when the goal held; the page's play button follows.
        if (this.sim.clock.playing) void this.sim.setPlaying(false);
      }
      void this.record();
    } else if (next !== this.shown) {
      this.shown = next;
      void this.record();
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await action();
    } finally {
      this.busy = false;
    }
    await this.record();
  }

  /** Runs the steps that are not stops, from where the run is to the next stop, and shows that stop. */
  private async runToStop(): Promise<void> {
    for (let guard = 0; guard < this.steps.length + 1; guard++) {
      const scenario = this.sim.scenario;
      if (!scenario || !this.attached || scenario.done) break;
      if (isStop(this.steps[scenario.nextStepIndex])) break;
      await this.sim.scenarioStep({ settled: true });
    }
    const scenario = this.sim.scenario;
    this.shown = scenario && this.attached ? (scenario.done ? this.steps.length : scenario.nextStepIndex) : this.shown;
    this.resetStepState();
    this.beginTaskBaseline();
  }

  private async replayTo(target: number): Promise<void> {
    if (!this.entry) return;
    await this.sim.setPlaying(false);
    const loaded = await this.sim.loadScenarioText(scenarioNameOf(this.entry), this.text, { upToStep: target });
    if (!loaded) return;
    this.shown = target;
    this.reviewing = false;
    this.resetStepState();
    this.beginTaskBaseline();
  }

  private resetStepState(): void {
    this.choice = null;
    this.committed = null;
    this.hintShown = false;
    this.byHand = false;
  }

  private beginTaskBaseline(): void {
    this.taskBaseline = { history: this.sim.history.length, nowUs: this.sim.summary?.nowUs ?? 0 };
  }

  private learnerActed(): boolean {
    const baseline = this.taskBaseline;
    return !baseline || baseline.history !== this.sim.history.length || baseline.nowUs !== (this.sim.summary?.nowUs ?? 0);
  }

  /** Keeps where the learner is; a lesson is done once its last step ran and passed. */
  private async record(): Promise<void> {
    const entry = this.entry;
    if (!entry || this.phase !== 'ready' || !this.attached) return;
    const finished = this.shown >= this.steps.length && this.sim.scenario?.outcome?.passed === true;
    const stepIndex = Math.min(this.shown, this.steps.length);
    await this.progress.record(entry.id, {
      status: finished ? 'done' : 'in-progress',
      stepIndex,
      stop: finished ? this.stopCount : stopNumber(this.steps, stepIndex),
      reviewing: this.reviewing,
      ...(this.reviewing && this.committed !== null ? { choice: this.committed } : {}),
      ...(this.reviewing && this.byHand ? { byHand: true } : {}),
    });
  }
}
