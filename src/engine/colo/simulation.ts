/**
 * A whole COLO pair: two hosts on one virtual clock, joined by an NBD link and a migration
 * channel, with the guests' I/O, QEMU's replication calls, COLO's control plane (colo-control.ts)
 * and fault injection. Time, randomness and storage are passed in; nothing here reads the wall
 * clock.
 */
import { DataRuns } from '../block/data-runs.js';
import { STRERROR, type ReadResult, type WriteResult } from '../block/errno.js';
import type { FaultTarget } from '../block/faults.js';
import { ImageNode } from '../block/image.js';
import { FrameTable, isSuspended, type FrameOwner, type FrameResumer, type IoFrame, type IoOutcome, type IoResult } from '../block/io-frames.js';
import { NbdClientNode, NbdLink, type NbdExportResolver } from '../block/nbd.js';
import type { BlockEnv, BlockNode, IoContext } from '../block/node.js';
import { QuorumNode } from '../block/quorum.js';
import { CommitJob } from '../jobs/commit-job.js';
import { MirrorJob } from '../jobs/mirror-job.js';
import type { EngineAction } from '../sim/actions.js';
import type { JobType } from '../sim/events.js';
import { EventBus, type HostName, type IoKind, type IoOrigin, type ReplicationAction, type ReplicationMode, type SimEvent } from '../sim/events.js';
import { Prng } from '../sim/prng.js';
import { Scheduler } from '../sim/scheduler.js';
import type { SectorStore, StoreFactory } from '../store.js';
import { ReplicationNode } from '../replication/replication-node.js';
import { Host, type AllOutcome, type ReplicationOpenOptions } from './host.js';
import { ColoControl, initialColoControlState } from './colo-control.js';
import { clonePlain } from '../block/saved-data.js';
import { restoreSimulation, takeSnapshot, type RootRequest, type SimulationSnapshot } from './snapshot.js';
import { Workload, type WorkloadSettings } from './workload.js';
import { BACKEND, buildRestartedSecondary, buildTopology, NODE } from './topology.js';
import { dropHostProcess, otherHost, swapRoles } from './host-lifecycle.js';
import { RawImage } from '../block/raw-image.js';

export interface SimulationSettings {
  readonly diskSizeBytes: number;
  /** qcow2 cluster size of the active and hidden disks. */
  readonly clusterSizeBytes: number;
  readonly seed: number;
  /** One-way delay of an NBD message. */
  readonly nbdLatencyUs: number;
  /** Virtual time the active commit takes to copy one granule. */
  readonly copyTimeUs: number;
  /** Virtual time the secondary takes to load a checkpoint's device state (the window in which a failover relaunches). */
  readonly vmstateLoadUs: number;
}

export const DEFAULT_SETTINGS: SimulationSettings = {
  diskSizeBytes: 64 * 1024 * 1024,
  clusterSizeBytes: 64 * 1024,
  seed: 1,
  nbdLatencyUs: 500,
  copyTimeUs: 200,
  vmstateLoadUs: 1000,
};

/** What a control step did: success (with a QMP command's return value), or QEMU's message. */
export type StepOutcome = { readonly ok: true; readonly note?: string; readonly value?: unknown } | { readonly ok: false; readonly message: string; readonly quirk?: string };

/**
 * The pair's COLO state at a glance: `starting` while the primary waits for CHECKPOINT_READY,
 * `exited` when a COLO thread left its loop on an error and waits for a failover,
 * `failing-over` while a failover is requested or under way, `failed-over` once one completed.
 */
export type ColoState = 'off' | 'starting' | 'running' | 'exited' | 'failing-over' | 'failed-over';

export type Fault =
  | { readonly kind: 'io-error'; readonly node: string; readonly on: FaultTarget; readonly count?: number }
  | { readonly kind: 'link-down' }
  | { readonly kind: 'link-up' }
  | { readonly kind: 'link-hang' }
  | { readonly kind: 'host-down'; readonly host: HostName }
  | { readonly kind: 'cancel-job'; readonly host: HostName; readonly type: JobType }
  | { readonly kind: 'eject'; readonly node: string }
  | { readonly kind: 'clear' };

const OK: StepOutcome = { ok: true };

/**
 * Something the simulation will answer later: a request's result or a COLO operation's outcome.
 * Plain data (a kind and an id), so whoever waits for it (a scenario's async step) can be saved
 * and restored with the simulation; `Simulation.settle` runs the clock until it is answered.
 */
export class Pending<T> {
  declare private readonly answerType: T;
  constructor(
    readonly kind: 'request' | 'operation',
    readonly id: number,
  ) {}
}

const REQUEST_COMPLETE = 'request-complete';
const SETTLE_LIMIT_US = 3_600_000_000;

export class Simulation implements FrameResumer {
  readonly scheduler = new Scheduler<EngineAction>();
  readonly events = new EventBus(() => this.scheduler.nowUs);
  readonly frames = new FrameTable((owner) => this.resumerOf(owner));
  readonly prng: Prng;
  readonly link: NbdLink;
  private primaryHost!: Host;
  private secondaryHost!: Host;
  private control!: ColoControl;
  private requestsInFlight = 0;
  /** Requests in flight by the host they were issued on (vm_stop drains its own host's). */
  private inFlightByHost: Record<HostName, number> = { primary: 0, secondary: 0 };
  private nextRequestNumber = 1;
  private nextOperationNumber = 1;
  private hostRestarts = 0;
  private workloadValue: Workload | undefined;
  /** Answers of watched requests and of operations, until whoever waits takes them. */
  private readonly requestResults = new Map<number, IoResult>();
  private readonly operationResults = new Map<number, StepOutcome>();
  private readonly env: BlockEnv;

  /**
   * A new simulation on the topology of docs/block-replication.txt, or, given a snapshot, the
   * saved simulation exactly as it was, requests in flight included (its images' stores must
   * hold the saved bytes). Throws when the snapshot does not fit together.
   */
  constructor(
    readonly settings: SimulationSettings,
    private readonly createStore: StoreFactory,
    snapshot?: SimulationSnapshot,
  ) {
    this.prng = new Prng(settings.seed);
    this.scheduler.dispatch = (action) => this.dispatch(action);
    this.env = { scheduler: this.scheduler, events: this.events, frames: this.frames };
    this.link = new NbdLink(this.env, settings.nbdLatencyUs);
    this.link.onDown = () => this.control.onLinkDown();
    this.link.onHung = () => this.control.onLinkHung();
    this.link.onRecovered = () => this.control.onLinkRecovered();
    this.events.subscribe((event) => {
      if (event.kind !== 'quorum-child-failed') return;
      const host = this.hostOfNode(event.node);
      if (host) this.control.emitQmpEvent(host, 'QUORUM_REPORT_BAD', quorumReportBadData(event));
    });
    this.build(snapshot, createStore);
  }

  get primary(): Host {
    return this.primaryHost;
  }

  get secondary(): Host {
    return this.secondaryHost;
  }

  get colo(): ColoControl {
    return this.control;
  }

  /** Both hosts and the control plane, new (topology) or from a snapshot; the clock, queue, frames and link are restored in place. */
  private build(snapshot: SimulationSnapshot | undefined, createStore: StoreFactory): void {
    const hostSettings = { copyTimeUs: this.settings.copyTimeUs, nextRequestId: () => this.nextRequestNumber++ };
    this.primaryHost = new Host('primary', this.env, hostSettings);
    this.secondaryHost = new Host('secondary', this.env, hostSettings);
    this.control = new ColoControl(snapshot ? clonePlain(snapshot.colo) : initialColoControlState(), {
      scheduler: this.scheduler,
      events: this.events,
      latencyUs: this.settings.nbdLatencyUs,
      vmstateLoadUs: this.settings.vmstateLoadUs,
      replication: (host) => {
        const target = this.host(host);
        return {
          startAll: (mode) => target.startAll(mode),
          checkpointAll: () => target.checkpointAll(),
          getErrorAll: () => target.getErrorAll(),
          stopAll: (failover) => target.stopAll(failover),
        };
      },
      inFlightOn: (host) => this.inFlightByHost[host],
      linkIsUp: () => this.link.isUp,
      takeLinkDown: () => this.link.setUp(false),
      detachPrimaryReplication: () => this.detachPrimaryReplication(),
      answerOperation: (operation, outcome) => this.answerColoOperation(operation.id, operation.kind, operation.kind === 'failover' ? operation.to : undefined, outcome),
    });
    this.requestsInFlight = 0;
    this.inFlightByHost = { primary: 0, secondary: 0 };
    this.requestResults.clear();
    this.operationResults.clear();
    this.workloadValue = undefined;
    if (!snapshot) {
      buildTopology(this.env, this.primaryHost, this.secondaryHost, this.link, this.settings, createStore, this.resolveExport);
      return;
    }
    const restored = restoreSimulation(snapshot, {
      env: this.env,
      primary: this.primaryHost,
      secondary: this.secondaryHost,
      link: this.link,
      createStore,
      resolveExport: this.resolveExport,
      mirrorEvents: (host) => (name, data) => this.control.emitQmpEvent(host, name, data),
      startWorkload: (state) => {
        this.workloadValue = new Workload(this, state.settings);
        this.workloadValue.resume(state);
      },
    });
    this.prng.restore(restored.prng);
    this.hostRestarts = restored.hostRestarts;
    this.nextRequestNumber = restored.nextRequestNumber;
    this.nextOperationNumber = restored.nextOperationNumber;
    for (const [requestId, result] of restored.requestResults) this.requestResults.set(requestId, result);
    for (const [operationId, outcome] of restored.operationResults) this.operationResults.set(operationId, outcome);
    for (const frame of this.frames.all()) {
      if (frame.owner.kind !== 'request') continue;
      this.requestsInFlight++;
      this.inFlightByHost[(frame.state as RootRequest).host]++;
    }
  }

  /**
   * Rebuilds the whole simulation from `snapshot` inside this object (listeners stay
   * subscribed), each image keeping its own store: a change of the pair's shape (roles swapped,
   * a host restarted) is a snapshot transformed and restored.
   */
  private rebuildFrom(snapshot: SimulationSnapshot, freshStores: StoreFactory): void {
    const stores = new Map<string, SectorStore>();
    for (const host of [this.primaryHost, this.secondaryHost]) {
      for (const node of host.graph.nodes()) if (node instanceof ImageNode) stores.set(node.nodeName, node.sectorStore);
    }
    this.workloadValue?.stop();
    this.scheduler.clear();
    this.frames.clear();
    this.build(snapshot, (options) => stores.get(options.imageName) ?? freshStores(options));
  }

  /**
   * A host lost in a failover comes back as the secondary of a new pair (COLO-FT.txt, "Start the
   * new Secondary (Steps 2 and 3 above)"): when the survivor was the secondary it becomes the
   * primary first (roles are names); the lost host's old QEMU is gone with everything it held but
   * its disk (`kept`) or not even that (`fresh`: a new empty disk); its new QEMU waits for the
   * migration with new empty active and hidden disks, its NBD server exporting its disk. The
   * survivor's side of the runbook (drive-mirror, drive_add, x-blockdev-change, migrate) is QMP.
   */
  restartHost(lost: HostName, disks: 'kept' | 'fresh'): StepOutcome {
    if (!this.control.process(lost).state.crashed) return { ok: false, message: `The ${lost} host is running: only a host lost in a failover can be restarted` };
    const survivor = otherHost(lost);
    if (this.control.process(survivor).state.failover !== 'completed') {
      return { ok: false, message: `The ${survivor} host has not completed its failover: restart the lost host once the survivor runs alone` };
    }
    const keptName = disks === 'kept' ? [...this.host(lost).graph.nodes()].find((node) => node instanceof RawImage)?.nodeName : undefined;
    let snapshot = this.snapshot();
    const swapped = lost === 'primary';
    if (swapped) snapshot = swapRoles(snapshot);
    snapshot = dropHostProcess(snapshot, 'secondary', new Set(keptName === undefined ? [] : [keptName]));
    const generation = this.hostRestarts + 2;
    this.rebuildFrom({ ...snapshot, hostRestarts: this.hostRestarts + 1 }, this.createStore);
    if (swapped) this.events.emit({ kind: 'host-lifecycle', host: 'primary', change: 'the surviving secondary is the primary of the new pair (hosts are named by their role)' });
    const host = this.secondaryHost;
    const kept = keptName === undefined ? undefined : (host.graph.node(keptName) as RawImage);
    const exported = buildRestartedSecondary(this.env, host, this.settings, this.createStore, generation, kept);
    // The machine is back on the network.
    this.link.setUp(true);
    this.events.emit({
      kind: 'host-lifecycle',
      host: 'secondary',
      change: `the lost host restarted as the new secondary (${kept ? `its disk ${exported} kept` : `a new empty disk ${exported}`}), waiting for the migration; NBD export ${exported}`,
    });
    return OK;
  }

  /**
   * blockdev-del (and HMP drive_del of a node): QEMU's checks in blockdev.c's order, then the
   * node is closed (replication_close: stop(false) while running, the commit cancelled and
   * waited for during a failover) and goes with the implicit NBD client it opened. Nodes from
   * the command line (-drive) are not the monitor's to delete.
   */
  deleteBlockNode(hostName: HostName, nodeName: string): StepOutcome {
    const host = this.host(hostName);
    const node = host.graph.node(nodeName);
    if (!node) return { ok: false, message: `Failed to find node with node-name='${nodeName}'` };
    if (host.graph.hasBackend(node)) return { ok: false, message: `Node ${nodeName} is in use` };
    if (!host.monitorOwned.has(nodeName)) return { ok: false, message: `Node ${nodeName} is not owned by the monitor` };
    if (host.graph.parentsOf(node).length > 0) return { ok: false, message: `Block device ${nodeName} is in use` };
    if (node instanceof ReplicationNode) {
      if (node.stage === 'running') node.stop(false);
      const commit = node.commit;
      if (node.stage === 'failover' && commit) {
        // job_cancel_sync: the monitor waits for the cancelled commit to end.
        commit.cancel();
        while (host.jobs.get(commit.id) && this.scheduler.runNext()) {
          // the clock runs while the monitor waits
        }
      }
      host.unregisterReplicationNode(node);
    }
    const children = [...node.children.values()];
    node.children.clear();
    host.graph.remove(node);
    host.monitorOwned.delete(nodeName);
    this.events.emit({ kind: 'graph-changed', host: hostName, change: `${nodeName} deleted${node instanceof ReplicationNode ? ' (replication_close)' : ''}` });
    for (const child of children) {
      if (child instanceof NbdClientNode && host.graph.node(child.nodeName) === child && host.graph.parentsOf(child).length === 0 && !host.monitorOwned.has(child.nodeName)) {
        host.graph.remove(child);
        this.events.emit({ kind: 'graph-changed', host: hostName, change: `${child.nodeName} (the NBD connection ${nodeName} opened) closed` });
      }
    }
    return OK;
  }

  /** QMP yank of an NBD client (nbd_yank): its requests on the wire fail now, and every later one. */
  yankNbdClient(hostName: HostName, nodeName: string): void {
    const client = this.host(hostName).graph.node(nodeName);
    if (!(client instanceof NbdClientNode)) return;
    const owned = [...this.frames.all()].filter((frame) => frame.owner.kind === 'node' && frame.owner.host === hostName && frame.owner.node === nodeName);
    client.yank(owned);
    this.events.emit({ kind: 'graph-changed', host: hostName, change: `yank: ${nodeName}'s NBD connection shut down` });
  }

  /** An NBD client node on `host` connected to `exportName` on `serverHost` (the caller has checked the connection). */
  createNbdClient(host: HostName, nodeName: string, serverHost: HostName, exportName: string): NbdClientNode {
    const client = new NbdClientNode(nodeName, host, this.env, this.link, serverHost, exportName, this.settings.diskSizeBytes, this.resolveExport);
    this.host(host).graph.add(client);
    this.events.emit({ kind: 'graph-changed', host, change: `NBD client ${nodeName} connected to ${serverHost}'s export ${exportName}` });
    return client;
  }

  /**
   * drive-mirror's job on `host` from `source` to `target` (the caller has checked QEMU's
   * preconditions). `sync` none starts clean: only what the guest writes from now is copied.
   */
  startDriveMirror(host: HostName, jobId: string, source: BlockNode, target: BlockNode, granularityBytes: number): MirrorJob {
    const job = new MirrorJob(
      this.env,
      this.host(host).jobs,
      this.host(host).graph,
      { source, target, granularityBytes, sizeBytes: source.lengthBytes() ?? 0, copyTimeUs: this.settings.copyTimeUs, requestId: () => this.nextRequestNumber++ },
      (name, data) => this.control.emitQmpEvent(host, name, data),
      jobId,
    );
    job.start();
    return job;
  }

  /** x-blockdev-change at a failover to the primary: the primary replication child leaves the VM's quorum. */
  private detachPrimaryReplication(): void {
    const root = this.primaryHost.graph.backendNamed(this.primaryHost.vmBackendName)?.root;
    const quorum = root instanceof QuorumNode ? root : undefined;
    if (!quorum) return;
    const child = quorum.orderedChildren().find((candidate) => candidate.node instanceof ReplicationNode && candidate.node.mode === 'primary');
    if (child && quorum.deleteChild(child.role).ok) {
      this.events.emit({ kind: 'graph-changed', host: 'primary', change: `x-blockdev-change: ${child.node.nodeName} removed from ${quorum.nodeName} (${child.role})` });
    }
  }

  /**
   * The whole state but the images' bytes (those are in their stores), at any instant between
   * two scheduler entries: requests in flight, messages on the wire, timers, jobs, COLO.
   */
  snapshot(): SimulationSnapshot {
    return takeSnapshot({
      settings: this.settings,
      scheduler: this.scheduler.snapshot(),
      eventSequence: this.events.nextSequenceValue,
      frames: this.frames.snapshot(),
      nextRequestNumber: this.nextRequestNumber,
      nextOperationNumber: this.nextOperationNumber,
      prng: this.prng.snapshot(),
      link: this.link.snapshot(),
      colo: this.colo.state,
      requestResults: [...this.requestResults],
      operationResults: [...this.operationResults],
      primary: this.primary,
      secondary: this.secondary,
      workload: this.workloadValue?.saveState(),
      hostRestarts: this.hostRestarts,
    });
  }

  /** An NBD client's export: looked up on its server's host when a request arrives. */
  private readonly resolveExport: NbdExportResolver = (serverHost, exportName) => this.host(serverHost).nbdServer.exportOf(exportName);

  /** Whether a VM runs (the workload writes only through running VMs). */
  vmRunning(vm: HostName): boolean {
    return this.colo.process(vm).isRunning;
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
    return this.colo.summaryState();
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
   * has put above it, as a real request would. The answer is kept for `settle` unless
   * `watch` is false (the workload's writes, which nobody waits for).
   */
  read(nodeName: string, offsetBytes: number, lengthBytes: number, origin: IoOrigin = 'step', options: { watch?: boolean } = {}): Pending<ReadResult> {
    return this.issue(nodeName, 'read', offsetBytes, lengthBytes, origin, undefined, options.watch ?? true, (entry, ctx) => entry.read(offsetBytes, lengthBytes, ctx));
  }

  write(nodeName: string, offsetBytes: number, data: DataRuns, origin: IoOrigin = 'step', options: { watch?: boolean } = {}): Pending<WriteResult> {
    return this.issue(nodeName, 'write', offsetBytes, data.lengthBytes, origin, data.uniformByte(), options.watch ?? true, (entry, ctx) => entry.write(offsetBytes, data, ctx));
  }

  /** A flush issued at `nodeName` (through its backend, as a read or write would be). */
  flush(nodeName: string, origin: IoOrigin = 'step'): Pending<WriteResult> {
    return this.issue(nodeName, 'flush', 0, 0, origin, undefined, true, (entry, ctx) => entry.flush(ctx));
  }

  /** The guest flushes its disk (the VM's BlockBackend: bdrv_co_flush from its root). */
  guestFlush(vm: HostName): Pending<WriteResult> {
    return this.flush(this.vmDiskNode(vm), vmOrigin(vm));
  }

  /** The node the VM's disk device was attached to (its BlockBackend goes through whatever sits above it now). */
  vmDiskNode(vm: HostName): string {
    const host = this.host(vm);
    const backend = host.graph.backendNamed(host.vmBackendName);
    if (!backend) throw new Error(`the ${vm} host has no VM disk`);
    return backend.attachedNodeName;
  }

  guestRead(vm: HostName, offsetBytes: number, lengthBytes: number): Pending<ReadResult> {
    return this.read(this.vmDiskNode(vm), offsetBytes, lengthBytes, vmOrigin(vm));
  }

  guestWrite(vm: HostName, offsetBytes: number, data: DataRuns, options: { watch?: boolean } = {}): Pending<WriteResult> {
    return this.write(this.vmDiskNode(vm), offsetBytes, data, vmOrigin(vm), options);
  }

  /** The node a request addressed to `nodeName` enters: its own backend's root, or the node. */
  entryNode(nodeName: string): BlockNode {
    const hostName = this.hostOfNode(nodeName);
    if (!hostName) throw new Error(`unknown node ${nodeName}`);
    const graph = this.host(hostName).graph;
    const backend = graph.backends.find((candidate) => candidate.attachedNodeName === nodeName);
    return backend?.root ?? graph.node(nodeName)!;
  }

  private issue<R extends IoResult>(
    nodeName: string,
    io: IoKind,
    offsetBytes: number,
    lengthBytes: number,
    origin: IoOrigin,
    fillByte: number | undefined,
    watched: boolean,
    request: (entry: BlockNode, ctx: IoContext) => IoOutcome<R>,
  ): Pending<R> {
    const entry = this.entryNode(nodeName);
    const requestId = this.nextRequestNumber++;
    const ctx: IoContext = { requestId, origin };
    this.events.emit({ kind: 'io-issued', requestId, origin, node: nodeName, io, offsetBytes, lengthBytes, ...(fillByte === undefined ? {} : { fillByte }) });
    const host = entry.host;
    this.requestsInFlight++;
    this.inFlightByHost[host]++;
    const root: RootRequest = { requestId, origin, node: nodeName, host, io, offsetBytes, lengthBytes, watched };
    const outcome = request(entry, ctx);
    if (isSuspended(outcome)) this.frames.suspendOn(outcome, { kind: 'request', requestId }, REQUEST_COMPLETE, root);
    else this.completeRequest(root, outcome);
    return new Pending<R>('request', requestId);
  }

  private completeRequest(root: RootRequest, result: IoResult): void {
    this.requestsInFlight--;
    this.inFlightByHost[root.host]--;
    const { requestId, origin, node, io, offsetBytes, lengthBytes } = root;
    this.events.emit({ kind: 'io-completed', requestId, origin, node, io, offsetBytes, lengthBytes, ...(result.ok ? {} : { errno: result.errno }) });
    if (root.watched) this.requestResults.set(requestId, result);
    // vm_stop's drain is over: COLO goes on in its own turn of the main loop.
    if (this.inFlightByHost[root.host] === 0) this.colo.onDrained(root.host);
  }

  /** The frame of a request's issuer: the request completes. */
  resumeFrame(frame: IoFrame, _slot: number, result: IoResult): IoOutcome {
    if (frame.step !== REQUEST_COMPLETE) throw new Error(`a request has no step ${frame.step}`);
    this.completeRequest(frame.state as RootRequest, result);
    return result;
  }

  get inFlightRequests(): number {
    return this.requestsInFlight;
  }

  /** No request in flight, no block job with work left (the sync=none backup job never has any) and no failover on its way. */
  isIdle(): boolean {
    return this.requestsInFlight === 0 && !this.primary.jobs.busy && !this.secondary.jobs.busy && !this.control.failoverPending();
  }

  /** Whether `pending` has been answered (and not yet taken by settle). */
  isSettled(pending: Pending<unknown>): boolean {
    return pending.kind === 'request' ? this.requestResults.has(pending.id) : this.operationResults.has(pending.id);
  }

  /** The answer to `pending` if it has come (and not been taken by settle), without taking it. */
  peek<T>(pending: Pending<T>): T | undefined {
    return (pending.kind === 'request' ? this.requestResults.get(pending.id) : this.operationResults.get(pending.id)) as T | undefined;
  }

  /**
   * Runs the clock until `pending` is answered, and takes the answer. Throws when nothing can
   * answer it any more (the queue is empty, or an hour of virtual time passed, which with a
   * workload running means it waits for something that never comes).
   */
  settle<T>(pending: Pending<T>): T {
    const results: Map<number, unknown> = pending.kind === 'request' ? this.requestResults : this.operationResults;
    const giveUpAtUs = this.nowUs + SETTLE_LIMIT_US;
    while (!results.has(pending.id)) {
      if (!this.scheduler.runNext() || this.nowUs > giveUpAtUs) throw new Error('the simulation stalled: a request can never complete');
    }
    const answer = results.get(pending.id) as T;
    results.delete(pending.id);
    return answer;
  }

  // ---- the scheduler's actions -------------------------------------------------------------

  private dispatch(action: EngineAction): void {
    this.runAction(action);
    this.colo.checkOperations();
  }

  private runAction(action: EngineAction): void {
    switch (action.type) {
      case 'nbd-arrive':
      case 'nbd-reply':
      case 'nbd-lost': {
        // A message lost on the way leaves its arrival behind, with its frame long gone.
        const frame = this.frames.get(action.frameId);
        if (!frame) return;
        const client = this.resumerOf(frame.owner);
        if (!(client instanceof NbdClientNode)) throw new Error(`frame ${frame.id} is not an NBD request`);
        if (action.type === 'nbd-arrive') client.onArrive(frame);
        else if (action.type === 'nbd-reply') client.onReply(frame);
        else client.onLost(frame);
        return;
      }
      case 'job-run': {
        const job = this.host(action.host).jobs.get(action.jobId);
        if (!(job instanceof CommitJob) && !(job instanceof MirrorJob)) throw new Error(`no commit or mirror job ${action.jobId} on the ${action.host} host`);
        job.run();
        return;
      }
      case 'workload-arrival':
        this.workloadValue?.arrive();
        return;
      default:
        if (!this.colo.dispatch(action)) throw new Error(`unknown scheduler action ${action.type}`);
    }
  }

  /** The live object behind a frame's owner. Throws when it is gone (a bug: owners outlive their frames). */
  private resumerOf(owner: FrameOwner): FrameResumer {
    switch (owner.kind) {
      case 'request':
        return this;
      case 'node': {
        const node = this.host(owner.host).graph.node(owner.node);
        if (!node) throw new Error(`frame owner ${owner.node} is not on the ${owner.host} host`);
        return node;
      }
      case 'job': {
        const job = this.host(owner.host).jobs.get(owner.jobId);
        if (!(job instanceof CommitJob) && !(job instanceof MirrorJob)) throw new Error(`frame owner job ${owner.jobId} is not on the ${owner.host} host`);
        return job;
      }
    }
  }

  // ---- time ------------------------------------------------------------------------------

  runFor(durationUs: number): void {
    this.scheduler.runUntilTime(this.scheduler.nowUs + durationUs);
  }

  /** Runs exactly `count` scheduler entries, or fewer when the queue empties first; returns how many ran. */
  runEvents(count: number): number {
    let ran = 0;
    while (ran < count && this.scheduler.runNext()) ran++;
    return ran;
  }

  /** Runs until idle; returns false if the queue empties first (nothing can make progress). */
  runUntilIdle(): boolean {
    while (!this.isIdle()) {
      if (!this.scheduler.runNext()) return false;
    }
    return true;
  }

  // ---- replication and COLO --------------------------------------------------------------

  replication(hostName: HostName, action: ReplicationAction, options: { mode?: ReplicationMode; failover?: boolean } = {}): StepOutcome {
    return fromAll(this.host(hostName).runAction(action, options));
  }

  openReplication(hostName: HostName, options: ReplicationOpenOptions): StepOutcome {
    const outcome = this.host(hostName).openReplication(options);
    return outcome.outcome === 'error' ? { ok: false, message: outcome.message } : OK;
  }

  /**
   * colo-start: `migrate-set-capabilities x-colo` and `migrate` on the primary. The secondary's
   * incoming thread starts replication (secondary mode) when the migration stream arrives and
   * sends CHECKPOINT_READY; the primary then starts replication (primary mode). Answered when the
   * primary's COLO thread runs, or with the first error either side logged.
   */
  coloStart(): Pending<StepOutcome> {
    const id = this.nextOperationNumber++;
    this.events.emit({ kind: 'colo', phase: 'start' });
    const immediate = this.colo.start(id);
    if (immediate) this.answerColoOperation(id, 'start', undefined, immediate);
    else this.colo.checkOperations();
    return new Pending<StepOutcome>('operation', id);
  }

  /**
   * One COLO checkpoint, as colo-compare asks for it (colo_checkpoint_notify): the primary's
   * thread runs colo_do_checkpoint_transaction with the secondary's incoming thread. Answered
   * when it completes, with the first error either side logged, or when no checkpoint can run.
   */
  checkpoint(): Pending<StepOutcome> {
    const id = this.nextOperationNumber++;
    this.events.emit({ kind: 'colo', phase: 'checkpoint-begin' });
    const immediate = this.colo.checkpoint(id);
    if (immediate) this.answerColoOperation(id, 'checkpoint', undefined, immediate);
    else this.colo.checkOperations();
    return new Pending<StepOutcome>('operation', id);
  }

  /**
   * The other host is lost (its process stops, the NBD link goes down) and the survivor gets
   * x-colo-lost-heartbeat: colo_do_failover stops its VM (vm_stop drains its requests, so
   * forwards still on the wire fail first) and replication_stop_all(true) runs; its VM then runs
   * on. QEMU only logs the stop's errors and fails over anyway; the step reports them.
   */
  failover(to: HostName): Pending<StepOutcome> {
    const id = this.nextOperationNumber++;
    this.events.emit({ kind: 'colo', phase: 'failover-begin', to });
    const immediate = this.colo.failover(id, to);
    if (immediate) this.answerColoOperation(id, 'failover', to, immediate);
    else this.colo.checkOperations();
    return new Pending<StepOutcome>('operation', id);
  }

  private answerColoOperation(operationId: number, kind: 'start' | 'checkpoint' | 'failover', to: HostName | undefined, outcome: { ok: true } | { ok: false; message: string }): void {
    this.operationResults.set(operationId, outcome.ok ? OK : { ok: false, message: outcome.message });
    const phase = kind === 'checkpoint' ? 'checkpoint-end' : kind === 'failover' ? 'failover' : 'start-end';
    this.events.emit({ kind: 'colo', phase, ...(to ? { to } : {}), ...(outcome.ok ? {} : { error: outcome.message }) });
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
      case 'host-down':
        if (this.control.process(fault.host).state.crashed) return { ok: false, message: `The ${fault.host} host is already lost` };
        this.events.emit({ kind: 'fault-injected', description: `the ${fault.host} host dies: its QEMU stops, the network to it goes down` });
        this.control.loseHost(fault.host);
        return OK;
      case 'link-hang':
        this.link.setState('hung');
        this.events.emit({ kind: 'fault-injected', description: 'link hangs: the peer stops answering, nothing is reset (NBD requests and COLO messages wait)' });
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

function vmOrigin(vm: HostName): IoOrigin {
  return vm === 'primary' ? 'primary-vm' : 'secondary-vm';
}

/**
 * QUORUM_REPORT_BAD's data (quorum_report_bad, block/quorum.c): the operation, strerror of the
 * child's error, the child's node name, and the range in 512-byte sectors (0, 0 for a flush).
 */
function quorumReportBadData(event: Extract<SimEvent, { kind: 'quorum-child-failed' }>): Record<string, unknown> {
  const startSector = Math.floor(event.offsetBytes / 512);
  const endSector = Math.ceil((event.offsetBytes + event.lengthBytes) / 512);
  return { type: event.io, error: STRERROR[event.errno], 'node-name': event.child, 'sector-num': startSector, 'sectors-count': endSector - startSector };
}

function fromAll(outcome: AllOutcome): StepOutcome {
  if (outcome.ok) return OK;
  return outcome.quirk ? { ok: false, message: outcome.message, quirk: outcome.quirk } : { ok: false, message: outcome.message };
}

export { BACKEND, NODE };
