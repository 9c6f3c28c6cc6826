/**
 * The page's mirror of the worker's simulation, and every action the page can take on it.
 *
 * Reactive fields ($state) hold what the components show: the summary, the persistence status,
 * the scenario, the command history. Disk cells and the event log live in plain structures
 * (typed arrays, a ring) that the canvases and the virtualized log read directly; a frame only
 * touches what it changed.
 */
import { CheckpointComparisonState } from './lib/checkpoint-comparison.svelte.js';
import { SimClient } from '../worker/client.js';
import { decodeStepResults } from '../worker/step-result-columns.js';
import type {
  CommandResult,
  DiskLayout,
  Frame,
  JobBitmap,
  HistoryEntry,
  PersistenceStatus,
  QmpCommandSignature,
  ScenarioPosition,
  ScenarioProgress,
  SimSummary,
  TimelinePosition,
  WorkerNotice,
} from '../worker/protocol.js';
import type { SimulationSettings } from '../engine/colo/simulation.js';
import type { InvariantReport } from '../engine/invariants/live-invariants.js';
import type { HostName } from '../engine/sim/events.js';
import type { StepResult } from '../engine/scenario/runner.js';
import type { ScenarioError } from '../engine/scenario/validate.js';
import { Announcer } from './lib/announcer.svelte.js';
import { Choreographer } from './lib/choreographer.js';
import { DiskSet, type ChainLayer } from './lib/disks.js';
import { analyseRoles, pairParts, secondaryChain, type PairRoles } from './lib/host-roles.js';
import { ResumeGuide } from './lib/resume-guide.svelte.js';
import { EventLog } from './lib/event-log.js';
import { formatBytes, hexByte } from './lib/format.js';
import { QmpConsoleState } from './lib/qmp-console.svelte.js';
import { applyQmpNews, EMPTY_TRANSCRIPT, type QmpTranscript } from './lib/qmp-transcript.js';
import { ViewFocus } from './lib/view-focus.svelte.js';
import { TimeTravel } from './lib/time-travel.svelte.js';
import { downloadBlob } from './lib/export-view.js';
import { FrameWaiters } from './lib/frame-waiters.js';

export type Step = Record<string, unknown> & { op: string };

export interface CommandEntry {
  readonly id: number;
  readonly label: string;
  readonly step: Step;
  readonly status: 'pending' | 'ok' | 'failed' | 'invalid' | 'crashed';
  readonly result?: StepResult;
  readonly errors?: readonly ScenarioError[];
  readonly message?: string;
}

export interface Toast {
  readonly id: number;
  readonly tone: 'ok' | 'error' | 'warn' | 'info';
  readonly title: string;
  readonly detail?: string;
  readonly quirk?: string;
  readonly errors?: readonly ScenarioError[];
}

export interface FileProblem {
  readonly fileName: string;
  readonly errors: readonly ScenarioError[];
}

const HISTORY_LIMIT = 300;
const SPEED_KEY = 'colo-sim:speed';
const LABELS_KEY = 'colo-sim:cell-labels';

export class SimState {
  summary = $state.raw<SimSummary | null>(null);
  layouts = $state.raw<readonly DiskLayout[]>([]);
  persistence = $state.raw<PersistenceStatus | null>(null);
  /** This tab owned the store and another tab took it. */
  lostStore = $state(false);
  connecting = $state(true);
  saved = $state(false);
  /** Virtual time of the newest state IndexedDB holds (a reload comes back to it, or later). */
  savedUpToUs = $state<number | null>(null);
  /** Opening a file would replace the user's own session: the page asks first (App shows the question). */
  replaceRequest = $state<{ name: string; answer: (replace: boolean) => void } | null>(null);
  /** Another tab owned the simulation and has let it go: this tab may open it. */
  storeFree = $state(false);
  /**
   * The page before this one said saving had stopped (remembered across the reload in
   * localStorage): what came after the state saved at `savedUpToUs` was lost.
   */
  unsavedMarker = $state<{ savedUpToUs: number | null; reason: string } | null>(null);
  private restoredNoticeDismissed = $state(false);
  frameNumber = $state(-1);
  scenario = $state.raw<ScenarioProgress | null>(null);
  sessionStepCount = $state(0);
  droppedEvents = $state(0);
  workerErrors = $state<string[]>([]);
  clock = $state<{ playing: boolean; speed: number }>({ playing: false, speed: 100 });
  history = $state<CommandEntry[]>([]);
  toasts = $state<Toast[]>([]);
  logVersion = $state(0);
  legend = $state.raw<number[]>([]);
  bitmapVersion = $state(0);
  /** Commands sent and not answered yet. */
  busy = $state(0);
  /** The image the SVM view starts at, as `disks.base` (which is not reactive) has it. */
  svmViewBase = $state<ChainLayer | null>('active-disk');
  /** What each host's nodes are for, from the engine's graphs (lib/host-roles.ts): the views follow it. */
  roles = $state.raw<PairRoles | null>(null);
  /** The secondary VM's chain's images ("active hidden base"): the SVM view is rebuilt when they change. */
  svmChain = $state('');
  /** The byte pattern cell clicks write. */
  brush = $state(0x22);
  /** The latest animated progress of each job (offset, len), ahead of the summary. */
  jobProgress = $state.raw<Record<string, { offsetBytes: number; lenBytes: number }>>({});
  fileProblem = $state.raw<FileProblem | null>(null);
  reducedMotion = $state(false);
  /** The host that runs while the other is lost (a failover's survivor), from the engine's COLO state. */
  survivor = $state<HostName | null>(null);
  /** The live invariants (a), (b), (c), as the worker last sent them. */
  invariants = $state.raw<InvariantReport | null>(null);
  /** Cells show their byte (a cue that does not rely on colour); remembered across visits. */
  cellLabels = $state(false);
  /** The cell pitch every disk grid uses, so cells compare across grids. */
  gridPitch = $state(28);
  /** Both hosts' QMP traffic, as the worker sends it (the consoles show it per host). */
  qmpTranscript = $state.raw<QmpTranscript>(EMPTY_TRANSCRIPT);
  /** The QMP commands the hosts answer, with their arguments' names (from the worker, once connected). */
  qmpCommands = $state.raw<readonly QmpCommandSignature[]>([]);
  /** What the consoles keep across tab switches: the host shown, what is typed, what was not sent. */
  readonly qmpConsole = new QmpConsoleState();
  /** The Cost tab's interval comparison: its form, its run and its results outlive a tab switch. */
  readonly comparison = new CheckpointComparisonState();
  private readonly pitchReports = new Map<object, number>();
  /** Where the session is on its timeline, as the last frame said (time travel, issue 9). */
  timeline = $state.raw<TimelinePosition | null>(null);
  /** Time travel: marks, going to a step, stepping inside a command, branches, diffs, links. */
  readonly travel: TimeTravel = new TimeTravel(this);

  readonly disks = new DiskSet();
  /** What the views outline: a lesson step's subject, a broken invariant's clusters. */
  readonly focus = new ViewFocus();
  readonly log: EventLog;
  readonly choreographer = new Choreographer();
  /** The screen reader's live region: events that matter and command results, throttled. */
  readonly announcer = new Announcer();
  /** The guided "resume replication" action (COLO-FT.txt's runbook, step by step). */
  readonly resume = new ResumeGuide(this);
  readonly bitmaps = new Map<string, JobBitmap>();
  readonly client: SimClient;
  readonly databaseName: string;

  private nodeHosts = new Map<string, HostName>();
  private watchingLock = false;
  private nextId = 1;
  private commandDepth = 0;
  private tickListeners = new Set<(now: number) => boolean>();
  private tickRequested = false;
  private firstGridMarked = false;
  private viewBaseToken = 0;

  constructor(databaseName: string, createClient: (onNotice: (notice: WorkerNotice) => void) => SimClient = SimClient.create) {
    this.databaseName = databaseName;
    this.log = new EventLog(
      (node) => this.nodeHosts.get(node),
      () => this.summary?.pair.names,
    );
    this.client = createClient((notice) => this.onNotice(notice));
    this.choreographer.onJobProgress = (jobId, progress) => {
      if (progress) {
        this.jobProgress = { ...this.jobProgress, [jobId]: progress };
      } else if (jobId in this.jobProgress) {
        // Overtaken: the frame's figures (newer) show.
        const rest = { ...this.jobProgress };
        delete rest[jobId];
        this.jobProgress = rest;
      }
    };
    try {
      const stored = Number(localStorage.getItem(SPEED_KEY));
      if (stored >= 1 && stored <= 1_000_000) this.clock.speed = stored;
    } catch {
      // Storage may be off; the default speed will do.
    }
    try {
      this.cellLabels = localStorage.getItem(LABELS_KEY) === 'on';
    } catch {
      // Storage may be off: labels start off.
    }
    if (typeof matchMedia === 'function') this.reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
  }

  // ---- derived views of the summary ------------------------------------------------------

  get connected(): boolean {
    return this.summary !== null && this.persistence?.kind !== 'locked-elsewhere';
  }

  /** Manual actions are possible: connected, own the store, and no scenario is loaded (or a lesson's task is the learner's to do). */
  get canAct(): boolean {
    return this.connected && this.clockAvailable;
  }

  /** The clock is the user's: no scenario drives the simulation, or the learner is doing a lesson's task. */
  get clockAvailable(): boolean {
    return this.scenario === null || this.scenario.learnerTask !== undefined;
  }

  /**
   * What this page restored, when storage had failed (before the reload, or now): the virtual
   * time of the saved state the worker restored (null: it found none and began a new
   * simulation), whether later work was lost (the page before said its saving had stopped), and
   * why. The time is what the worker restored, never what a page promised. Null when there is
   * nothing to say: no storage failure, or dismissed.
   */
  get restoredNotice(): { savedUpToUs: number | null; lostAfter: boolean; reason: string } | null {
    if (this.restoredNoticeDismissed) return null;
    const status = this.persistence;
    const marker = this.unsavedMarker;
    if (status?.kind === 'indexeddb' && marker) return { savedUpToUs: status.restoredUpToUs ?? null, lostAfter: true, reason: marker.reason };
    // Saving is off as this page opened, and it still restored what is saved (read only).
    if (status?.kind === 'memory' && typeof status.restoredUpToUs === 'number') return { savedUpToUs: status.restoredUpToUs, lostAfter: marker !== null, reason: marker?.reason ?? status.reason };
    return null;
  }

  // ---- notices and frames ------------------------------------------------------------------

  private onNotice(notice: WorkerNotice): void {
    if (notice.kind === 'frame') this.applyFrame(notice.frame);
    else if (notice.kind === 'persistence') this.setPersistence(notice.status);
    else this.workerErrors = [...this.workerErrors, notice.message];
  }

  private setPersistence(status: PersistenceStatus): void {
    const previous = this.persistence;
    if (status.kind === 'locked-elsewhere' && previous && previous.kind !== 'locked-elsewhere') {
      this.lostStore = true;
      this.clock.playing = false;
    }
    // Saving stopped mid-run: remember it, so the page after a reload says what it restored.
    if (status.kind === 'memory' && previous?.kind === 'indexeddb') {
      try {
        localStorage.setItem(this.unsavedKey, JSON.stringify({ savedUpToUs: status.savedUpToUs ?? null, reason: status.reason }));
      } catch {
        // localStorage is off too: the banner of this page is all the user gets.
      }
    }
    this.persistence = status;
    if (status.kind === 'locked-elsewhere') this.watchForFreeStore();
  }

  private get unsavedKey(): string {
    return `colo-sim:unsaved-since:${this.databaseName}`;
  }

  /** Waits (in the background) for the tab that owns the simulation to let it go. */
  private watchForFreeStore(): void {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    if (!locks || this.watchingLock) return;
    this.watchingLock = true;
    // The worker of the owning tab holds this lock while it lives; getting it means that tab closed.
    void locks
      .request(`colo-sim:${this.databaseName}`, { mode: 'exclusive' }, async () => {
        if (this.persistence?.kind === 'locked-elsewhere') this.storeFree = true;
      })
      .catch(() => undefined)
      .finally(() => {
        this.watchingLock = false;
      });
  }

  private applyFrame(frame: Frame): void {
    const now = performance.now();
    const summary = frame.summary;
    if (frame.layouts && frame.imagesChanged) {
      // The same simulation with other images (a host restarted): only the disks are redrawn.
      this.disks.reset(frame.layouts);
      this.layouts = frame.layouts;
    } else if (frame.layouts) {
      this.disks.reset(frame.layouts);
      this.layouts = frame.layouts;
      this.log.clear();
      // The log's views rebuild on logVersion: without it they kept showing the old simulation's
      // events until a new one arrived (a scenario or lesson loaded over a session).
      this.logVersion++;
      this.bitmaps.clear();
      this.choreographer.reset();
      this.jobProgress = {};
      this.droppedEvents = 0;
      this.survivor = null;
      // A new simulation (or a scenario) starts with the worker's clock stopped.
      this.clock.playing = false;
    }
    const hosts = new Map<string, HostName>();
    for (const node of summary.nodes) hosts.set(node.name, node.host);
    for (const backend of summary.backends) hosts.set(backend.name, backend.host);
    this.nodeHosts = hosts;

    const roles = analyseRoles(summary);
    this.roles = roles;
    const chain = secondaryChain(roles);
    this.disks.setChain(chain ? { 'active-disk': chain.active, 'hidden-disk': chain.hidden, 'secondary-disk': chain.base } : null);
    const chainKey = chain ? `${chain.active} ${chain.hidden} ${chain.base}` : '';
    if (chainKey !== this.svmChain) this.svmChain = chainKey;
    const secondaryRepl = roles.hosts.secondary.slots.repl;
    const secondaryStage = summary.nodes.find((node) => node.name === secondaryRepl)?.replication?.stage;
    const cbw = summary.nodes.find((node) => node.driver === 'copy-before-write')?.name;
    const stretch = this.commandDepth > 0 || !this.clock.playing;
    // A restored simulation's first frame lists the saved event log: shown, not animated.
    const plan = this.choreographer.plan(
      frame.restored ? [] : frame.events,
      {
        speed: this.clock.speed,
        stretch: stretch && !frame.layouts,
        commandInFlight: this.commandDepth > 0,
        cellBytes: this.disks.cellBytes,
        secondaryStage,
        commitRunning: summary.jobs.some((job) => job.type === 'commit'),
        cbwNode: cbw,
        parts: pairParts(roles),
        reducedMotion: this.reducedMotion || document.visibilityState === 'hidden',
      },
      now,
    );
    for (const cells of frame.cells) this.disks.get(cells.name)?.apply(cells, frame.layouts ? undefined : plan.revealAt(cells.name), now);
    this.updateViewBase(svmBase(summary, roles), now);
    plan.play();

    if (frame.events.length > 0) {
      if (!frame.restored) this.announcer.events(frame.events);
      for (const event of frame.events) {
        this.log.push(event);
      }
      this.logVersion++;
    }
    // Hosts are roles: a lost host restarted as the new secondary is no longer lost (issue 8).
    this.survivor = survivorOf(summary);
    if (frame.droppedEvents > 0) this.droppedEvents += frame.droppedEvents;

    if (frame.bitmaps.length > 0 || this.bitmaps.size > 0) {
      let changed = frame.bitmaps.length > 0;
      for (const bitmap of frame.bitmaps) this.bitmaps.set(bitmap.jobId, bitmap);
      for (const jobId of [...this.bitmaps.keys()]) {
        if (!summary.jobs.some((job) => job.id === jobId)) {
          this.bitmaps.delete(jobId);
          changed = true;
        }
      }
      if (changed) this.bitmapVersion++;
    }
    if (Object.keys(this.jobProgress).some((jobId) => !summary.jobs.some((job) => job.id === jobId))) {
      this.jobProgress = Object.fromEntries(Object.entries(this.jobProgress).filter(([jobId]) => summary.jobs.some((job) => job.id === jobId)));
    }

    this.summary = summary;
    this.saved = frame.saved;
    this.savedUpToUs = frame.savedUpToUs;
    if (frame.saved && this.persistence?.kind === 'indexeddb') this.forgetUnsavedMarker();
    this.frameNumber = frame.frameNumber;
    this.sessionStepCount = frame.sessionStepCount;
    if (frame.history) this.history = frame.history.map(historyEntryOf);
    if (frame.qmp) this.qmpTranscript = applyQmpNews(this.qmpTranscript, frame.qmp);
    if (frame.invariants) this.invariants = frame.invariants;
    this.applyScenario(frame);
    if (frame.timeline) {
      this.timeline = frame.timeline;
      this.travel.onPosition(frame.timeline);
    }
    this.scenarioWaiters.frameApplied();
    if (this.persistence === null) this.connecting = false;
    this.requestTick();
  }

  /** The page's view of a loaded scenario, from the frame's position, static part and new results. */
  private applyScenario(frame: Frame): void {
    const position = frame.scenario;
    if (!position) {
      if (this.scenario !== null) this.scenario = null;
      return;
    }
    let scenario = this.scenario;
    if (frame.scenarioStatic || !scenario || scenario.name !== position.name) {
      const base = frame.scenarioStatic ?? { name: position.name, title: position.name, stepDescriptions: [] };
      scenario = { ...base, stepCount: position.stepCount, nextStepIndex: position.nextStepIndex, results: [], done: position.done };
    }
    let results = scenario.results;
    if (frame.scenarioResults) {
      // A frame's batch starts where the page's list ends, or earlier on a restore (which resends them all).
      const { from, results: columns } = frame.scenarioResults;
      results = [...results.slice(0, from), ...decodeStepResults(columns, scenario.stepDescriptions)];
    }
    const changed =
      scenario !== this.scenario ||
      results !== scenario.results ||
      scenario.nextStepIndex !== position.nextStepIndex ||
      scenario.done !== position.done ||
      scenario.stepCount !== position.stepCount ||
      scenario.learnerTask?.notYet !== position.learnerTask?.notYet;
    if (!changed) return;
    const { learnerTask: _previousTask, ...rest } = scenario;
    this.scenario = {
      ...rest,
      stepCount: position.stepCount,
      nextStepIndex: position.nextStepIndex,
      results,
      done: position.done,
      ...(position.outcome ? { outcome: position.outcome } : {}),
      ...(position.learnerTask ? { learnerTask: position.learnerTask } : {}),
    };
  }

  private forgetUnsavedMarker(): void {
    if (this.unsavedMarker === null) return;
    try {
      localStorage.removeItem(this.unsavedKey);
    } catch {
      // Nothing to forget.
    }
  }

  /** After a reload: did the previous page's saving stop before it closed? */
  private readUnsavedMarker(): void {
    try {
      const text = localStorage.getItem(this.unsavedKey);
      if (!text) return;
      const marker = JSON.parse(text) as { savedUpToUs: number | null; reason: string };
      this.unsavedMarker = { savedUpToUs: marker.savedUpToUs ?? null, reason: String(marker.reason) };
    } catch {
      // An unreadable marker says nothing.
    }
  }

  dismissRestoredAfterFailure(): void {
    this.restoredNoticeDismissed = true;
    this.forgetUnsavedMarker();
    this.unsavedMarker = null;
  }

  /**
   * Switches the secondary VM's view to a new base image (the commit's final swap) only once the
   * secondary disk shows every cell the commit copied, so the view never seems to change.
   */
  private updateViewBase(base: ChainLayer | null, now: number): void {
    const token = ++this.viewBaseToken;
    const baseImage = this.disks.chainImage('secondary-disk');
    const until = this.disks.get(baseImage)?.pendingUntil();
    if (base === this.disks.base || until === undefined || until <= now) {
      this.disks.setViewBase(base);
      this.svmViewBase = base;
      return;
    }
    setTimeout(() => {
      if (token !== this.viewBaseToken) return;
      this.disks.get(baseImage)?.reveal(performance.now());
      this.disks.setViewBase(base);
      this.svmViewBase = base;
      this.requestTick();
    }, until - now + 5);
  }

  // ---- the animation tick ------------------------------------------------------------------

  /** Registers a per-animation-frame callback; it returns whether it wants another frame. */
  onTick(listener: (now: number) => boolean): () => void {
    this.tickListeners.add(listener);
    this.requestTick();
    return () => this.tickListeners.delete(listener);
  }

  requestTick(): void {
    if (this.tickRequested) return;
    this.tickRequested = true;
    requestAnimationFrame((now) => this.tick(now));
  }

  private tick(now: number): void {
    this.tickRequested = false;
    let more = this.disks.reveal(performance.now());
    for (const listener of this.tickListeners) more = listener(now) || more;
    if (this.disks.patternsChanged) this.legend = this.disks.patterns();
    if (more) this.requestTick();
  }

  setCellLabels(on: boolean): void {
    this.cellLabels = on;
    this.announcer.say(on ? 'Cells show their byte' : 'Cell labels off');
    try {
      localStorage.setItem(LABELS_KEY, on ? 'on' : 'off');
    } catch {
      // Not remembered; fine.
    }
  }

  /** A grid says which pitch fits its width (or leaves, with null); all grids use the smallest. */
  reportGridPitch(owner: object, pitch: number | null): void {
    if (pitch === null) this.pitchReports.delete(owner);
    else this.pitchReports.set(owner, pitch);
    const smallest = Math.min(28, ...this.pitchReports.values());
    if (smallest !== this.gridPitch) this.gridPitch = smallest;
  }

  /** The first grid is on screen (for the benchmark's time-to-first-grid). */
  markFirstGrid(): void {
    if (this.firstGridMarked) return;
    this.firstGridMarked = true;
    performance.mark('colo-sim:first-grid');
  }

  // ---- connecting ----------------------------------------------------------------------------

  async connect(takeOver = false): Promise<void> {
    this.connecting = true;
    this.storeFree = false;
    if (this.persistence === null) this.readUnsavedMarker();
    try {
      let status = await this.client.connect({ databaseName: this.databaseName, takeOver });
      // Right after a reload the previous page's worker may still hold the lock for a moment.
      for (let attempt = 1; status.kind === 'locked-elsewhere' && !takeOver && attempt <= 3; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        status = await this.client.connect({ databaseName: this.databaseName, takeOver: false });
      }
      this.setPersistence(status);
      if (status.kind !== 'locked-elsewhere') {
        this.lostStore = false;
        this.clock.playing = false;
        await this.client.setClock({ ...this.clock });
        if (this.qmpCommands.length === 0) this.qmpCommands = await this.client.qmpCommands();
      }
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    } finally {
      this.connecting = false;
    }
  }

  takeOver(): Promise<void> {
    return this.connect(true);
  }

  /** After a failed restore: the saved simulation is deleted and this run saved in its place. */
  async discardSaved(): Promise<void> {
    try {
      await this.client.discardSaved();
      this.toast({ tone: 'info', title: 'The saved simulation was discarded', detail: 'This run is saved from now on.' });
    } catch (error) {
      this.toast({ tone: 'error', title: 'Could not discard the saved simulation', detail: messageOf(error) });
    }
  }

  dismissError(index: number): void {
    this.workerErrors = this.workerErrors.filter((_, position) => position !== index);
  }

  // ---- commands ----------------------------------------------------------------------------

  /**
   * Runs one step on the simulation and reports its result (toast and history). `quiet`: a toast
   * only when it fails; `silent`: none at all (the QMP console shows the reply itself).
   */
  async run(step: Step, options: { quiet?: boolean; silent?: boolean } = {}): Promise<CommandResult | undefined> {
    const id = this.nextId++;
    const label = labelOf(step);
    this.pushHistory({ id, label, step, status: 'pending' });
    this.busy++;
    this.commandDepth++;
    try {
      const result = await this.client.execute(step);
      if (result.ok) {
        const entry: CommandEntry = { id, label: result.result.description, step, status: result.result.passed ? 'ok' : 'failed', result: result.result };
        this.updateHistory(entry);
        if (options.silent) {
          // The console that sent it shows and announces QEMU's reply.
        } else if (!options.quiet || !result.result.passed) this.toastFor(entry);
        else this.announcer.say(result.result.description);
      } else {
        const entry: CommandEntry = { id, label, step, status: 'invalid', errors: result.errors };
        this.updateHistory(entry);
        this.toast({ tone: 'error', title: `Not a valid command: ${label}`, errors: result.errors });
      }
      return result;
    } catch (error) {
      const message = messageOf(error);
      this.updateHistory({ id, label, step, status: 'crashed', message });
      this.toast({ tone: 'error', title: `${label}: the simulation did not answer`, detail: message });
      return undefined;
    } finally {
      this.busy--;
      // Frames of this command have arrived before the answer: stop stretching after it.
      this.commandDepth--;
    }
  }

  /** One QMP command on a host, as a `qmp` step; the reply arrives in the transcript. */
  sendQmp(host: HostName, execute: string, args?: Record<string, unknown>): Promise<CommandResult | undefined> {
    return this.run({ op: 'qmp', host, execute, ...(args ? { arguments: args } : {}) }, { silent: true });
  }

  guestWrite(vm: HostName, offset: number, length: number, pattern: number): Promise<CommandResult | undefined> {
    return this.run({ op: 'guest-write', vm, offset, length, pattern: hexByte(pattern) });
  }

  guestRead(vm: HostName, offset: number, length: number): Promise<CommandResult | undefined> {
    return this.run({ op: 'guest-read', vm, offset, length });
  }

  private toastFor(entry: CommandEntry): void {
    const result = entry.result!;
    const showsActual = ['read', 'guest-read', 'check', 'replication'].includes(result.op) || !result.passed;
    this.toast({
      tone: result.passed ? 'ok' : 'error',
      title: result.description,
      ...(showsActual ? { detail: result.passed ? `→ ${result.actual}` : `→ ${result.actual}` } : {}),
      ...(result.quirk ? { quirk: result.quirk } : {}),
    });
  }

  toast(toast: Omit<Toast, 'id'>): void {
    const entry: Toast = { ...toast, id: this.nextId++ };
    // Toasts are not a live region themselves: what they say is heard through the announcer,
    // in turn with the events.
    this.announcer.say([toast.title, toast.detail, toast.quirk, ...(toast.errors ?? []).map((error) => `${error.path} ${error.message}`)].filter(Boolean).join(': '));
    this.toasts = [...this.toasts.slice(-3), entry];
    const lifetime = toast.tone === 'error' || toast.quirk || toast.errors ? 9000 : 3500;
    setTimeout(() => this.dismissToast(entry.id), lifetime);
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((toast) => toast.id !== id);
  }

  private pushHistory(entry: CommandEntry): void {
    this.history.push(entry);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }

  private updateHistory(entry: CommandEntry): void {
    const index = this.history.findIndex((candidate) => candidate.id === entry.id);
    if (index >= 0) this.history[index] = entry;
  }

  // ---- clock -------------------------------------------------------------------------------

  async setPlaying(playing: boolean): Promise<void> {
    this.clock.playing = playing && this.clockAvailable;
    await this.sendClock();
  }

  togglePlaying(): Promise<void> {
    return this.setPlaying(!this.clock.playing);
  }

  async setSpeed(speed: number): Promise<void> {
    this.clock.speed = Math.min(1_000_000, Math.max(1, Math.round(speed)));
    try {
      localStorage.setItem(SPEED_KEY, String(this.clock.speed));
    } catch {
      // Not saved; fine.
    }
    await this.sendClock();
  }

  private async sendClock(): Promise<void> {
    try {
      await this.client.setClock({ playing: this.clock.playing, speed: this.clock.speed });
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    }
  }

  async stepEvent(): Promise<void> {
    if (this.clock.playing) await this.setPlaying(false);
    this.commandDepth++;
    try {
      await this.client.stepEvent();
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    } finally {
      this.commandDepth--;
    }
  }

  // ---- simulations and scenarios -------------------------------------------------------------

  async newSimulation(settings: Partial<SimulationSettings>): Promise<void> {
    this.clock.playing = false;
    try {
      await this.client.newSimulation(settings);
      await this.sendClock();
      this.history = [];
      this.toast({ tone: 'info', title: 'New simulation', detail: describeSettings(settings) });
    } catch (error) {
      this.toast({ tone: 'error', title: 'The new simulation could not start', detail: messageOf(error) });
    }
  }

  /**
   * Whether to replace the current simulation by `name`: at once when it holds no command of the
   * user's own (a fresh one, or a scenario, which its file recreates), else the user is asked.
   */
  private confirmReplace(name: string): Promise<boolean> {
    if (this.scenario !== null || this.sessionStepCount === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.replaceRequest = {
        name,
        answer: (replace) => {
          this.replaceRequest = null;
          resolve(replace);
        },
      };
    });
  }

  /** Opens a scenario (asking first over the user's own session); `upToStep` runs its steps before that index at once. */
  async loadScenarioText(name: string, text: string, options: { upToStep?: number } = {}): Promise<boolean> {
    if (!(await this.confirmReplace(name))) return false;
    this.clock.playing = false;
    try {
      const result = await this.client.loadScenario(name, text, options);
      if (!result.ok) {
        this.fileProblem = { fileName: name, errors: result.errors };
        return false;
      }
      this.fileProblem = null;
      this.history = [];
      return true;
    } catch (error) {
      this.fileProblem = { fileName: name, errors: [{ path: '', message: messageOf(error) }] };
      return false;
    }
  }

  async loadLibraryScenario(path: string): Promise<boolean> {
    let text: string;
    try {
      const response = await fetch(`scenarios/${path}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } catch (error) {
      this.fileProblem = { fileName: path, errors: [{ path: '', message: `could not fetch it: ${messageOf(error)}` }] };
      return false;
    }
    return this.loadScenarioText(path, text);
  }

  /**
   * Runs the loaded scenario's next step. `settled`: also waits until the page's `scenario` shows
   * where the worker says the run is. The worker's reply and its frame travel on different
   * message ports, so the reply may come first; the lesson player reads the frame's state (the
   * next step, the results) right after a step and must not see the one before.
   */
  async scenarioStep(options: { settled?: boolean } = {}): Promise<void> {
    this.commandDepth++;
    this.busy++;
    try {
      const position = await this.client.scenarioStep();
      if (position && options.settled) await this.whenScenarioAt(position);
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    } finally {
      this.commandDepth--;
      this.busy--;
    }
  }

  private readonly scenarioWaiters = new FrameWaiters();

  private scenarioIsAt(position: ScenarioPosition): boolean {
    const scenario = this.scenario;
    return scenario !== null && scenario.name === position.name && scenario.nextStepIndex === position.nextStepIndex && scenario.results.length >= position.resultCount;
  }

  /** Resolves once a frame brought the scenario to `position` (or after a while: a frame that never comes must not hang the page). */
  private whenScenarioAt(position: ScenarioPosition): Promise<void> {
    return this.scenarioWaiters.until(() => this.scenarioIsAt(position));
  }

  async scenarioRunToEnd(): Promise<void> {
    this.busy++;
    try {
      await this.client.scenarioRunToEnd();
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    } finally {
      this.busy--;
    }
  }

  async closeScenario(): Promise<void> {
    try {
      await this.client.closeScenario();
    } catch (error) {
      this.workerErrors = [...this.workerErrors, messageOf(error)];
    }
  }

  async exportScenario(title: string): Promise<void> {
    try {
      const text = await this.client.exportScenario(title);
      const fileName = download(text, `${fileStem(title)}.json`, 'application/json');
      this.toast({ tone: 'ok', title: 'Session exported as a scenario file', detail: fileName });
    } catch (error) {
      this.toast({ tone: 'error', title: 'Export failed', detail: messageOf(error) });
    }
  }

  /** The session as a QMP runbook (docs/qmp-runbook.md): one command per line under host lines. */
  async exportQmpRunbook(title: string): Promise<void> {
    try {
      const text = await this.client.exportQmpRunbook(title);
      const fileName = download(text, `${fileStem(title)}.qmp`, 'text/plain');
      this.toast({ tone: 'ok', title: 'Session exported as a QMP runbook', detail: fileName });
    } catch (error) {
      this.toast({ tone: 'error', title: 'Export failed', detail: messageOf(error) });
    }
  }
}

/** A file name's stem from a title ("colo-sim session" → "colo-sim-session"). */
function fileStem(title: string): string {
  const stem = title.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
  return stem || 'colo-sim-session';
}

/** Hands `text` to the browser as a download; returns the file's name. */
function download(text: string, fileName: string, type: string): string {
  downloadBlob(new Blob([text], { type }), fileName);
  return fileName;
}

/**
 * The layer the secondary VM's reads start at: follow its disk device down to the first image of
 * the secondary host's chain (whatever those images are called).
 */
export function svmBase(summary: SimSummary, roles: PairRoles = analyseRoles(summary)): ChainLayer | null {
  const chain = secondaryChain(roles);
  if (!chain) return null;
  const layers = new Map<string, ChainLayer>([
    [chain.active, 'active-disk'],
    [chain.hidden, 'hidden-disk'],
    [chain.base, 'secondary-disk'],
  ]);
  const nodes = new Map(summary.nodes.filter((node) => node.host === 'secondary').map((node) => [node.name, node]));
  let name: string | null = summary.backends.find((backend) => backend.host === 'secondary' && backend.kind === 'vm')?.root ?? null;
  for (let guard = 0; name && guard < 16; guard++) {
    const layer = layers.get(name);
    if (layer) return layer;
    const node = nodes.get(name);
    if (!node) return null;
    const next = node.children.find((child) => child.role === 'children.0' || child.role === 'file' || child.role === 'backing');
    name = next?.child ?? null;
  }
  return null;
}

function survivorOf(summary: SimSummary): HostName | null {
  const primaryLost = summary.colo.primary.lost;
  const secondaryLost = summary.colo.secondary.lost;
  if (primaryLost === secondaryLost) return null;
  return primaryLost ? 'secondary' : 'primary';
}

/** A history entry as the worker saved it, in the page's shape. */
function historyEntryOf(entry: HistoryEntry): CommandEntry {
  const step = (entry.step ?? { op: '?' }) as Step;
  return {
    id: -entry.id,
    label: entry.result?.description ?? labelOf(step),
    step,
    status: entry.status,
    ...(entry.result ? { result: entry.result } : {}),
    ...(entry.errors ? { errors: entry.errors } : {}),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeSettings(settings: Partial<SimulationSettings>): string {
  const parts: string[] = [];
  if (settings.diskSizeBytes) parts.push(`disks of ${formatBytes(settings.diskSizeBytes)}`);
  if (settings.clusterSizeBytes) parts.push(`clusters of ${formatBytes(settings.clusterSizeBytes)}`);
  if (settings.seed !== undefined) parts.push(`seed ${settings.seed}`);
  return parts.join(', ');
}

/** A step in words before the worker describes it. */
export function labelOf(step: Step): string {
  switch (step.op) {
    case 'guest-write':
      return `${String(step.vm)} VM writes ${String(step.pattern)}`;
    case 'guest-read':
      return `${String(step.vm)} VM reads`;
    case 'replication':
      return `replication ${String(step.action)} on ${String(step.host)}`;
    case 'colo-start':
      return 'COLO start';
    case 'checkpoint':
      return 'COLO checkpoint';
    case 'failover':
      return `failover to the ${String(step.to)}`;
    case 'fault':
      return `fault: ${String(step.kind)}`;
    case 'workload':
      return step.writesPerSecond === 0 ? 'stop the workload' : `workload ${String(step.writesPerSecond)} writes/s`;
    default:
      return step.op;
  }
}
