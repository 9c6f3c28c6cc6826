/**
 * Saving and restoring a simulation, at any instant between two scheduler entries: every node
 * of both graphs with its edges and driver state, the block jobs, the requests in flight (their
 * frames), the messages on the wire, the scheduler's queue, the clock, the PRNG, the COLO state.
 * Images' bytes are not here: they stay in their stores, which the app keeps in IndexedDB.
 *
 * A snapshot is plain, structured-clone friendly data and the single description of what a
 * saved simulation is. Every field is required (absent things are `null`), so a field cannot
 * be dropped on the way out or back without a type error; `SNAPSHOT_VERSION` names the shape
 * and `migrateSnapshot` brings older saved shapes up to it.
 */
import type { StepOutcome } from './simulation.js';
import { BlockGraph, BlockBackend } from '../block/graph.js';
import { CopyBeforeWriteFilter } from '../block/copy-before-write.js';
import type { Errno } from '../block/errno.js';
import type { FaultRule } from '../block/faults.js';
import type { FrameTableSnapshot, IoResult } from '../block/io-frames.js';
import { NbdClientNode, type NbdExportResolver, type NbdLink, type NbdLinkSnapshot } from '../block/nbd.js';
import type { NbdServerState } from '../block/nbd-server.js';
import type { BlockEnv, BlockNode, ChildRole, DriverName } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { QuorumNode } from '../block/quorum.js';
import { RawImage } from '../block/raw-image.js';
import { clonePlain, decodeData, encodeData, type SavedData } from '../block/saved-data.js';
import { BackupJob } from '../jobs/backup-job.js';
import { CommitJob, type CommitJobState } from '../jobs/commit-job.js';
import { MirrorJob, type MirrorEventSink, type MirrorJobState } from '../jobs/mirror-job.js';
import { ReplicationNode } from '../replication/replication-node.js';
import type { EngineAction } from '../sim/actions.js';
import type { HostName, IoKind, IoOrigin, ReplicationMode, Stage } from '../sim/events.js';
import type { SchedulerSnapshot } from '../sim/scheduler.js';
import type { StoreFactory } from '../store.js';
import type { Host } from './host.js';
import type { ColoControlState } from './colo-control.js';
import type { SimulationSettings } from './simulation.js';
import { BACKEND } from './topology.js';
import type { WorkloadState } from './workload.js';

export const SNAPSHOT_VERSION = 3;

/** A request as its issuer sees it while it is in flight (the state of its issuer's frame). */
export interface RootRequest {
  readonly requestId: number;
  readonly origin: IoOrigin;
  readonly node: string;
  /** The host the request was issued on (vm_stop on a host drains that host's requests). */
  readonly host: HostName;
  readonly io: IoKind;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  /** Whether the answer is kept for whoever waits for it. */
  readonly watched: boolean;
}

interface NodeCommon {
  readonly name: string;
  readonly ejected: boolean;
  readonly faults: FaultRule[];
  readonly children: Array<[ChildRole, string]>;
}

export type NodeSnapshot = NodeCommon &
  (
    | { readonly driver: 'raw'; readonly filename: string }
    | { readonly driver: 'qcow2'; readonly filename: string; readonly clusterSizeBytes: number; readonly allocatedClusters: number[] }
    | { readonly driver: 'quorum'; readonly voteThreshold: number; readonly nextChildIndex: number }
    | { readonly driver: 'nbd'; readonly serverHost: HostName; readonly exportName: string; readonly quit: boolean }
    | {
        readonly driver: 'replication';
        readonly mode: ReplicationMode;
        readonly topId: string | null;
        readonly stage: Stage;
        readonly error: Errno | 0;
        readonly backupJobId: string | null;
        readonly commitJobId: string | null;
      }
    | { readonly driver: 'copy-before-write'; readonly copiedClusters: number[] }
    | { readonly driver: 'mirror_top' }
  );

export type JobSnapshot =
  | { readonly type: 'backup'; readonly id: string; readonly owner: string; readonly source: string; readonly target: string; readonly clusterSizeBytes: number }
  | {
      readonly type: 'commit';
      readonly id: string;
      readonly owner: string;
      readonly source: string;
      readonly intermediate: string;
      readonly base: string;
      readonly granularityBytes: number;
      readonly state: SavedData;
    }
  | { readonly type: 'mirror'; readonly id: string; readonly source: string; readonly target: string; readonly granularityBytes: number; readonly sizeBytes: number; readonly state: SavedData };

export interface HostSnapshot {
  readonly nodes: NodeSnapshot[];
  readonly backends: Array<{ readonly name: string; readonly root: string | null; readonly attachedNodeName: string }>;
  /** Replication nodes, newest first. */
  readonly replicationOrder: string[];
  readonly jobs: JobSnapshot[];
  readonly nextJobNumber: number;
  readonly nbdServer: NbdServerState;
  /** Nodes blockdev-del may delete (created by the monitor), sorted. */
  readonly monitorOwned: string[];
}

export interface SimulationSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly settings: SimulationSettings;
  readonly scheduler: SchedulerSnapshot<EngineAction>;
  readonly eventSequence: number;
  readonly frames: FrameTableSnapshot;
  readonly nextRequestNumber: number;
  readonly nextOperationNumber: number;
  readonly prng: [number, number, number, number];
  readonly link: NbdLinkSnapshot;
  /** COLO's control plane: both QEMU processes, the migration channel, QMP events, QEMU's log, pending operations. */
  readonly colo: ColoControlState;
  /** Answers of watched requests not yet taken, encoded (a read's bytes are DataRuns). */
  readonly requestResults: Array<[number, SavedData]>;
  readonly operationResults: Array<[number, StepOutcome]>;
  readonly hosts: Record<HostName, HostSnapshot>;
  readonly workload: WorkloadState | null;
  /** How many times a lost host came back as the new secondary (its nodes are named after it: hidden-disk-2, ...). */
  readonly hostRestarts: number;
}

export interface SnapshotSource {
  readonly settings: SimulationSettings;
  readonly scheduler: SchedulerSnapshot<EngineAction>;
  readonly eventSequence: number;
  readonly frames: FrameTableSnapshot;
  readonly nextRequestNumber: number;
  readonly nextOperationNumber: number;
  readonly prng: [number, number, number, number];
  readonly link: NbdLinkSnapshot;
  readonly colo: ColoControlState;
  readonly requestResults: Array<[number, IoResult]>;
  readonly operationResults: Array<[number, StepOutcome]>;
  readonly primary: Host;
  readonly secondary: Host;
  readonly workload: WorkloadState | undefined;
  readonly hostRestarts: number;
}

/**
 * The COLO control state as plain data. The kept QMP events (up to 500 a host) are frozen once
 * emitted, so the snapshot's lists share them: copying them deeply was most of a keyframe's cost.
 */
function snapshotColoState(colo: ColoControlState): ColoControlState {
  const out: Record<string, unknown> = {};
  for (const key in colo) {
    const value = colo[key as keyof ColoControlState];
    out[key] = key === 'qmpEvents' ? shareQmpEvents(colo.qmpEvents) : clonePlain(value);
  }
  return out as unknown as ColoControlState;
}

function shareQmpEvents(logs: ColoControlState['qmpEvents']): ColoControlState['qmpEvents'] {
  const out: Record<string, unknown> = {};
  for (const host in logs) {
    const log = logs[host as keyof typeof logs];
    out[host] = { firstIndex: log.firstIndex, events: log.events.slice() };
  }
  return out as ColoControlState['qmpEvents'];
}

/** Plain data of the whole simulation; shares nothing mutable with it (frozen QMP event records are shared). */
export function takeSnapshot(source: SnapshotSource): SimulationSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    settings: { ...source.settings },
    scheduler: encodeData(source.scheduler) as unknown as SchedulerSnapshot<EngineAction>,
    eventSequence: source.eventSequence,
    frames: source.frames,
    nextRequestNumber: source.nextRequestNumber,
    nextOperationNumber: source.nextOperationNumber,
    prng: [...source.prng],
    link: source.link,
    colo: snapshotColoState(source.colo),
    requestResults: source.requestResults.map(([requestId, result]) => [requestId, encodeData(result)]),
    operationResults: source.operationResults.map(([operationId, outcome]) => [operationId, { ...outcome }]),
    hosts: { primary: snapshotHost(source.primary), secondary: snapshotHost(source.secondary) },
    workload: source.workload ? { ...source.workload, settings: { ...source.workload.settings } } : null,
    hostRestarts: source.hostRestarts,
  };
}

function snapshotHost(host: Host): HostSnapshot {
  const nodes = [...host.graph.nodes()].map(snapshotNode);
  const jobs: JobSnapshot[] = [];
  for (const job of host.jobs.all()) {
    if (job instanceof BackupJob) {
      jobs.push({ type: 'backup', id: job.id, owner: ownerOf(host, job.id), source: job.sourceNode.nodeName, target: job.filter.child('target')!.nodeName, clusterSizeBytes: job.copyState.clusterSizeBytes });
    } else if (job instanceof CommitJob) {
      jobs.push({
        type: 'commit',
        id: job.id,
        owner: ownerOf(host, job.id),
        source: job.sourceNode.nodeName,
        intermediate: job.intermediateNode.nodeName,
        base: job.baseNode.nodeName,
        granularityBytes: job.granularityBytes,
        state: encodeData(job.saveState()),
      });
    } else if (job instanceof MirrorJob) {
      jobs.push({ type: 'mirror', id: job.id, source: job.sourceNode.nodeName, target: job.targetNode.nodeName, granularityBytes: job.granularityBytes, sizeBytes: job.sizeBytes, state: encodeData(job.saveState()) });
    }
  }
  return {
    nodes,
    backends: host.graph.backends.map((backend) => ({ name: backend.name, root: backend.root?.nodeName ?? null, attachedNodeName: backend.attachedNodeName })),
    replicationOrder: host.replicationNodes.map((node) => node.nodeName),
    jobs,
    nextJobNumber: host.jobs.nextJobNumberValue,
    nbdServer: host.nbdServer.saveState(),
    monitorOwned: [...host.monitorOwned].sort(),
  };
}

/** The replication node a job belongs to (every job colo-sim runs is started by one). */
function ownerOf(host: Host, jobId: string): string {
  const owner = host.replicationNodes.find((node) => node.backup?.id === jobId || node.commit?.id === jobId);
  if (!owner) throw new Error(`job ${jobId} on the ${host.name} host belongs to no replication node`);
  return owner.nodeName;
}

function snapshotNode(node: BlockNode): NodeSnapshot {
  const common: NodeCommon = {
    name: node.nodeName,
    ejected: node.ejected,
    faults: node.faults.saveState(),
    children: [...node.children.entries()].map(([role, child]) => [role, child.nodeName]),
  };
  if (node instanceof Qcow2Image) {
    return { ...common, driver: 'qcow2', filename: node.filename, clusterSizeBytes: node.clusterSizeBytes, allocatedClusters: [...node.allocatedClusterIndices()].sort((a, b) => a - b) };
  }
  if (node instanceof RawImage) return { ...common, driver: 'raw', filename: node.filename };
  if (node instanceof QuorumNode) return { ...common, driver: 'quorum', voteThreshold: node.voteThreshold, nextChildIndex: node.nextChildIndex };
  if (node instanceof NbdClientNode) return { ...common, driver: 'nbd', serverHost: node.serverHost, exportName: node.exportName, quit: node.quit };
  if (node instanceof ReplicationNode) {
    return {
      ...common,
      driver: 'replication',
      mode: node.mode,
      topId: node.topId ?? null,
      stage: node.stage,
      error: node.error,
      backupJobId: node.backup?.id ?? null,
      commitJobId: node.commit?.id ?? null,
    };
  }
  if (node instanceof CopyBeforeWriteFilter) return { ...common, driver: 'copy-before-write', copiedClusters: [...node.copyState.copiedClusterIndices()].sort((a, b) => a - b) };
  const driver: DriverName = node.driver;
  if (driver !== 'mirror_top') throw new Error(`cannot save a ${driver} node`);
  return { ...common, driver: 'mirror_top' };
}

// ---- restore ------------------------------------------------------------------------------

export interface RestoreTarget {
  readonly env: BlockEnv;
  readonly primary: Host;
  readonly secondary: Host;
  readonly link: NbdLink;
  readonly createStore: StoreFactory;
  readonly resolveExport: NbdExportResolver;
  /** Where a restored drive-mirror job sends its QMP events. */
  readonly mirrorEvents: (host: HostName) => MirrorEventSink;
  readonly startWorkload: (state: WorkloadState) => void;
}

/** What the Simulation itself takes back from a snapshot. */
export interface RestoredCore {
  readonly prng: [number, number, number, number];
  readonly nextRequestNumber: number;
  readonly nextOperationNumber: number;
  readonly requestResults: Array<[number, IoResult]>;
  readonly operationResults: Array<[number, StepOutcome]>;
  readonly hostRestarts: number;
}

/** Rebuilds both hosts, the queue, the frames and the link from a snapshot. Throws when the snapshot does not fit together. */
export function restoreSimulation(snapshot: SimulationSnapshot, target: RestoreTarget): RestoredCore {
  if (snapshot.version !== SNAPSHOT_VERSION) throw new Error(`unsupported snapshot version ${String(snapshot.version)}`);
  const { env, link } = target;
  env.scheduler.restore(decodeData(snapshot.scheduler as unknown as SavedData) as SchedulerSnapshot<EngineAction>);
  env.events.restoreSequence(snapshot.eventSequence);
  env.frames.restore(snapshot.frames);
  link.restore(snapshot.link);

  restoreHost(target.secondary, snapshot.hosts.secondary, snapshot.settings, target);
  restoreHost(target.primary, snapshot.hosts.primary, snapshot.settings, target);

  if (snapshot.workload) target.startWorkload(snapshot.workload);
  return {
    prng: snapshot.prng,
    nextRequestNumber: snapshot.nextRequestNumber,
    nextOperationNumber: snapshot.nextOperationNumber,
    requestResults: snapshot.requestResults.map(([requestId, result]) => [requestId, decodeData(result) as IoResult]),
    operationResults: snapshot.operationResults.map(([operationId, outcome]) => [operationId, { ...outcome }]),
    hostRestarts: snapshot.hostRestarts,
  };
}

function restoreHost(host: Host, saved: HostSnapshot, settings: SimulationSettings, target: RestoreTarget): void {
  const { env, createStore } = target;
  const graph: BlockGraph = host.graph;
  const store = (imageName: string) => createStore({ imageName, sizeBytes: settings.diskSizeBytes });
  const savedByName = new Map(saved.nodes.map((node) => [node.name, node]));

  // 1. Nodes that exist on their own. Filters belong to jobs and come with them.
  for (const node of saved.nodes) {
    let created: BlockNode | undefined;
    switch (node.driver) {
      case 'raw':
        created = new RawImage(node.name, host.name, env, node.filename, store(node.name));
        break;
      case 'qcow2': {
        const image = new Qcow2Image(node.name, host.name, env, node.filename, store(node.name), node.clusterSizeBytes);
        image.loadAllocation(node.allocatedClusters);
        created = image;
        break;
      }
      case 'quorum':
        created = new QuorumNode(node.name, host.name, env, node.voteThreshold, node.nextChildIndex);
        break;
      case 'nbd': {
        const client = new NbdClientNode(node.name, host.name, env, target.link, node.serverHost, node.exportName, settings.diskSizeBytes, target.resolveExport);
        client.quit = node.quit;
        created = client;
        break;
      }
      case 'replication':
        created = host.createReplicationNode(node.name, node.mode, node.topId ?? undefined);
        break;
      case 'copy-before-write':
      case 'mirror_top':
        break;
    }
    if (created) graph.add(created);
  }
  const lookup = (name: string): BlockNode => {
    const node = graph.node(name);
    if (!node) throw new Error(`snapshot refers to a missing node ${name}`);
    return node;
  };
  for (const name of [...saved.replicationOrder].reverse()) host.registerReplicationNode(lookup(name) as ReplicationNode);

  // 2. Jobs, with their filters.
  const jobsById = new Map<string, BackupJob | CommitJob>();
  for (const job of saved.jobs) {
    if (job.type === 'mirror') {
      const state = decodeData(job.state) as MirrorJobState;
      const mirror = new MirrorJob(
        env,
        host.jobs,
        graph,
        { source: lookup(job.source), target: lookup(job.target), granularityBytes: job.granularityBytes, sizeBytes: job.sizeBytes, copyTimeUs: settings.copyTimeUs, requestId: () => state.requestId },
        target.mirrorEvents(host.name),
        job.id,
      );
      if (!savedByName.has(mirror.mirrorTop.nodeName)) throw new Error(`snapshot has mirror job ${job.id} but not its filter ${mirror.mirrorTop.nodeName}`);
      graph.add(mirror.mirrorTop);
      mirror.resume(state);
      continue;
    }
    const owner = lookup(job.owner);
    if (!(owner instanceof ReplicationNode)) throw new Error(`job ${job.id} belongs to ${job.owner}, which is not a replication node`);
    if (job.type === 'backup') {
      const backup = new BackupJob(env, host.jobs, graph, lookup(job.source), lookup(job.target), job.clusterSizeBytes, () => owner.onBackupJobCompleted(), job.id);
      graph.add(backup.filter);
      const filterSaved = savedByName.get(backup.filter.nodeName);
      if (filterSaved?.driver !== 'copy-before-write') throw new Error(`snapshot has backup job ${job.id} but not its filter ${backup.filter.nodeName}`);
      backup.resume(filterSaved.copiedClusters);
      jobsById.set(job.id, backup);
    } else {
      const state = decodeData(job.state) as CommitJobState;
      const commit = new CommitJob(
        env,
        host.jobs,
        graph,
        {
          source: lookup(job.source),
          intermediate: lookup(job.intermediate),
          base: lookup(job.base),
          granularityBytes: job.granularityBytes,
          copyTimeUs: settings.copyTimeUs,
          requestId: () => state.requestId,
        },
        (errno) => owner.onCommitDone(errno),
        job.id,
      );
      if (!savedByName.has(commit.mirrorTop.nodeName)) throw new Error(`snapshot has commit job ${job.id} but not its filter ${commit.mirrorTop.nodeName}`);
      graph.add(commit.mirrorTop);
      commit.resume(state);
      jobsById.set(job.id, commit);
    }
  }
  const jobOf = (jobId: string | null): BackupJob | CommitJob | undefined => {
    if (jobId === null) return undefined;
    const job = jobsById.get(jobId);
    if (!job) throw new Error(`snapshot refers to a missing job ${jobId}`);
    return job;
  };

  // 3. Every node's own state and edges as they were saved.
  for (const node of saved.nodes) {
    const restored = lookup(node.name);
    restored.ejected = node.ejected;
    restored.faults.restoreState(node.faults);
    restored.children.clear();
    for (const [role, childName] of node.children) restored.children.set(role, lookup(childName));
  }
  for (const backend of saved.backends) {
    graph.backends.push(new BlockBackend(backend.name, backend.root === null ? undefined : lookup(backend.root), backend.attachedNodeName));
  }

  // 4. Replication state, with the jobs it holds.
  for (const node of saved.nodes) {
    if (node.driver !== 'replication') continue;
    const backupJob = jobOf(node.backupJobId);
    const commitJob = jobOf(node.commitJobId);
    if (backupJob !== undefined && !(backupJob instanceof BackupJob)) throw new Error(`${node.name}'s backup job ${node.backupJobId} is not a backup job`);
    if (commitJob !== undefined && !(commitJob instanceof CommitJob)) throw new Error(`${node.name}'s commit job ${node.commitJobId} is not a commit job`);
    (lookup(node.name) as ReplicationNode).restoreState({ stage: node.stage, error: node.error, backupJob, commitJob });
  }
  // The saved order, which walks over the graph (parentsOf, flush, make-empty) follow.
  graph.reorder(saved.nodes.map((node) => node.name));
  host.jobs.restoreNextJobNumber(saved.nextJobNumber);
  for (const name of saved.monitorOwned) host.monitorOwned.add(name);
  host.nbdServer.state = { running: saved.nbdServer.running, port: saved.nbdServer.port, exports: saved.nbdServer.exports.map((entry) => ({ ...entry })) };
}
