/**
 * Runs a validated scenario on a fresh Simulation, step by step, and judges each step against
 * its expectation. The CLI, the tests and the app all run scenarios through this class.
 *
 * - An I/O step waits until its request completes, while virtual time advances and background
 *   work goes on; with "async": true it is judged when it completes, after later steps.
 * - Control steps take no virtual time, except checkpoint (it drains I/O) and run.
 * - The run stops at the first step that does not meet its expectation.
 * - At the end, async steps still in flight are waited for and judged.
 * - A lesson (a file with a lesson block, ask or task steps) also counts the simulation's events
 *   for its `count` probes, from the runner's start; an `ask` passes when the engine's value is
 *   the keyed answer, a `task` when its goal did not hold before its solution and holds after.
 *   The app's lesson player may instead let the learner reach a task's goal by hand
 *   (testLearnerTask), with the same before and after tests.
 */
import { Simulation, type StepOutcome } from '../colo/simulation.js';
import { LessonCounter, type LessonCounterState } from '../lesson/probes.js';
import type { EventListener } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import type { ParsedStep, TaskStep } from './schema.js';
import { goalHolds, isAnswered, judgeStep, judgeTaskByHand, performStep, settleAsync, type LessonContext, type Performed, type StepResult } from './step-executor.js';
import type { Scenario } from './validate.js';

export type { StepResult } from './step-executor.js';

export interface ScenarioOutcome {
  readonly title: string;
  readonly passed: boolean;
  readonly stepCount: number;
  readonly stepsRun: number;
  readonly failure?: StepResult;
  readonly virtualTimeUs: number;
}

/** Async steps issued and not yet judged: plain data, so a run can be saved with them in flight. */
export interface PendingAsync {
  readonly index: number;
  readonly performed: Extract<Performed, { kind: 'pending' }>;
}

export interface RunnerProgress {
  readonly nextIndex: number;
  readonly finished: boolean;
  readonly failure: StepResult | null;
  readonly pending: PendingAsync[];
  /** A lesson's event counts (its count probes), when the scenario is a lesson. */
  readonly lessonCounter?: LessonCounterState;
  /** The task (its index) whose goal was tested before the learner acted on it by hand. */
  readonly learnerTaskTested?: number;
}

export class ScenarioRunner {
  readonly simulation: Simulation;
  private nextIndex = 0;
  private readonly pending: PendingAsync[] = [];
  private firstFailure: StepResult | undefined;
  private finished = false;
  private readonly lesson: LessonContext | undefined;
  private readonly onWaitForAsync: ((pendingCount: number) => void) | undefined;
  /** The task (its index) whose "before" test was made for a learner doing it by hand. */
  private learnerTaskTested: number | undefined;

  /**
   * options.onWaitForAsync is called once the steps have run out and async steps are still in
   * flight, before the run waits for them (a trace marks it: their events belong to no step).
   */
  constructor(
    readonly scenario: Scenario,
    createStore: StoreFactory,
    options: { onEvent?: EventListener; onWaitForAsync?: (pendingCount: number) => void; simulation?: Simulation; resume?: RunnerProgress } = {},
  ) {
    this.onWaitForAsync = options.onWaitForAsync;
    this.simulation = options.simulation ?? new Simulation(scenario.settings, createStore);
    if (options.onEvent) this.simulation.events.subscribe(options.onEvent);
    if (options.resume) {
      this.nextIndex = options.resume.nextIndex;
      this.firstFailure = options.resume.failure ?? undefined;
      this.finished = options.resume.finished;
      this.pending.push(...options.resume.pending.map((entry) => ({ index: entry.index, performed: { ...entry.performed } })));
      this.learnerTaskTested = options.resume.learnerTaskTested;
    }
    if (isLesson(scenario)) {
      this.lesson = { counter: LessonCounter.follow(this.simulation, options.resume?.lessonCounter).counter };
    }
  }

  /** Where the run is, for saving it with the simulation (async steps in flight included). */
  progress(): RunnerProgress {
    return {
      nextIndex: this.nextIndex,
      finished: this.finished,
      failure: this.firstFailure ?? null,
      pending: this.pending.map((entry) => ({ index: entry.index, performed: { ...entry.performed } })),
      ...(this.lesson ? { lessonCounter: this.lesson.counter.saveState() } : {}),
      ...(this.learnerTaskTested === undefined ? {} : { learnerTaskTested: this.learnerTaskTested }),
    };
  }

  /** The lesson's context (its event counter), or undefined for a scenario that is no lesson. */
  get lessonContext(): LessonContext | undefined {
    return this.lesson;
  }

  get done(): boolean {
    return this.finished;
  }

  get failure(): StepResult | undefined {
    return this.firstFailure;
  }

  get nextStepIndex(): number {
    return this.nextIndex;
  }

  /** Async steps issued and not yet judged. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Runs the next step; returns its result and those of async steps that completed meanwhile. */
  step(): StepResult[] {
    if (this.finished) return [];
    const results: StepResult[] = [];
    if (this.nextIndex < this.scenario.steps.length) {
      const index = this.nextIndex++;
      const step = this.scenario.steps[index]!;
      const performed = performStep(this.simulation, step, this.lesson);
      if (performed.kind === 'done') results.push(judgeStep(index, step, performed.observed, this.simulation.nowUs));
      else this.pending.push({ index, performed });
      results.push(...this.collectSettledAsync());
      // The last step ends the run: async steps still in flight are waited for now, not at a further call.
      if (this.nextIndex === this.scenario.steps.length) results.push(...this.finish());
    } else {
      results.push(...this.finish());
    }
    for (const result of results) {
      if (!result.passed && !this.firstFailure) this.firstFailure = result;
    }
    if (this.firstFailure) this.finished = true;
    return results;
  }

  /**
   * The next step, when it is a task the learner may do by hand instead of running its solution
   * (the app's lesson player); undefined when the run is over or the next step is no task.
   */
  get learnerTask(): TaskStep | undefined {
    if (this.finished) return undefined;
    const step = this.scenario.steps[this.nextIndex];
    return step?.op === 'task' ? step : undefined;
  }

  /**
   * Tests the goal of the task the learner is doing by hand. The first test of a task is its
   * "before" test, as runTask's: the goal must not hold yet, else the task fails. Once a later
   * test finds the goal holding, the task passes and the run goes on from this state (a last
   * step ends the run, as in step()). Undefined when the next step is no task; else the goal's
   * outcome now and the results judged (none while the goal does not hold).
   */
  testLearnerTask(): { goal: StepOutcome; results: StepResult[] } | undefined {
    const task = this.learnerTask;
    if (!task) return undefined;
    const index = this.nextIndex;
    const goal = goalHolds(this.simulation, task.until, this.lesson);
    const firstTest = this.learnerTaskTested !== index;
    this.learnerTaskTested = index;
    if (!goal.ok) return { goal, results: [] };
    const results = [judgeTaskByHand(index, task, firstTest, goal, this.simulation.nowUs)];
    this.nextIndex++;
    results.push(...this.collectSettledAsync());
    if (this.nextIndex === this.scenario.steps.length) results.push(...this.finish());
    for (const result of results) {
      if (!result.passed && !this.firstFailure) this.firstFailure = result;
    }
    if (this.firstFailure) this.finished = true;
    return { goal, results };
  }

  runToEnd(): ScenarioOutcome {
    while (!this.finished) this.step();
    return this.outcome();
  }

  outcome(): ScenarioOutcome {
    return {
      title: this.scenario.title,
      passed: this.finished && !this.firstFailure,
      stepCount: this.scenario.steps.length,
      stepsRun: this.nextIndex,
      ...(this.firstFailure ? { failure: this.firstFailure } : {}),
      virtualTimeUs: this.simulation.nowUs,
    };
  }

  /** Waits for the async steps still in flight, judges them, and ends the run. */
  private finish(): StepResult[] {
    const results: StepResult[] = [];
    if (this.pending.length > 0) this.onWaitForAsync?.(this.pending.length);
    for (const pending of this.pending.splice(0)) {
      results.push(judgeStep(pending.index, this.stepAt(pending.index), settleAsync(this.simulation, pending.performed), this.simulation.nowUs));
    }
    this.finished = true;
    return results;
  }

  private stepAt(index: number): ParsedStep {
    return this.scenario.steps[index]!;
  }

  private collectSettledAsync(): StepResult[] {
    const results: StepResult[] = [];
    for (let position = 0; position < this.pending.length; ) {
      const pending = this.pending[position]!;
      if (!isAnswered(this.simulation, pending.performed)) {
        position++;
        continue;
      }
      this.pending.splice(position, 1);
      results.push(judgeStep(pending.index, this.stepAt(pending.index), settleAsync(this.simulation, pending.performed), this.simulation.nowUs));
    }
    return results;
  }
}

/** Whether a scenario is a lesson: a lesson block, or ask or task steps. */
export function isLesson(scenario: Scenario): boolean {
  return scenario.lesson !== undefined || scenario.steps.some((step) => step.op === 'ask' || step.op === 'task');
}
