/** A worker session in Node over fake-indexeddb, with ports that record what it posts. */
import { decodeStepResults } from '../../../src/worker/step-result-columns.js';
import 'fake-indexeddb/auto';
import type { StepResult } from '../../../src/engine/scenario/runner.js';
import { IndexedDbPersistence } from '../../../src/storage/indexeddb-persistence.js';
import type { Frame, PersistenceStatus, WorkerNotice } from '../../../src/worker/protocol.js';
import { SimSession, type SessionPorts } from '../../../src/worker/session.js';

/**
 * Ports that record what the session posts, with a wall clock and timers the test drives: the
 * clock stands still and armed timers wait until `advance` (tests that run the clock with steps
 * never call it).
 */
export class RecordingPorts implements SessionPorts {
  readonly notices: WorkerNotice[] = [];
  private nowMs = 0;
  private timers: Array<() => void> = [];

  post(notice: WorkerNotice): void {
    this.notices.push(notice);
  }
  wallClockMs(): number {
    return this.nowMs;
  }
  setTimer(callback: () => void): void {
    this.timers.push(callback);
  }
  /** Lets `wallMs` of wall time pass, firing the armed timers once. */
  async advance(wallMs: number): Promise<void> {
    this.nowMs += wallMs;
    for (const timer of this.timers.splice(0)) timer();
    // Real time for IndexedDB (fake-indexeddb) to commit what the session sent it.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  frames(): Frame[] {
    return this.notices.flatMap((notice) => (notice.kind === 'frame' ? [notice.frame] : []));
  }
  lastFrame(): Frame {
    const frames = this.frames();
    return frames[frames.length - 1]!;
  }
  /** Every step result the frames carried, by step index (a later one replaces an earlier). */
  results(): Map<number, StepResult> {
    const byIndex = new Map<number, StepResult>();
    // A frame leaves out a result's description when it is the step's own (sent in scenarioStatic).
    let descriptions: readonly string[] = [];
    for (const frame of this.frames()) {
      descriptions = frame.scenarioStatic?.stepDescriptions ?? descriptions;
      for (const result of frame.scenarioResults ? decodeStepResults(frame.scenarioResults.results, descriptions) : []) byIndex.set(result.index, result);
    }
    return byIndex;
  }
}

/** Opens (or restores) the session saved in `databaseName`, as the worker does on connect. */
export async function openSession(databaseName: string): Promise<{ session: SimSession; ports: RecordingPorts; persistence: IndexedDbPersistence }> {
  const persistence = await IndexedDbPersistence.open(databaseName);
  await persistence.claim();
  const saved = await persistence.loadAll();
  const ports = new RecordingPorts();
  const status: PersistenceStatus = { kind: 'indexeddb', databaseName };
  const session = new SimSession(ports, persistence, status);
  await session.start(saved);
  return { session, ports, persistence };
}

export async function mustExecute(session: SimSession, step: unknown) {
  const result = await session.execute(step);
  if (!result.ok) throw new Error(`command rejected: ${JSON.stringify(result.errors)}`);
  return result.result;
}
