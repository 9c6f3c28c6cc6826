/**
 * The simulation as the worker runs it for the page: the engine, its stores, the clock that
 * runs in bounded bursts, the commands the page sends (scenario steps), an optional scenario
 * being played, the session log for export, and saving to IndexedDB.
 *
 * Everything the session does goes through one queue, so a command never interleaves with a
 * burst or a save. A frame reaches the page only after the state it shows has been saved (when
 * the simulation is quiescent; in the middle of a request nothing can be saved, and the frame
 * says so).
 */
import { DEFAULT_SETTINGS, Simulation, type SimulationSettings } from '../engine/colo/simulation.js';
import type { SimulationSnapshot } from '../engine/colo/snapshot.js';
import { formatByte } from '../engine/block/data-runs.js';
import { digestImages } from './disk-digest.js';
import { describeStep } from '../engine/scenario/describe.js';
import { ScenarioRunner, type RunnerProgress, type StepResult } from '../engine/scenario/runner.js';
import { FORMAT_VERSION } from '../engine/scenario/schema.js';
import { judgeStep, performStep, settleAsync, type Observed } from '../engine/scenario/step-executor.js';
import { formatDuration } from '../engine/scenario/units.js';
import { validateScenarioDocument, validateScenarioText, type Scenario } from '../engine/scenario/validate.js';
import type { SimEvent } from '../engine/sim/events.js';
import type { ChunkValue } from '../storage/chunked-memory-store.js';
import type { IndexedDbPersistence } from '../storage/indexeddb-persistence.js';
import { TrackedStores } from '../storage/tracked-stores.js';
import type { ClockSettings, CommandResult, Frame, PersistenceStatus, ScenarioLoadResult, ScenarioProgress, WorkerNotice } from './protocol.js';
import { transferablesOf, ViewBuilder } from './view-builder.js';

export const SAVED_STATE_VERSION = 1;

export interface SavedScenario {
  readonly name: string;
  readonly text: string;
  readonly progress: RunnerProgress;
  readonly results: StepResult[];
}

/** The meta record saved with the disks. */
export interface SavedMeta {
  readonly version: typeof SAVED_STATE_VERSION;
  readonly snapshot: SimulationSnapshot;
  readonly sessionSteps: unknown[];
  readonly lastCommandEndUs: number;
  readonly scenario: SavedScenario | null;
}

export interface SessionPorts {
  post(notice: WorkerNotice, transfer: ArrayBuffer[]): void;
  /** Wall-clock milliseconds, only for sizing bursts; the engine never sees it. */
  wallClockMs(): number;
  setTimer(callback: () => void, delayMs: number): void;
}

/** Wall time one burst may take, so the worker keeps answering and the page keeps 60 fps. */
const BURST_BUDGET_MS = 8;
/** At most this many events travel in one frame; older ones are summarised as dropped. */
const MAX_EVENTS_PER_FRAME = 4000;
const FRAME_INTERVAL_MS = 16;

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
  private sessionSteps: unknown[] = [];
  private lastCommandEndUs = 0;
  private runner: ScenarioRunner | undefined;
  private scenarioMeta: { name: string; text: string; rawSteps: unknown[]; scenario: Scenario; results: StepResult[] } | undefined;
  private persistence: IndexedDbPersistence<SavedMeta> | undefined;
  private persistenceStatus: PersistenceStatus;
  private dirtySinceSave = true;

  constructor(
    private readonly ports: SessionPorts,
    persistence: IndexedDbPersistence<SavedMeta> | undefined,
    status: PersistenceStatus,
  ) {
    this.persistence = persistence;
    this.persistenceStatus = status;
  }

  get status(): PersistenceStatus {
    return this.persistenceStatus;
  }

  /** Restores the saved simulation, or starts a new one when nothing (usable) is saved. */
  async start(saved: { meta: SavedMeta | undefined; chunks: Map<string, Map<number, ChunkValue>> } | undefined): Promise<void> {
    await this.exclusive(async () => {
      const meta = saved?.meta;
      if (meta && meta.version === SAVED_STATE_VERSION) {
        try {
          this.restore(meta, saved.chunks);
        } catch (error) {
          this.notifyError(`The saved simulation could not be restored (${messageOf(error)}); starting a new one.`);
          this.replaceSimulation(DEFAULT_SETTINGS, undefined);
          await this.persistence?.clear();
        }
      } else {
        this.replaceSimulation(DEFAULT_SETTINGS, undefined);
      }
      await this.publish();
    });
  }

  // ---- commands from the page ---------------------------------------------------------------

  newSimulation(settings: Partial<SimulationSettings>): Promise<void> {
    return this.exclusive(async () => {
      this.clock = { ...this.clock, playing: false };
      this.runner = undefined;
      this.scenarioMeta = undefined;
      await this.clearSaved();
      this.replaceSimulation({ ...DEFAULT_SETTINGS, ...settings }, undefined);
      await this.publish();
    });
  }

  execute(step: unknown): Promise<CommandResult> {
    return this.exclusive(async () => {
      if (this.runner) {
        return { ok: false, errors: [{ path: '', message: 'a scenario is loaded: close it before acting on the simulation yourself' }] } as const;
      }
      const validation = validateScenarioDocument({
        format: FORMAT_VERSION,
        title: 'session',
        setup: setupOf(this.sim.settings),
        steps: [...this.sessionSteps, step],
      });
      if (!validation.ok) {
        const own = `steps[${this.sessionSteps.length}]`;
        const errors = validation.errors
          .filter((error) => error.path.startsWith(own) || error.path === '')
          .map((error) => ({ path: error.path.startsWith(own) ? `step${error.path.slice(own.length)}` : error.path, message: error.message }));
        return { ok: false, errors: errors.length > 0 ? errors : validation.errors } as const;
      }
      const parsed = validation.scenario.steps[validation.scenario.steps.length - 1]!;
      const gapUs = this.sim.nowUs - this.lastCommandEndUs;
      const performed = performStep(this.sim, parsed);
      let observed: Observed;
      if (performed.kind === 'pending') observed = settleAsync(this.sim, performed);
      else observed = performed.observed;
      const result = judgeStep(this.sessionSteps.length, { ...parsed, expect: undefined } as typeof parsed, observed, this.sim.nowUs);
      this.recordStep(step, observed, gapUs);
      this.dirtySinceSave = true;
      await this.publish();
      return { ok: true, result } as const;
    });
  }

  setClock(clock: ClockSettings): Promise<void> {
    return this.exclusive(async () => {
      this.clock = { playing: clock.playing && !this.runner, speed: clamp(clock.speed, 1, 10_000_000) };
      this.lastTickWallMs = this.ports.wallClockMs();
      this.armTimer();
    });
  }

  /** Single-step: runs the simulation to its next event. */
  stepEvent(): Promise<void> {
    return this.exclusive(async () => {
      if (this.runner) return;
      this.sim.scheduler.runNext();
      this.dirtySinceSave = true;
      await this.publish();
    });
  }

  loadScenario(name: string, text: string): Promise<ScenarioLoadResult> {
    return this.exclusive(async () => {
      const validation = validateScenarioText(text);
      if (!validation.ok) return { ok: false, errors: validation.errors } as const;
      this.clock = { ...this.clock, playing: false };
      await this.clearSaved();
      this.startScenario(name, text, validation.scenario, undefined, []);
      await this.publish();
      return { ok: true, progress: this.scenarioProgress()! } as const;
    });
  }

  scenarioStep(): Promise<ScenarioProgress | null> {
    return this.exclusive(async () => {
      if (!this.runner || !this.scenarioMeta) return null;
      this.scenarioMeta.results.push(...this.runner.step());
      this.dirtySinceSave = true;
      await this.publish();
      return this.scenarioProgress();
    });
  }

  scenarioRunToEnd(): Promise<ScenarioProgress | null> {
    return this.exclusive(async () => {
      if (!this.runner || !this.scenarioMeta) return null;
      while (!this.runner.done) this.scenarioMeta.results.push(...this.runner.step());
      this.dirtySinceSave = true;
      await this.publish();
      return this.scenarioProgress();
    });
  }

  closeScenario(): Promise<void> {
    return this.exclusive(async () => {
      if (this.runner && this.scenarioMeta) {
        // What ran so far becomes this session's history.
        this.sessionSteps = this.scenarioMeta.rawSteps.slice(0, this.runner.nextStepIndex);
        this.lastCommandEndUs = this.sim.nowUs;
      }
      this.runner = undefined;
      this.scenarioMeta = undefined;
      this.dirtySinceSave = true;
      await this.publish();
    });
  }

  exportScenario(title: string): Promise<string> {
    return this.exclusive(async () => {
      const steps = this.scenarioMeta && this.runner ? this.scenarioMeta.rawSteps.slice(0, this.runner.nextStepIndex) : this.sessionSteps;
      const document = {
        format: FORMAT_VERSION,
        title: title || 'colo-sim session',
        description: `Exported from colo-sim at virtual time ${formatDuration(this.sim.nowUs)}. Every expectation is what this session observed.`,
        setup: setupOf(this.sim.settings),
        steps,
      };
      return `${JSON.stringify(document, null, 2)}\n`;
    });
  }

  digestDisks(): Promise<Record<string, string>> {
    return this.exclusive(async () => digestImages(this.sim));
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
    // Even an idle clock is saved on every frame: the page shows the time, and what the page
    // shows is stored. The record is small (the snapshot holds no disk bytes, about 2 KB).
    this.dirtySinceSave = true;
    await this.publish();
    this.armTimer();
  }

  // ---- frames and saving --------------------------------------------------------------------

  private async publish(): Promise<void> {
    const saved = await this.save();
    const layouts = this.view.takeLayouts();
    const cells = this.view.takeCells();
    const bitmaps = this.view.takeBitmaps();
    const events = this.pendingEvents;
    const droppedEvents = this.droppedEvents;
    this.pendingEvents = [];
    this.droppedEvents = 0;
    const frame: Frame = {
      frameNumber: this.frameNumber++,
      saved,
      summary: this.view.summary(),
      events,
      droppedEvents,
      ...(layouts ? { layouts } : {}),
      cells,
      bitmaps,
      scenario: this.scenarioProgress(),
      sessionStepCount: this.runner ? this.runner.nextStepIndex : this.sessionSteps.length,
    };
    this.ports.post({ kind: 'frame', frame }, transferablesOf(cells, bitmaps));
  }

  /** Saves the current instant when it can be saved; returns whether what the page sees is stored. */
  private async save(): Promise<boolean> {
    const persistence = this.persistence;
    if (!persistence) return this.persistenceStatus.kind === 'memory';
    if (!this.dirtySinceSave) return true;
    const changes = this.stores.takeChanges();
    try {
      await persistence.save(changes, this.metaRecord());
      this.dirtySinceSave = false;
      return true;
    } catch (error) {
      // Keep going in memory: nothing is dropped, and the page shows a banner.
      this.stores.restoreChanges(changes);
      this.persistence = undefined;
      this.persistenceStatus = { kind: 'memory', reason: messageOf(error) };
      this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
      return true;
    }
  }

  private async clearSaved(): Promise<void> {
    if (!this.persistence) return;
    try {
      await this.persistence.clear();
    } catch (error) {
      this.persistence = undefined;
      this.persistenceStatus = { kind: 'memory', reason: messageOf(error) };
      this.ports.post({ kind: 'persistence', status: this.persistenceStatus }, []);
    }
  }

  private metaRecord(): SavedMeta {
    return {
      version: SAVED_STATE_VERSION,
      snapshot: this.sim.snapshot(),
      sessionSteps: this.sessionSteps,
      lastCommandEndUs: this.lastCommandEndUs,
      scenario:
        this.runner && this.scenarioMeta
          ? { name: this.scenarioMeta.name, text: this.scenarioMeta.text, progress: this.runner.progress(), results: this.scenarioMeta.results }
          : null,
    };
  }

  // ---- building and rebuilding ----------------------------------------------------------------

  private replaceSimulation(settings: SimulationSettings, snapshot: SimulationSnapshot | undefined, chunks?: Map<string, Map<number, ChunkValue>>): void {
    this.unsubscribe();
    this.stores = new TrackedStores(chunks);
    this.sim = new Simulation(settings, this.stores.factory, snapshot);
    this.view = new ViewBuilder(this.sim);
    this.pendingEvents = [];
    this.unsubscribe = this.sim.events.subscribe((event) => this.onEvent(event));
    if (!snapshot) {
      this.sessionSteps = [];
      this.lastCommandEndUs = 0;
    }
    this.dirtySinceSave = true;
  }

  private restore(meta: SavedMeta, chunks: Map<string, Map<number, ChunkValue>>): void {
    this.replaceSimulation(meta.snapshot.settings, meta.snapshot, chunks);
    this.sessionSteps = meta.sessionSteps;
    this.lastCommandEndUs = meta.lastCommandEndUs;
    if (meta.scenario) {
      const validation = validateScenarioText(meta.scenario.text);
      if (!validation.ok) throw new Error('the saved scenario is no longer valid');
      this.startScenario(meta.scenario.name, meta.scenario.text, validation.scenario, meta.scenario.progress, meta.scenario.results);
    }
    // The stores already hold what is saved.
    this.stores.takeChanges();
    this.dirtySinceSave = false;
  }

  private startScenario(name: string, text: string, scenario: Scenario, progress: RunnerProgress | undefined, results: StepResult[]): void {
    if (!progress) this.replaceSimulation(scenario.settings, undefined);
    this.runner = new ScenarioRunner(scenario, this.stores.factory, { simulation: this.sim, ...(progress ? { resume: progress } : {}) });
    const rawSteps = (JSON.parse(text) as { steps: unknown[] }).steps;
    this.scenarioMeta = { name, text, rawSteps, scenario, results };
  }

  private scenarioProgress(): ScenarioProgress | null {
    const runner = this.runner;
    const meta = this.scenarioMeta;
    if (!runner || !meta) return null;
    return {
      name: meta.name,
      title: meta.scenario.title,
      ...(meta.scenario.description === undefined ? {} : { description: meta.scenario.description }),
      stepCount: meta.scenario.steps.length,
      nextStepIndex: runner.nextStepIndex,
      stepDescriptions: meta.scenario.steps.map((step) => describeStep(step)),
      results: meta.results,
      done: runner.done,
      ...(runner.done ? { outcome: runner.outcome() } : {}),
    };
  }

  private onEvent(event: SimEvent): void {
    this.view.observe(event);
    this.pendingEvents.push(event);
    if (this.pendingEvents.length > MAX_EVENTS_PER_FRAME) {
      const excess = this.pendingEvents.length - MAX_EVENTS_PER_FRAME;
      this.pendingEvents.splice(0, excess);
      this.droppedEvents += excess;
    }
  }

  /** The step as given, with the outcome it had as its expectation, after a run for the idle gap. */
  private recordStep(step: unknown, observed: Observed, gapUs: number): void {
    if (gapUs > 0) this.sessionSteps.push({ op: 'run', for: formatDuration(gapUs) });
    const recorded: Record<string, unknown> = { ...(step as Record<string, unknown>) };
    delete recorded.expect;
    delete recorded.async;
    const expect = expectationOf(observed);
    if (expect) recorded.expect = expect;
    this.sessionSteps.push(recorded);
    this.lastCommandEndUs = this.sim.nowUs;
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

function expectationOf(observed: Observed): Record<string, unknown> | undefined {
  if (observed.kind === 'control') return observed.outcome.ok ? undefined : { error: observed.outcome.message };
  if (!observed.result.ok) return { error: observed.result.errno };
  if (observed.kind === 'read') {
    const uniform = observed.result.data.uniformByte();
    return uniform === undefined ? { ok: true } : { pattern: formatByte(uniform) };
  }
  return undefined;
}

/** The setup section that recreates these settings. */
export function setupOf(settings: SimulationSettings): Record<string, unknown> {
  return {
    diskSize: settings.diskSizeBytes,
    clusterSize: settings.clusterSizeBytes,
    seed: settings.seed,
    nbdLatency: formatDuration(settings.nbdLatencyUs),
    copyTime: formatDuration(settings.copyTimeUs),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
