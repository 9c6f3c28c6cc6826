/**
 * A scenario run as the app runs it, saved after every step and continued each time by a new
 * session restored from what was saved: `colo-sim run --reload-each-step`. The saving is the
 * app's own (SimSession, its records, structured-cloned as IndexedDB clones them), only the
 * database is in memory. A scenario that passes this way and gives the same events as a plain
 * run shows that a reload between any two steps changes nothing.
 */
import type { ScenarioOutcome } from '../engine/scenario/runner.js';
import type { ScenarioError } from '../engine/scenario/validate.js';
import type { SimEvent } from '../engine/sim/events.js';
import { MemoryDatabase, MemoryPersistence } from '../storage/memory-persistence.js';
import { SimSession, type SessionPorts } from './session.js';

export type ReloadRunResult = { readonly ok: true; readonly outcome: ScenarioOutcome; readonly reloads: number } | { readonly ok: false; readonly errors: readonly ScenarioError[] };

const QUIET_PORTS: SessionPorts = {
  post: () => {},
  wallClockMs: () => 0,
  setTimer: () => {},
};

/** What a caller may watch: the engine's events, and which step runs next (for a trace's markers). */
export interface ReloadRunWatch {
  readonly onEvent?: (event: SimEvent) => void;
  /** Before each step: its 0-based index, or null once every step has run and async ones complete. */
  readonly onStep?: (index: number | null, stepCount: number) => void;
  /** The steps ran out with async steps in flight: the run waits for them now. */
  readonly onWaitForAsync?: (pendingCount: number) => void;
}

/** Throws only on an engine bug (a restore that fails); invalid files come back as errors. */
export async function runReloadingEachStep(name: string, text: string, watch: ReloadRunWatch = {}): Promise<ReloadRunResult> {
  const { onStep } = watch;
  const database = new MemoryDatabase();
  const open = async (): Promise<SimSession> => {
    const persistence = new MemoryPersistence(database);
    await persistence.claim();
    const session = new SimSession(QUIET_PORTS, persistence, { kind: 'indexeddb', databaseName: '(memory)' }, watch);
    await session.start(await persistence.loadAll());
    if (session.status.kind !== 'indexeddb') throw new Error(`the saved session could not be restored: ${JSON.stringify(session.status)}`);
    return session;
  };
  let session = await open();
  const loaded = await session.loadScenario(name, text);
  if (!loaded.ok) return { ok: false, errors: loaded.errors };
  let reloads = 0;
  let next = loaded.progress.nextStepIndex;
  for (;;) {
    onStep?.(next < loaded.progress.stepCount ? next : null, loaded.progress.stepCount);
    const progress = await session.scenarioStep();
    if (!progress) throw new Error('the scenario was lost from the session');
    if (progress.done) return { ok: true, outcome: progress.outcome!, reloads };
    session = await open();
    reloads++;
    const restored = await session.currentScenario();
    if (!restored || restored.nextStepIndex !== progress.nextStepIndex) throw new Error(`the restored scenario is at step ${restored?.nextStepIndex}, not ${progress.nextStepIndex}`);
    next = restored.nextStepIndex;
  }
}
