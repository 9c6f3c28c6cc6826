/**
 * The typed, versioned contract between the page and the simulation worker.
 *
 * The page sends commands, which are scenario steps (the same JSON a scenario file holds), and
 * clock controls. The worker sends frames: the new events, a small description of the whole
 * simulation, and only the disk cells that changed (as transferred typed arrays).
 */
import type { PairNames } from '../engine/colo/protected-pair.js';
import type { SimulationSettings } from '../engine/colo/simulation.js';
import type { CostReport } from '../engine/stats/replication-cost.js';

/** What the Cost tab's comparison asks for: two x-checkpoint-delay values (ms), the virtual time to run (ms) and the workload. */
export interface CheckpointComparisonRequest {
  readonly intervalsMs: readonly [number, number];
  readonly durationMs: number;
  readonly workload: WorkloadSettings;
}

export type CheckpointComparisonAnswer =
  | { readonly ok: true; readonly runs: ReadonlyArray<{ readonly intervalMs: number; readonly scenarioText: string; readonly stats: CostReport }> }
  | { readonly ok: false; readonly message: string };
import type { QmpCommandSignature } from '../engine/qmp/command-list.js';
import type { InvariantReport } from '../engine/invariants/live-invariants.js';
import type { WorkloadSettings } from '../engine/colo/workload.js';
import type { ScenarioError } from '../engine/scenario/validate.js';
import type { StepResult, ScenarioOutcome } from '../engine/scenario/runner.js';
import type { HostName, JobType, ReplicationMode, SimEvent, Stage } from '../engine/sim/events.js';
import type { DiskDiff } from '../engine/timeline/disks.js';
import type { StepEvent } from '../engine/timeline/timeline.js';
import type { BranchHeader } from './session-timeline.js';
import type { StepResultColumns } from './step-result-columns.js';
import type { StepMarkColumns } from './step-mark-columns.js';

/**
 * 3 came twice (the QMP transcript and time travel, and the lessons' learner tasks and live
 * invariants, on two branches); 4 is both, so a page of either kind meets a worker that speaks
 * the other as a mismatch (reload), not as frames it misreads.
 */
export const PROTOCOL_VERSION = 5;

// ---- what the page sees --------------------------------------------------------------------

/** A cell's content: 0-255 when every byte of the cell is that byte, MIXED_CONTENT otherwise. */
export const MIXED_CONTENT = 256;

export const ALLOCATION = { none: 0, all: 1, partial: 2 } as const;

export interface DiskLayout {
  readonly name: string;
  readonly host: HostName;
  readonly driver: 'raw' | 'qcow2';
  readonly filename: string;
  /** Bytes one grid cell stands for: the cluster size, or more on large disks. */
  readonly cellBytes: number;
  readonly cellCount: number;
  readonly clusterSizeBytes: number;
}

/** Cells of one disk, either all of them or just those that changed. */
export interface DiskCells {
  readonly name: string;
  /** Indices of the cells below; absent when every cell is sent, in order. */
  readonly indices?: Uint32Array;
  /** Per cell: a byte, or MIXED_CONTENT. */
  readonly content: Uint16Array;
  /** Per cell: ALLOCATION.* in the image's own layer (raw disks are all allocated). */
  readonly allocated: Uint8Array;
}

export interface NodeView {
  readonly name: string;
  readonly host: HostName;
  readonly driver: 'raw' | 'qcow2' | 'quorum' | 'replication' | 'nbd' | 'copy-before-write' | 'mirror_top';
  readonly children: ReadonlyArray<{ readonly role: string; readonly child: string }>;
  readonly ejected: boolean;
  /** Injected faults, described ("write", "any x2"). */
  readonly faults: readonly string[];
  /** Replication nodes only. */
  readonly replication?: { readonly mode: ReplicationMode; readonly stage: Stage; readonly error: string | null; readonly topId?: string };
  /** NBD clients only: the host and export they connect to (the page draws the link from it). */
  readonly nbd?: { readonly serverHost: HostName; readonly exportName: string };
}

export interface BackendView {
  readonly name: string;
  readonly host: HostName;
  readonly root: string | null;
  /** The host's VM disk device, or a BlockBackend its NBD server exports (as `exportName`). */
  readonly kind: 'vm' | 'export' | 'other';
  readonly exportName?: string;
}

export interface JobView {
  readonly id: string;
  readonly host: HostName;
  readonly type: JobType;
  readonly status: 'running' | 'ready' | 'concluded';
  readonly offsetBytes: number;
  readonly lenBytes: number;
  readonly granularityBytes: number;
  /** Commit and mirror jobs: the mirror_top filter the job inserted (it shows the progress). */
  readonly filter?: string;
  /** Mirror jobs: the node the job writes to (drive-mirror's target, an NBD client here). */
  readonly target?: string;
}

/** Per backup-job granule (1 = copied this epoch) or per commit granule (1 = dirty). */
export interface JobBitmap {
  readonly jobId: string;
  readonly granularityBytes: number;
  readonly bits: Uint8Array;
}

/** One host's COLO state: query-colo-status, query-status, query-migrate, and where its COLO thread is. */
export interface ColoHostView {
  readonly mode: 'none' | 'primary' | 'secondary';
  readonly lastMode: 'none' | 'primary' | 'secondary';
  readonly failover: 'none' | 'require' | 'active' | 'completed' | 'relaunch';
  readonly runState: string;
  readonly running: boolean;
  readonly migration: string;
  readonly incoming: string;
  /** Where the COLO thread waits, or null when there is none. */
  readonly thread: string | null;
  readonly checkpointDelayMs: number;
  readonly checkpointsDone: number;
  readonly lost: boolean;
}

/** The simulation minus disk cells: small enough to send whole with every frame. */
export interface SimSummary {
  readonly settings: SimulationSettings;
  readonly nowUs: number;
  readonly coloState: 'off' | 'starting' | 'running' | 'exited' | 'failing-over' | 'failed-over';
  /** Both VMs run. */
  readonly vmsRunning: boolean;
  /** Each host's QEMU as migration/colo.c sees it. */
  readonly colo: Record<HostName, ColoHostView>;
  readonly linkUp: boolean;
  readonly idle: boolean;
  readonly requestsInFlight: number;
  readonly workload: (WorkloadSettings & { readonly writesIssued: number }) | null;
  readonly nodes: readonly NodeView[];
  readonly backends: readonly BackendView[];
  readonly jobs: readonly JobView[];
  /**
   * The COLO pair of the moment, resolved from the graph's shape by the engine
   * (engine/colo/protected-pair.ts): after a failover and "resume replication" its parts have
   * the names the new pair gave them. `protected` while the secondary's replication runs.
   */
  readonly pair: PairView;
}

export interface PairView {
  readonly names: PairNames;
  readonly protected: boolean;
}

/** Where a loaded scenario's run is: small, sent with every frame. */
export interface ScenarioPosition {
  readonly name: string;
  readonly stepCount: number;
  readonly nextStepIndex: number;
  /** Results judged so far (the page has received them through `scenarioResults`). */
  readonly resultCount: number;
  readonly done: boolean;
  readonly outcome?: ScenarioOutcome;
  /**
   * The next step is a lesson's task the learner may do with the normal controls (commands and
   * the clock are allowed); `notYet` says why its goal does not hold yet.
   */
  readonly learnerTask?: { readonly notYet: string };
}

/** What does not change while a scenario is loaded: sent once, when it is loaded or restored. */
export interface ScenarioStatic {
  readonly name: string;
  readonly title: string;
  readonly description?: string;
  /** Each step as described, for the narration list. */
  readonly stepDescriptions: readonly string[];
}

/** The page's whole view of a loaded scenario, assembled from the static part, positions and results. */
export interface ScenarioProgress extends ScenarioStatic {
  readonly stepCount: number;
  readonly nextStepIndex: number;
  readonly results: readonly StepResult[];
  readonly done: boolean;
  readonly outcome?: ScenarioOutcome;
  readonly learnerTask?: ScenarioPosition['learnerTask'];
}

export interface Frame {
  readonly frameNumber: number;
  /** True when this state is in IndexedDB (or persistence is off and memory is all there is). */
  readonly saved: boolean;
  /** Virtual time of the newest state committed to IndexedDB: a reload comes back to it or later. Null before the first save. */
  readonly savedUpToUs: number | null;
  readonly summary: SimSummary;
  readonly events: readonly SimEvent[];
  /** Events left out of this frame because there were too many to show (a fast clock, a run to the end). */
  readonly droppedEvents: number;
  /** Sent whole on the first frame and when the disks were rebuilt. */
  readonly layouts?: readonly DiskLayout[];
  /**
   * With `layouts`: the same simulation's set of images changed (a host restarted, an image
   * opened or deleted), so the page keeps its event log and clock and only redraws the disks.
   */
  readonly imagesChanged?: true;
  readonly cells: readonly DiskCells[];
  readonly bitmaps: readonly JobBitmap[];
  readonly scenario: ScenarioPosition | null;
  /** Sent when a scenario is loaded or restored (the page keeps it until the next one). */
  readonly scenarioStatic?: ScenarioStatic;
  /** Results judged since the previous frame, numbered from `from`, in columns (decodeStepResults with `stepDescriptions` gives the objects). */
  readonly scenarioResults?: { readonly from: number; readonly results: StepResultColumns };
  /** Steps recorded in this session (for export). */
  readonly sessionStepCount: number;
  /**
   * The first frame of a restored simulation (its events are the saved event log), or of a
   * lesson replayed up to a step: its events are to list, not to animate.
   */
  readonly restored?: true;
  /** The command history, sent whole when it was restored or reset. */
  readonly history?: readonly HistoryEntry[];
  /**
   * QMP traffic (both hosts' commands with their replies, and their events) since the previous
   * frame, numbered from `from`; never dropped, unlike `events`. `reset`: the transcript starts
   * over with these (a new simulation, a restore).
   */
  readonly qmp?: { readonly from: number; readonly entries: readonly QmpTranscriptEvent[]; readonly reset?: true };
  /** Where the session is on its timeline (time travel). */
  readonly timeline?: TimelinePosition;
  /** The live invariants, sent when they changed. */
  readonly invariants?: InvariantReport;
}

/** A QMP command with its reply, or a QMP event: what a host's console shows. */
export type QmpTranscriptEvent =
  | (Extract<SimEvent, { kind: 'qmp' }> & {
      /**
       * How many entries just before this one the command caused while it ran: QEMU's monitor
       * sends those events after the command and before its reply (the engine emits the
       * command's event once it has answered).
       */
      readonly eventsDuring?: number;
    })
  | Extract<SimEvent, { kind: 'qmp-event' }>;

// ---- time travel -----------------------------------------------------------------------------

/** Where the session is on its timeline: small, sent with every frame. */
export interface TimelinePosition {
  /** Steps on the timeline: the session's recorded steps (commands and the time between them), or the loaded scenario's steps. */
  readonly stepCount: number;
  /** The moment shown, in steps run (0: before the first). */
  readonly step: number;
  /** The session is at its end (it lives there: the clock runs, commands append). Acting anywhere else forks. */
  readonly atEnd: boolean;
  /** Shown in the middle of a step: the step (0-based) and how many of its scheduler entries ran. To look at only. */
  readonly within?: { readonly stepIndex: number; readonly entries: number };
  /** Branches a fork left behind (session mode), kept until discarded. */
  readonly branches: readonly BranchHeader[];
  /** Marks known (the page asks `timelineMarks` for new ones). */
  readonly markCount: number;
  /** Why time travel is not available now, when it is not. */
  readonly unavailable?: string;
}

/** Marks of the timeline's steps from `from` on, and what its keyframes cost. */
export interface TimelineMarks {
  readonly from: number;
  /** In columns (decodeStepMarks), their buffers moved to the page. */
  readonly marks: StepMarkColumns;
  readonly stepCount: number;
  readonly keyframes: { readonly count: number; readonly intervalSteps: number; readonly maxKeyframes: number; readonly approxBytes: number };
}

export type TimeTravelResult = { readonly ok: true; readonly position: TimelinePosition } | { readonly ok: false; readonly message: string };

/** A command the user sent and what it did, as the worker keeps it (and saves it). */
export interface HistoryEntry {
  readonly id: number;
  readonly step: unknown;
  readonly status: 'ok' | 'failed' | 'invalid';
  readonly result?: StepResult;
  readonly errors?: readonly ScenarioError[];
}

export type PersistenceStatus =
  /**
   * Saving on. `restoredUpToUs`: the virtual time of the saved simulation this session was
   * restored from when it opened (absent: it opened a new one), so that the page says what it
   * restored from what the worker actually restored.
   */
  | { readonly kind: 'indexeddb'; readonly databaseName: string; readonly restoredUpToUs?: number }
  /**
   * Saving stopped (or never started): the run goes on in memory. `savedUpToUs` is the virtual
   * time of what IndexedDB still holds from this run, if anything: a reload comes back to that.
   * `restoredUpToUs` is set when saving was already off as the session opened: the virtual time
   * of the saved simulation it read and restored (in memory), or null when it could read none
   * and began a new one. Absent when saving stopped during this session.
   */
  | { readonly kind: 'memory'; readonly reason: string; readonly savedUpToUs?: number | null; readonly quotaExceeded?: boolean; readonly restoredUpToUs?: number | null }
  | { readonly kind: 'locked-elsewhere' }
  /**
   * The saved simulation could not be restored: it is kept untouched, and this run is in memory
   * until the user decides. `savingOff`: why the store cannot be written either (then it cannot
   * be discarded for this run now).
   */
  | { readonly kind: 'restore-failed'; readonly databaseName: string; readonly reason: string; readonly recordCount: number; readonly savingOff?: string };

export type WorkerNotice =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'persistence'; readonly status: PersistenceStatus }
  /** Something went wrong in the worker; shown to the user as is. */
  | { readonly kind: 'error'; readonly message: string };

// ---- what the page asks --------------------------------------------------------------------

export type { QmpCommandSignature };

export interface ClockSettings {
  readonly playing: boolean;
  /** Virtual microseconds per wall millisecond (1000 = real time). */
  readonly speed: number;
}

export type CommandResult =
  | { readonly ok: true; readonly result: StepResult }
  /** The command was not a valid step: nothing was changed. */
  | { readonly ok: false; readonly errors: readonly ScenarioError[] };

export type ScenarioLoadResult = { readonly ok: true; readonly progress: ScenarioPosition } | { readonly ok: false; readonly errors: readonly ScenarioError[] };

export interface ConnectOptions {
  readonly databaseName: string;
  /** Take the store even if another tab holds it. */
  readonly takeOver: boolean;
}

/** The worker's API, as the page calls it through comlink. */
export interface SimWorkerApi {
  readonly protocolVersion: number;
  /** Opens (or restores) the simulation; notices arrive through `listener`. */
  connect(options: ConnectOptions, listener: (notice: WorkerNotice) => void): Promise<PersistenceStatus>;
  /** After a failed restore: deletes the saved simulation and saves the current one instead. */
  discardSaved(): Promise<void>;
  /** Clears everything saved and starts afresh with these settings. */
  newSimulation(settings: Partial<SimulationSettings>): Promise<void>;
  /**
   * Runs one step (scenario JSON, e.g. {"op":"guest-write",...}) now, as a scenario would.
   * Refused while a scenario is loaded, except at a lesson's task the learner does by hand.
   */
  execute(step: unknown): Promise<CommandResult>;
  setClock(clock: ClockSettings): Promise<void>;
  /** Runs the clock to the next event (single-step). */
  stepEvent(): Promise<void>;
  /** Loads a scenario; `upToStep` runs its steps before that index at once (a lesson replayed to a step). */
  loadScenario(name: string, text: string, options?: { readonly upToStep?: number }): Promise<ScenarioLoadResult>;
  /** Runs the loaded scenario's next step; the new frame carries its result. */
  scenarioStep(): Promise<ScenarioPosition | null>;
  scenarioRunToEnd(): Promise<ScenarioPosition | null>;
  closeScenario(): Promise<void>;
  /** The session (or the scenario run so far) as a scenario file. */
  exportScenario(title: string): Promise<string>;
  /** The same steps as a QMP runbook (src/engine/qmp/runbook.ts, docs/qmp-runbook.md). */
  exportQmpRunbook(title: string): Promise<string>;
  /** What replication cost so far (the moment shown): the JSON `colo-sim run --stats` gives for exportScenario's file. */
  replicationCost(): Promise<{ readonly ok: true; readonly stats: CostReport } | { readonly ok: false; readonly message: string }>;
  /**
   * The same workload at two checkpoint intervals (src/engine/stats/checkpoint-comparison.ts),
   * with the session's settings: each scenario run to its end in memory with the CLI's
   * ReplicationCost, so `stats` is what `colo-sim run --stats` prints for `scenarioText`. The
   * session itself is left as it is. A bad input is `{ ok: false, message }`.
   */
  compareCheckpointIntervals(request: CheckpointComparisonRequest): Promise<CheckpointComparisonAnswer>;
  /** The QMP commands the hosts answer, with their arguments' names (for the console's completion). */
  qmpCommands(): Promise<QmpCommandSignature[]>;
  /** A digest (FNV-1a, hex) of every image's bytes and allocation: equal digests, equal disks. */
  digestDisks(): Promise<Record<string, string>>;

  // ---- time travel (all additive; see src/worker/session-timeline.ts) ----
  /** The timeline's step marks from index `from` (op, end time, notes: checkpoint, failover, fault, error...). Rebuilds them after a reload (one replay). */
  timelineMarks(from: number): Promise<TimelineMarks>;
  /** Shows moment `step` (0..stepCount): the frame that follows has its views, disks, jobs and event log (`restored: true`). */
  goToStep(step: number): Promise<TimeTravelResult>;
  /** Shows the middle of step `stepIndex` (0-based) after its first `entries` scheduler entries (the events of one entry share a state). */
  goToWithinStep(stepIndex: number, entries: number): Promise<TimeTravelResult>;
  /** The events of step `stepIndex`, in order, each with the scheduler entry it ran in (0: the step's own start). */
  stepEvents(stepIndex: number): Promise<{ readonly ok: true; readonly events: readonly StepEvent[] } | { readonly ok: false; readonly message: string }>;
  /** Which clusters differ on each disk between moments `a` and `b`. */
  diffSteps(a: number, b: number): Promise<{ readonly ok: true; readonly disks: readonly DiskDiff[] } | { readonly ok: false; readonly message: string }>;
  /** Makes branch `id` the session's timeline (the current one becomes a branch) and shows its end. */
  switchBranch(id: number): Promise<TimeTravelResult>;
  /** Forgets branch `id`; false when there is none. */
  discardBranch(id: number): Promise<boolean>;
  /** What a share link carries: the scenario text (the loaded scenario, or the session exported) and the moment shown. */
  shareState(): Promise<{ readonly scenarioText: string; readonly step: number }>;
}
