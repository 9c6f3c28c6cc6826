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
 */
import { Simulation } from '../colo/simulation.js';
import { LessonCounter, type LessonCounterState } from '../lesson/probes.js';
import type { EventListener } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import type { ParsedStep } from './schema.js';
import { isAnswered, judgeStep, performStep, settleAsync, type LessonContext, type Performed, type StepResult } from './step-executor.js';
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
}

export class ScenarioRunner {
  readonly simulation: Simulation;
  private nextIndex = 0;
  private readonly pending: PendingAsync[] = [];
  private firstFailure: StepResult | undefined;
  private finished = false;
  private readonly lesson: LessonContext | undefined;
  private readonly onWaitForAsync: ((pendingCount: number) => void) | undefined;

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
