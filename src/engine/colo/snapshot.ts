/**
 * Saving and restoring a simulation, so the app survives a reload: every node of both graphs
 * with its edges and driver state, the block jobs with their bitmaps and timers, the link, the
 * clock, the PRNG. Images' bytes are not here: they stay in their stores, which the app keeps in
 * IndexedDB. Snapshots are plain data (structured-clone friendly) and only taken when no request
 * is in flight, so no coroutine needs saving; a commit job and a workload are resumed from their
 * saved timers.
 */
import { BlockCopyState } from '../block/copy-before-write.js';
import { DataRuns, type DataRun } from '../block/data-runs.js';
import type { Errno } from '../block/errno.js';
import type { FaultRule } from '../block/faults.js';
import { BlockBackend } from '../block/graph.js';
import type { NbdLink } from '../block/nbd.js';
import { NbdClientNode } from '../block/nbd.js';
import type { BlockEnv, BlockNode, ChildRole, DriverName } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { QuorumNode } from '../block/quorum.js';
import { RawImage } from '../block/raw-image.js';
import { BackupJob } from '../jobs/backup-job.js';
import { CommitJob, type CommitJobState } from '../jobs/commit-job.js';
import { ReplicationNode } from '../replication/replication-node.js';
import type { HostName, ReplicationMode, Stage } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import type { Host } from './host.js';
import type { ColoState, SimulationSettings } from './simulation.js';
import { BACKEND } from './topology.js';
import type { Workload, WorkloadState } from './workload.js';

export const SNAPSHOT_VERSION = 1;

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
    | { readonly driver: 'quorum'; readonly voteThreshold: number }
    | { readonly driver: 'nbd' }
    | { readonly driver: 'replication'; readonly mode: ReplicationMode; readonly topId?: string; readonly stage: Stage; readonly error: Errno | 0 }
    | { readonly driver: 'copy-before-write'; readonly copiedClusters: number[] }
    | { readonly driver: 'mirror_top' }
  );

export type JobSnapshot =
  | { readonly type: 'backup'; readonly id: string; readonly owner: string; readonly source: string; readonly target: string; readonly clusterSizeBytes: number }
  | {
      readonly type: 'commit';
      readonly owner: string;
      readonly source: string;
      readonly intermediate: string;
      readonly base: string;
      readonly granularityBytes: number;
      readonly state: Omit<CommitJobState, 'inFlight'> & { inFlight?: { granule: number; wakeAtUs: number; runs: SavedRun[] } };
    };

type SavedRun = { lengthBytes: number; fillByte: number } | { lengthBytes: number; bytes: Uint8Array };

export interface HostSnapshot {
  readonly nodes: NodeSnapshot[];
  readonly backends: Array<{ name: string; root: string | null; attachedNodeName: string }>;
  /** Replication nodes, newest first. */
  readonly replicationOrder: string[];
  readonly jobs: JobSnapshot[];
  readonly nextJobNumber: number;
}

export interface SimulationSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly settings: SimulationSettings;
  readonly nowUs: number;
  readonly nextRequestNumber: number;
  readonly prng: [number, number, number, number];
  readonly coloState: ColoState;
  readonly vmsRunning: boolean;
  readonly linkUp: boolean;
  readonly hosts: Record<HostName, HostSnapshot>;
  readonly workload?: WorkloadState;
}

export interface SnapshotSource {
  readonly settings: SimulationSettings;
  readonly nowUs: number;
  readonly nextRequestNumber: number;
  readonly prng: [number, number, number, number];
  readonly coloState: ColoState;
  readonly vmsRunning: boolean;
  readonly linkUp: boolean;
  readonly primary: Host;
  readonly secondary: Host;
  readonly workload?: WorkloadState;
}

export function takeSnapshot(source: SnapshotSource): SimulationSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    settings: source.settings,
    nowUs: source.nowUs,
    nextRequestNumber: source.nextRequestNumber,
    prng: source.prng,
    coloState: source.coloState,
    vmsRunning: source.vmsRunning,
    linkUp: source.linkUp,
    hosts: { primary: snapshotHost(source.primary), secondary: snapshotHost(source.secondary) },
    ...(source.workload ? { workload: source.workload } : {}),
  };
}

function snapshotHost(host: Host): HostSnapshot {
  const nodes = [...host.graph.nodes()].map(snapshotNode);
  const jobs: JobSnapshot[] = [];
  for (const node of host.replicationNodes) {
    if (node.backup) {
      const job = node.backup;
      jobs.push({ type: 'backup', id: job.id, owner: node.nodeName, source: job.sourceNode.nodeName, target: job.filter.child('target')!.nodeName, clusterSizeBytes: job.copyState.clusterSizeBytes });
    }
    if (node.commit) {
      const job = node.commit;
      const state = job.saveState();
      const { inFlight, ...rest } = state;
      jobs.push({
        type: 'commit',
        owner: node.nodeName,
        source: job.sourceNode.nodeName,
        intermediate: job.intermediateNode.nodeName,
        base: job.baseNode.nodeName,
        granularityBytes: job.granularityBytes,
        state: { ...rest, ...(inFlight ? { inFlight: { granule: inFlight.granule, wakeAtUs: inFlight.wakeAtUs, runs: inFlight.data.runs.map(saveRun) } } : {}) },
      });
    }
  }
  return {
    nodes,
    backends: host.graph.backends.map((backend) => ({ name: backend.name, root: backend.root?.nodeName ?? null, attachedNodeName: backend.attachedNodeName })),
    replicationOrder: host.replicationNodes.map((node) => node.nodeName),
    jobs,
    nextJobNumber: host.jobs.nextJobNumberValue,
  };
}

function saveRun(run: DataRun): SavedRun {
  return run.bytes ? { lengthBytes: run.lengthBytes, bytes: run.bytes.slice() } : { lengthBytes: run.lengthBytes, fillByte: run.fillByte };
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
  if (node instanceof QuorumNode) return { ...common, driver: 'quorum', voteThreshold: node.voteThreshold };
  if (node instanceof NbdClientNode) return { ...common, driver: 'nbd' };
  if (node instanceof ReplicationNode) {
    return { ...common, driver: 'replication', mode: node.mode, ...(node.topId === undefined ? {} : { topId: node.topId }), stage: node.stage, error: node.error };
  }
  const driver: DriverName = node.driver;
  if (driver === 'copy-before-write') {
    const state = (node as unknown as { copyState: BlockCopyState }).copyState;
    return { ...common, driver: 'copy-before-write', copiedClusters: [...state.copiedClusterIndices()].sort((a, b) => a - b) };
  }
  return { ...common, driver: 'mirror_top' };
}

// ---- restore ------------------------------------------------------------------------------

export interface RestoreTarget {
  readonly env: BlockEnv;
  readonly primary: Host;
  readonly secondary: Host;
  readonly link: NbdLink;
  readonly createStore: StoreFactory;
  readonly startWorkload: (state: WorkloadState) => Workload;
}

/** Rebuilds both hosts from a snapshot; returns what the Simulation itself must take back. */
export function restoreSimulation(snapshot: SimulationSnapshot, target: RestoreTarget): Pick<SimulationSnapshot, 'prng' | 'coloState' | 'vmsRunning' | 'nextRequestNumber'> {
  if (snapshot.version !== SNAPSHOT_VERSION) throw new Error(`unsupported snapshot version ${String(snapshot.version)}`);
  const { env, link } = target;
  env.scheduler.restoreTime(snapshot.nowUs);
  link.setUpSilently(snapshot.linkUp);

  const resumers: Array<{ sequence: number; resume: () => void }> = [];
  // The secondary first: the primary's NBD client needs the secondary's export.
  restoreHost(target.secondary, snapshot.hosts.secondary, snapshot.settings, target, undefined, resumers);
  const nbdExport = target.secondary.graph.backendNamed(BACKEND.nbdExport);
  restoreHost(target.primary, snapshot.hosts.primary, snapshot.settings, target, nbdExport, resumers);

  if (snapshot.workload) {
    const state = snapshot.workload;
    resumers.push({ sequence: state.timerSequence, resume: () => target.startWorkload(state).resume(state) });
  }
  // Timers go back in their original order, so callbacks of one instant keep their order.
  resumers.sort((a, b) => a.sequence - b.sequence).forEach((entry) => entry.resume());
  return { prng: snapshot.prng, coloState: snapshot.coloState, vmsRunning: snapshot.vmsRunning, nextRequestNumber: snapshot.nextRequestNumber };
}

function restoreHost(
  host: Host,
  saved: HostSnapshot,
  settings: SimulationSettings,
  target: RestoreTarget,
  nbdExport: BlockBackend | undefined,
  resumers: Array<{ sequence: number; resume: () => void }>,
): void {
  const { env, createStore } = target;
  const graph = host.graph;
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
        created = new QuorumNode(node.name, host.name, env, node.voteThreshold);
        break;
      case 'nbd':
        if (!nbdExport) throw new Error('snapshot has an NBD client but no NBD export');
        created = new NbdClientNode(node.name, host.name, env, target.link, nbdExport, settings.diskSizeBytes);
        break;
      case 'replication':
        created = host.createReplicationNode(node.name, node.mode, node.topId);
        break;
      default:
        break;
    }
    if (created) {
      created.ejected = node.ejected;
      created.faults.restoreState(node.faults);
      graph.add(created);
    }
  }
  const lookup = (name: string): BlockNode => {
    const node = graph.node(name);
    if (!node) throw new Error(`snapshot refers to a missing node ${name}`);
    return node;
  };
  for (const name of [...saved.replicationOrder].reverse()) host.registerReplicationNode(lookup(name) as ReplicationNode);

  // 2. Jobs, with their filters.
  const jobsByOwner = new Map<string, { backup?: BackupJob; commit?: CommitJob }>();
  for (const job of saved.jobs) {
    const owner = lookup(job.owner) as ReplicationNode;
    const entry = jobsByOwner.get(job.owner) ?? {};
    if (job.type === 'backup') {
      const backup = new BackupJob(env, host.jobs, graph, lookup(job.source), lookup(job.target), job.clusterSizeBytes, () => owner.onBackupJobCompleted(), job.id);
      graph.add(backup.filter);
      const filterSaved = savedByName.get(backup.filter.nodeName);
      backup.resume(filterSaved?.driver === 'copy-before-write' ? filterSaved.copiedClusters : []);
      entry.backup = backup;
    } else {
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
          requestId: () => job.state.requestId,
        },
        (errno) => owner.onCommitDone(errno),
        job.state.id,
      );
      graph.add(commit.mirrorTop);
      const { inFlight, ...rest } = job.state;
      const state: CommitJobState = {
        ...rest,
        ...(inFlight ? { inFlight: { granule: inFlight.granule, wakeAtUs: inFlight.wakeAtUs, data: loadRuns(inFlight.runs) } } : {}),
      };
      resumers.push({ sequence: state.timerSequence, resume: () => commit.resume(state) });
      entry.commit = commit;
    }
    jobsByOwner.set(job.owner, entry);
  }

  // 3. Every edge as it was saved.
  for (const node of saved.nodes) {
    const restored = lookup(node.name);
    restored.children.clear();
    for (const [role, childName] of node.children) restored.children.set(role, lookup(childName));
  }
  for (const backend of saved.backends) {
    graph.backends.push(new BlockBackend(backend.name, backend.root === null ? undefined : lookup(backend.root), backend.attachedNodeName));
  }

  // 4. Replication state.
  for (const node of saved.nodes) {
    if (node.driver !== 'replication') continue;
    const jobs = jobsByOwner.get(node.name) ?? {};
    (lookup(node.name) as ReplicationNode).restoreState({ stage: node.stage, error: node.error, ...jobs });
  }
  host.jobs.restoreNextJobNumber(saved.nextJobNumber);
}

function loadRuns(runs: readonly SavedRun[]): DataRuns {
  return DataRuns.concat(runs.map((run) => ('bytes' in run ? DataRuns.fromBytes(run.bytes.slice()) : DataRuns.fill(run.lengthBytes, run.fillByte))));
}
