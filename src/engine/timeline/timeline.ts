/**
 * A session's timeline: its steps (scenario steps, as a scenario file holds them), where each
 * step left the simulation, and keyframes (engine snapshot + images' bytes) every so often, so
 * that the state after any number of steps is rebuilt fast: restore the nearest keyframe at or
 * before it and replay the steps in between. The engine is deterministic, so what comes back is
 * byte for byte what a replay from the start gives: disks, events (sequence numbers and times),
 * jobs, the clock, requests in flight.
 *
 * "Step k" (or "moment k") is the state after the first k steps: step 0 is the new simulation
 * (no keyframe needed: it is rebuilt from the settings), step `stepCount` the end.
 *
 * Steps run through a ScenarioRunner, so async steps, lessons' counters and judging mean what
 * they mean in `colo-sim run`; the runner's own end-of-run (waiting for async steps after the
 * last step) happens at the last step, as a run of the same steps would.
 *
 * Memory: at most `maxKeyframes` keyframes. Keyframes start every `keyframeEvery` steps; when
 * there would be more than `maxKeyframes`, the interval doubles and every other keyframe goes,
 * so a replay is at most `interval - 1` steps and memory stays bounded whatever the length. A
 * keyframe costs its snapshot (a few KiB: no disk bytes) plus its images' bytes as runs (a
 * repeated byte costs one run; literal bytes cost themselves). `memory()` states the figures.
 *
 * A companion (the worker's live invariants) can follow every simulation the timeline builds:
 * its state is kept with each keyframe and handed back when a moment is rebuilt from that
 * keyframe, before the steps in between are replayed, so it has seen what it would have seen in a
 * run from the start.
 *
 * Per step the timeline also keeps a small mark (op, virtual time, event numbers, scheduler
 * entries, notable things), for a timeline view and for finding a step's events.
 */
import { COLO_RUNNING, FAILOVER_COMPLETED, TRANSACTION_DONE } from '../colo/colo-process.js';
import { Simulation, type SimulationSettings } from '../colo/simulation.js';
import type { SimulationSnapshot } from '../colo/snapshot.js';
import { ScenarioRunner, type RunnerProgress, type StepResult } from '../scenario/runner.js';
import type { ParsedStep } from '../scenario/schema.js';
import type { Scenario } from '../scenario/validate.js';
import type { SimEvent } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import { captureKeyframeDisks, factoryWithDisks, type KeyframeDisk } from './disks.js';
import { noteBit, notesOfMask, type TimelineNote } from './notes.js';

export type { TimelineNote } from './notes.js';

/** Keyframe interval a timeline starts with, in steps. */
export const DEFAULT_KEYFRAME_EVERY = 16;
/** Keyframes a timeline keeps at most. */
export const DEFAULT_MAX_KEYFRAMES = 256;
/** Events of replayed stretches kept for `eventsBefore` (the oldest stretches go first). */
export const MAX_CACHED_EVENTS = 50_000;

/** What a step did, in a few numbers: enough to draw a timeline and to find the step's events. */
export interface StepMark {
  /** 0-based step index: moment `index + 1` is the state after this step. */
  readonly index: number;
  readonly op: ParsedStep['op'];
  /** Virtual time after the step, in microseconds. */
  readonly endUs: number;
  /** Sequence number of the first event after the step (the step's events end before it). */
  readonly eventEnd: number;
  /** Scheduler entries run since the simulation started, after the step. */
  readonly entriesEnd: number;
  /** Every result the step's run produced passed (async steps judged later count where they are judged). */
  readonly passed: boolean;
  readonly notes: readonly TimelineNote[];
}

interface Keyframe<CompanionState> {
  readonly step: number;
  readonly snapshot: SimulationSnapshot;
  readonly disks: ReadonlyMap<string, KeyframeDisk>;
  readonly progress: RunnerProgress;
  /** The companion's state at this keyframe (undefined: none, or it followed nothing then). */
  readonly companion: CompanionState | undefined;
  readonly approxBytes: number;
}

/**
 * What follows each simulation the timeline builds, beside the engine (the worker's live
 * invariants, src/engine/invariants/live-invariants.ts).
 */
export interface TimelineCompanion<CompanionState> {
  /**
   * Its state now on `sim` (the live run's or one the timeline built), kept with a keyframe as
   * given: return a copy. Undefined when nothing follows `sim`.
   */
  capture(sim: Simulation): CompanionState | undefined;
  /**
   * Follow `sim`, just built from a keyframe whose captured state is `state` (undefined: the new
   * simulation of step 0), before any step is replayed on it. `state` stays the keyframe's: copy
   * what is to be changed.
   */
  attach(sim: Simulation, state: CompanionState | undefined): void;
}

export interface TimelineOptions<CompanionState = never> {
  /** Initial keyframe interval in steps (at least 1). */
  readonly keyframeEvery?: number;
  /** Keyframes kept at most (at least 2). */
  readonly maxKeyframes?: number;
  /** Follows every simulation the timeline builds (see TimelineCompanion). */
  readonly companion?: TimelineCompanion<CompanionState>;
}

/** A rebuilt moment. */
export interface Materialized {
  /** The moment reached: the one asked for, or earlier when the run stopped at a failed step (a scenario stops there). */
  readonly step: number;
  readonly simulation: Simulation;
  /** The runner over the timeline's steps, positioned at `step` (not for a partial moment). */
  readonly runner: ScenarioRunner;
  /** Where the run is, for resuming it elsewhere. */
  readonly progress: RunnerProgress;
  /** Keyframe the replay started from (0: the new simulation). */
  readonly fromStep: number;
  /** Results judged while replaying from `fromStep`, per step run: `results[i]` came from step `fromStep + i`. */
  readonly results: StepResult[][];
}

/** One event of a step, with the scheduler entry it ran in (0: the step's own start, before any entry ran). */
export interface StepEvent {
  readonly entry: number;
  readonly event: SimEvent;
}

/** What the state in the middle of a step is: after the step's start and its first `entries` scheduler entries. */
export interface PartialMoment {
  readonly simulation: Simulation;
  /** The step that is under way (0-based); the moment lies between moments `stepIndex` and `stepIndex + 1`. */
  readonly stepIndex: number;
  readonly entries: number;
  /** The step's events up to this point, in order. */
  readonly events: StepEvent[];
}

class StopReplay extends Error {}

export class Timeline<CompanionState = never> {
  private readonly stepList: ParsedStep[];
  private readonly markList: StepMark[] = [];
  private keyframes: Array<Keyframe<CompanionState>> = [];
  private readonly companion: TimelineCompanion<CompanionState> | undefined;
  private interval: number;
  private readonly maxKeyframes: number;
  /** Events of replayed stretches of steps, by "from:to" (insertion order is the eviction order). */
  private readonly stretchEvents = new Map<string, SimEvent[]>();
  private cachedEvents = 0;

  /**
   * `scenario` gives the settings and the steps known so far (a loaded scenario: all of them; a
   * session: those recorded, more are appended). Throws RangeError on options out of range.
   */
  constructor(
    readonly scenario: Scenario,
    options: TimelineOptions<CompanionState> = {},
  ) {
    this.companion = options.companion;
    this.stepList = [...scenario.steps];
    this.interval = options.keyframeEvery ?? DEFAULT_KEYFRAME_EVERY;
    this.maxKeyframes = options.maxKeyframes ?? DEFAULT_MAX_KEYFRAMES;
    if (!Number.isInteger(this.interval) || this.interval < 1) throw new RangeError(`keyframeEvery must be an integer >= 1, got ${this.interval}`);
    if (!Number.isInteger(this.maxKeyframes) || this.maxKeyframes < 2) throw new RangeError(`maxKeyframes must be an integer >= 2, got ${this.maxKeyframes}`);
    // Steps known from the start (a loaded scenario) get the interval their whole run ends with:
    // the same keyframes at the end, without taking the many that doubling would throw away.
    while (Math.floor(this.stepList.length / this.interval) > this.maxKeyframes) this.interval *= 2;
  }

  get settings(): SimulationSettings {
    return this.scenario.settings;
  }

  /** Steps on the timeline (moments 0 to stepCount). */
  get stepCount(): number {
    return this.stepList.length;
  }

  get steps(): readonly ParsedStep[] {
    return this.stepList;
  }

  /** Marks of the steps run so far, in order (a prefix of the steps: a loaded scenario's later steps have none yet). */
  get marks(): readonly StepMark[] {
    return this.markList;
  }

  /** Current keyframe interval in steps (it doubles as the timeline grows). */
  get keyframeInterval(): number {
    return this.interval;
  }

  /** Keyframes kept and the memory they hold, in bytes (approximate: structure sizes estimated, literal bytes exact). */
  memory(): { keyframes: number; keyframeSteps: number[]; intervalSteps: number; maxKeyframes: number; approxBytes: number } {
    return {
      keyframes: this.keyframes.length,
      keyframeSteps: this.keyframes.map((keyframe) => keyframe.step),
      intervalSteps: this.interval,
      maxKeyframes: this.maxKeyframes,
      approxBytes: this.keyframes.reduce((sum, keyframe) => sum + keyframe.approxBytes, 0),
    };
  }

  // ---- a live run tells the timeline what it did ---------------------------------------------

  /** Appends a step at the end (a session's new command). */
  append(step: ParsedStep): void {
    this.stepList.push(step);
  }

  /**
   * Cuts the timeline after `stepCount` steps: later steps, their marks and keyframes go (a
   * fork: the caller keeps the old future elsewhere if it wants it). Throws RangeError beyond the end.
   */
  truncate(stepCount: number): void {
    if (!Number.isInteger(stepCount) || stepCount < 0 || stepCount > this.stepList.length) throw new RangeError(`cannot cut a timeline of ${this.stepList.length} steps at ${stepCount}`);
    this.stepList.length = stepCount;
    if (this.markList.length > stepCount) this.markList.length = stepCount;
    this.keyframes = this.keyframes.filter((keyframe) => keyframe.step <= stepCount);
    this.stretchEvents.clear();
    this.cachedEvents = 0;
  }

  /**
   * A live run finished step `index` (0-based; steps before it must have marks): its mark is
   * recorded and, when one is due, a keyframe of `sim` and `progress`. `results` are those the
   * step's run produced; `eventStart` the sequence number of the step's first possible event
   * (`sim.events.nextSequenceValue` before it ran). Throws when steps are recorded out of order.
   */
  recordStep(index: number, sim: Simulation, progress: RunnerProgress, results: readonly StepResult[], events: readonly SimEvent[]): void {
    if (index !== this.markList.length) throw new Error(`step ${index} recorded after ${this.markList.length} steps`);
    if (index >= this.stepList.length) throw new Error(`step ${index} is not on the timeline (${this.stepList.length} steps)`);
    this.markList.push(markOf(index, this.stepList[index]!, sim, results, events));
    this.offerKeyframe(index + 1, sim, progress);
  }

  /** Records the state of a live run at `step` as a keyframe when one is due there and none is kept. */
  offerKeyframe(step: number, sim: Simulation, progress: RunnerProgress): void {
    if (step === 0 || step % this.interval !== 0) return;
    if (this.keyframes.some((keyframe) => keyframe.step === step)) return;
    const snapshot = sim.snapshot();
    const disks = captureKeyframeDisks(sim);
    let diskBytes = 0;
    for (const disk of disks.values()) diskBytes += disk.approxBytes;
    const companion = this.companion?.capture(sim);
    const kept = structuredCloneProgress(progress);
    // Measured when first asked (memory()), once: a walk of the snapshot per keyframe was a
    // sixth of what keyframes cost a run to the end.
    let bytes: number | undefined;
    const keyframe: Keyframe<CompanionState> = {
      step,
      snapshot,
      disks,
      progress: kept,
      companion,
      get approxBytes(): number {
        bytes ??= approxBytes(snapshot) + approxBytes(kept) + approxBytes(companion) + diskBytes;
        return bytes;
      },
    };
    const at = this.keyframes.findIndex((existing) => existing.step > step);
    if (at < 0) this.keyframes.push(keyframe);
    else this.keyframes.splice(at, 0, keyframe);
    while (this.keyframes.length > this.maxKeyframes) {
      this.interval *= 2;
      this.keyframes = this.keyframes.filter((kept) => kept.step % this.interval === 0);
    }
  }

  // ---- going to a moment -----------------------------------------------------------------

  /**
   * The state after `step` steps, on stores from `createStore` (they start empty; the images'
   * bytes are written into them): the nearest keyframe at or before it restored, the steps in
   * between replayed. `onEvent` sees the replayed steps' events. Steps run for the first time
   * get marks and keyframes. Throws RangeError for a step outside [0, stepCount].
   */
  materialize(step: number, createStore: StoreFactory, options: { onEvent?: (event: SimEvent) => void } = {}): Materialized {
    this.checkMoment(step);
    const { simulation, runner, fromStep } = this.restoreBefore(step, createStore);
    const results: StepResult[][] = [];
    let reached = fromStep;
    const events: SimEvent[] = [];
    const unsubscribe = simulation.events.subscribe((event) => {
      events.push(event);
      options.onEvent?.(event);
    });
    try {
      reached = this.replay(simulation, runner, fromStep, step, results);
    } finally {
      unsubscribe();
    }
    this.cacheStretch(fromStep, reached, events);
    return { step: reached, simulation, runner, progress: runner.progress(), fromStep, results };
  }

  /**
   * The events of step `stepIndex` (0-based), in order, each with the scheduler entry it ran in.
   * Costs a replay from the nearest keyframe. Throws RangeError outside the timeline.
   */
  stepEvents(stepIndex: number, createStore: StoreFactory): StepEvent[] {
    return this.partial(stepIndex, Number.POSITIVE_INFINITY, createStore).events;
  }

  /**
   * The state in the middle of step `stepIndex`: after its start and its first `entries`
   * scheduler entries (every event of one entry shares its state, so "event by event" means
   * entry by entry; a step's events carry their entry, see `stepEvents`). `entries` beyond the
   * step's own give the state after the step. The moment is to look at: its runner is not kept.
   */
  partial(stepIndex: number, entries: number, createStore: StoreFactory): PartialMoment {
    if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= this.stepList.length) throw new RangeError(`step index ${stepIndex} is outside the timeline's ${this.stepList.length} steps`);
    if (!(entries >= 0)) throw new RangeError(`entries must be >= 0, got ${entries}`);
    const { simulation, runner, fromStep } = this.restoreBefore(stepIndex, createStore);
    const reached = this.replay(simulation, runner, fromStep, stepIndex, []);
    if (reached !== stepIndex) throw new RangeError(`step ${stepIndex + 1} is never run: the run stops at step ${reached}`);
    const scheduler = simulation.scheduler;
    const startEntries = scheduler.entriesRun;
    const events: StepEvent[] = [];
    const unsubscribe = simulation.events.subscribe((event) => events.push({ entry: scheduler.entriesRun - startEntries, event }));
    const runNext = scheduler.runNext.bind(scheduler);
    // Stop between two entries: the state is then exactly what it was after `entries` of them.
    scheduler.runNext = () => {
      if (scheduler.entriesRun - startEntries >= entries) throw new StopReplay();
      return runNext();
    };
    try {
      runner.step();
    } catch (error) {
      if (!(error instanceof StopReplay)) throw error;
    } finally {
      scheduler.runNext = runNext;
      unsubscribe();
    }
    return { simulation, stepIndex, entries: scheduler.entriesRun - startEntries, events };
  }

  /**
   * The last `limit` events up to moment `step` (oldest first), as the run from the start
   * emitted them: replays from keyframes backwards until there are enough.
   */
  eventsBefore(step: number, limit: number, createStore: StoreFactory): SimEvent[] {
    this.checkMoment(step);
    const collected: SimEvent[][] = [];
    let count = 0;
    let end = step;
    while (end > 0 && count < limit) {
      const keyframe = this.keyframeBefore(end - 1);
      const from = keyframe?.step ?? 0;
      let events = this.stretchEvents.get(`${from}:${end}`);
      if (!events) {
        const replayed: SimEvent[] = [];
        this.materializeFrom(keyframe, end, createStore, (event) => replayed.push(event));
        this.cacheStretch(from, end, replayed);
        events = replayed;
      }
      collected.unshift(events);
      count += events.length;
      end = from;
    }
    const all = collected.flat();
    return all.slice(Math.max(0, all.length - limit));
  }

  // ---- internals ---------------------------------------------------------------------------

  private cacheStretch(from: number, to: number, events: SimEvent[]): void {
    if (from >= to || events.length > MAX_CACHED_EVENTS) return;
    const key = `${from}:${to}`;
    if (this.stretchEvents.has(key)) return;
    this.stretchEvents.set(key, events);
    this.cachedEvents += events.length;
    for (const [oldest, dropped] of this.stretchEvents) {
      if (this.cachedEvents <= MAX_CACHED_EVENTS) break;
      this.stretchEvents.delete(oldest);
      this.cachedEvents -= dropped.length;
    }
  }

  private checkMoment(step: number): void {
    if (!Number.isInteger(step) || step < 0 || step > this.stepList.length) throw new RangeError(`moment ${step} is outside the timeline (0 to ${this.stepList.length})`);
  }

  private keyframeBefore(step: number): Keyframe<CompanionState> | undefined {
    let found: Keyframe<CompanionState> | undefined;
    for (const keyframe of this.keyframes) {
      if (keyframe.step > step) break;
      found = keyframe;
    }
    return found;
  }

  private materializeFrom(keyframe: Keyframe<CompanionState> | undefined, step: number, createStore: StoreFactory, onEvent: (event: SimEvent) => void): void {
    const { simulation, runner, fromStep } = this.restore(keyframe, createStore);
    const unsubscribe = simulation.events.subscribe(onEvent);
    try {
      this.replay(simulation, runner, fromStep, step, []);
    } finally {
      unsubscribe();
    }
  }

  private restoreBefore(step: number, createStore: StoreFactory): { simulation: Simulation; runner: ScenarioRunner; fromStep: number } {
    return this.restore(this.keyframeBefore(step), createStore);
  }

  private restore(keyframe: Keyframe<CompanionState> | undefined, createStore: StoreFactory): { simulation: Simulation; runner: ScenarioRunner; fromStep: number } {
    const view: Scenario = { ...this.scenario, steps: this.stepList };
    if (!keyframe) {
      const simulation = new Simulation(this.settings, createStore);
      this.companion?.attach(simulation, undefined);
      return { simulation, runner: new ScenarioRunner(view, createStore, { simulation }), fromStep: 0 };
    }
    let filling = true;
    const simulation = new Simulation(this.settings, factoryWithDisks(createStore, keyframe.disks, () => filling), keyframe.snapshot);
    filling = false;
    this.companion?.attach(simulation, keyframe.companion);
    const saved = keyframe.progress;
    // A run that ended because its steps ran out goes on when steps were appended since.
    const progress: RunnerProgress = saved.finished && saved.failure === null && keyframe.step < this.stepList.length ? { ...structuredCloneProgress(saved), finished: false } : structuredCloneProgress(saved);
    return { simulation, runner: new ScenarioRunner(view, createStore, { simulation, resume: progress }), fromStep: keyframe.step };
  }

  /** Runs steps [from, to) with `runner`; records marks and keyframes for steps run the first time. Returns the moment reached. */
  private replay(simulation: Simulation, runner: ScenarioRunner, from: number, to: number, results: StepResult[][]): number {
    let events: SimEvent[] = [];
    const unsubscribe = simulation.events.subscribe((event) => events.push(event));
    try {
      for (let index = from; index < to; index++) {
        if (runner.done) return index;
        events = [];
        const stepResults = runner.step();
        results.push(stepResults);
        if (index === this.markList.length) this.recordStep(index, simulation, runner.progress(), stepResults, events);
        else this.offerKeyframe(index + 1, simulation, runner.progress());
      }
      return to;
    } finally {
      unsubscribe();
    }
  }
}

function markOf(index: number, step: ParsedStep, sim: Simulation, results: readonly StepResult[], events: readonly SimEvent[]): StepMark {
  let notes = 0;
  for (const event of events) {
    if (event.kind === 'colo') {
      if (event.phase === 'checkpoint-end') notes |= noteBit('checkpoint');
      if (event.phase === 'failover') notes |= noteBit('failover');
      if (event.phase === 'start-end') notes |= noteBit('colo-start');
      if (event.error !== undefined) notes |= noteBit('error');
    } else if (event.kind === 'colo-change') {
      // COLO started or failed over through QMP (COLO-FT.txt's runbooks), and the checkpoints of
      // x-checkpoint-delay's timer, have no step of their own: the hosts' state changes say them.
      if (event.change === COLO_RUNNING) notes |= noteBit('colo-start');
      if (event.change === FAILOVER_COMPLETED) notes |= noteBit('failover');
      if (event.change === TRANSACTION_DONE) notes |= noteBit('checkpoint');
    } else if (event.kind === 'fault-injected') notes |= noteBit('fault');
    else if (event.kind === 'host-lifecycle') notes |= noteBit('restart');
    // A cancelled job is no error: every failover cancels the secondary's backup job
    // (replication_stop), and a cancel-job fault is marked as the fault it is.
    else if (event.kind === 'io-failed' || (event.kind === 'job-failed' && !event.cancelled) || (event.kind === 'replication-call' && event.outcome === 'error')) notes |= noteBit('error');
  }
  return {
    index,
    op: step.op,
    endUs: sim.nowUs,
    eventEnd: sim.events.nextSequenceValue,
    entriesEnd: sim.scheduler.entriesRun,
    passed: results.every((result) => result.passed),
    notes: notesOfMask(notes),
  };
}

function structuredCloneProgress(progress: RunnerProgress): RunnerProgress {
  return JSON.parse(JSON.stringify(progress)) as RunnerProgress;
}

/** Rough bytes a plain value holds in a JS heap: 8 per number, 2 per string character, 16 per array or object slot. */
export function approxBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 8;
  if (typeof value === 'number') return 8;
  if (typeof value === 'string') return 16 + 2 * value.length;
  if (value instanceof Uint8Array) return 64 + value.length;
  if (Array.isArray(value)) {
    let total = 32;
    for (const item of value) total += 8 + approxBytes(item);
    return total;
  }
  if (typeof value === 'object') {
    let total = 32;
    const record = value as Record<string, unknown>;
    for (const key in record) if (Object.hasOwn(record, key)) total += 16 + key.length + approxBytes(record[key]);
    return total;
  }
  return 8;
}
