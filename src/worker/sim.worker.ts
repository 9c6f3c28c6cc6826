/**
 * The simulation worker: hosts the engine and its IndexedDB persistence, and answers the page
 * through comlink. Only one tab may own a saved simulation at a time (Web Locks).
 */
import * as Comlink from 'comlink';
import { qmpCommandSignatures } from '../engine/qmp/command-list.js';
import { IndexedDbPersistence, PersistenceError, type SavedRecord } from '../storage/indexeddb-persistence.js';
import { PROTOCOL_VERSION, type ConnectOptions, type PersistenceStatus, type SimWorkerApi, type WorkerNotice } from './protocol.js';
import { SimSession } from './session.js';
import { stepMarkBuffers } from './step-mark-columns.js';

let session: SimSession | undefined;
let notify: (notice: WorkerNotice) => void = () => {};

function requireSession(): SimSession {
  if (!session) throw new Error('the simulation is not connected yet');
  return session;
}

/** Holds the store's lock for as long as this worker lives; resolves whether it was granted. */
function acquireLock(databaseName: string, takeOver: boolean): Promise<boolean> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const options: LockOptions = takeOver ? { steal: true } : { ifAvailable: true };
    locks
      .request(`colo-sim:${databaseName}`, options, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return new Promise<void>(() => {});
      })
      .catch((error: unknown) => {
        // Another tab stole the lock: stop writing to the store at once.
        if (error instanceof DOMException && error.name === 'AbortError') session?.lostStore();
      });
  });
}

const api: SimWorkerApi = {
  protocolVersion: PROTOCOL_VERSION,

  async connect(options: ConnectOptions, listener: (notice: WorkerNotice) => void): Promise<PersistenceStatus> {
    notify = listener;
    const ports = {
      post: (notice: WorkerNotice, transfer: ArrayBuffer[]) => {
        void Promise.resolve(notify(Comlink.transfer(notice, transfer))).catch(() => undefined);
      },
      wallClockMs: () => performance.now(),
      setTimer: (callback: () => void, delayMs: number) => {
        setTimeout(callback, delayMs);
      },
    };
    const owned = await acquireLock(options.databaseName, options.takeOver);
    if (!owned) {
      const status: PersistenceStatus = { kind: 'locked-elsewhere' };
      return status;
    }
    let persistence: IndexedDbPersistence | undefined;
    let status: PersistenceStatus;
    let saved: SavedRecord[] | undefined;
    let unreadable: string | undefined;
    try {
      persistence = await IndexedDbPersistence.open(options.databaseName);
      // Claim before loading: a save from a tab that had the store before fails from now on.
      await persistence.claim();
      status = { kind: 'indexeddb', databaseName: options.databaseName };
    } catch (error) {
      persistence = undefined;
      const failure = error instanceof PersistenceError ? error : new PersistenceError(String(error), false);
      status = { kind: 'memory', reason: failure.message, ...(failure.quotaExceeded ? { quotaExceeded: true } : {}) };
    }
    try {
      // The store may refuse writes (out of space) and still be readable: then the page comes back
      // to what is saved, in memory, rather than to a new simulation it would call nothing.
      saved = persistence ? await persistence.loadAll() : await IndexedDbPersistence.readSaved(options.databaseName);
    } catch (error) {
      // Saving works but what is saved cannot be read: the session says so and keeps it. With
      // saving off too (private mode), nothing saved is within reach: a new simulation.
      if (persistence) unreadable = error instanceof PersistenceError ? error.message : String(error);
    }
    session = new SimSession(ports, persistence, status);
    await session.start(saved, unreadable);
    return session.status;
  },

  discardSaved: () => requireSession().discardSaved(),
  newSimulation: (settings) => requireSession().newSimulation(settings),
  execute: (step) => requireSession().execute(step),
  setClock: (clock) => requireSession().setClock(clock),
  stepEvent: () => requireSession().stepEvent(),
  loadScenario: (name, text, options) => requireSession().loadScenario(name, text, options),
  scenarioStep: () => requireSession().scenarioStep(),
  scenarioRunToEnd: () => requireSession().scenarioRunToEnd(),
  closeScenario: () => requireSession().closeScenario(),
  exportScenario: (title) => requireSession().exportScenario(title),
  exportQmpRunbook: (title) => requireSession().exportQmpRunbook(title),
  replicationCost: () => requireSession().replicationCost(),
  compareCheckpointIntervals: (request) => requireSession().compareCheckpointIntervals(request),
  qmpCommands: async () => qmpCommandSignatures(),
  digestDisks: () => requireSession().digestDisks(),
  timelineMarks: async (from) => {
    const answer = await requireSession().timelineMarks(from);
    return Comlink.transfer(answer, stepMarkBuffers(answer.marks));
  },
  goToStep: (step) => requireSession().goToStep(step),
  goToWithinStep: (stepIndex, entries) => requireSession().goToWithinStep(stepIndex, entries),
  stepEvents: (stepIndex) => requireSession().stepEvents(stepIndex),
  diffSteps: (a, b) => requireSession().diffSteps(a, b),
  switchBranch: (id) => requireSession().switchBranch(id),
  discardBranch: (id) => requireSession().discardBranch(id),
  shareState: () => requireSession().shareState(),
};

self.addEventListener('unhandledrejection', (event) => {
  notify({ kind: 'error', message: `Worker error: ${String((event as PromiseRejectionEvent).reason)}` });
});

Comlink.expose(api);
