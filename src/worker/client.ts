/**
 * The page's side of the worker: a typed proxy over comlink that never leaves a call hanging.
 * If the worker dies or a call takes too long, the call fails with a message the page shows.
 */
import * as Comlink from 'comlink';
import { PROTOCOL_VERSION, type CommandResult, type ConnectOptions, type PersistenceStatus, type ScenarioLoadResult, type SimWorkerApi, type WorkerNotice } from './protocol.js';

const CALL_TIMEOUT_MS = 60_000;

export class WorkerFailure extends Error {
  override name = 'WorkerFailure';
}

export class SimClient {
  private readonly remote: Comlink.Remote<SimWorkerApi>;
  private failure: WorkerFailure | undefined;
  private readonly failureWaiters = new Set<(failure: WorkerFailure) => void>();

  constructor(
    private readonly worker: Worker,
    private readonly onNotice: (notice: WorkerNotice) => void,
  ) {
    this.remote = Comlink.wrap<SimWorkerApi>(worker);
    worker.addEventListener('error', (event) => this.fail(`The simulation worker crashed: ${event.message || 'unknown error'}`));
    worker.addEventListener('messageerror', () => this.fail('A message from the simulation worker could not be read'));
  }

  static create(onNotice: (notice: WorkerNotice) => void): SimClient {
    const worker = new Worker(new URL('./sim.worker.ts', import.meta.url), { type: 'module', name: 'colo-sim' });
    return new SimClient(worker, onNotice);
  }

  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new WorkerFailure(message);
    this.onNotice({ kind: 'error', message });
    for (const waiter of this.failureWaiters) waiter(this.failure);
    this.failureWaiters.clear();
  }

  /** Runs a remote call, failing it if the worker dies or does not answer in time. */
  private call<T>(label: string, invoke: () => Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const onFailure = (failure: WorkerFailure) => reject(failure);
      this.failureWaiters.add(onFailure);
      const timer = setTimeout(() => reject(new WorkerFailure(`The simulation did not answer "${label}" within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
      invoke()
        .then(resolve, (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))))
        .finally(() => {
          clearTimeout(timer);
          this.failureWaiters.delete(onFailure);
        });
    });
  }

  async connect(options: ConnectOptions): Promise<PersistenceStatus> {
    const version = await this.call('version', () => this.remote.protocolVersion);
    if (version !== PROTOCOL_VERSION) throw new WorkerFailure(`The worker speaks protocol ${version}, the page ${PROTOCOL_VERSION}: reload the page`);
    return this.call('connect', () => this.remote.connect(options, Comlink.proxy(pageSideNoticeHandler(this.onNotice))) as Promise<PersistenceStatus>);
  }

  discardSaved: SimWorkerApi['discardSaved'] = () => this.call('discard saved', () => this.remote.discardSaved());
  newSimulation: SimWorkerApi['newSimulation'] = (settings) => this.call('new simulation', () => this.remote.newSimulation(settings));
  execute: SimWorkerApi['execute'] = (step) => this.call('execute', () => this.remote.execute(step) as Promise<CommandResult>);
  setClock: SimWorkerApi['setClock'] = (clock) => this.call('clock', () => this.remote.setClock(clock));
  stepEvent: SimWorkerApi['stepEvent'] = () => this.call('step', () => this.remote.stepEvent());
  loadScenario: SimWorkerApi['loadScenario'] = (name, text, options) => this.call('load scenario', () => this.remote.loadScenario(name, text, options) as Promise<ScenarioLoadResult>);
  scenarioStep: SimWorkerApi['scenarioStep'] = () => this.call('scenario step', () => this.remote.scenarioStep());
  scenarioRunToEnd: SimWorkerApi['scenarioRunToEnd'] = () => this.call('run scenario', () => this.remote.scenarioRunToEnd());
  closeScenario: SimWorkerApi['closeScenario'] = () => this.call('close scenario', () => this.remote.closeScenario());
  exportScenario: SimWorkerApi['exportScenario'] = (title) => this.call('export', () => this.remote.exportScenario(title));
  exportQmpRunbook: SimWorkerApi['exportQmpRunbook'] = (title) => this.call('export runbook', () => this.remote.exportQmpRunbook(title));
  replicationCost: SimWorkerApi['replicationCost'] = () => this.call('replication cost', () => this.remote.replicationCost() as ReturnType<SimWorkerApi['replicationCost']>);
  compareCheckpointIntervals: SimWorkerApi['compareCheckpointIntervals'] = (request) =>
    this.call('compare checkpoint intervals', () => this.remote.compareCheckpointIntervals(request) as ReturnType<SimWorkerApi['compareCheckpointIntervals']>);
  qmpCommands: SimWorkerApi['qmpCommands'] = () => this.call('QMP commands', () => this.remote.qmpCommands());
  digestDisks: SimWorkerApi['digestDisks'] = () => this.call('digest', () => this.remote.digestDisks());
  // Time travel (protocol.ts, "time travel").
  timelineMarks: SimWorkerApi['timelineMarks'] = (from) => this.call('timeline marks', () => this.remote.timelineMarks(from) as ReturnType<SimWorkerApi['timelineMarks']>);
  goToStep: SimWorkerApi['goToStep'] = (step) => this.call('go to step', () => this.remote.goToStep(step) as ReturnType<SimWorkerApi['goToStep']>);
  goToWithinStep: SimWorkerApi['goToWithinStep'] = (stepIndex, entries) => this.call('go inside a step', () => this.remote.goToWithinStep(stepIndex, entries) as ReturnType<SimWorkerApi['goToWithinStep']>);
  stepEvents: SimWorkerApi['stepEvents'] = (stepIndex) => this.call('step events', () => this.remote.stepEvents(stepIndex) as ReturnType<SimWorkerApi['stepEvents']>);
  diffSteps: SimWorkerApi['diffSteps'] = (a, b) => this.call('diff', () => this.remote.diffSteps(a, b) as ReturnType<SimWorkerApi['diffSteps']>);
  switchBranch: SimWorkerApi['switchBranch'] = (id) => this.call('switch branch', () => this.remote.switchBranch(id) as ReturnType<SimWorkerApi['switchBranch']>);
  discardBranch: SimWorkerApi['discardBranch'] = (id) => this.call('discard branch', () => this.remote.discardBranch(id));
  shareState: SimWorkerApi['shareState'] = () => this.call('share', () => this.remote.shareState() as ReturnType<SimWorkerApi['shareState']>);

  terminate(): void {
    this.worker.terminate();
    this.fail('The simulation worker was stopped');
  }
}

/**
 * The page's notice handler as the worker calls it (through comlink). An exception in it is a
 * bug of the page, so it is raised on the page (`report`, by default as an uncaught error, which
 * the browser's console and the tests' error watch see). Left alone it went back to the worker
 * as the rejection of a call nobody awaits: the frame was dropped and nothing said so (the page
 * stopped updating after a failover, with no error anywhere).
 */
export function pageSideNoticeHandler(onNotice: (notice: WorkerNotice) => void, report: (error: unknown) => void = raiseLater): (notice: WorkerNotice) => void {
  return (notice) => {
    try {
      onNotice(notice);
    } catch (error) {
      report(error);
    }
  };
}

function raiseLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}
