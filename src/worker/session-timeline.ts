/**
 * The session's time travel, as the worker keeps it: the engine timeline of the steps the user
 * (or a loaded scenario) ran, the moment shown, the branches a fork left behind, and how they
 * are saved.
 *
 * - Session mode (no scenario loaded): the timeline is the session's recorded steps (commands
 *   and the time between them). Going to moment k < end shows the past; acting there (a
 *   command, the clock, single-step) forks: the old future becomes a branch, kept until
 *   discarded, and the session goes on from k.
 * - Scenario mode: the timeline is the scenario's steps; going back and stepping again replays
 *   the same steps, so there is nothing to fork.
 *
 * Saved records (besides the session's own, see saved-session.ts): `timeline` (the moment shown,
 * the branches' headers) and `['branch', id]` (a branch's steps, written once). Keyframes are not
 * saved: after a reload the first visit to the past replays the session once to rebuild them.
 */
import type { SimulationSettings } from '../engine/colo/simulation.js';
import { FORMAT_VERSION } from '../engine/scenario/schema.js';
import type { ParsedStep } from '../engine/scenario/schema.js';
import { ResultsByStep } from './results-by-step.js';
import { validateScenarioDocument, type Scenario } from '../engine/scenario/validate.js';
import type { SimEvent } from '../engine/sim/events.js';
import type { LiveInvariantsState } from '../engine/invariants/live-invariants.js';
import { Timeline, type StepMark, type TimelineCompanion } from '../engine/timeline/timeline.js';
import type { RecordChange } from '../storage/tracked-stores.js';

export const TIMELINE_KEY = 'timeline';
export const BRANCH_RECORD = 'branch';
export const TIMELINE_RECORD_VERSION = 1;

/** A branch the user left: its steps from the start, and where it left the current one. */
export interface BranchHeader {
  readonly id: number;
  readonly label: string;
  /** Steps it shares with the timeline it was forked from (the fork's moment). */
  readonly forkStep: number;
  readonly stepCount: number;
}

/** What `timeline` saves. */
export interface SavedTimeline {
  readonly version: typeof TIMELINE_RECORD_VERSION;
  /** The moment shown, in session mode; null at the end. */
  readonly position: number | null;
  readonly branches: readonly BranchHeader[];
  readonly nextBranchId: number;
}

export function isBranchKey(key: unknown): key is readonly ['branch', number] {
  return Array.isArray(key) && key.length === 2 && key[0] === BRANCH_RECORD && typeof key[1] === 'number';
}

export class SessionTimeline {
  timeline: Timeline<LiveInvariantsState>;
  /** Session mode: the moment shown (stepCount = the end, where the session lives). */
  private shownStep: number | null = null;
  branches: BranchHeader[] = [];
  /** Steps of each branch, by id (from the start). */
  private readonly branchSteps = new Map<number, unknown[]>();
  private nextBranchId = 1;
  /** Events since the last recorded step (they belong to the next one). */
  private pendingEvents: SimEvent[] = [];
  /** Scenario mode: results of each step run, by step. */
  resultsByStep = new ResultsByStep();
  /** Why the timeline cannot travel (a step it could not read back), or undefined. */
  broken: string | undefined;
  // Saving.
  private recordDirty = true;
  private readonly branchWrites: Array<RecordChange> = [];

  /** `invariants` follows every simulation the timeline builds (the moments shown get theirs). */
  constructor(
    settings: SimulationSettings,
    private readonly invariants?: TimelineCompanion<LiveInvariantsState>,
  ) {
    this.timeline = this.timelineOf(emptyScenario(settings));
  }

  private timelineOf(scenario: Scenario): Timeline<LiveInvariantsState> {
    return new Timeline(scenario, this.invariants ? { companion: this.invariants } : {});
  }

  /** A new timeline (a new simulation, a scenario loaded or closed); branches stay unless `dropBranches`. */
  reset(scenario: Scenario, dropBranches: boolean): void {
    this.timeline = this.timelineOf(scenario);
    this.shownStep = null;
    this.pendingEvents = [];
    this.resultsByStep = new ResultsByStep();
    this.broken = undefined;
    if (dropBranches) {
      for (const branch of this.branches) this.branchWrites.push({ key: [BRANCH_RECORD, branch.id], value: undefined });
      this.branches = [];
      this.branchSteps.clear();
    }
    this.recordDirty = true;
  }

  onEvent(event: SimEvent): void {
    this.pendingEvents.push(event);
  }

  takeEvents(): SimEvent[] {
    const events = this.pendingEvents;
    this.pendingEvents = [];
    return events;
  }

  /** Session mode: the moment shown, or null when the session is at its end. */
  get position(): number | null {
    return this.shownStep;
  }

  setPosition(step: number | null): void {
    const value = step === null || step >= this.timeline.stepCount ? null : step;
    if (value !== this.shownStep) this.recordDirty = true;
    this.shownStep = value;
  }

  get marks(): readonly StepMark[] {
    return this.timeline.marks;
  }

  /** Keeps `steps` (the whole old future) as a branch forked at `forkStep`. */
  addBranch(steps: unknown[], forkStep: number, label?: string): BranchHeader {
    const id = this.nextBranchId++;
    const header: BranchHeader = { id, label: label ?? `branch ${id}`, forkStep, stepCount: steps.length };
    this.branches.push(header);
    this.branchSteps.set(id, steps);
    this.branchWrites.push({ key: [BRANCH_RECORD, id], value: { steps } });
    this.recordDirty = true;
    return header;
  }

  branchStepsOf(id: number): unknown[] | undefined {
    return this.branchSteps.get(id);
  }

  /** Forgets a branch. Returns false when there is none with that id. */
  removeBranch(id: number): boolean {
    const at = this.branches.findIndex((branch) => branch.id === id);
    if (at < 0) return false;
    this.branches.splice(at, 1);
    this.branchSteps.delete(id);
    this.branchWrites.push({ key: [BRANCH_RECORD, id], value: undefined });
    this.recordDirty = true;
    return true;
  }

  // ---- saving ---------------------------------------------------------------------------

  savedRecord(): SavedTimeline {
    return { version: TIMELINE_RECORD_VERSION, position: this.shownStep, branches: this.branches.map((branch) => ({ ...branch })), nextBranchId: this.nextBranchId };
  }

  /** The records to write: everything (`all`) or what changed since the last call. */
  takeChanges(all: boolean): RecordChange[] {
    const changes: RecordChange[] = [];
    if (all) {
      for (const branch of this.branches) changes.push({ key: [BRANCH_RECORD, branch.id], value: { steps: this.branchSteps.get(branch.id) } });
    } else {
      changes.push(...this.branchWrites);
    }
    this.branchWrites.length = 0;
    if (all || this.recordDirty) changes.push({ key: TIMELINE_KEY, value: this.savedRecord() });
    this.recordDirty = false;
    return changes;
  }

  /** Puts back what was saved. Throws with a plain message when a record is malformed. */
  load(saved: unknown, branches: ReadonlyMap<number, unknown>): void {
    if (saved === undefined) return;
    const record = saved as Partial<SavedTimeline>;
    if (record.version !== TIMELINE_RECORD_VERSION || !Array.isArray(record.branches) || typeof record.nextBranchId !== 'number') throw new Error('the saved timeline record is malformed');
    this.shownStep = typeof record.position === 'number' ? record.position : null;
    this.nextBranchId = record.nextBranchId;
    this.branches = [];
    this.branchSteps.clear();
    for (const header of record.branches) {
      const value = branches.get(header.id) as { steps?: unknown } | undefined;
      if (!value || !Array.isArray(value.steps)) throw new Error(`the saved branch ${header.id} is missing`);
      this.branches.push({ ...header });
      this.branchSteps.set(header.id, value.steps);
    }
    this.recordDirty = false;
  }
}

export function emptyScenario(settings: SimulationSettings): Scenario {
  return { title: 'session', settings, steps: [] };
}

/**
 * The session's recorded steps read back as a scenario (with these exact settings), or the
 * validator's first message. `setup` is what an export writes for these settings.
 */
export function parseSessionSteps(steps: readonly unknown[], settings: SimulationSettings, setup: Record<string, unknown>): { ok: true; scenario: Scenario } | { ok: false; message: string } {
  const validation = validateScenarioDocument({ format: FORMAT_VERSION, title: 'session', setup, steps });
  if (!validation.ok) {
    const first = validation.errors[0];
    return { ok: false, message: first ? `${first.path}: ${first.message}` : 'the session steps are not valid' };
  }
  return { ok: true, scenario: { ...validation.scenario, settings } };
}

export type { ParsedStep };
