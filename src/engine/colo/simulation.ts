/**
 * A whole COLO pair: two hosts on one virtual clock, joined by an NBD link, with the guests'
 * I/O, QEMU's replication calls, COLO's start / checkpoint / failover sequences and fault
 * injection. Time, randomness and storage are passed in; nothing here reads the wall clock.
 */
import { DataRuns } from '../block/data-runs.js';
import type { ReadResult, WriteResult } from '../block/errno.js';
import type { FaultTarget } from '../block/faults.js';
import { ImageNode } from '../block/image.js';
import { NbdLink } from '../block/nbd.js';
import type { BlockEnv, BlockNode, IoContext } from '../block/node.js';
import { QuorumNode } from '../block/quorum.js';
import type { JobType } from '../sim/events.js';
import { awaitFuture, Future, spawn, type Co } from '../sim/coroutine.js';
import { EventBus, type HostName, type IoKind, type IoOrigin, type ReplicationAction, type ReplicationMode } from '../sim/events.js';
import { Prng } from '../sim/prng.js';
import { Scheduler } from '../sim/scheduler.js';
import type { StoreFactory } from '../store.js';
import { MESSAGES } from '../replication/messages.js';
import { ReplicationNode } from '../replication/replication-node.js';
import { Host, type AllOutcome, type ReplicationOpenOptions } from './host.js';
import { restoreSimulation, takeSnapshot, type SimulationSnapshot } from './snapshot.js';
import { Workload, type WorkloadSettings } from './workload.js';
import { BACKEND, buildTopology, NODE } from './topology.js';

export interface SimulationSettings {
  readonly diskSizeBytes: number;
  /** qcow2 cluster size of the active and hidden disks. */
  readonly clusterSizeBytes: number;
  readonly seed: number;
  /** One-way delay of an NBD message. */
  readonly nbdLatencyUs: number;
  /** Virtual time the active commit takes to copy one granule. */
  readonly copyTimeUs: number;
}

export const DEFAULT_SETTINGS: SimulationSettings = {
  diskSizeBytes: 64 * 1024 * 1024,
  clusterSizeBytes: 64 * 1024,
  seed: 1,
  nbdLatencyUs: 500,
  copyTimeUs: 200,
};

export type StepOutcome = { readonly ok: true; readonly note?: string } | { readonly ok: false; readonly message: string; readonly quirk?: string };

/**
 * COLO as `get_colo_mode()` sees it: `failing-over` while the failover drains I/O (a second
 * request then finds the failover state past NONE), `failed-over` once migration is COMPLETED
 * (the mode is NONE again).
 */
export type ColoState = 'off' | 'running' | 'failing-over' | 'failed-over';

export type Fault =
  | { readonly kind: 'io-error'; readonly node: string; readonly on: FaultTarget; readonly count?: number }
  | { readonly kind: 'link-down' }
  | { readonly kind: 'link-up' }
  | { readonly kind: 'cancel-job'; readonly host: HostName; readonly type: JobType }
  | { readonly kind: 'eject'; readonly node: string }
  | { readonly kind: 'clear' };

const OK: StepOutcome = { ok: true };

export class Simulation {
  readonly scheduler = new Scheduler();
  readonly events = new EventBus(() => this.scheduler.nowUs);
  readonly prng: Prng;
  readonly link: NbdLink;
  readonly primary: Host;
  readonly secondary: Host;
  private coloStateValue: ColoState = 'off';
  private vmsRunningValue = true;
  private requestsInFlight = 0;
  private nextRequestNumber = 1;
  private workloadValue: Workload | undefined;
  private readonly idleWaiters: Array<Future<void>> = [];
  private readonly env: BlockEnv;

  /**
   * A new simulation on the topology of docs/block-replication.txt, or, given a snapshot, the
   * saved simulation exactly as it was (its images' stores must hold the saved bytes).
   */
  constructor(
    readonly settings: SimulationSettings,
    createStore: StoreFactory,
    snapshot?: SimulationSnapshot,
  ) {
    this.prng = new Prng(settings.seed);
    this.env = { scheduler: this.scheduler, events: this.events };
    this.link = new NbdLink(this.env, settings.nbdLatencyUs);
    const hostSettings = { copyTimeUs: settings.copyTimeUs, nextRequestId: () => this.nextRequestNumber++ };
    this.primary = new Host('primary', this.env, hostSettings);
    this.secondary = new Host('secondary', this.env, hostSettings);
    if (!snapshot) {
      buildTopology(this.env, this.primary, this.secondary, this.link, settings, createStore);
      return;
    }
    const restored = restoreSimulation(snapshot, {
      env: this.env,
      primary: this.primary,
      secondary: this.secondary,
      link: this.link,
      createStore,
      startWorkload: (state) => {
        this.workloadValue = new Workload(this, state.settings);
        return this.workloadValue;
      },
    });
    this.prng.restore(restored.prng);
    this.coloStateValue = restored.coloState;
    this.vmsRunningValue = restored.vmsRunning;
    this.nextRequestNumber = restored.nextRequestNumber;
  }

  /**
   * Nothing in flight that a snapshot could not hold: no request, no NBD message, no checkpoint
   * draining, no failover under way. A running commit job and a workload are fine; they are saved with their timers.
   */
  isQuiescent(): boolean {
    return this.requestsInFlight === 0 && this.link.messagesInTransit === 0 && this.idleWaiters.length === 0 && this.coloStateValue !== 'failing-over';
  }

  /** The whole state but the images' bytes (those are in their stores). Only when quiescent. */
  snapshot(): SimulationSnapshot {
    if (!this.isQuiescent()) throw new Error('snapshot() needs a quiescent simulation: requests are in flight');
    return takeSnapshot({
      settings: this.settings,
      nowUs: this.nowUs,
      nextRequestNumber: this.nextRequestNumber,
      prng: this.prng.snapshot(),
      coloState: this.coloStateValue,
      vmsRunning: this.vmsRunningValue,
      linkUp: this.link.isUp,
      primary: this.primary,
      secondary: this.secondary,
      ...(this.workloadValue ? { workload: this.workloadValue.saveState() } : {}),
    });
  }

  get vmsRunning(): boolean {
    return this.vmsRunningValue;
  }

  get workload(): Workload | undefined {
    return this.workloadValue;
  }

  /** Starts (or replaces, or with undefined stops) the random guest workload. */
  setWorkload(settings: WorkloadSettings | undefined): void {
    this.workloadValue?.stop();
    this.workloadValue = settings ? new Workload(this, settings) : undefined;
    this.workloadValue?.start();
  }

  get nowUs(): number {
    return this.scheduler.nowUs;
  }

  get coloState(): ColoState {
    return this.coloStateValue;
  }

  host(name: HostName): Host {
    return name === 'primary' ? this.primary : this.secondary;
  }

  /** A node by name on either host (names are unique across the pair). */
  findNode(name: string): BlockNode | undefined {
    return this.primary.graph.node(name) ?? this.secondary.graph.node(name);
  }

  hostOfNode(name: string): HostName | undefined {
    if (this.primary.graph.node(name)) return 'primary';
    if (this.secondary.graph.node(name)) return 'secondary';
    return undefined;
  }

  replicationNode(name: string): ReplicationNode | undefined {
    const node = this.findNode(name);
    return node instanceof ReplicationNode ? node : undefined;
  }

  image(name: string): ImageNode | undefined {
    const node = this.findNode(name);
    return node instanceof ImageNode ? node : undefined;
  }

  // ---- I/O -------------------------------------------------------------------------------

  /**
   * Issues a read through a node. A node with a BlockBackend of its own (the NBD export, the
   * guests' disks) is reached through that backend, so the request passes every filter QEMU
   * has put above it, as a real request would.
   */
  read(nodeName: string, offsetBytes: number, lengthBytes: number, origin: IoOrigin = 'step'): Future<ReadResult> {
    return this.issue(nodeName, 'read', offsetBytes, lengthBytes, origin, undefined, (entry, ctx) => entry.read(offsetBytes, lengthBytes, ctx));
  }

  write(nodeName: string, offsetBytes: number, data: DataRuns, origin: IoOrigin = 'step'): Future<WriteResult> {
    return this.issue(nodeName, 'write', offsetBytes, data.lengthBytes, origin, data.uniformByte(), (entry, ctx) => entry.write(offsetBytes, data, ctx));
  }

  guestRead(vm: HostName, offsetBytes: number, lengthBytes: number): Future<ReadResult> {
    return this.read(vm === 'primary' ? NODE.coloDisk : NODE.topDisk, offsetBytes, lengthBytes, vm === 'primary' ? 'primary-vm' : 'secondary-vm');
  }

  guestWrite(vm: HostName, offsetBytes: number, data: DataRuns): Future<WriteResult> {
    return this.write(vm === 'primary' ? NODE.coloDisk : NODE.topDisk, offsetBytes, data, vm === 'primary' ? 'primary-vm' : 'secondary-vm');
  }

  /** The node a request addressed to `nodeName` enters: its own backend's root, or the node. */
  entryNode(nodeName: string): BlockNode {
    const hostName = this.hostOfNode(nodeName);
    if (!hostName) throw new Error(`unknown node ${nodeName}`);
    const graph = this.host(hostName).graph;
    const backend = graph.backends.find((candidate) => candidate.attachedNodeName === nodeName);
    return backend?.root ?? graph.node(nodeName)!;
  }

  private issue<T extends ReadResult | WriteResult>(
    nodeName: string,
    io: IoKind,
    offsetBytes: number,
    lengthBytes: number,
    origin: IoOrigin,
    fillByte: number | undefined,
    request: (entry: BlockNode, ctx: IoContext) => Co<T>,
  ): Future<T> {
    const entry = this.entryNode(nodeName);
    const ctx: IoContext = { requestId: this.nextRequestNumber++, origin };
    const requestId = ctx.requestId;
    this.events.emit({ kind: 'io-issued', requestId, origin, node: nodeName, io, offsetBytes, lengthBytes, ...(fillByte === undefined ? {} : { fillByte }) });
    this.requestsInFlight++;
    const future = spawn(this.scheduler, request(entry, ctx));
    const finished = new Future<T>();
    future.onSettled((result) => {
      this.requestsInFlight--;
      this.events.emit({ kind: 'io-completed', requestId, origin, node: nodeName, io, offsetBytes, lengthBytes, ...(result.ok ? {} : { errno: result.errno }) });
      if (this.requestsInFlight === 0) for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
      finished.resolve(result);
    });
    return finished;
  }

  get inFlightRequests(): number {
    return this.requestsInFlight;
  }

  /** No request in flight and no block job with work left (the sync=none backup job never has any). */
  isIdle(): boolean {
    return this.requestsInFlight === 0 && !this.primary.jobs.busy && !this.secondary.jobs.busy;
  }

  // ---- time ------------------------------------------------------------------------------

  runFor(durationUs: number): void {
    this.scheduler.runUntilTime(this.scheduler.nowUs + durationUs);
  }

  /** Runs until idle; returns false if the queue empties first (nothing can make progress). */
  runUntilIdle(): boolean {
    while (!this.isIdle()) {
      if (!this.scheduler.runNext()) return false;
    }
    return true;
  }

  /** Runs the clock until `future` settles. */
  settle<T>(future: { readonly isSettled: boolean; readonly value: T }): T {
    while (!future.isSettled) {
      if (!this.scheduler.runNext()) throw new Error('the simulation stalled: a request can never complete');
    }
    return future.value;
  }

  // ---- replication and COLO --------------------------------------------------------------

  replication(hostName: HostName, action: ReplicationAction, options: { mode?: ReplicationMode; failover?: boolean } = {}): StepOutcome {
    return fromAll(this.host(hostName).runAction(action, options));
  }

  openReplication(hostName: HostName, options: ReplicationOpenOptions): StepOutcome {
    const outcome = this.host(hostName).openReplication(options);
    return outcome.outcome === 'error' ? { ok: false, message: outcome.message } : OK;
  }

  /** migration/colo.c: the secondary starts replication first, then the primary. */
  coloStart(): StepOutcome {
    const secondary = this.secondary.startAll('secondary');
    if (!secondary.ok) return this.reportColo('start', fromAll(secondary));
    const primary = this.primary.startAll('primary');
    if (!primary.ok) return this.reportColo('start', fromAll(primary));
    this.coloStateValue = 'running';
    return this.reportColo('start', OK);
  }

  /**
   * One COLO checkpoint: both VMs stop (draining I/O, so in-flight forwarded writes land), the
   * primary checkpoints, the secondary checks get-error and checkpoints. The first error fails
   * the whole checkpoint.
   */
  checkpoint(): Future<StepOutcome> {
    const self = this;
    return spawn(this.scheduler, (function* (): Co<StepOutcome> {
      self.events.emit({ kind: 'colo', phase: 'checkpoint-begin' });
      self.setVmsRunning(false);
      yield* self.drain();
      let outcome: StepOutcome = fromAll(self.primary.checkpointAll());
      if (outcome.ok) outcome = fromAll(self.secondary.getErrorAll());
      if (outcome.ok) outcome = fromAll(self.secondary.checkpointAll());
      self.setVmsRunning(true);
      return self.reportColo('checkpoint-end', outcome);
    })());
  }

  /**
   * x-colo-lost-heartbeat on the survivor: the other host is gone (its link is down).
   * colo_do_failover stops the VMs first (vm_stop drains every request, so forwards still on
   * the wire fail before replication stops), then the survivor stops replication with
   * failover and its VM runs on. QEMU only logs the stop's errors and fails over anyway; the
   * step reports them.
   */
  failover(to: HostName): Future<StepOutcome> {
    const self = this;
    return spawn(this.scheduler, (function* (): Co<StepOutcome> {
      // qmp_x_colo_lost_heartbeat: get_colo_mode() is NONE before COLO and after a failover.
      if (self.coloStateValue === 'off' || self.coloStateValue === 'failed-over') {
        return self.reportColo('failover', { ok: false, message: MESSAGES.notInColoMode }, to);
      }
      if (self.coloStateValue === 'failing-over') return self.reportColo('failover', { ok: false, message: MESSAGES.failoverAlreadyActive }, to);
      self.coloStateValue = 'failing-over';
      self.events.emit({ kind: 'colo', phase: 'failover-begin', to });
      self.setVmsRunning(false);
      self.link.setUp(false);
      yield* self.drain();
      const stopped = fromAll(self.host(to).stopAll(true));
      if (to === 'primary') {
        const coloDisk = self.primary.graph.node(NODE.coloDisk);
        if (coloDisk instanceof QuorumNode && coloDisk.removeChild('children.1')) {
          self.events.emit({ kind: 'graph-changed', host: 'primary', change: `x-blockdev-change: ${NODE.replicationPrimary} removed from ${NODE.coloDisk} (children.1)` });
        }
      }
      self.coloStateValue = 'failed-over';
      self.setVmsRunning(true);
      return self.reportColo('failover', stopped, to);
    })());
  }

  private *drain(): Co<void> {
    while (this.requestsInFlight > 0) {
      const idle = new Future<void>();
      this.idleWaiters.push(idle);
      yield* awaitFuture(idle);
    }
  }

  private setVmsRunning(running: boolean): void {
    this.vmsRunningValue = running;
    this.events.emit({ kind: 'vm-state', vm: 'primary', running });
    this.events.emit({ kind: 'vm-state', vm: 'secondary', running });
  }

  private reportColo(phase: 'start' | 'checkpoint-end' | 'failover', outcome: StepOutcome, to?: HostName): StepOutcome {
    this.events.emit({ kind: 'colo', phase, ...(to ? { to } : {}), ...(outcome.ok ? {} : { error: outcome.message }) });
    return outcome;
  }

  // ---- faults ----------------------------------------------------------------------------

  injectFault(fault: Fault): StepOutcome {
    switch (fault.kind) {
      case 'io-error': {
        const node = this.findNode(fault.node);
        if (!node) return { ok: false, message: `no node named ${fault.node}` };
        node.faults.add(fault.on, fault.count);
        this.events.emit({ kind: 'fault-injected', description: `I/O error on ${fault.node} (${fault.on}${fault.count === undefined ? ', until cleared' : `, ${fault.count} time${fault.count === 1 ? '' : 's'}`})` });
        return OK;
      }
      case 'link-down':
      case 'link-up':
        this.link.setUp(fault.kind === 'link-up');
        this.events.emit({ kind: 'fault-injected', description: fault.kind === 'link-up' ? 'NBD link restored' : 'NBD link down' });
        return OK;
      case 'cancel-job': {
        const job = this.host(fault.host).jobs.ofType(fault.type);
        if (!job) return { ok: false, message: `No ${fault.type} job is running on the ${fault.host} host` };
        this.events.emit({ kind: 'fault-injected', description: `${fault.type} job ${job.id} cancelled` });
        job.cancel();
        return OK;
      }
      case 'eject': {
        const image = this.image(fault.node);
        if (!image) return { ok: false, message: `${fault.node} is not an image` };
        image.ejected = true;
        this.events.emit({ kind: 'medium-ejected', node: fault.node });
        this.events.emit({ kind: 'fault-injected', description: `medium of ${fault.node} ejected` });
        return OK;
      }
      case 'clear':
        for (const host of [this.primary, this.secondary]) {
          for (const node of host.graph.nodes()) {
            node.faults.clear();
            node.ejected = false;
          }
        }
        this.link.setUp(true);
        this.events.emit({ kind: 'fault-cleared' });
        return OK;
    }
  }

  // ---- queries ---------------------------------------------------------------------------

  /** Whether every (`all`) or no (`none`) cluster of the range is allocated in the image's own layer. */
  allocationOf(imageName: string, offsetBytes: number, lengthBytes: number): 'all' | 'none' | 'some' {
    const image = this.image(imageName);
    if (!image) throw new Error(`${imageName} is not an image`);
    let sawAllocated = false;
    let sawUnallocated = false;
    for (let position = offsetBytes; position < offsetBytes + lengthBytes; ) {
      const run = image.allocationAt(position, offsetBytes + lengthBytes - position);
      if (run.allocated) sawAllocated = true;
      else sawUnallocated = true;
      position += run.runBytes;
    }
    if (sawAllocated && sawUnallocated) return 'some';
    return sawAllocated ? 'all' : 'none';
  }

  /** Convenience for tests and tools: a write of one repeated byte, run to completion. */
  writePatternNow(nodeName: string, offsetBytes: number, lengthBytes: number, fillByte: number): WriteResult {
    return this.settle(this.write(nodeName, offsetBytes, DataRuns.fill(lengthBytes, fillByte)));
  }

  readNow(nodeName: string, offsetBytes: number, lengthBytes: number): ReadResult {
    return this.settle(this.read(nodeName, offsetBytes, lengthBytes));
  }
}

function fromAll(outcome: AllOutcome): StepOutcome {
  if (outcome.ok) return OK;
  return outcome.quirk ? { ok: false, message: outcome.message, quirk: outcome.quirk } : { ok: false, message: outcome.message };
}

export { BACKEND, NODE };
