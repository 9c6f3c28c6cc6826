/** A worker session in Node over fake-indexeddb, with ports that record what it posts. */
import 'fake-indexeddb/auto';
import { IndexedDbPersistence } from '../../../src/storage/indexeddb-persistence.js';
import type { Frame, PersistenceStatus, WorkerNotice } from '../../../src/worker/protocol.js';
import { SimSession, type SessionPorts } from '../../../src/worker/session.js';

export class RecordingPorts implements SessionPorts {
  readonly notices: WorkerNotice[] = [];

  post(notice: WorkerNotice): void {
    this.notices.push(notice);
  }
  wallClockMs(): number {
    return 0;
  }
  setTimer(): void {
    // The tests run the clock with steps, not with the session's timer.
  }
  frames(): Frame[] {
    return this.notices.flatMap((notice) => (notice.kind === 'frame' ? [notice.frame] : []));
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
