/**
 * Older saved snapshots brought up to SNAPSHOT_VERSION, so a simulation saved by one release
 * opens in the next.
 *
 * Version 1 (colo-sim 0.1) saved only instants with nothing in flight, re-created timers from
 * the jobs and the workload, and had no frames, no event numbering and no operation results.
 * Its restore also lost the block jobs (issue 10), so a v1 record saved after such a restore
 * names a copy-before-write or mirror_top filter that no job owns; the migration gives that
 * filter its job back, as the replication node's stage says it must have one.
 */
import { DataRuns } from '../block/data-runs.js';
import type { Errno } from '../block/errno.js';
import type { FaultRule } from '../block/faults.js';
import { encodeData, type SavedData } from '../block/saved-data.js';
import type { CommitJobState } from '../jobs/commit-job.js';
import type { EngineAction } from '../sim/actions.js';
import type { HostName, ReplicationMode, Stage } from '../sim/events.js';
import type { ScheduledEntry } from '../sim/scheduler.js';
import { initialColoControlState, type ColoControlState } from './colo-control.js';
import { DEFAULT_CHECKPOINT_DELAY_MS, type RunState } from './colo-protocol.js';
import { DEFAULT_SETTINGS, type ColoState, type SimulationSettings } from './simulation.js';
import { TOPOLOGY_NODES } from './topology.js';
import { SNAPSHOT_VERSION, type HostSnapshot, type JobSnapshot, type NodeSnapshot, type SimulationSnapshot } from './snapshot.js';

type V1Run = { lengthBytes: number; fillByte: number } | { lengthBytes: number; bytes: Uint8Array };

interface V1Node {
  readonly name: string;
  readonly ejected: boolean;
  readonly faults: FaultRule[];
  readonly children: Array<[string, string]>;
  readonly driver: 'raw' | 'qcow2' | 'quorum' | 'nbd' | 'replication' | 'copy-before-write' | 'mirror_top';
  readonly filename?: string;
  readonly clusterSizeBytes?: number;
  readonly allocatedClusters?: number[];
  readonly voteThreshold?: number;
  readonly mode?: ReplicationMode;
  readonly topId?: string;
  readonly stage?: Stage;
  readonly error?: Errno | 0;
  readonly copiedClusters?: number[];
}

type V1Job =
  | { readonly type: 'backup'; readonly id: string; readonly owner: string; readonly source: string; readonly target: string; readonly clusterSizeBytes: number }
  | {
      readonly type: 'commit';
      readonly owner: string;
      readonly source: string;
      readonly intermediate: string;
      readonly base: string;
      readonly granularityBytes: number;
      readonly state: {
        readonly id: string;
        readonly initialized: boolean;
        readonly dirtyGranules: number[];
        readonly cursorGranule: number;
        readonly offsetBytes: number;
        readonly cancelRequested: boolean;
        readonly requestId: number;
        readonly inFlight?: { readonly granule: number; readonly wakeAtUs: number; readonly runs: V1Run[] };
        readonly timerSequence: number;
      };
    };

interface V1Host {
  readonly nodes: V1Node[];
  readonly backends: Array<{ name: string; root: string | null; attachedNodeName: string }>;
  readonly replicationOrder: string[];
  readonly jobs: V1Job[];
  readonly nextJobNumber: number;
}

export interface SimulationSnapshotV1 {
  readonly version: 1;
  readonly settings: SimulationSettings;
  readonly nowUs: number;
  readonly nextRequestNumber: number;
  readonly prng: [number, number, number, number];
  readonly coloState: Extract<ColoState, 'off' | 'running' | 'failing-over' | 'failed-over'>;
  readonly vmsRunning: boolean;
  readonly linkUp: boolean;
  readonly hosts: Record<HostName, V1Host>;
  readonly workload?: { readonly settings: { writesPerSecond: number; vm: 'primary' | 'secondary' | 'both'; blockBytes: number; maxBlocks: number }; readonly nextArrivalUs: number; readonly timerSequence: number; readonly writesIssued: number };
}

/** The snapshot in today's shape. Throws on a version this release does not know (a newer release saved it). */
export function migrateSnapshot(saved: { readonly version: unknown }): SimulationSnapshot {
  if (saved.version === SNAPSHOT_VERSION) return saved as SimulationSnapshot;
  if (saved.version === 1) return migrateV1(saved as SimulationSnapshotV1);
  // Version 2 was never released: colo-sim only ever wrote it during its own development.
  throw new Error(`the saved simulation has snapshot version ${String(saved.version)}; this colo-sim reads versions 1 and ${SNAPSHOT_VERSION}`);
}

function migrateV1(v1: SimulationSnapshotV1): SimulationSnapshot {
  // The timers v1 re-created on restore, in their saved order.
  const timers: Array<{ order: number; timeUs: number; action: EngineAction }> = [];
  const hosts = {} as Record<HostName, HostSnapshot>;
  for (const hostName of ['primary', 'secondary'] as const) {
    const host = v1.hosts[hostName];
    const jobs: JobSnapshot[] = [];
    const jobIdOf = new Map<string, { backup: string | null; commit: string | null }>();
    let nextJobNumber = host.nextJobNumber;
    const own = (owner: string, type: 'backup' | 'commit', id: string) => {
      const entry = jobIdOf.get(owner) ?? { backup: null, commit: null };
      entry[type] = id;
      jobIdOf.set(owner, entry);
    };
    for (const job of host.jobs) {
      if (job.type === 'backup') {
        jobs.push({ ...job });
        own(job.owner, 'backup', job.id);
        continue;
      }
      const { inFlight, timerSequence, ...rest } = job.state;
      const state: CommitJobState = {
        ...rest,
        phase: inFlight ? 'copying' : 'between',
        inFlight: inFlight ? { granule: inFlight.granule, data: runsOf(inFlight.runs) } : undefined,
      };
      jobs.push({ type: 'commit', id: rest.id, owner: job.owner, source: job.source, intermediate: job.intermediate, base: job.base, granularityBytes: job.granularityBytes, state: encodeData(state) as SavedData });
      own(job.owner, 'commit', rest.id);
      timers.push({ order: timerSequence, timeUs: inFlight ? inFlight.wakeAtUs : v1.nowUs, action: { type: 'job-run', host: hostName, jobId: rest.id } });
    }
    // Filters no job owns: the v1 restore dropped their jobs; the replication node that runs them gets them back.
    const secondaryNode = host.nodes.find((node) => node.driver === 'replication' && node.mode === 'secondary');
    for (const node of host.nodes) {
      if (!secondaryNode) break;
      const owned = jobIdOf.get(secondaryNode.name);
      const childOf = (role: string) => node.children.find(([childRole]) => childRole === role)?.[1];
      if (node.driver === 'copy-before-write' && !owned?.backup) {
        const id = `${hostName}-backup-${nextJobNumber++}`;
        jobs.push({ type: 'backup', id, owner: secondaryNode.name, source: childOf('file')!, target: childOf('target')!, clusterSizeBytes: 64 * 1024 });
        own(secondaryNode.name, 'backup', id);
      } else if (node.driver === 'mirror_top' && !owned?.commit) {
        const id = `${hostName}-commit-${nextJobNumber++}`;
        const source = childOf('backing')!;
        const hidden = secondaryNode.children.find(([role]) => role === 'hidden disk')?.[1];
        const base = secondaryNode.children.find(([role]) => role === 'secondary disk')?.[1];
        if (!hidden || !base) continue;
        // The commit's progress is lost with its job: it starts over, which copies the same bytes.
        const state: CommitJobState = { id, initialized: false, dirtyGranules: [], cursorGranule: 0, offsetBytes: 0, cancelRequested: false, requestId: v1.nextRequestNumber, phase: 'between', inFlight: undefined };
        jobs.push({ type: 'commit', id, owner: secondaryNode.name, source, intermediate: hidden, base, granularityBytes: 64 * 1024, state: encodeData(state) as SavedData });
        own(secondaryNode.name, 'commit', id);
        timers.push({ order: -1, timeUs: v1.nowUs, action: { type: 'job-run', host: hostName, jobId: id } });
      }
    }
    const nodes: NodeSnapshot[] = host.nodes.map((node) => migrateNode(node, jobIdOf.get(node.name)));
    // v1's secondary always ran its NBD server with the secondary disk exported as "nbd-export".
    const exported = host.backends.some((backend) => backend.name === 'nbd-export');
    const nbdServer = exported ? { running: true, port: '9999', exports: [{ name: 'secondary-disk', backendName: 'nbd-export', writable: true }] } : { running: false, port: null, exports: [] };
    // The monitor's nodes: replication nodes opened by `open` (blockdev-add), and the primary's, which COLO-FT.txt adds with drive_add -n.
    const fixed = new Set<string>(TOPOLOGY_NODES.map((node) => node.name));
    const monitorOwned = host.nodes.filter((node) => node.driver === 'replication' && (!fixed.has(node.name) || node.name === 'replication-primary')).map((node) => node.name).sort();
    hosts[hostName] = { nodes, backends: host.backends.map((backend) => ({ ...backend })), replicationOrder: [...host.replicationOrder], jobs, nextJobNumber, nbdServer, monitorOwned };
  }
  if (v1.workload) timers.push({ order: v1.workload.timerSequence, timeUs: v1.workload.nextArrivalUs, action: { type: 'workload-arrival' } });
  // v1 had no checkpoint timer: a running COLO gets QEMU's, a full x-checkpoint-delay from now.
  if (v1.coloState === 'running') timers.push({ order: Number.MAX_SAFE_INTEGER, timeUs: v1.nowUs + DEFAULT_CHECKPOINT_DELAY_MS * 1000, action: { type: 'colo-timer', host: 'primary' } });
  timers.sort((a, b) => a.order - b.order);
  const entries: Array<ScheduledEntry<EngineAction>> = timers.map((timer, sequence) => ({ timeUs: Math.max(timer.timeUs, v1.nowUs), sequence, action: timer.action }));
  const workloadSequence = entries.find((entry) => entry.action.type === 'workload-arrival')?.sequence ?? -1;
  const timerSequence = entries.find((entry) => entry.action.type === 'colo-timer')?.sequence ?? null;
  return {
    version: SNAPSHOT_VERSION,
    settings: { ...DEFAULT_SETTINGS, ...v1.settings },
    scheduler: { nowUs: v1.nowUs, nextSequence: entries.length, entriesRun: 0, entries },
    eventSequence: 0,
    frames: { nextFrameId: 1, frames: [] },
    nextRequestNumber: v1.nextRequestNumber,
    nextOperationNumber: 1,
    prng: [...v1.prng],
    link: { state: v1.linkUp ? 'up' : 'down', inTransit: [], held: [] },
    colo: coloFromV1(v1, hosts, timerSequence),
    requestResults: [],
    operationResults: [],
    hosts,
    workload: v1.workload ? { settings: { ...v1.workload.settings }, timerSequence: workloadSequence, writesIssued: v1.workload.writesIssued } : null,
    hostRestarts: 0,
  };
}

/**
 * v1 knew COLO only as off / running / failed-over and whether the VMs ran. Running becomes both
 * threads at rest between checkpoints; failed-over becomes a completed failover on the host whose
 * replication node took it (the secondary's commit, or the primary's stop), the other host lost.
 */
function coloFromV1(v1: SimulationSnapshotV1, hosts: Record<HostName, HostSnapshot>, timerSequence: number | null): ColoControlState {
  const colo = initialColoControlState();
  const { primary, secondary } = colo.processes;
  const vmRunState: RunState = v1.vmsRunning ? 'running' : 'colo';
  if (v1.coloState === 'running') {
    primary.outgoing = 'colo';
    primary.xColo = true;
    primary.runState = vmRunState;
    primary.vmWasRunning = true;
    primary.thread = { role: 'primary', place: 'idle' };
    primary.delayTimerSequence = timerSequence;
    secondary.incoming = 'colo';
    secondary.incomingOnce = false;
    secondary.runState = vmRunState;
    secondary.thread = { role: 'secondary', place: 'waiting-message' };
    colo.channel = { state: 'open', epoch: 1, held: [], peerDead: false };
  } else if (v1.coloState === 'failed-over') {
    const secondaryStage = hosts.secondary.nodes.find((node) => node.driver === 'replication' && node.mode === 'secondary');
    const survivor: HostName = secondaryStage && secondaryStage.driver === 'replication' && secondaryStage.stage !== 'running' && secondaryStage.stage !== 'none' ? 'secondary' : 'primary';
    const [alive, lost] = survivor === 'secondary' ? [secondary, primary] : [primary, secondary];
    alive.failover = 'completed';
    alive.lastMode = survivor;
    alive.runState = 'running';
    alive.thread = { role: survivor, place: 'finished' } as typeof alive.thread;
    if (survivor === 'secondary') {
      alive.incoming = 'completed';
      alive.incomingOnce = false;
      lost.outgoing = 'colo';
    } else {
      alive.outgoing = 'completed';
      alive.xColo = true;
      lost.incoming = 'colo';
      lost.incomingOnce = false;
    }
    lost.crashed = true;
    lost.runState = 'shutdown';
    colo.channel = { state: 'broken', epoch: 1, held: [], peerDead: false };
  }
  return colo;
}

function migrateNode(node: V1Node, jobs: { backup: string | null; commit: string | null } | undefined): NodeSnapshot {
  const common = { name: node.name, ejected: node.ejected, faults: node.faults.map((fault) => ({ ...fault })), children: node.children.map(([role, child]) => [role, child]) } as Pick<NodeSnapshot, 'name' | 'ejected' | 'faults' | 'children'>;
  switch (node.driver) {
    case 'raw':
      return { ...common, driver: 'raw', filename: node.filename! };
    case 'qcow2':
      return { ...common, driver: 'qcow2', filename: node.filename!, clusterSizeBytes: node.clusterSizeBytes!, allocatedClusters: [...node.allocatedClusters!] };
    case 'quorum':
      // v1 only ever dropped the highest child (children.1 at a failover to the primary), which gives its number back.
      return { ...common, driver: 'quorum', voteThreshold: node.voteThreshold!, nextChildIndex: nextChildIndexOf(node.children) };
    case 'nbd':
      // v1's only NBD client was the primary's, connected to the secondary's export of its disk.
      return { ...common, driver: 'nbd', serverHost: 'secondary', exportName: 'secondary-disk', quit: false };
    case 'replication':
      return { ...common, driver: 'replication', mode: node.mode!, topId: node.topId ?? null, stage: node.stage!, error: node.error!, backupJobId: jobs?.backup ?? null, commitJobId: jobs?.commit ?? null };
    case 'copy-before-write':
      return { ...common, driver: 'copy-before-write', copiedClusters: [...(node.copiedClusters ?? [])] };
    case 'mirror_top':
      return { ...common, driver: 'mirror_top' };
  }
}

function runsOf(runs: readonly V1Run[]): DataRuns {
  return DataRuns.concat(runs.map((run) => ('bytes' in run ? DataRuns.fromBytes(run.bytes.slice()) : DataRuns.fill(run.lengthBytes, run.fillByte))));
}

/** The next child number of a quorum that only ever lost its highest-numbered child: one past the highest left. */
function nextChildIndexOf(children: ReadonlyArray<readonly [string, string]>): number {
  let next = 0;
  for (const [role] of children) {
    const match = /^children\.(\d+)$/.exec(role);
    if (match) next = Math.max(next, Number(match[1]) + 1);
  }
  return next;
}
