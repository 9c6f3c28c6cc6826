/**
 * The simulation as the worker runs it for the page: the engine, its stores, the clock that
 * runs in bounded bursts, the commands the page sends (scenario steps), an optional scenario
 * being played, the session's steps for export, the event log and command history, and saving
 * to IndexedDB.
 *
 * Everything the session does goes through one queue, so a command never interleaves with a
 * burst or a save's preparation. Saving: the engine can be saved at any instant (requests in
 * flight included), so a save is taken after every command (before the command is answered)
 * and every SAVE_INTERVAL_MS while the clock runs, whatever the load; a save writes what
 * changed since the last one (chunks, pages) and the small meta record, in one transaction
 * that fails if another tab has taken the store over. The engine goes on while a save commits.
 */
import { formatByte } from '../engine/block/data-runs.js';
import { DEFAULT_SETTINGS, Simulation, type SimulationSettings } from '../engine/colo/simulation.js';
import { TOPOLOGY_NODES } from '../engine/colo/topology.js';
import { nextTurn } from './next-turn.js';
import { LiveInvariants, type LiveInvariantsState } from '../engine/invariants/live-invariants.js';
import { describeStep } from '../engine/scenario/describe.js';
import { isLesson, ScenarioRunner, type RunnerProgress, type StepResult } from '../engine/scenario/runner.js';
import { FORMAT_VERSION } from '../engine/scenario/schema.js';
import { buildQmpRunbook } from '../engine/qmp/runbook.js';
import { setupOfSettings } from '../engine/scenario/setup.js';
import { judgeStep, performStep, settleAsync, type Observed } from '../engine/scenario/step-executor.js';
import { formatDuration } from '../engine/scenario/units.js';
import { validateScenarioText, validateStep, type Scenario } from '../engine/scenario/validate.js';
import type { SimEvent } from '../engine/sim/events.js';
import { captureDisks, diffDisks } from '../engine/timeline/disks.js';
import type { CostReport } from '../engine/stats/replication-cost.js';
import { replicationCostOfScenario } from './scenario-cost.js';
import { checkpointComparison } from '../engine/stats/checkpoint-comparison.js';
import { createMemoryStore } from '../storage/chunked-memory-store.js';
import { OwnershipLost, PersistenceError, type Persistence, type SavedRecord } from '../storage/persistence.js';
import { TrackedStores, type LoadedChunks, type RecordChange } from '../storage/tracked-stores.js';
import { digestImages } from './disk-digest.js';
import { PagedLog } from './paged-log.js';
import { encodeStepResults, stepResultBuffers } from './step-result-columns.js';
import { encodeStepMarks } from './step-mark-columns.js';
import type { CheckpointComparisonAnswer, CheckpointComparisonRequest, ClockSettings, CommandResult, Frame, PersistenceStatus, QmpTranscriptEvent, ScenarioLoadResult, ScenarioPosition, ScenarioStatic, TimelineMarks, TimelinePosition, TimeTravelResult, WorkerNotice } from './protocol.js';
import { emptyScenario, parseSessionSteps, SessionTimeline } from './session-timeline.js';
import type { StepEvent, TimelineCompanion } from '../engine/timeline/timeline.js';
import type { DiskDiff } from '../engine/timeline/disks.js';
import type { ExtraNode } from '../engine/scenario/validate.js';
import {
  EVENT_LOG_LIMIT,
  EVENTS_LOG,
  HISTORY_KEY,
  HISTORY_LIMIT,
  META_KEY,
  PAGE_SIZE,
  pagesOf,
  resultPagesOf,
  QMP_LOG,
  QMP_LOG_LIMIT,
  RESULTS_LOG,
  SAVED_STATE_VERSION,
  SCENARIO_TEXT_KEY,
  sortRecords,
  STEPS_LOG,
  upgradeLoaded,
  type HistoryEntry,
  type SavedMeta,
  type SessionToRestore,
} from './saved-session.js';
import { transferablesOf, ViewBuilder } from './view-builder.js';

export { SAVED_STATE_VERSION, type SavedMeta } from './saved-session.js';

/** What a caller outside the worker may watch (the CLI's --reload-each-step trace). */
export interface SessionWatch {
  readonly onEvent?: (event: SimEvent) => void;
  readonly onWaitForAsync?: (pendingCount: number) => void;
}

export interface SessionPorts {
  post(notice: WorkerNotice, transfer: ArrayBuffer[]): void;
  /** Wall-clock milliseconds, only for sizing bursts and spacing saves; the engine never sees it. */
  wallClockMs(): number;
  setTimer(callback: () => void, delayMs: number): void;
}

/** Wall time one burst may take, so the worker keeps answering and the page keeps 60 fps. */
const BURST_BUDGET_MS = 8;
/** At most this many events travel in one frame; older ones are summarised as dropped. */
const MAX_EVENTS_PER_FRAME = 4000;
/** Events past MAX_EVENTS_PER_FRAME waiting for a frame before the oldest are dropped in one go. */
const PENDING_EVENTS_SLACK = 512;
const FRAME_INTERVAL_MS = 16;
/** While the clock runs, a save every this many milliseconds of wall time: a crash loses at most this much. */
export const SAVE_INTERVAL_MS = 250;
/** Events of the log rebuilt when going to a moment (the newest up to it; each costs replaying, so fewer than EVENT_LOG_LIMIT). */
export const TIME_TRAVEL_LOG_EVENTS = 1000;
/**
 * Wall time of one burst of "run to end": between bursts the worker answers other calls (a
 * digest, a close, the timeline's marks), so this is how long such a call may wait. Each burst
 * costs a turn of the event loop and a hand-over of the session. (With 12 ms bursts, 100 ms
 * frames and a save every SAVE_INTERVAL_MS, a 100,000-step run showed its outcome after 3.1 to
 * 3.5 s in Chromium here; with these three, after 1.9 to 2.5 s.)
 */
const SCENARIO_STEPS_PER_BURST_BUDGET_MS = 30;
/** Steps of a burst between two readings of the wall clock (reading it per step was 2 % of a run). */
const STEPS_PER_CLOCK_READING = 8;
/**
 * While "run to end" runs, a save every this many milliseconds of wall time: a kill loses at
 * most the last second (issue 10). Each save snapshots the engine and writes the pages that
 * changed, so fewer saves cost less of the run.
 */
const RUN_TO_END_SAVE_INTERVAL_MS = 1000;
/**
 * "Run to end" shows its progress this often, not after every burst: nobody reads each step of a
 * long run as it flies by, and a frame per burst kept the page's main thread busy drawing (100,000
 * steps ran at a ninth of the CLI's pace). The last frame always comes at the end.
 */
const RUN_TO_END_FRAME_INTERVAL_MS = 250;
/**
 * Events in a frame of "run to end" before its last: the newest, the others counted as not shown.
 * A frame of 4,000 events (about 640 KB) took the worker as long to clone for postMessage as
 * the engine took to run the steps in it; the last frame carries the usual MAX_EVENTS_PER_FRAME.
 */
const RUN_TO_END_EVENTS_PER_FRAME = 250;

interface LoadedScenario {
  readonly name: string;
  readonly text: string;
  readonly scenario: Scenario;
  /** The file's steps as written (an exported session repeats them verbatim). */
  readonly rawSteps: unknown[];
  /** Step descriptions, computed once. */
  readonly descriptions: string[];
  /**
   * A lesson: the learner may do its tasks by hand, so the session's step log records what
   * really ran (the file's steps, the learner's commands and the time between them), which is
   * what a close or an export replays. A plain scenario replays its file's steps.
   */
  readonly lesson: boolean;
}

export class SimSession {
  private sim!: Simulation;
  private stores!: TrackedStores;
  private view!: ViewBuilder;
  private unsubscribe: () => void = () => {};
  private pendingEvents: SimEvent[] = [];
  private droppedEvents = 0;
  private frameNumber = 0;
  private clock: ClockSettings = { playing: false, speed: 1000 };
  private timerArmed = false;
  private lastTickWallMs = 0;
  private queue: Promise<unknown> = Promise.resolve();

  // What is saved besides the engine.
  private steps = new PagedLog<unknown>(STEPS_LOG, PAGE_SIZE);
  /**
   * A saved page of results leaves out the descriptions that are the loaded scenario's own: a
   * restore has the scenario's text (saved with them) to describe its steps again. They were
   * half of what a run of 100,000 steps wrote to IndexedDB, copied by every save's clone.
   */
  private readonly encodeResultsPage = (results: StepResult[]): unknown => encodeStepResults(results, this.loaded?.descriptions);
  private results = new PagedLog<StepResult>(RESULTS_LOG, PAGE_SIZE, Number.POSITIVE_INFINITY, this.encodeResultsPage);
  private eventLog = new PagedLog<SimEvent>(EVENTS_LOG, PAGE_SIZE, EVENT_LOG_LIMIT);
  private qmpLog = new PagedLog<QmpTranscriptEvent>(QMP_LOG, PAGE_SIZE, QMP_LOG_LIMIT);
  private history: HistoryEntry[] = [];
  private historyChanged = false;
  private nextHistoryId = 1;
  private lastCommandEndUs = 0;
  private entriesRunAtLastCommand = 0;
  private runner: ScenarioRunner | undefined;
  private loaded: LoadedScenario | undefined;
  /** The live invariants (a), (b), (c) of the simulation, and the last report the page was sent (as JSON). */
  private invariants: LiveInvariants | undefined;
  private invariantsSent = '';
  /**
   * The invariants following each simulation: the live one, and those the timeline builds for
   * moments in the past (each from its keyframe's state, then the replay), so that the moment
   * shown reports its own, and a fork goes on with them.
   */
  private readonly invariantsOf = new WeakMap<Simulation, LiveInvariants>();
  private readonly invariantsCompanion: TimelineCompanion<LiveInvariantsState> = {
    capture: (sim) => this.invariantsOf.get(sim)?.saveState(),
    attach: (sim, state) => void this.invariantsOf.set(sim, new LiveInvariants(sim, state)),
  };
  /** Why the goal of the task the learner is doing by hand does not hold yet (its last test). */
  private learnerGoalNotYet: string | undefined;
  /** The scenario text record must be written (or deleted, when no scenario is loaded). */
  private scenarioTextChanged = false;

  // What the page has been sent of the scenario and the history.
  private scenarioStaticDue = false;
  private resultsSent = 0;
  private historyDue = true;
  private restoredFrameDue = false;
  /** The QMP log's number up to which the page has its entries; the whole log goes when `qmpResetDue`. */
  private qmpSent = 0;
  private qmpResetDue = true;
  /** The QMP log's number when the step running now began, or its last QMP command answered: what came since, that command caused. */
  private qmpCommandFrom = 0;
  /** Inside a look (a task's goal test): its events are not the model's and are not shown. */
  private muted = 0;

  // Saving.
  private persistence: Persistence | undefined;
  private persistenceStatus: PersistenceStatus;
  /** Something changed since the last save was taken. */
  private dirty = true;
  /** The next save must rewrite everything (a new simulation, a migrated one). */
  private rewriteAll = false;
  private saveInFlight: Promise<void> | undefined;
  private lastSaveWallMs = Number.NEGATIVE_INFINITY;
  /** Virtual time of the newest committed save; null before the first. */
  private savedUpToUs: number | null = null;

  // Time travel (session-timeline.ts).
  private travel = new SessionTimeline(DEFAULT_SETTINGS, this.invariantsCompanion);
  /** Shown in the middle of a step (to look at only: not saved, left before anything acts). */
  private within: { stepIndex: number; entries: number } | undefined;
  /** While `within`: the stores that match what is saved (the moment before). */
  private storesBeforeWithin: TrackedStores | undefined;

  constructor(
    private readonly ports: SessionPorts,
    persistence: Persistence | undefined,
    status: PersistenceStatus,
    /** Sees every event of the engine and the runner's wait for async steps (the CLI's --trace with --reload-each-step). */
    private readonly watch: SessionWatch = {},
  ) {
    this.persistence = persistence;
    this.persistenceStatus = status;
  }

  get status(): PersistenceStatus {
    return this.persistenceStatus;
  }

  /**
   * Restores the saved simulation from its records, or starts a new one when nothing is saved.
   * A saved simulation that cannot be restored (or read: `unreadable` says why) is never cleared:
   * it stays in IndexedDB, nothing is written over it, and the page offers what to do (status
   * `restore-failed`). Whatever happens, the status says what this session opened: the saved
   * state it restored (`restoredUpToUs`), a new simulation, or a saved one it could not restore.
   */
  async start(records: readonly SavedRecord[] | undefined, unreadable?: string): Promise<void> {
    await this.exclusive(async () => {
      const loaded = records ? sortRecords(records) : undefined;
      if (unreadable !== undefined) {
        this.failedRestore(`the saved simulation could not be read: ${unreadable}`, 0);
      } else if (!loaded || loaded.meta === undefined) {
        this.replaceSimulation(DEFAULT_SETTINGS, undefined);
        this.rewriteAll = true;
        this.openedAs(null);
        await this.save();
      } else {
        try {
          const session = upgradeLoaded(loaded);
          this.restore(session);
          this.openedAs(this.sim.nowUs);
          if (session.migratedFrom !== undefined) {
            this.rewriteAll = true;
            this.dirty = true;
            await this.save();
          }
        } catch (error) {
          this.failedRestore(messageOf(error), loaded.recordCount);
        }
      }
      await this.publish();
    });
  }

  /** Records in the status what this session opened: the saved state at `restoredUpToUs`, or (null) a new simulation. */
  private openedAs(restoredUpToUs: number | null): void {
    const status = this.persistenceStatus;
    if (status.kind === 'indexeddb') {
      if (restoredUpToUs !== null) this.persistenceStatus = { ...status, restoredUpToUs };
    } else if (status.kind === 'memory') {
      // Saving was off as this session opened: what a reload comes back to is what it restored, if anything.
      this.persistenceStatus = { ...status, restoredUpToUs, savedUpToUs: restoredUpToUs };
    }
  }

  private failedRestore(reason: string, recordCount: number): void {
    const status = this.persistenceStatus;
    this.persistenceStatus = {
      kind: 'restore-failed',
      databaseName: status.kind === 'indexeddb' ? status.databaseName : '',
      reason,
      recordCount,
      ...(status.kind === 'memory' ? { savingOff: status.reason } : {}),
    };
    this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
    this.notifyError(`The saved simulation could not be restored (${reason}). It is kept as it is; this simulation runs in memory until you choose what to do.`);
    this.replaceSimulation(DEFAULT_SETTINGS, undefined);
  }

  /** After a restore failed: drop the saved simulation and save the current one in its place. */
  discardSaved(): Promise<void> {
    return this.exclusive(async () => {
      if (this.persistenceStatus.kind !== 'restore-failed' || !this.persistence) return;
      this.persistenceStatus = { kind: 'indexeddb', databaseName: this.persistenceStatus.databaseName };
      this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
      this.rewriteAll = true;
      this.dirty = true;
      await this.save();
      await this.publish();
    });
  }

  // ---- commands from the page ---------------------------------------------------------------

  newSimulation(settings: Partial<SimulationSettings>): Promise<void> {
    return this.exclusive(async () => {
      this.clock = { ...this.clock, playing: false };
      this.closeLoadedScenario();
      this.replaceSimulation({ ...DEFAULT_SETTINGS, ...settings }, undefined);
      this.rewriteAll = true;
      await this.save();
      await this.publish();
    });
  }

  execute(step: unknown): Promise<CommandResult> {
    return this.exclusive(async () => {
      if (this.takenElsewhere) {
        // Its effect would live only in this tab's memory, and be gone when it opens the store again.
        return { ok: false, errors: [{ path: '', message: 'another tab has this simulation: take it over here before acting on it' }] } as const;
      }
      if (this.runner && !this.runner.learnerTask) {
        return { ok: false, errors: [{ path: '', message: 'a scenario is loaded: close it before acting on the simulation yourself' }] } as const;
      }
      const validation = validateStep(step, this.sim.settings, this.openedNodes());
      if (!validation.ok) {
        this.recordHistory({ step, status: 'invalid', errors: validation.errors });
        await this.saveNow();
        return { ok: false, errors: validation.errors } as const;
      }
      const parsed = validation.step;
      await this.leavePast();
      const extrasBefore = this.openedNodes();
      this.testLearnerGoal();
      this.recordGap();
      this.qmpCommandFrom = this.qmpLog.endIndex;
      const performed = performStep(this.sim, parsed, this.runner?.lessonContext);
      const observed: Observed = performed.kind === 'pending' ? settleAsync(this.sim, performed) : performed.observed;
      const result = judgeStep(this.steps.endIndex, { ...parsed, expect: undefined } as typeof parsed, observed, this.sim.nowUs);
      this.recordStep(step, observed, extrasBefore);
      this.recordHistory({ step, status: result.passed ? 'ok' : 'failed', result });
      this.testLearnerGoal();
      this.dirty = true;
      await this.saveNow();
      await this.publish();
      return { ok: true, result } as const;
    });
  }

  setClock(clock: ClockSettings): Promise<void> {
    return this.exclusive(async () => {
      const wasPlaying = this.clock.playing;
      if (clock.playing && !this.runner) await this.leavePast();
      this.clock = { playing: clock.playing && this.mayRunClock(), speed: clamp(clock.speed, 1, 10_000_000) };
      this.lastTickWallMs = this.ports.wallClockMs();
      // Stopping the clock saves where it stopped.
      if (wasPlaying && !this.clock.playing) {
        await this.saveNow();
        await this.publish();
      }
      this.armTimer();
    });
  }

  /** Single-step: runs the simulation to its next event. */
  stepEvent(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.mayRunClock()) return;
      await this.leavePast();
      this.testLearnerGoal();
      this.sim.scheduler.runNext();
      this.testLearnerGoal();
      this.dirty = true;
      await this.saveNow();
      await this.publish();
    });
  }

  /**
   * Loads a scenario on a new simulation. `upToStep` runs its steps before that index at once
   * (a lesson player going back a step replays the lesson, deterministic, up to it); the first
   * frame lists their events without animating them.
   */
  loadScenario(name: string, text: string, options: { readonly upToStep?: number } = {}): Promise<ScenarioLoadResult> {
    return this.exclusive(async () => {
      const validation = validateScenarioText(text);
      if (!validation.ok) return { ok: false, errors: validation.errors } as const;
      this.clock = { ...this.clock, playing: false };
      this.closeLoadedScenario();
      this.replaceSimulation(validation.scenario.settings, undefined);
      this.startScenario(name, text, validation.scenario, undefined);
      const upTo = Math.min(options.upToStep ?? 0, validation.scenario.steps.length);
      if (upTo > 0) {
        const runner = this.runner!;
        while (!runner.done && runner.nextStepIndex < upTo) this.runScenarioStep(runner);
        this.restoredFrameDue = true;
      }
      this.rewriteAll = true;
      await this.save();
      await this.publish();
      return { ok: true, progress: this.scenarioProgress()! } as const;
    });
  }

  scenarioStep(): Promise<ScenarioPosition | null> {
    return this.exclusive(async () => {
      if (!this.runner) return null;
      if (this.takenElsewhere) return this.scenarioProgress();
      await this.leavePartial();
      this.runScenarioStep(this.runner);
      this.dirty = true;
      await this.saveNow();
      await this.publish();
      return this.scenarioProgress();
    });
  }

  /** Runs the loaded scenario to its end, in bursts (frames and saves between them), so the worker keeps answering. */
  scenarioRunToEnd(): Promise<ScenarioPosition | null> {
    let lastFrameWallMs = Number.NEGATIVE_INFINITY;
    const burst = (): Promise<boolean> =>
      this.exclusive(async () => {
        if (!this.runner) return true;
        if (this.takenElsewhere) {
          // Another tab took the simulation over: this tab's clock is paused, and its run stops
          // where it is (it went on in memory, to an end nobody else had).
          await this.publish();
          return true;
        }
        await this.leavePartial();
        const runner = this.runner;
        const startedMs = this.ports.wallClockMs();
        while (!runner.done && this.ports.wallClockMs() - startedMs < SCENARIO_STEPS_PER_BURST_BUDGET_MS) {
          for (let count = 0; count < STEPS_PER_CLOCK_READING && !runner.done; count++) this.runScenarioStep(runner);
        }
        this.dirty = true;
        if (runner.done) {
          // The outcome shows at once, as not saved yet; a second frame says saved once the last
          // save has committed (the run's call returns then).
          this.startSave();
          await this.publish();
          await this.saveNow();
          await this.publish();
          return true;
        }
        // Mid-run, a save is taken here and commits while the next bursts run (as the clock's ticks do).
        if (this.ports.wallClockMs() - this.lastSaveWallMs >= RUN_TO_END_SAVE_INTERVAL_MS) this.startSave();
        if (this.ports.wallClockMs() - lastFrameWallMs >= RUN_TO_END_FRAME_INTERVAL_MS) {
          this.trimPendingEvents(RUN_TO_END_EVENTS_PER_FRAME);
          await this.publish();
          lastFrameWallMs = this.ports.wallClockMs();
        }
        return false;
      });
    const loop = async (): Promise<ScenarioPosition | null> => {
      while (!(await burst())) {
        // A turn of the event loop: other calls (a digest, a close) get in between bursts.
        await nextTurn();
      }
      return this.exclusive(async () => this.scenarioProgress());
    };
    return loop();
  }

  closeScenario(): Promise<void> {
    return this.exclusive(async () => {
      await this.leavePartial();
      const lesson = this.loaded?.lesson === true;
      if (this.runner && this.loaded && !lesson) {
        // What ran so far becomes this session's history (a lesson's step log already is).
        this.steps.reset();
        this.steps.pushAll(this.loaded.rawSteps.slice(0, this.runner.nextStepIndex));
        this.travel.reset({ ...this.loaded.scenario, steps: this.loaded.scenario.steps.slice(0, this.runner.nextStepIndex) }, false);
        this.lastCommandEndUs = this.sim.nowUs;
        this.entriesRunAtLastCommand = this.sim.scheduler.entriesRun;
      } else if (lesson) {
        // The step log (the lesson's say, ask and task steps and the learner's commands) is not a
        // session the timeline can replay step by step; the simulation goes on from here.
        this.travel.broken ??= 'a closed lesson is not on the timeline';
      }
      this.closeLoadedScenario();
      this.dirty = true;
      await this.saveNow();
      await this.publish();
    });
  }

  /**
   * The session (or the scenario run so far) as a scenario file that replays to this very
   * instant: every command with what it observed as its expectation, and between commands the
   * time that passed (or, when the clock stopped between two events of one instant, the exact
   * number of events that ran).
   */
  exportScenario(title: string): Promise<string> {
    return this.exclusive(async () => `${JSON.stringify(this.exportedDocument(title), null, 2)}\n`);
  }

  /**
   * What replication cost in the session so far (the moment shown), as `colo-sim run --stats`
   * reports it: the exported scenario is replayed in memory with the CLI's ReplicationCost
   * observing, so the figures are the CLI's by construction and survive time travel and reloads
   * (a live counter would have to be rebuilt after every goToStep).
   */
  replicationCost(): Promise<{ ok: true; stats: CostReport } | { ok: false; message: string }> {
    return this.exclusive(async () => {
      const validation = validateScenarioText(JSON.stringify(this.exportedDocument('')));
      if (!validation.ok) return { ok: false, message: `the session does not export as a valid scenario: ${validation.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}` } as const;
      return { ok: true, stats: replicationCostOfScenario(validation.scenario) } as const;
    });
  }

  /**
   * The same workload at two checkpoint intervals, with this session's settings (disk, clusters,
   * seed, latencies): both scenarios run in memory with the CLI's ReplicationCost. Exclusive so
   * the settings read are those of a settled session; the session's own state is not touched.
   */
  compareCheckpointIntervals(request: CheckpointComparisonRequest): Promise<CheckpointComparisonAnswer> {
    return this.exclusive(async () => {
      const comparison = checkpointComparison({ ...request, settings: this.sim.settings });
      if (!comparison.ok) return comparison;
      return { ok: true, runs: comparison.runs.map((run) => ({ intervalMs: run.intervalMs, scenarioText: run.text, stats: replicationCostOfScenario(run.scenario) })) } as const;
    });
  }

  private exportedDocument(title: string) {
    return {
      format: FORMAT_VERSION,
      title: title || 'colo-sim session',
      description: `Exported from colo-sim at virtual time ${formatDuration(this.sim.nowUs)}. Every expectation is what this session observed.`,
      setup: setupOfSettings(this.sim.settings),
      steps: this.exportedSteps(),
    };
  }

  /** The steps exportScenario writes, as a QMP runbook for each host's monitor. */
  exportQmpRunbook(title: string): Promise<string> {
    return this.exclusive(async () => buildQmpRunbook({ title: title || 'colo-sim session', exportedAt: `virtual time ${formatDuration(this.sim.nowUs)}`, steps: this.exportedSteps() }));
  }

  /** The session's steps (or the loaded scenario's, run so far), and the time since the last one. */
  private exportedSteps(): unknown[] {
    // Shown in the past (time travel): the session up to the moment shown. A lesson's step log
    // already holds what ran (its steps and the learner's own commands).
    const shown = this.within?.stepIndex ?? this.travel.position;
    const lesson = this.loaded?.lesson === true;
    const steps = this.loaded && this.runner && !lesson ? this.loaded.rawSteps.slice(0, this.runner.nextStepIndex) : this.steps.kept.slice(0, lesson ? undefined : (shown ?? undefined));
    if ((!this.runner && shown === null) || lesson) {
      const gap = this.gapStep();
      if (gap) steps.push(gap);
    }
    return steps;
  }

  /** The loaded scenario's progress, or null. */
  currentScenario(): Promise<ScenarioPosition | null> {
    return this.exclusive(async () => this.scenarioProgress());
  }

  digestDisks(): Promise<Record<string, string>> {
    return this.exclusive(async () => digestImages(this.sim));
  }

  // ---- time travel (issue 9; the engine side is src/engine/timeline/) --------------------------

  /** The timeline's marks from index `from`; rebuilds them (one replay) when a reload or a closed scenario left them unknown. */
  timelineMarks(from: number): Promise<TimelineMarks> {
    return this.exclusive(async () => {
      this.ensureMarks();
      const memory = this.travel.timeline.memory();
      return {
        from,
        marks: encodeStepMarks(this.travel.marks.slice(Math.max(0, from))),
        stepCount: this.travel.timeline.stepCount,
        keyframes: { count: memory.keyframes, intervalSteps: memory.intervalSteps, maxKeyframes: memory.maxKeyframes, approxBytes: memory.approxBytes },
      };
    });
  }

  /**
   * Shows moment `step`: the simulation is rebuilt there (nearest keyframe + replay), its event
   * log is the last TIME_TRAVEL_LOG_EVENTS events up to it, and the next frame is a `restored` one. In
   * session mode the time since the last command first becomes a step (so the end is kept
   * exactly); a loaded scenario's runner is put at that step.
   */
  goToStep(step: number): Promise<TimeTravelResult> {
    return this.exclusive(async () => {
      const unavailable = this.travelUnavailable();
      if (unavailable) return { ok: false, message: unavailable } as const;
      this.clock = { ...this.clock, playing: false };
      if (!this.runner && this.travel.position === null && !this.within) this.recordGap();
      const stepCount = this.travel.timeline.stepCount;
      if (!Number.isInteger(step) || step < 0 || step > stepCount) return { ok: false, message: `there is no step ${step}: the timeline has steps 0 to ${stepCount}` } as const;
      await this.showMoment(step);
      return { ok: true, position: this.timelinePosition() } as const;
    });
  }

  /** Shows the middle of step `stepIndex` (0-based) after its first `entries` scheduler entries: to look at, not saved. */
  goToWithinStep(stepIndex: number, entries: number): Promise<TimeTravelResult> {
    return this.exclusive(async () => {
      const unavailable = this.travelUnavailable();
      if (unavailable) return { ok: false, message: unavailable } as const;
      this.clock = { ...this.clock, playing: false };
      if (!this.runner && this.travel.position === null && !this.within) this.recordGap();
      const stepCount = this.travel.timeline.stepCount;
      if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= stepCount) return { ok: false, message: `there is no step index ${stepIndex}: the timeline has ${stepCount} steps` } as const;
      if (!Number.isInteger(entries) || entries < 0) return { ok: false, message: `entries must be a whole number >= 0, got ${entries}` } as const;
      if (!this.within) {
        await this.saveNow();
        this.storesBeforeWithin = this.stores;
      }
      const stores = new TrackedStores();
      const partial = this.travel.timeline.partial(stepIndex, entries, stores.factory);
      const log = this.travel.timeline.eventsBefore(stepIndex, TIME_TRAVEL_LOG_EVENTS, createMemoryStore);
      this.adopt(partial.simulation, stores);
      this.within = { stepIndex, entries: partial.entries };
      this.eventLog.reset();
      this.eventLog.pushAll(log);
      this.eventLog.pushAll(partial.events.map((entry) => entry.event));
      this.pendingEvents = this.eventLog.kept.slice();
      this.rebuildQmpLog();
      this.restoredFrameDue = true;
      await this.publish();
      return { ok: true, position: this.timelinePosition() } as const;
    });
  }

  /** The events of step `stepIndex`, in order, with the scheduler entry each ran in. */
  stepEvents(stepIndex: number): Promise<{ ok: true; events: StepEvent[] } | { ok: false; message: string }> {
    return this.exclusive(async () => {
      const unavailable = this.travelUnavailable();
      if (unavailable) return { ok: false, message: unavailable } as const;
      const stepCount = this.travel.timeline.stepCount;
      if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= stepCount) return { ok: false, message: `there is no step index ${stepIndex}: the timeline has ${stepCount} steps` } as const;
      return { ok: true, events: this.travel.timeline.stepEvents(stepIndex, createMemoryStore) } as const;
    });
  }

  /** Which clusters differ on each disk between moments `a` and `b` (0..stepCount). */
  diffSteps(a: number, b: number): Promise<{ ok: true; disks: DiskDiff[] } | { ok: false; message: string }> {
    return this.exclusive(async () => {
      const unavailable = this.travelUnavailable();
      if (unavailable) return { ok: false, message: unavailable } as const;
      if (!this.runner && this.travel.position === null && !this.within) this.recordGap();
      const stepCount = this.travel.timeline.stepCount;
      for (const step of [a, b]) if (!Number.isInteger(step) || step < 0 || step > stepCount) return { ok: false, message: `there is no step ${step}: the timeline has steps 0 to ${stepCount}` } as const;
      const disksAt = (step: number) => captureDisks(this.travel.timeline.materialize(step, createMemoryStore).simulation);
      return { ok: true, disks: diffDisks(disksAt(a), disksAt(b)) } as const;
    });
  }

  /** Makes branch `id` the session's timeline (the current one is kept as a branch when it differs) and shows its end. */
  switchBranch(id: number): Promise<TimeTravelResult> {
    return this.exclusive(async () => {
      if (this.runner) return { ok: false, message: 'a scenario is loaded: close it to use the session\'s branches' } as const;
      const target = this.travel.branchStepsOf(id);
      if (!target) return { ok: false, message: `there is no branch ${id}` } as const;
      const settings = this.sim.settings;
      const parsed = parseSessionSteps(target, settings, setupOfSettings(settings));
      if (!parsed.ok) return { ok: false, message: `branch ${id} cannot be read back (${parsed.message})` } as const;
      this.clock = { ...this.clock, playing: false };
      if (this.travel.position === null && !this.within) this.recordGap();
      const current = this.steps.kept.slice();
      let common = 0;
      while (common < current.length && common < target.length && JSON.stringify(current[common]) === JSON.stringify(target[common])) common++;
      this.travel.removeBranch(id);
      if (current.length > common) this.travel.addBranch(current, common);
      this.steps.reset();
      this.steps.pushAll(target);
      const timeline = this.travel.timeline;
      timeline.truncate(common);
      for (const step of parsed.scenario.steps.slice(common)) timeline.append(step);
      await this.showMoment(target.length);
      return { ok: true, position: this.timelinePosition() } as const;
    });
  }

  /** Forgets branch `id`. */
  discardBranch(id: number): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.travel.removeBranch(id)) return false;
      this.dirty = true;
      await this.saveNow();
      await this.publish();
      return true;
    });
  }

  /** What a share link carries: the scenario text and the moment shown. */
  shareState(): Promise<{ scenarioText: string; step: number }> {
    return this.exclusive(async () => {
      if (this.loaded && this.runner) return { scenarioText: this.loaded.text, step: this.within?.stepIndex ?? this.runner.nextStepIndex };
      const shown = this.within?.stepIndex ?? this.travel.position;
      const steps = this.steps.kept.slice(0, shown ?? undefined);
      if (shown === null) {
        const gap = this.gapStep();
        if (gap) steps.push(gap);
      }
      const document = { format: FORMAT_VERSION, title: 'colo-sim session', setup: setupOfSettings(this.sim.settings), steps: this.steps.kept.length > steps.length ? this.steps.kept.slice() : steps };
      return { scenarioText: `${JSON.stringify(document)}\n`, step: steps.length };
    });
  }

  /** Another tab took the store: stop saving and stop the clock; the page says so. */
  lostStore(): void {
    this.persistence = undefined;
    this.clock = { ...this.clock, playing: false };
    this.persistenceStatus = { kind: 'locked-elsewhere' };
    this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
  }

  // ---- the clock ----------------------------------------------------------------------------

  private armTimer(): void {
    if (this.timerArmed || !this.clock.playing) return;
    this.timerArmed = true;
    this.ports.setTimer(() => {
      this.timerArmed = false;
      void this.exclusive(() => this.tick()).catch((error: unknown) => this.notifyError(`The simulation stopped: ${messageOf(error)}`));
    }, FRAME_INTERVAL_MS);
  }

  private async tick(): Promise<void> {
    if (!this.clock.playing) return;
    this.testLearnerGoal();
    const startedMs = this.ports.wallClockMs();
    // A sleeping tab must not come back to an hour of virtual time at once.
    const elapsedMs = Math.min(100, Math.max(0, startedMs - this.lastTickWallMs));
    this.lastTickWallMs = startedMs;
    const targetUs = this.sim.nowUs + Math.round(elapsedMs * this.clock.speed);
    const scheduler = this.sim.scheduler;
    let reachedTarget = true;
    for (let processed = 0; ; processed++) {
      const next = scheduler.nextTimeUs();
      if (next === undefined || next > targetUs) break;
      scheduler.runNext();
      if (processed % 32 === 31 && this.ports.wallClockMs() - startedMs > BURST_BUDGET_MS) {
        reachedTarget = false;
        break;
      }
    }
    if (reachedTarget) scheduler.runUntilTime(targetUs);
    this.testLearnerGoal();
    this.dirty = true;
    if (this.ports.wallClockMs() - this.lastSaveWallMs >= SAVE_INTERVAL_MS) this.startSave();
    await this.publish();
    this.armTimer();
  }

  // ---- frames and saving --------------------------------------------------------------------

  private async publish(): Promise<void> {
    const taken = this.view.takeLayouts();
    const layouts = taken?.layouts;
    const cells = this.view.takeCells();
    const bitmaps = this.view.takeBitmaps();
    this.trimPendingEvents(MAX_EVENTS_PER_FRAME);
    const events = this.pendingEvents;
    const droppedEvents = this.droppedEvents;
    this.pendingEvents = [];
    this.droppedEvents = 0;
    let scenarioStatic: ScenarioStatic | undefined;
    if (this.scenarioStaticDue && this.loaded) {
      scenarioStatic = {
        name: this.loaded.name,
        title: this.loaded.scenario.title,
        ...(this.loaded.scenario.description === undefined ? {} : { description: this.loaded.scenario.description }),
        stepDescriptions: this.loaded.descriptions,
      };
      this.resultsSent = 0;
    }
    this.scenarioStaticDue = false;
    const invariants = this.invariants?.report();
    const invariantsJson = invariants ? JSON.stringify(invariants) : '';
    const invariantsChanged = invariantsJson !== this.invariantsSent;
    this.invariantsSent = invariantsJson;
    const resultCount = this.results.endIndex;
    const newResults = this.runner && resultCount > this.resultsSent ? { from: this.resultsSent, results: encodeStepResults(this.results.slice(this.resultsSent, resultCount), this.loaded?.descriptions) } : undefined;
    this.resultsSent = this.runner ? resultCount : 0;
    const frame: Frame = {
      frameNumber: this.frameNumber++,
      saved: this.isSaved(),
      savedUpToUs: this.savedUpToUs,
      summary: this.view.summary(),
      events,
      droppedEvents,
      ...(layouts ? { layouts } : {}),
      ...(taken?.changed ? { imagesChanged: true as const } : {}),
      cells,
      bitmaps,
      scenario: this.scenarioProgress(),
      ...(scenarioStatic ? { scenarioStatic } : {}),
      ...(newResults ? { scenarioResults: newResults } : {}),
      sessionStepCount: this.runner ? this.runner.nextStepIndex : this.steps.endIndex,
      ...(this.restoredFrameDue ? { restored: true as const } : {}),
      ...(this.historyDue ? { history: this.history.slice() } : {}),
      ...this.qmpNews(),
      timeline: this.timelinePosition(),
      ...(invariants && invariantsChanged ? { invariants } : {}),
    };
    this.restoredFrameDue = false;
    this.historyDue = false;
    this.ports.post({ kind: 'frame', frame }, [...transferablesOf(cells, bitmaps), ...(newResults ? stepResultBuffers(newResults.results) : [])]);
  }

  /** The QMP traffic the page has not had yet (the whole log after a reset or restore). */
  private qmpNews(): Pick<Frame, 'qmp'> {
    const log = this.qmpLog;
    const reset = this.qmpResetDue;
    const from = reset ? log.state.firstIndex : Math.max(this.qmpSent, log.state.firstIndex);
    this.qmpResetDue = false;
    this.qmpSent = log.endIndex;
    if (!reset && from >= log.endIndex) return {};
    return { qmp: { from, entries: log.slice(from), ...(reset ? { reset: true as const } : {}) } };
  }

  /** What the page sees is what is stored (or persistence is off and memory is all there is). */
  private isSaved(): boolean {
    if (!this.persistence || this.persistenceStatus.kind !== 'indexeddb') return this.persistenceStatus.kind === 'memory';
    return !this.dirty && this.saveInFlight === undefined;
  }

  /** Saves now and waits for the commit (commands answer only once what they did is stored). */
  private async saveNow(): Promise<void> {
    this.startSave();
    await this.saveInFlight;
    // A change made while that save was committing is in the next one.
    if (this.dirty && this.saveInFlight === undefined) {
      this.startSave();
      await this.saveInFlight;
    }
  }

  /** For the first save of a simulation: everything, then wait. */
  private async save(): Promise<void> {
    await this.saveInFlight;
    await this.saveNow();
  }

  /**
   * Takes a save of this instant and sends it to IndexedDB; the engine may go on while it
   * commits. At most one save is in flight; a later call while one is committing does nothing
   * (the changes stay marked and go with the next save).
   */
  private startSave(): void {
    const persistence = this.persistence;
    // The middle of a step is to look at: what is saved stays the moment before it.
    if (!persistence || this.persistenceStatus.kind !== 'indexeddb' || this.saveInFlight || !this.dirty || this.within) return;
    const rewriteAll = this.rewriteAll;
    const storeSave = rewriteAll ? { changes: this.stores.allRecords(), committed: () => {}, failed: () => {} } : this.stores.takeChanges();
    const logs = [this.steps, this.results, this.eventLog, this.qmpLog].map((log) => log.takeChanges());
    const changes: RecordChange[] = [...storeSave.changes];
    for (const log of logs) changes.push(...log.changes);
    if (this.scenarioTextChanged || rewriteAll) changes.push({ key: SCENARIO_TEXT_KEY, value: this.loaded ? { name: this.loaded.name, text: this.loaded.text } : undefined });
    if (this.historyChanged || rewriteAll) changes.push({ key: HISTORY_KEY, value: this.history.slice() });
    changes.push(...this.travel.takeChanges(rewriteAll));
    changes.push({ key: META_KEY, value: this.metaRecord() });
    const savedAtUs = this.sim.nowUs;
    this.dirty = false;
    this.rewriteAll = false;
    this.scenarioTextChanged = false;
    this.historyChanged = false;
    this.lastSaveWallMs = this.ports.wallClockMs();
    this.saveInFlight = persistence
      .save(changes, { clearFirst: rewriteAll })
      .then(
        () => {
          storeSave.committed();
          for (const log of logs) log.committed();
          this.savedUpToUs = savedAtUs;
        },
        (error: unknown) => {
          storeSave.failed();
          if (error instanceof OwnershipLost) {
            this.lostStore();
            return;
          }
          // Keep going in memory: nothing is dropped, and the page says what is stored.
          this.persistence = undefined;
          this.persistenceStatus = { kind: 'memory', reason: messageOf(error), savedUpToUs: this.savedUpToUs, ...(error instanceof PersistenceError && error.quotaExceeded ? { quotaExceeded: true } : {}) };
          this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
        },
      )
      .finally(() => {
        this.saveInFlight = undefined;
      });
  }

  private metaRecord(): SavedMeta {
    return {
      version: SAVED_STATE_VERSION,
      snapshot: this.sim.snapshot(),
      lastCommandEndUs: this.lastCommandEndUs,
      entriesRunAtLastCommand: this.entriesRunAtLastCommand,
      steps: this.steps.state,
      scenario: this.runner && this.loaded ? { name: this.loaded.name, progress: this.runner.progress(), results: this.results.state } : null,
      events: this.eventLog.state,
      qmp: this.qmpLog.state,
      nextHistoryId: this.nextHistoryId,
      ...(this.invariants ? { invariants: this.invariants.saveState() } : {}),
    };
  }

  // ---- building and rebuilding ----------------------------------------------------------------

  private replaceSimulation(settings: SimulationSettings, snapshot: SavedMeta['snapshot'] | undefined, chunks?: LoadedChunks, invariants?: LiveInvariantsState): void {
    this.unsubscribe();
    this.invariants?.stop();
    this.stores = new TrackedStores(chunks);
    this.sim = new Simulation(settings, this.stores.factory, snapshot);
    this.view = new ViewBuilder(this.sim);
    this.invariants = new LiveInvariants(this.sim, invariants);
    this.invariantsOf.set(this.sim, this.invariants);
    this.invariantsSent = '';
    this.pendingEvents = [];
    this.unsubscribe = this.sim.events.subscribe((event) => this.onEvent(event));
    this.qmpResetDue = true;
    if (!snapshot) {
      this.travel.reset(emptyScenario(settings), true);
      this.within = undefined;
      this.steps.reset();
      this.eventLog.reset();
      this.qmpLog.reset();
      this.history = [];
      this.historyChanged = true;
      this.lastCommandEndUs = 0;
      this.entriesRunAtLastCommand = 0;
    }
    this.historyDue = true;
    this.dirty = true;
  }

  private restore(saved: SessionToRestore): void {
    const { meta } = saved;
    this.replaceSimulation(meta.snapshot.settings, meta.snapshot, saved.chunks, meta.invariants);
    this.steps = PagedLog.loaded(STEPS_LOG, PAGE_SIZE, Number.POSITIVE_INFINITY, meta.steps, pagesOf(saved.pages, STEPS_LOG));
    this.eventLog = PagedLog.loaded(EVENTS_LOG, PAGE_SIZE, EVENT_LOG_LIMIT, meta.events, pagesOf(saved.pages, EVENTS_LOG));
    this.qmpLog = meta.qmp ? PagedLog.loaded(QMP_LOG, PAGE_SIZE, QMP_LOG_LIMIT, meta.qmp, pagesOf(saved.pages, QMP_LOG)) : this.qmpLogFromEvents();
    this.history = saved.history.slice(-HISTORY_LIMIT);
    this.nextHistoryId = meta.nextHistoryId;
    this.lastCommandEndUs = meta.lastCommandEndUs;
    this.entriesRunAtLastCommand = meta.entriesRunAtLastCommand;
    this.travel = new SessionTimeline(meta.snapshot.settings, this.invariantsCompanion);
    if (!meta.scenario) {
      const parsed = parseSessionSteps(this.steps.kept, meta.snapshot.settings, setupOfSettings(meta.snapshot.settings));
      if (parsed.ok) this.travel.reset(parsed.scenario, false);
      else this.travel.broken = `the session's steps cannot be read back (${parsed.message})`;
    }
    if (meta.scenario) {
      if (!saved.scenarioText) throw new Error('the saved scenario file is missing');
      const validation = validateScenarioText(saved.scenarioText.text);
      if (!validation.ok) throw new Error('the saved scenario is no longer valid');
      const descriptions = validation.scenario.steps.map((step) => describeStep(step));
      this.results = PagedLog.loaded(RESULTS_LOG, PAGE_SIZE, Number.POSITIVE_INFINITY, meta.scenario.results, resultPagesOf(saved.pages, descriptions), this.encodeResultsPage);
      this.startScenario(meta.scenario.name, saved.scenarioText.text, validation.scenario, meta.scenario.progress, descriptions);
      this.scenarioTextChanged = false;
    }
    this.travel.load(saved.timeline, saved.branches ?? new Map());
    // The stores and pages already hold what is saved; the page gets the saved log first.
    this.pendingEvents = this.eventLog.kept.slice();
    this.restoredFrameDue = true;
    this.dirty = false;
    this.historyChanged = false;
    this.savedUpToUs = this.sim.nowUs;
  }

  private startScenario(name: string, text: string, scenario: Scenario, progress: RunnerProgress | undefined, descriptions = scenario.steps.map((step) => describeStep(step))): void {
    this.runner = new ScenarioRunner(scenario, this.stores.factory, {
      simulation: this.sim,
      ...(this.watch.onWaitForAsync ? { onWaitForAsync: this.watch.onWaitForAsync } : {}),
      ...(progress ? { resume: progress } : {}),
    });
    const rawSteps = (JSON.parse(text) as { steps: unknown[] }).steps;
    this.loaded = { name, text, scenario, rawSteps, descriptions, lesson: isLesson(scenario) };
    this.travel.reset(scenario, false);
    this.within = undefined;
    if (!progress) this.results.reset();
    this.scenarioTextChanged = true;
    this.scenarioStaticDue = true;
  }

  private closeLoadedScenario(): void {
    if (this.loaded) this.scenarioTextChanged = true;
    this.runner = undefined;
    this.loaded = undefined;
    this.results.reset();
  }

  private scenarioProgress(): ScenarioPosition | null {
    const runner = this.runner;
    const loaded = this.loaded;
    if (!runner || !loaded) return null;
    return {
      name: loaded.name,
      stepCount: loaded.scenario.steps.length,
      nextStepIndex: runner.nextStepIndex,
      resultCount: this.results.endIndex,
      done: runner.done,
      ...(runner.done ? { outcome: runner.outcome() } : {}),
      ...(runner.learnerTask ? { learnerTask: { notYet: this.learnerGoalNotYet ?? '' } } : {}),
    };
  }

  // ---- a lesson's tasks, done by the learner ---------------------------------------------------

  /** The clock may run: no scenario is loaded, or the learner is doing a lesson's task by hand. */
  /** Another tab owns the saved simulation: this one neither runs nor takes commands until it takes it back. */
  private get takenElsewhere(): boolean {
    return this.persistenceStatus.kind === 'locked-elsewhere';
  }

  /** The clock may run: no scenario drives the simulation (or a lesson's task waits for the learner), and no other tab took it over. */
  private mayRunClock(): boolean {
    if (this.takenElsewhere) return false;
    return !this.runner || this.runner.learnerTask !== undefined;
  }

  /** Runs the loaded scenario's next step; a lesson's step log records what ran. */
  private runScenarioStep(runner: ScenarioRunner): void {
    const lesson = this.loaded?.lesson === true;
    if (lesson) this.recordGap();
    const from = runner.nextStepIndex;
    // What the step's QMP commands cause comes after this mark (the console orders it before their reply).
    this.qmpCommandFrom = this.qmpLog.endIndex;
    this.travel.takeEvents();
    const results = runner.step();
    const events = this.travel.takeEvents();
    this.results.push(...results);
    if (lesson) {
      this.steps.push(...this.loaded!.rawSteps.slice(from, runner.nextStepIndex));
      this.markCommandEnd();
    }
    // On the timeline (time travel), while it is the scenario's own run.
    if (runner.nextStepIndex !== from + 1 || this.travel.broken) return;
    this.travel.resultsByStep.set(from, results);
    const timeline = this.travel.timeline;
    if (timeline.marks.length === from) timeline.recordStep(from, this.sim, runner.progress(), results, events);
  }

  /**
   * The goal of a lesson's task the learner is doing by hand is tested before and after
   * everything the learner does: each command, each clock burst and single step. The first test
   * is the task's "before" test; it is made only once the learner acts, so a task done by "Show
   * me" runs exactly as `colo-sim run` runs it (a `same` goal's reads are requests, with event
   * numbers). Once the goal holds the task passes, the run goes on and the clock stops: the
   * lesson's next steps are not the learner's. The events of a test's reads are looks, not the
   * model, and are not shown.
   */
  private testLearnerGoal(): void {
    const runner = this.runner;
    if (!runner?.learnerTask) {
      this.learnerGoalNotYet = undefined;
      return;
    }
    // The learner acts by hand: from here the run is not the lesson file's, which is all the
    // timeline can replay. The lesson player's Back and Restart (a fresh load) travel instead.
    this.travel.broken ??= "a lesson's task was done by hand: the timeline replays only the lesson's own steps (use the lesson's Back and Restart)";
    this.muted++;
    let tested: ReturnType<ScenarioRunner['testLearnerTask']>;
    try {
      tested = runner.testLearnerTask();
    } finally {
      this.muted--;
    }
    if (!tested || tested.results.length === 0) {
      this.learnerGoalNotYet = tested && !tested.goal.ok ? tested.goal.message : undefined;
      return;
    }
    // The time the learner let run before the goal held belongs to the replay.
    this.recordGap();
    this.markCommandEnd();
    this.results.push(...tested.results);
    this.learnerGoalNotYet = undefined;
    this.clock = { ...this.clock, playing: false };
    this.dirty = true;
  }

  private markCommandEnd(): void {
    this.lastCommandEndUs = this.sim.nowUs;
    this.entriesRunAtLastCommand = this.sim.scheduler.entriesRun;
  }

  /** Replication nodes opened by earlier commands, which a new command may name. */
  private openedNodes(): Array<{ name: string; host: 'primary' | 'secondary' }> {
    const fixed = new Set(TOPOLOGY_NODES.map((node) => node.name));
    return [this.sim.primary, this.sim.secondary].flatMap((host) => host.replicationNodes.filter((node) => !fixed.has(node.nodeName)).map((node) => ({ name: node.nodeName, host: host.name })));
  }

  /** A session saved before the consoles: their transcripts start with the QMP traffic its event log kept. */
  /**
   * After time travel: the QMP transcript is the QMP traffic of the rebuilt event log (as after a
   * restore without a saved transcript: which events a command caused while it ran is not known).
   */
  private rebuildQmpLog(): void {
    this.qmpLog.reset();
    this.qmpLog.pushAll(this.eventLog.kept.filter(isQmpTraffic));
    this.qmpCommandFrom = this.qmpLog.endIndex;
    this.qmpResetDue = true;
  }

  private qmpLogFromEvents(): PagedLog<QmpTranscriptEvent> {
    const log = new PagedLog<QmpTranscriptEvent>(QMP_LOG, PAGE_SIZE, QMP_LOG_LIMIT);
    log.pushAll(this.eventLog.kept.filter(isQmpTraffic));
    return log;
  }

  private onEvent(event: SimEvent): void {
    if (this.muted > 0) return;
    this.watch.onEvent?.(event);
    this.view.observe(event);
    this.eventLog.pushOne(event);
    if (event.kind === 'qmp') {
      const eventsDuring = this.qmpLog.endIndex - this.qmpCommandFrom;
      this.qmpLog.push(eventsDuring > 0 ? { ...event, eventsDuring } : event);
      this.qmpCommandFrom = this.qmpLog.endIndex;
    } else if (event.kind === 'qmp-event') {
      this.qmpLog.push(event);
    }
    this.travel.onEvent(event);
    this.pendingEvents.push(event);
    // Trimmed in bulk (dropping the oldest one per event moved the whole list every time), soon
    // after the frame's limit: events no frame will carry are not kept referenced.
    if (this.pendingEvents.length >= MAX_EVENTS_PER_FRAME + PENDING_EVENTS_SLACK) this.trimPendingEvents(MAX_EVENTS_PER_FRAME);
  }

  /** Keeps the newest `limit` events for the next frame; the others are counted as dropped. */
  private trimPendingEvents(limit: number): void {
    const excess = this.pendingEvents.length - limit;
    if (excess <= 0) return;
    this.pendingEvents.splice(0, excess);
    this.droppedEvents += excess;
  }

  /**
   * The step that replays the time between the last command and now: `run for` the time that
   * passed when every event up to now has run, else (the clock stopped between two events of
   * one instant) `run events` with the exact number that ran.
   */
  private gapStep(): Record<string, unknown> | undefined {
    const scheduler = this.sim.scheduler;
    const entries = scheduler.entriesRun - this.entriesRunAtLastCommand;
    const gapUs = this.sim.nowUs - this.lastCommandEndUs;
    const next = scheduler.nextTimeUs();
    const midInstant = next !== undefined && next <= this.sim.nowUs;
    if (entries > 0 && (midInstant || gapUs === 0)) return { op: 'run', events: entries };
    if (gapUs > 0) return { op: 'run', for: formatDuration(gapUs) };
    return undefined;
  }

  private recordGap(): void {
    const gap = this.gapStep();
    if (!gap) return;
    this.steps.push(gap);
    this.recordTimelineStep(gap, []);
  }

  /** The step as given, with the outcome it had as its expectation. */
  private recordStep(step: unknown, observed: Observed, extrasBefore: readonly ExtraNode[]): void {
    const recorded: Record<string, unknown> = { ...(step as Record<string, unknown>) };
    delete recorded.expect;
    delete recorded.async;
    const expect = expectationOf(observed);
    if (expect) recorded.expect = expect;
    this.steps.push(recorded);
    this.lastCommandEndUs = this.sim.nowUs;
    this.entriesRunAtLastCommand = this.sim.scheduler.entriesRun;
    this.recordTimelineStep(recorded, extrasBefore);
  }

  private recordHistory(entry: Omit<HistoryEntry, 'id'>): void {
    this.history.push({ id: this.nextHistoryId++, ...entry });
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    this.historyChanged = true;
    this.dirty = true;
  }

  // ---- time travel, inside ------------------------------------------------------------------

  private travelUnavailable(): string | undefined {
    return this.travel.broken;
  }

  /** Where the session is on its timeline, for the frame. */
  private timelinePosition(): TimelinePosition {
    const timeline = this.travel.timeline;
    const within = this.within;
    const common = { branches: this.travel.branches.slice(), markCount: this.travel.marks.length, ...(within ? { within: { ...within } } : {}), ...(this.travel.broken ? { unavailable: this.travel.broken } : {}) };
    if (this.runner && this.loaded) {
      const step = within?.stepIndex ?? this.runner.nextStepIndex;
      return { stepCount: timeline.stepCount, step, atEnd: step === timeline.stepCount && !within, ...common };
    }
    const position = this.travel.position;
    return { stepCount: timeline.stepCount, step: within?.stepIndex ?? position ?? timeline.stepCount, atEnd: position === null && !within, ...common };
  }

  /** Marks for every step run so far (after a reload or a closed scenario they are rebuilt by one replay). */
  private ensureMarks(): void {
    if (this.travel.broken) return;
    const timeline = this.travel.timeline;
    const target = this.runner ? this.runner.nextStepIndex : timeline.stepCount;
    if (timeline.marks.length >= target) return;
    const rebuilt = timeline.materialize(target, createMemoryStore);
    rebuilt.results.forEach((results, offset) => this.travel.resultsByStep.set(rebuilt.fromStep + offset, results));
  }

  /** A live step of the session recorded: on the timeline too. */
  private recordTimelineStep(raw: unknown, extras: readonly ExtraNode[]): void {
    const events = this.travel.takeEvents();
    // A loaded scenario's timeline is its own steps (runScenarioStep records them); a lesson's learner commands are not among them.
    if (this.travel.broken || this.runner) return;
    const validation = validateStep(raw, this.sim.settings, extras);
    if (!validation.ok) {
      this.travel.broken = `a recorded step cannot be read back (${validation.errors[0]?.message ?? 'invalid'})`;
      return;
    }
    const timeline = this.travel.timeline;
    timeline.append(validation.step);
    const index = timeline.stepCount - 1;
    if (timeline.marks.length === index) timeline.recordStep(index, this.sim, { nextIndex: index + 1, finished: false, failure: null, pending: [] }, [], events);
  }

  /** Before acting in session mode: from the middle of a step, back to its start; from the past, a fork. */
  private async leavePast(): Promise<void> {
    await this.leavePartial();
    const position = this.travel.position;
    if (this.runner || position === null) return;
    const all = this.steps.kept.slice();
    this.travel.addBranch(all, position);
    this.steps.reset();
    this.steps.pushAll(all.slice(0, position));
    this.travel.timeline.truncate(position);
    this.travel.setPosition(null);
    this.lastCommandEndUs = this.sim.nowUs;
    this.entriesRunAtLastCommand = this.sim.scheduler.entriesRun;
    this.dirty = true;
  }

  /** Shown in the middle of a step: back to the moment before it (a step boundary). */
  private async leavePartial(): Promise<void> {
    if (!this.within) return;
    await this.showMoment(this.within.stepIndex);
  }

  /** Rebuilds moment `step` and makes it the session's simulation; saved and published. */
  private async showMoment(step: number): Promise<void> {
    const timeline = this.travel.timeline;
    // What is saved must be what the current stores hold: the new ones are saved as a difference from it.
    if (!this.within) await this.saveNow();
    const savedStores = (this.within ? this.storesBeforeWithin : undefined) ?? this.stores;
    const baseline: LoadedChunks = new Map();
    for (const imageName of savedStores.imageNames()) baseline.set(imageName, new Map(savedStores.store(imageName)!.storedChunks()));
    const stores = TrackedStores.over(baseline);
    const moment = timeline.materialize(step, stores.factory);
    moment.results.forEach((results, offset) => this.travel.resultsByStep.set(moment.fromStep + offset, results));
    const log = timeline.eventsBefore(moment.step, TIME_TRAVEL_LOG_EVENTS, createMemoryStore);
    this.within = undefined;
    this.adopt(moment.simulation, stores);
    if (this.runner && this.loaded) {
      this.runner = new ScenarioRunner(this.loaded.scenario, stores.factory, {
        simulation: moment.simulation,
        ...(this.watch.onWaitForAsync ? { onWaitForAsync: this.watch.onWaitForAsync } : {}),
        resume: moment.progress,
      });
      this.results.reset();
      this.results.pushAll(this.travel.resultsByStep.before(moment.step));
      this.scenarioStaticDue = true;
    } else {
      this.travel.setPosition(moment.step);
      this.lastCommandEndUs = moment.simulation.nowUs;
      this.entriesRunAtLastCommand = moment.simulation.scheduler.entriesRun;
    }
    this.eventLog.reset();
    this.eventLog.pushAll(log);
    this.pendingEvents = this.eventLog.kept.slice();
    this.rebuildQmpLog();
    this.restoredFrameDue = true;
    this.travel.takeEvents();
    this.storesBeforeWithin = undefined;
    this.dirty = true;
    await this.saveNow();
    await this.publish();
  }

  /** Makes `sim` (built on `stores`) the session's simulation; the views start afresh. */
  private adopt(sim: Simulation, stores: TrackedStores): void {
    this.unsubscribe();
    this.stores = stores;
    this.sim = sim;
    this.view = new ViewBuilder(sim);
    // The timeline built `sim` with its invariants (invariantsCompanion); the old ones followed a moment no longer shown.
    const invariants = this.invariantsOf.get(sim) ?? new LiveInvariants(sim);
    if (invariants !== this.invariants) {
      this.invariants?.stop();
      this.invariants = invariants;
      this.invariantsOf.set(sim, invariants);
      this.invariantsSent = '';
    }
    this.pendingEvents = [];
    this.droppedEvents = 0;
    this.unsubscribe = sim.events.subscribe((event) => this.onEvent(event));
    this.dirty = true;
  }

  private notifyError(message: string): void {
    this.ports.post({ kind: 'error', message }, []);
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function isQmpTraffic(event: SimEvent): event is Extract<SimEvent, { kind: 'qmp' | 'qmp-event' }> {
  return event.kind === 'qmp' || event.kind === 'qmp-event';
}

function expectationOf(observed: Observed): Record<string, unknown> | undefined {
  if (observed.kind === 'control') {
    if (!observed.outcome.ok) return { error: observed.outcome.message };
    return observed.outcome.value === undefined ? undefined : { return: observed.outcome.value };
  }
  if (!observed.result.ok) return { error: observed.result.errno };
  if (observed.kind === 'read') {
    const uniform = observed.result.data.uniformByte();
    return uniform === undefined ? { ok: true } : { pattern: formatByte(uniform) };
  }
  return undefined;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
