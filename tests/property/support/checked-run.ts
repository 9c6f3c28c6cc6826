/**
 * Runs a random trace on a Simulation next to an independent reference model, and checks the
 * invariants of §8 of the COLO block replication reference (colo-block-replication.md) after
 * every operation.
 *
 * The model is written from the reference and QEMU's block/replication.c, not from the engine:
 * it keeps plain sector arrays (sectors.ts) for the primary disk, the secondary disk and the
 * secondary VM's view, the checkpoint contents, the stages and error flags, the jobs and the
 * faults in force. It reads the engine's state only through observation APIs that have no
 * side effects (image layers, allocation maps, the backup bitmap, job progress, stages) and
 * composes the layered views itself.
 *
 * Faults make some outcomes unpredictable. The model then knows which outcomes are allowed
 * (a write that may have failed leaves each sector old or new; a checkpoint may fail with one
 * of the messages QEMU would give at that step) and takes the observed one. Where an
 * invariant only holds under conditions, it is guarded, and this is why:
 *
 * - §8.4/§8.5 (bitmap, hidden = ckpt, hidden over secondary = ckpt) only in RUNNING with the
 *   backup job and a valid epoch. A checkpoint that fails after backup_do_checkpoint (an
 *   ejected buffer disk, make_empty failing under a write fault) sets every bit again without
 *   emptying the buffers, so the hidden disk holds the previous epoch under set bits; a
 *   cancelled job (cancel-job, stop) lets writes reach the secondary disk unprotected. The next
 *   successful checkpoint makes the epoch valid again.
 * - §8.4 "bit set => hidden unallocated" becomes "what is allocated there equals ckpt" once a
 *   copy into the hidden disk may have failed this epoch: QEMU may leave part of a failed copy.
 * - §8.7 (and "= primary" in §8.8) only while every change to either disk was a primary write
 *   replicated whole and none is in flight: a failed forward (link down, a fault on the NBD
 *   client, or on the secondary or hidden disk behind the export), a failed primary-disk
 *   write, writes to the export or the filter directly, and the commit all break it for good.
 * - §8.9/§8.10 exclude sectors that something other than the SVM wrote into the commit's base
 *   while it ran (an export write, a forward after the link came back): mirror tracks writes
 *   to its source only, so such a write may or may not survive. The commit must end DONE
 *   unless it was cancelled or a fault that can fail its reads (active, hidden, secondary) or
 *   its writes (secondary) was in force while it ran.
 * - §8.12 and the I/O outcomes are exact when no fault can reach the request's path; else the
 *   answer may be an error (EIO for injected errors, ENOMEDIUM for an ejected medium).
 * - Overlapping writes in flight together have no defined order (as in QEMU): the model takes
 *   what is there when they complete.
 */
import type { Errno, WriteResult } from '../../../src/engine/block/errno.js';
import { Qcow2Image } from '../../../src/engine/block/qcow2-image.js';
import { QuorumNode } from '../../../src/engine/block/quorum.js';
import { NODE, type Pending, type Simulation } from '../../../src/engine/colo/simulation.js';
import { LiveInvariants } from '../../../src/engine/invariants/live-invariants.js';
import { IMAGE_FILENAMES } from '../../../src/engine/colo/topology.js';
import type { HostName, ReplicationMode, SimEvent, Stage } from '../../../src/engine/sim/events.js';
import { ExpectedDisk, InvariantViolation, OldOrNewWrite } from './expected-disk.js';
import { allocatedSectorMask, describeDifference, firstDifferentSector, overlay, SECTOR_BYTES, sectorsOf } from './sectors.js';
import { countingStoreFactory, describeOp, describeOutcome, newSimulation, patternSectors, performOp, resolveRange, type OpOutcome, type ResolvedRange, type Trace, type TraceOp, type TraceSetup } from './trace.js';

// ---- QEMU's words (block/replication.c, block.c bdrv_make_empty) --------------------------

const QEMU = {
  runningOrDone: 'Block replication is running or done',
  wrongMode: (needs: ReplicationMode, got: ReplicationMode) =>
    `The parameter mode's value is invalid, needs ${needs === 'primary' ? 0 : 1}, but got ${got === 'primary' ? 0 : 1}`,
  lengthsDiffer: "Active disk, hidden disk, secondary disk's length are not the same",
  backupCancelled: 'Backup job was cancelled unexpectedly',
  activeEjected: `Active disk ${NODE.activeDisk} is ejected`,
  hiddenEjected: `Hidden disk ${NODE.hiddenDisk} is ejected`,
  failedToEmpty: (node: string) => `Failed to empty ${IMAGE_FILENAMES[node]}: Input/output error`,
  notRunning: 'Block replication is not running',
  ioErrorOccurred: 'I/O error occurred',
  // migration/migration.c migrate_prepare (QERR_MIGRATION_ACTIVE), the refused connection
  migrationActive: "There's a migration process in progress",
  // migration/migration.c qmp_migrate: migration_is_running() does not count COLO, so a migrate
  // in COLO runs migrate_init, then yank_register_instance (util/yank.c) refuses
  duplicateYank: 'duplicate yank instance',
  connectionRefused: "Failed to connect to 'secondary:9998': Connection refused",
  // migration/colo-failover.c qmp_x_colo_lost_heartbeat (QERR_FEATURE_DISABLED)
  featureDisabled: "The feature 'colo' is not enabled",
} as const;

/** colo-sim's own words for operations on a host that was lost. */
const LOST = {
  start: 'The primary host is lost: COLO cannot start from it',
  failover: (host: HostName) => `The ${host} host is lost: a failover runs on the surviving host`,
} as const;

/** §8.1: the only stage changes. */
const ALLOWED_STAGE_CHANGES = new Set(['none>running', 'running>done', 'running>failover', 'failover>done', 'failover>failover-failed']);

/** block_copy_calculate_cluster_size (reference §3): max(64 KiB, the hidden disk's cluster size). */
export function backupClusterSizeBytes(qcow2ClusterSizeBytes: number): number {
  return Math.max(64 * 1024, qcow2ClusterSizeBytes);
}

/** Reference §5: the secondary disk is raw, whose cluster size is unknown, so 64 KiB. */
const COMMIT_GRANULARITY_BYTES = 64 * 1024;

// ---- what is observed of the engine after each operation -----------------------------------

interface Qcow2Layer {
  readonly sectors: Uint8Array;
  readonly allocatedClusters: Uint8Array;
}

export interface Observation {
  readonly stage: Record<HostName, Stage>;
  readonly errno: Record<HostName, Errno | 0>;
  readonly mode: Record<HostName, ReplicationMode>;
  readonly primaryDisk: Uint8Array;
  readonly secondaryDisk: Uint8Array;
  readonly hidden: Qcow2Layer;
  readonly active: Qcow2Layer;
  /** Composed here: the hidden disk over the secondary disk. */
  readonly hiddenOverSecondary: Uint8Array;
  /** Composed here: the active disk over the hidden disk over the secondary disk. */
  readonly activeChain: Uint8Array;
  readonly backupJobPresent: boolean;
  /** Backup clusters whose bit is clear (copied this epoch); undefined without a backup job. */
  readonly copiedBackupClusters: readonly number[] | undefined;
  readonly commitJob: { readonly id: string; readonly offsetBytes: number; readonly lenBytes: number } | undefined;
  /** What replication-secondary's file child is: a node name, or mirror_top(<node>). */
  readonly secondaryFile: string;
  readonly primaryQuorumChildren: readonly string[];
}

// ---- the reference model -------------------------------------------------------------------

type Certainty = 'yes' | 'no' | 'maybe';

interface CommitModel {
  cancelRequested: boolean;
  /** A fault that can fail the commit was in force at some point while it ran. */
  faultSeen: boolean;
  readonly secondaryBefore: Uint8Array;
  readonly secondaryBeforeUnknown: Uint8Array;
  /** Sectors of the secondary disk the model does not constrain until the commit ends. */
  readonly unconstrained: Uint8Array;
}

class ReferenceModel {
  readonly stage: Record<HostName, Stage> = { primary: 'none', secondary: 'none' };
  /** s->error != 0 */
  readonly errorSet: Record<HostName, boolean> = { primary: false, secondary: false };
  /**
   * COLO's control plane (migration/colo.c), as far as the operations can tell: `running` while
   * both COLO threads loop; `ended` once one left its loop on an error (a failed checkpoint, a
   * broken connection, a failed start): COLO modes stay set, no checkpoint runs again, only a
   * failover is left; `failed-over` after a failover, with the other host lost.
   */
  coloPhase: 'off' | 'running' | 'ended' | 'failed-over' = 'off';
  /** get_colo_mode() != NONE on each host. */
  readonly coloMode: Record<HostName, boolean> = { primary: false, secondary: false };
  /** The secondary still listens for the migration (-incoming, nothing arrived yet). */
  secondaryListening = true;
  /** A colo-start in COLO left the primary's migration state in setup (migrate_init) for good. */
  primaryMigrationInSetup = false;
  lostHost: HostName | undefined;
  linkUp = true;
  quorumHasReplicationChild = true;
  readonly ioFaultRules = new Map<string, Set<'read' | 'write' | 'flush' | 'any'>>();
  readonly ejected = new Set<string>();
  backupJob = false;
  commit: CommitModel | undefined;
  /** After a completed commit the replication node's file is the secondary disk itself. */
  svmOnSecondaryDisk = false;
  /** The secondary disk as of the last successful secondary checkpoint (or start). */
  checkpointSectors: Uint8Array | undefined;
  /**
   * §8.4/§8.5 hold from a successful checkpoint on, as long as the backup job runs. A failed
   * checkpoint sets the bits again without emptying the buffers, so the hidden disk holds
   * older data under set bits; a cancelled job lets writes bypass copy-before-write.
   */
  epochValid = false;
  /** A copy into the hidden disk may have failed this epoch (QEMU may then leave part of it). */
  hiddenWriteMayHaveFailedThisEpoch = false;
  /** §8.7's precondition: every change to either disk so far was a primary write replicated whole. */
  replicaFollowsPrimary = true;
  readonly primary: ExpectedDisk;
  readonly secondary: ExpectedDisk;
  /** What the secondary VM must read (meaningful once the secondary has started). */
  readonly svm: ExpectedDisk;

  constructor(sectorCount: number) {
    this.primary = new ExpectedDisk('primary-disk', sectorCount);
    this.secondary = new ExpectedDisk('secondary-disk', sectorCount);
    this.svm = new ExpectedDisk('secondary VM view', sectorCount);
  }

  mayFail(node: string, io: 'read' | 'write'): boolean {
    const rules = this.ioFaultRules.get(node);
    return this.ejected.has(node) || (rules !== undefined && (rules.has(io) || rules.has('any')));
  }

  /** The errno names a request failing somewhere on `path` may carry (quorum passes them on unchanged). */
  failureErrnos(path: ReadonlyArray<readonly [string, 'read' | 'write']>): Errno[] {
    const ejected = path.some(([node]) => this.ejected.has(node));
    const ruled = path.some(([node, io]) => {
      const rules = this.ioFaultRules.get(node);
      return rules !== undefined && (rules.has(io) || rules.has('any'));
    });
    if (ejected && !ruled) return ['ENOMEDIUM'];
    if (ruled && !ejected) return ['EIO'];
    return ['EIO', 'ENOMEDIUM'];
  }
}

type Outcome = { ok: true } | { ok: false; message: string };

/** A primary VM write issued without waiting, until it completes. */
interface InFlightWrite {
  readonly pending: Pending<WriteResult>;
  /** Its answer, once settleCompletedWrites has taken it. */
  result?: WriteResult;
  readonly requestId: number;
  readonly range: ResolvedRange;
  readonly data: Uint8Array;
  readonly primaryDiskCertain: boolean;
  readonly replicationChildPresent: boolean;
  readonly replicationChildSucceeds: boolean;
  readonly primaryDiskFailureErrnos: Errno[];
  readonly primaryBefore: Uint8Array;
  readonly primaryBeforeUnknown: Uint8Array;
  readonly secondaryBefore: Uint8Array;
  readonly secondaryBeforeUnknown: Uint8Array;
  /** Another write touched its range while it was in flight: the order is not defined. */
  overlapped: boolean;
  /** A commit ran at some point while it was in flight (it may have overwritten the landed data). */
  commitSeen: boolean;
}

function rangesIntersect(a: ResolvedRange, b: ResolvedRange): boolean {
  return a.offsetSectors < b.offsetSectors + b.lengthSectors && b.offsetSectors < a.offsetSectors + a.lengthSectors;
}

function isForwardFailure(event: SimEvent): boolean {
  return (event.kind === 'io-failed' && event.node === NODE.nbdClient) || (event.kind === 'forward-completed' && event.errno !== undefined) || event.kind === 'forward-lost';
}

// ---- the run -------------------------------------------------------------------------------

export class CheckedTraceRun {
  readonly sim: Simulation;
  readonly events: SimEvent[] = [];
  private readonly sectorCount: number;
  private readonly diskSizeBytes: number;
  private readonly qcow2ClusterSectors: number;
  private readonly backupClusterSectors: number;
  private readonly m: ReferenceModel;
  private obs: Observation;
  private opEvents: SimEvent[] = [];
  private readonly eventViolations: InvariantViolation[] = [];
  private readonly pending: Array<{ write: OldOrNewWrite<Observation>; invariant: string }> = [];
  private readonly log: string[] = [];
  private readonly stageSeenInEvents: Record<string, Stage> = { [NODE.replicationPrimary]: 'none', [NODE.replicationSecondary]: 'none' };
  private readonly commitOffsetSeenBytes = new Map<string, number>();
  private readonly clustersCopiedThisEpoch = new Set<number>();
  private previousOpWasSuccessfulCheckpoint = false;
  private readonly inFlight: InFlightWrite[] = [];
  private readonly failedForwardRequestIds = new Set<number>();
  /** Forwards that end during the drain before a failover's stop (reference §6: colo_do_failover stops the VM first). */
  private readonly forwardsDrainedAtFailover = new Set<number>();
  /** How often each kind of check ran or each state was reached, to see what traces exercise. */
  readonly coverage = new Map<string, number>();

  /** Each image's bytes as last read, with its store's change count then. */
  private readonly layerCache = new Map<string, { changes: number; sectors: Uint8Array }>();
  private readonly storeChanges: (imageName: string) => number;
  /** The app's live invariants (src/engine/invariants), checked against this model. */
  private readonly live: LiveInvariants;
  /** §8.7's precondition held at the last successful secondary checkpoint, with no fault in force. */
  private replicaFollowedPrimaryAtCheckpoint = false;

  constructor(private readonly setup: TraceSetup) {
    const stores = countingStoreFactory();
    this.storeChanges = stores.changesOf;
    this.sim = newSimulation(setup, stores.createStore);
    this.live = new LiveInvariants(this.sim);
    this.sectorCount = setup.diskSizeSectors;
    this.diskSizeBytes = setup.diskSizeSectors * SECTOR_BYTES;
    this.qcow2ClusterSectors = setup.qcow2ClusterSizeBytes / SECTOR_BYTES;
    this.backupClusterSectors = backupClusterSizeBytes(setup.qcow2ClusterSizeBytes) / SECTOR_BYTES;
    this.m = new ReferenceModel(this.sectorCount);
    this.sim.events.subscribe((event) => this.onEvent(event));
    this.obs = this.observe();
  }

  /** Runs every operation, checking after each; throws an Error describing the first violation. */
  run(ops: readonly TraceOp[]): void {
    this.guard(-1, () => this.checkState());
    ops.forEach((op, index) => this.guard(index, () => this.step(op)));
  }

  private guard(index: number, body: () => void): void {
    try {
      body();
    } catch (error) {
      const setup = this.setup;
      const header =
        `disk ${setup.diskSizeSectors} sectors (${setup.diskSizeSectors * SECTOR_BYTES} bytes), qcow2 cluster ${setup.qcow2ClusterSizeBytes} bytes ` +
        `(backup cluster ${this.backupClusterSectors * SECTOR_BYTES} bytes), NBD latency ${setup.nbdLatencyUs} us, commit copy ${setup.commitCopyTimeUs} us`;
      const where = index < 0 ? 'in the initial state' : `after op #${index}`;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${where}: ${message}\n  setup: ${header}\n  trace so far:\n${this.log.map((line) => `    ${line}`).join('\n')}`, { cause: error });
    }
  }

  // ---- events: checks that must hold at every instant, not just between operations --------

  private onEvent(event: SimEvent): void {
    this.events.push(event);
    this.opEvents.push(event);
    if (isForwardFailure(event) && 'requestId' in event) this.failedForwardRequestIds.add(event.requestId);
    switch (event.kind) {
      case 'stage-changed': {
        // §8.1: only the allowed stage changes, each from the stage the node was in.
        if (!ALLOWED_STAGE_CHANGES.has(`${event.from}>${event.to}`)) {
          this.eventViolations.push(new InvariantViolation('§8.1 stage changes', `${event.node} changed ${event.from} -> ${event.to}`));
        }
        const seen = this.stageSeenInEvents[event.node];
        if (seen !== undefined && seen !== event.from) {
          this.eventViolations.push(new InvariantViolation('§8.1 stage changes', `${event.node} reported ${event.from} -> ${event.to} but was in ${seen}`));
        }
        this.stageSeenInEvents[event.node] = event.to;
        break;
      }
      case 'bitmap-reset':
        this.clustersCopiedThisEpoch.clear();
        break;
      case 'cbw-copy': {
        if (event.errno) break; // a failed copy sets its bits again; the cluster may be copied later
        // §8.6: copies are whole clusters, each at most once per checkpoint epoch.
        const clusterBytes = this.backupClusterSectors * SECTOR_BYTES;
        const end = event.offsetBytes + event.lengthBytes;
        if (event.offsetBytes % clusterBytes !== 0 || (end % clusterBytes !== 0 && end !== this.diskSizeBytes) || event.lengthBytes <= 0) {
          this.eventViolations.push(
            new InvariantViolation('§8.6 whole clusters', `copy-before-write copied [${event.offsetBytes}, ${end}), not whole ${clusterBytes}-byte clusters`),
          );
          break;
        }
        for (let cluster = event.offsetBytes / clusterBytes; cluster * clusterBytes < end; cluster++) {
          if (this.clustersCopiedThisEpoch.has(cluster)) {
            this.eventViolations.push(new InvariantViolation('§8.6 once per epoch', `backup cluster ${cluster} copied a second time in one checkpoint epoch`));
          }
          this.clustersCopiedThisEpoch.add(cluster);
        }
        break;
      }
      case 'job-created': {
        const expected = event.jobType === 'backup' ? this.backupClusterSectors * SECTOR_BYTES : COMMIT_GRANULARITY_BYTES;
        if (event.granularityBytes !== expected) {
          this.eventViolations.push(new InvariantViolation('§3/§5 granularity', `${event.jobType} job granularity ${event.granularityBytes} bytes, expected ${expected}`));
        }
        break;
      }
      case 'job-progress': {
        // §8.9: offset never decreases and stays <= len.
        const previous = this.commitOffsetSeenBytes.get(event.jobId) ?? 0;
        if (event.offsetBytes < previous || event.offsetBytes > event.lenBytes) {
          this.eventViolations.push(
            new InvariantViolation('§8.9 commit progress', `job ${event.jobId}: offset ${event.offsetBytes} after ${previous}, len ${event.lenBytes}`),
          );
        }
        this.commitOffsetSeenBytes.set(event.jobId, event.offsetBytes);
        break;
      }
      default:
        break;
    }
  }

  // ---- observation ---------------------------------------------------------------------------

  private observe(): Observation {
    const sim = this.sim;
    const primaryNode = sim.replicationNode(NODE.replicationPrimary)!;
    const secondaryNode = sim.replicationNode(NODE.replicationSecondary)!;
    const peek = (name: string) => {
      const changes = this.storeChanges(name);
      const cached = this.layerCache.get(name);
      if (cached && cached.changes === changes) return cached.sectors;
      const sectors = sectorsOf(sim.image(name)!.peekOwnLayer(0, this.diskSizeBytes), name);
      this.layerCache.set(name, { changes, sectors });
      return sectors;
    };
    const layer = (name: string): Qcow2Layer => {
      const image = sim.image(name);
      if (!(image instanceof Qcow2Image)) throw new Error(`${name} is not a qcow2 image`);
      const allocatedClusters = new Uint8Array(Math.ceil(this.sectorCount / this.qcow2ClusterSectors));
      for (let cluster = 0; cluster < allocatedClusters.length; cluster++) allocatedClusters[cluster] = image.isClusterAllocated(cluster) ? 1 : 0;
      if (image.allocatedClusterCount !== allocatedClusters.reduce((sum, bit) => sum + bit, 0)) {
        throw new InvariantViolation('qcow2 allocation', `${name} reports clusters allocated beyond the end of the disk`);
      }
      return { sectors: peek(name), allocatedClusters };
    };
    const primaryDisk = peek(NODE.primaryDisk);
    const secondaryDisk = peek(NODE.secondaryDisk);
    const hidden = layer(NODE.hiddenDisk);
    const active = layer(NODE.activeDisk);
    const hiddenOverSecondary = overlay(hidden.sectors, hidden.allocatedClusters, this.qcow2ClusterSectors, secondaryDisk);
    const activeChain = overlay(active.sectors, active.allocatedClusters, this.qcow2ClusterSectors, hiddenOverSecondary);
    const backupJob = sim.host('secondary').jobs.ofType('backup');
    if ((backupJob !== undefined) !== (secondaryNode.backup !== undefined)) {
      throw new InvariantViolation('backup job', 'the job registry and the replication node disagree on whether the backup job exists');
    }
    const commit = secondaryNode.commit;
    if ((sim.host('secondary').jobs.ofType('commit') !== undefined) !== (commit !== undefined)) {
      throw new InvariantViolation('commit job', 'the job registry and the replication node disagree on whether the commit job exists');
    }
    const file = secondaryNode.file;
    const secondaryFile = !file ? '(none)' : file.driver === 'mirror_top' ? `mirror_top(${file.child('backing')?.nodeName ?? '?'})` : file.nodeName;
    const coloDisk = sim.findNode(NODE.coloDisk);
    const primaryQuorumChildren = coloDisk instanceof QuorumNode ? coloDisk.orderedChildren().map(({ role, node }) => `${role}=${node.nodeName}`) : [];
    return {
      stage: { primary: primaryNode.stage, secondary: secondaryNode.stage },
      errno: { primary: primaryNode.error, secondary: secondaryNode.error },
      mode: { primary: primaryNode.mode, secondary: secondaryNode.mode },
      primaryDisk,
      secondaryDisk,
      hidden,
      active,
      hiddenOverSecondary,
      activeChain,
      backupJobPresent: secondaryNode.backup !== undefined,
      copiedBackupClusters: secondaryNode.backup ? [...secondaryNode.backup.copyState.copiedClusterIndices()].sort((a, b) => a - b) : undefined,
      commitJob: commit ? { id: commit.id, offsetBytes: commit.offsetBytes, lenBytes: commit.lenBytes } : undefined,
      secondaryFile,
      primaryQuorumChildren,
    };
  }

  /** What the secondary VM reads: the secondary disk after a completed commit, else the active chain. */
  private svmViewOf(observation: Observation): Uint8Array {
    return this.m.svmOnSecondaryDisk ? observation.secondaryDisk : observation.activeChain;
  }

  // ---- one operation ---------------------------------------------------------------------------

  private perform(op: TraceOp): OpOutcome {
    this.opEvents = [];
    const outcome = performOp(this.sim, this.setup, op);
    this.log.push(`#${this.log.length} ${describeOp(op, this.sectorCount)} -> ${describeOutcome(outcome)}`);
    const violation = this.eventViolations.shift();
    if (violation) throw violation;
    this.obs = this.observe();
    return outcome;
  }

  private step(op: TraceOp): void {
    const pre = this.obs;
    const m = this.m;
    if (m.commit && this.commitMayFailNow()) m.commit.faultSeen = true;
    const writesInFlightBefore = this.inFlight.length;
    const forwardsInFlight = this.inFlight.some((entry) => entry.replicationChildSucceeds);
    // A forward still on the wire may land through copy-before-write under a hidden-disk fault.
    if (forwardsInFlight && m.backupJob && m.mayFail(NODE.hiddenDisk, 'write')) m.hiddenWriteMayHaveFailedThisEpoch = true;
    let successfulCheckpoint = false;
    switch (op.op) {
      case 'guest-write':
        if (op.vm === 'primary') this.primaryGuestWrite(op, pre);
        else this.secondaryGuestWrite(op, pre);
        break;
      case 'guest-write-async':
        this.primaryGuestWriteAsync(op, pre);
        break;
      case 'guest-read':
        if (op.vm === 'primary') this.primaryGuestRead(op);
        else this.secondaryGuestRead(op);
        break;
      case 'export-write':
        this.exportWrite(op, pre);
        break;
      case 'primary-filter-write':
        this.primaryFilterWrite(op, pre);
        break;
      case 'primary-filter-read': {
        // §8.2: primary reads always fail.
        const outcome = this.perform(op);
        expectIoFailure(outcome, ['EIO'], '§8.2 primary reads always fail');
        break;
      }
      case 'colo-start':
        this.coloStart(pre);
        break;
      case 'checkpoint':
        successfulCheckpoint = this.coloCheckpoint(op, pre);
        break;
      case 'failover':
        this.failover(op, pre);
        break;
      case 'replication':
        successfulCheckpoint = this.replicationAction(op, pre);
        break;
      case 'run-for':
      case 'run-until-idle': {
        const outcome = this.perform(op);
        if (op.op === 'run-until-idle' && !(outcome.kind === 'run' && outcome.reachedIdle)) {
          throw new InvariantViolation('run until idle', 'the simulation stalled before becoming idle');
        }
        break;
      }
      case 'fault':
        this.fault(op);
        break;
    }
    // §8.2: every forward that failed (by the NBD client's own reports) sets s->error, in any stage.
    for (const event of this.opEvents) {
      if (!isForwardFailure(event) || !('requestId' in event)) continue;
      // It failed during the failover's drain, and the primary's stop then cleared s->error.
      if (this.forwardsDrainedAtFailover.has(event.requestId)) continue;
      m.errorSet.primary = true;
    }
    if (this.inFlight.length > 0) {
      if (m.commit || this.obs.stage.secondary === 'failover') for (const entry of this.inFlight) entry.commitSeen = true;
      this.settleCompletedWrites();
    }
    for (const { write, invariant } of this.pending.splice(0)) write.resolve(this.obs, invariant);
    if (m.commit && this.commitMayFailNow()) m.commit.faultSeen = true;
    this.reconcileCommit(op);
    this.keepInFlightRangesUnknown();
    this.checkState();
    // (Landings drained by a COLO checkpoint would change the disks: compare only without any.)
    if (successfulCheckpoint && this.previousOpWasSuccessfulCheckpoint && writesInFlightBefore === 0) {
      // §8.6: two checkpoints with nothing in between change nothing.
      this.count('§8.6 second checkpoint compared');
      const difference = differenceBetween(pre, this.obs);
      if (difference) throw new InvariantViolation('§8.6 idempotent checkpoint', `a second checkpoint right after one changed ${difference}`);
    }
    this.previousOpWasSuccessfulCheckpoint = successfulCheckpoint;
  }

  // ---- I/O -----------------------------------------------------------------------------------

  /**
   * Another write to `range` while writes are in flight: their relative order is undefined
   * (QEMU does not order overlapping requests), so at completion the model takes what is there.
   */
  private noteWrite(range: ResolvedRange): void {
    for (const entry of this.inFlight) if (rangesIntersect(entry.range, range)) entry.overlapped = true;
  }

  /** `range` grown to whole backup clusters (what one copy-before-write may replace). */
  private backupClusterAligned(range: ResolvedRange): ResolvedRange {
    const clusterSectors = this.backupClusterSectors;
    const start = Math.floor(range.offsetSectors / clusterSectors) * clusterSectors;
    const end = Math.min(Math.ceil((range.offsetSectors + range.lengthSectors) / clusterSectors) * clusterSectors, this.sectorCount);
    return { offsetSectors: start, lengthSectors: end - start };
  }

  /**
   * While a write is in flight the model does not know its range on the primary disk; while
   * its forward may still land, nor on the secondary disk, nor (unless copy-before-write
   * protects a valid epoch) in the SVM's view. Re-applied after every step, since other
   * steps (checkpoints, the commit's end) learn those sectors from what is there.
   */
  private keepInFlightRangesUnknown(): void {
    const m = this.m;
    const svmProtected = m.stage.secondary === 'running' && m.backupJob && m.epochValid;
    for (const entry of this.inFlight) {
      const { offsetSectors, lengthSectors } = entry.range;
      m.primary.markUnknown(offsetSectors, lengthSectors);
      if (!entry.replicationChildSucceeds) continue;
      m.secondary.markUnknown(offsetSectors, lengthSectors);
      const clusters = this.backupClusterAligned(entry.range);
      if (m.commit) m.commit.unconstrained.fill(1, clusters.offsetSectors, clusters.offsetSectors + clusters.lengthSectors);
      if (m.stage.secondary !== 'none' && !svmProtected) m.svm.markUnknown(clusters.offsetSectors, clusters.lengthSectors);
    }
  }

  /**
   * A primary VM write issued without waiting. Until it completes the model does not know its
   * range on either disk; at completion it judges the outcome like a waited write.
   */
  private primaryGuestWriteAsync(op: Extract<TraceOp, { op: 'guest-write-async' }>, pre: Observation): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const data = patternSectors(op, range.lengthSectors);
    const replicationChildSucceeds = m.quorumHasReplicationChild && m.stage.primary === 'running';
    if (replicationChildSucceeds && m.backupJob && m.mayFail(NODE.hiddenDisk, 'write')) m.hiddenWriteMayHaveFailedThisEpoch = true;
    const end = range.offsetSectors + range.lengthSectors;
    const entryBase = {
      range,
      data,
      primaryDiskCertain: !m.mayFail(NODE.primaryDisk, 'write'),
      replicationChildPresent: m.quorumHasReplicationChild,
      replicationChildSucceeds,
      primaryDiskFailureErrnos: m.failureErrnos([[NODE.primaryDisk, 'write']]),
      primaryBefore: m.primary.values.slice(range.offsetSectors, end),
      primaryBeforeUnknown: m.primary.unknown.slice(range.offsetSectors, end),
      secondaryBefore: m.secondary.values.slice(range.offsetSectors, end),
      secondaryBeforeUnknown: m.secondary.unknown.slice(range.offsetSectors, end),
      overlapped: this.inFlight.some((other) => rangesIntersect(other.range, range)),
      commitSeen: m.commit !== undefined,
    };
    this.noteWrite(range);
    const outcome = this.perform(op);
    if (outcome.kind !== 'issued') throw new Error(`expected an issued write, got ${outcome.kind}`);
    const issued = this.opEvents.find((event) => event.kind === 'io-issued' && event.origin === 'primary-vm');
    if (!issued || issued.kind !== 'io-issued') throw new InvariantViolation('events', 'an issued write emitted no io-issued event');
    const entry: InFlightWrite = { ...entryBase, pending: outcome.pending, requestId: issued.requestId, overlapped: entryBase.overlapped };
    // Landing under copy-before-write after a failed checkpoint replaces hidden clusters.
    if (replicationChildSucceeds && m.stage.secondary === 'running' && m.backupJob && !m.epochValid) {
      m.svm.markUnknown(0, this.sectorCount, this.touchedBackupClustersNotInActive(range, pre));
    }
    this.inFlight.push(entry); // its ranges are marked unknown at the end of every step
  }

  /** Judges the writes that completed during the last operation, in the order they were issued. */
  private settleCompletedWrites(): void {
    const m = this.m;
    const obs = this.obs;
    for (const entry of [...this.inFlight]) {
      if (!this.sim.isSettled(entry.pending)) continue;
      this.inFlight.splice(this.inFlight.indexOf(entry), 1);
      const result = this.sim.settle(entry.pending);
      entry.result = result;
      const { range, data } = entry;
      const end = range.offsetSectors + range.lengthSectors;
      // §8.12, as for a waited write.
      if ((entry.replicationChildSucceeds || entry.primaryDiskCertain) && !result.ok) {
        throw new InvariantViolation('§8.12 quorum write', `request ${entry.requestId} failed (${result.errno}) though a child must have succeeded`);
      }
      if (!result.ok) {
        const errnos = entry.replicationChildPresent ? ['EIO'] : entry.primaryDiskFailureErrnos;
        if (!errnos.includes(result.errno)) throw new InvariantViolation('§8.12 quorum write', `request ${entry.requestId} failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
      }
      const primaryLanded = entry.primaryDiskCertain || (result.ok && !entry.replicationChildSucceeds);
      if (entry.overlapped) m.primary.write(range.offsetSectors, obs.primaryDisk.subarray(range.offsetSectors, end));
      else if (primaryLanded) m.primary.write(range.offsetSectors, data);
      else this.adoptOldOrNew(m.primary, range, data, entry.primaryBefore, entry.primaryBeforeUnknown, obs.primaryDisk);
      let forwardLanded = false;
      if (entry.replicationChildSucceeds) {
        forwardLanded = !this.failedForwardRequestIds.has(entry.requestId);
        // While a commit runs the secondary disk is unconstrained; its end takes what is there.
        if (!m.commit) {
          if (entry.overlapped || entry.commitSeen) m.secondary.write(range.offsetSectors, obs.secondaryDisk.subarray(range.offsetSectors, end));
          else if (forwardLanded) m.secondary.write(range.offsetSectors, data);
          else this.adoptOldOrNew(m.secondary, range, data, entry.secondaryBefore, entry.secondaryBeforeUnknown, obs.secondaryDisk);
          // Where it may have shown through to the SVM, the view is settled again.
          if (m.stage.secondary !== 'none') {
            const clusters = this.backupClusterAligned(range);
            m.svm.adoptUnknownIn(clusters.offsetSectors, clusters.lengthSectors, this.svmViewOf(obs));
          }
        }
      }
      if (entry.overlapped || !primaryLanded || !entry.replicationChildSucceeds || !forwardLanded) m.replicaFollowsPrimary = false;
    }
  }

  private adoptOldOrNew(disk: ExpectedDisk, range: ResolvedRange, data: Uint8Array, before: Uint8Array, beforeUnknown: Uint8Array, observed: Uint8Array): void {
    for (let index = 0; index < range.lengthSectors; index++) {
      const sector = range.offsetSectors + index;
      const actual = observed[sector]!;
      if (!beforeUnknown[index] && actual !== before[index] && actual !== data[index]) {
        throw new InvariantViolation('failed write', `${disk.name}: sector ${sector} holds 0x${actual.toString(16)}, neither the old 0x${before[index]!.toString(16)} nor the new 0x${data[index]!.toString(16)}`);
      }
    }
    disk.write(range.offsetSectors, observed.subarray(range.offsetSectors, range.offsetSectors + range.lengthSectors));
  }

  /** Whether a forwarded write (primary RUNNING) will fail, will succeed, or may do either. */
  private forwardPrediction(): 'fails' | 'succeeds' | 'uncertain' {
    const m = this.m;
    if (!m.linkUp) return 'fails';
    if (m.mayFail(NODE.nbdClient, 'write') || this.exportWriteMayFail()) return 'uncertain';
    return 'succeeds';
  }

  /** A write through the NBD export: copy-before-write (reads secondary, writes hidden), then the secondary disk. */
  private exportWriteMayFail(): boolean {
    const m = this.m;
    if (m.backupJob) return m.mayFail(NODE.secondaryDisk, 'read') || m.mayFail(NODE.secondaryDisk, 'write') || m.mayFail(NODE.hiddenDisk, 'write');
    return m.mayFail(NODE.secondaryDisk, 'write');
  }

  private exportWriteFailurePath(): Array<readonly [string, 'read' | 'write']> {
    return this.m.backupJob
      ? [
          [NODE.secondaryDisk, 'read'],
          [NODE.secondaryDisk, 'write'],
          [NODE.hiddenDisk, 'write'],
        ]
      : [[NODE.secondaryDisk, 'write']];
  }

  /** Whether the forward of this operation's own request failed, from the NBD client's own reports. */
  private forwardFailedInOp(): boolean {
    const issued = this.opEvents.find((event) => event.kind === 'io-issued');
    if (!issued || issued.kind !== 'io-issued') throw new InvariantViolation('events', 'a write emitted no io-issued event');
    return this.failedForwardRequestIds.has(issued.requestId);
  }

  private primaryGuestWrite(op: Extract<TraceOp, { op: 'guest-write' }>, pre: Observation): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const data = patternSectors(op, range.lengthSectors);
    const primaryDiskCertain = !m.mayFail(NODE.primaryDisk, 'write');
    const replicationChildSucceeds = m.quorumHasReplicationChild && m.stage.primary === 'running';
    const prediction = replicationChildSucceeds ? this.forwardPrediction() : undefined;
    this.noteWrite(range);
    const linkWasUp = m.linkUp;
    if (replicationChildSucceeds && m.backupJob && m.mayFail(NODE.hiddenDisk, 'write')) m.hiddenWriteMayHaveFailedThisEpoch = true;

    const outcome = this.perform(op);
    const result = expectWrite(outcome);
    // §8.12: with vote-threshold 1 a write succeeds if any child does. The replication child
    // succeeds in RUNNING whatever the forward does (replication_return_value swallows it).
    if ((replicationChildSucceeds || primaryDiskCertain) && !result.ok) {
      throw new InvariantViolation('§8.12 quorum write', `the primary VM's write failed (${result.errno}) though a child must have succeeded`);
    }
    if (!result.ok) {
      const errnos = m.quorumHasReplicationChild ? ['EIO'] : m.failureErrnos([[NODE.primaryDisk, 'write']]);
      if (!errnos.includes(result.errno)) throw new InvariantViolation('§8.12 quorum write', `failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
    }

    // The primary disk: certain, or known from the quorum's answer when the other child failed.
    const primaryLanded: Certainty = primaryDiskCertain || (result.ok && !replicationChildSucceeds) ? 'yes' : 'maybe';
    if (primaryLanded === 'yes') m.primary.write(range.offsetSectors, data);
    else this.expectOldOrNew(m.primary, range, data, (o) => o.primaryDisk, 'failed write');

    let forwardLanded: Certainty = 'no';
    if (replicationChildSucceeds) {
      const failed = this.forwardFailedInOp();
      if (prediction === 'fails' && !failed) throw new InvariantViolation('§8.2 forward', 'a forward over a link that is down did not fail');
      if (prediction === 'succeeds' && failed) throw new InvariantViolation('§8.2 forward', 'a forward failed with the link up and no fault on its way');
      // §8.2: the primary records a failed forward in s->error.
      if (failed) m.errorSet.primary = true;
      forwardLanded = !failed ? 'yes' : linkWasUp ? 'maybe' : 'no';
      this.applyExportWrite(range, data, forwardLanded, pre);
      this.checkSvmUnchangedUnderCopyBeforeWrite(pre);
    }
    if (!(primaryLanded === 'yes' && forwardLanded === 'yes')) m.replicaFollowsPrimary = false;
  }

  private primaryFilterWrite(op: Extract<TraceOp, { op: 'primary-filter-write' }>, pre: Observation): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const data = patternSectors(op, range.lengthSectors);
    const running = m.stage.primary === 'running';
    const prediction = running ? this.forwardPrediction() : undefined;
    this.noteWrite(range);
    const linkWasUp = m.linkUp;
    if (running && m.backupJob && m.mayFail(NODE.hiddenDisk, 'write')) m.hiddenWriteMayHaveFailedThisEpoch = true;

    const result = expectWrite(this.perform(op));
    // §8.2: primary writes fail exactly when the stage is not RUNNING.
    if (running !== result.ok) {
      throw new InvariantViolation('§8.2 primary writes', `a write to replication-primary in stage ${m.stage.primary} ${result.ok ? 'succeeded' : `failed (${result.errno})`}`);
    }
    if (!result.ok && result.errno !== 'EIO') throw new InvariantViolation('§8.2 primary writes', `failed with ${result.errno}, not EIO`);
    if (!running) return;
    const failed = this.forwardFailedInOp();
    if (prediction === 'fails' && !failed) throw new InvariantViolation('§8.2 forward', 'a forward over a link that is down did not fail');
    if (prediction === 'succeeds' && failed) throw new InvariantViolation('§8.2 forward', 'a forward failed with the link up and no fault on its way');
    if (failed) m.errorSet.primary = true;
    const landed: Certainty = !failed ? 'yes' : linkWasUp ? 'maybe' : 'no';
    this.applyExportWrite(range, data, landed, pre);
    this.checkSvmUnchangedUnderCopyBeforeWrite(pre);
    if (landed !== 'no') m.replicaFollowsPrimary = false; // the secondary got a write the primary disk did not
  }

  private exportWrite(op: Extract<TraceOp, { op: 'export-write' }>, pre: Observation): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const data = patternSectors(op, range.lengthSectors);
    const mayFail = this.exportWriteMayFail();
    const failurePath = this.exportWriteFailurePath();
    this.noteWrite(range);
    if (m.backupJob && m.mayFail(NODE.hiddenDisk, 'write')) m.hiddenWriteMayHaveFailedThisEpoch = true;

    const result = expectWrite(this.perform(op));
    if (!mayFail && !result.ok) throw new InvariantViolation('NBD export write', `failed (${result.errno}) with no fault on its way`);
    if (!result.ok) {
      const errnos = m.failureErrnos(failurePath);
      if (!errnos.includes(result.errno)) throw new InvariantViolation('NBD export write', `failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
    }
    this.applyExportWrite(range, data, result.ok ? 'yes' : 'maybe', pre);
    this.checkSvmUnchangedUnderCopyBeforeWrite(pre);
    m.replicaFollowsPrimary = false;
  }

  /**
   * A write that reached (or may have reached) the secondary disk through its NBD export, in
   * whatever stage the secondary is: what it does to the secondary disk and to the SVM's view.
   */
  private applyExportWrite(range: ResolvedRange, data: Uint8Array, landed: Certainty, pre: Observation): void {
    const m = this.m;
    if (landed === 'no') return;
    if (m.commit) {
      // A write to the commit's base while it runs: mirror tracks writes to the source only,
      // so the commit may later overwrite it, or have already copied over it (QEMU gives no
      // promise; COLO never does this since the primary is gone). §8.9/§8.10 hold only for
      // the sectors no such write touched.
      m.commit.unconstrained.fill(1, range.offsetSectors, range.offsetSectors + range.lengthSectors);
      m.svm.markUnknown(range.offsetSectors, range.lengthSectors);
      return;
    }
    this.applyWriteTo(m.secondary, range, data, landed, (o) => o.secondaryDisk);
    if (m.stage.secondary === 'none') return; // the SVM's view starts at start's checkpoint
    if (m.svmOnSecondaryDisk) {
      this.applyWriteTo(m.svm, range, data, landed, (o) => o.secondaryDisk);
    } else if (m.backupJob) {
      // Copy-before-write keeps the old data for the SVM (§8.5). After a failed checkpoint
      // the bits are set again over a hidden disk that was not emptied, so a copy replaces
      // older hidden data with the current secondary data: unpredictable until the next
      // successful checkpoint.
      if (!m.epochValid) m.svm.markUnknown(0, this.sectorCount, this.touchedBackupClustersNotInActive(range, pre));
    } else {
      // No copy-before-write (cancelled, stopped, failover failed): the write shows through
      // wherever neither the active nor the hidden disk has the cluster.
      this.applyWriteTo(m.svm, range, data, landed, (o) => o.activeChain, this.unallocatedAboveSecondary(pre));
    }
  }

  private applyWriteTo(disk: ExpectedDisk, range: ResolvedRange, data: Uint8Array, landed: Certainty, observed: (o: Observation) => Uint8Array, mask?: Uint8Array): void {
    if (landed === 'no') return;
    if (landed === 'yes') {
      if (mask) disk.writeMasked(range.offsetSectors, data, mask);
      else disk.write(range.offsetSectors, data);
      return;
    }
    this.expectOldOrNew(disk, range, data, observed, 'failed write', mask);
  }

  private expectOldOrNew(disk: ExpectedDisk, range: ResolvedRange, data: Uint8Array, observed: (o: Observation) => Uint8Array, invariant: string, mask?: Uint8Array): void {
    this.pending.push({ write: new OldOrNewWrite<Observation>(disk, range.offsetSectors, data, observed, mask), invariant });
  }

  /** §8.5: while copy-before-write protects a valid epoch, the SVM never sees writes reaching the secondary disk. */
  private checkSvmUnchangedUnderCopyBeforeWrite(pre: Observation): void {
    const m = this.m;
    if (!(m.stage.secondary === 'running' && m.backupJob && m.epochValid)) return;
    this.count('§8.5 SVM unchanged by a write to the secondary disk');
    const sector = firstDifferentSector(this.obs.activeChain, pre.activeChain);
    if (sector !== undefined) {
      throw new InvariantViolation('§8.5 SVM never sees a primary write before a checkpoint', `SVM view changed at ${describeDifference(sector, this.obs.activeChain, pre.activeChain)}`);
    }
  }

  private secondaryGuestWrite(op: Extract<TraceOp, { op: 'guest-write' }>, pre: Observation): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const data = patternSectors(op, range.lengthSectors);
    const stage = m.stage.secondary;
    const path: Array<readonly [string, 'read' | 'write']> = m.svmOnSecondaryDisk
      ? [[NODE.secondaryDisk, 'write']]
      : [
          [NODE.activeDisk, 'write'],
          // qcow2 copy-on-write reads the rest of a partly written cluster from below
          [NODE.hiddenDisk, 'read'],
          [NODE.secondaryDisk, 'read'],
          ...(stage === 'failover-failed' ? ([[NODE.secondaryDisk, 'write']] as const) : []),
        ];
    const mayFail = path.some(([node, io]) => m.mayFail(node, io));
    const unallocatedAbove = this.unallocatedAboveSecondary(pre);
    this.noteWrite(range);

    const result = expectWrite(this.perform(op));
    if (stage === 'none') {
      // Reference §2: the secondary refuses I/O in NONE; §8.12: its errno reaches the VM unchanged.
      if (result.ok || result.errno !== 'EIO') throw new InvariantViolation('§2 secondary I/O in NONE', `the SVM's write ${result.ok ? 'succeeded' : `failed with ${result.errno}`}, expected EIO`);
      return;
    }
    if (!mayFail && !result.ok) throw new InvariantViolation('SVM write', `failed (${result.errno}) with no fault on its way`);
    if (!result.ok) {
      const errnos = m.failureErrnos(path);
      if (!errnos.includes(result.errno)) throw new InvariantViolation('§8.12 errors reach the SVM unchanged', `failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
    }
    const landed: Certainty = result.ok ? 'yes' : 'maybe';
    this.count(`SVM write ${result.ok ? 'ok' : 'failed'} in ${stage}${m.svmOnSecondaryDisk ? ' (after commit)' : ''}`);
    // §8.11 (FAILOVER_FAILED): the visible effect equals writing through the active disk.
    // In every other stage too, the SVM sees its own write.
    this.applyWriteTo(m.svm, range, data, landed, (o) => this.svmViewOf(o));
    if (m.svmOnSecondaryDisk) {
      this.applyWriteTo(m.secondary, range, data, landed, (o) => o.secondaryDisk);
      m.replicaFollowsPrimary = false;
    } else if (stage === 'failover-failed') {
      // Reference §2: extents allocated in neither active nor hidden go straight to the secondary disk.
      this.applyWriteTo(m.secondary, range, data, landed, (o) => o.secondaryDisk, unallocatedAbove);
      m.replicaFollowsPrimary = false;
    } else if (m.commit) {
      // Marked dirty; the commit copies the new data. Until it ends the sector is in flux.
      m.commit.unconstrained.fill(1, range.offsetSectors, range.offsetSectors + range.lengthSectors);
    }
  }

  private primaryGuestRead(op: Extract<TraceOp, { op: 'guest-read' }>): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const mayFail = m.mayFail(NODE.primaryDisk, 'read');
    const result = expectRead(this.perform(op));
    // §8.12: a fifo read returns child 0's data unless child 0 fails (then children.1, the
    // primary replication filter, refuses reads with EIO).
    if (!mayFail && !result.ok) throw new InvariantViolation('§8.12 fifo read', `the primary VM's read failed (${result.errno}) with primary-disk healthy`);
    if (!result.ok) {
      const errnos = m.quorumHasReplicationChild ? ['EIO'] : m.failureErrnos([[NODE.primaryDisk, 'read']]);
      if (!errnos.includes(result.errno)) throw new InvariantViolation('§8.12 fifo read', `failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
      return;
    }
    m.primary.checkRange(range.offsetSectors, sectorsOf(result.data, 'primary VM read'), '§8.12 fifo read', "the primary VM's read");
  }

  private secondaryGuestRead(op: Extract<TraceOp, { op: 'guest-read' }>): void {
    const m = this.m;
    const range = resolveRange(op, this.sectorCount);
    const path: Array<readonly [string, 'read' | 'write']> = m.svmOnSecondaryDisk
      ? [[NODE.secondaryDisk, 'read']]
      : [
          [NODE.activeDisk, 'read'],
          [NODE.hiddenDisk, 'read'],
          [NODE.secondaryDisk, 'read'],
        ];
    const mayFail = path.some(([node, io]) => m.mayFail(node, io));
    const stage = m.stage.secondary;
    const result = expectRead(this.perform(op));
    if (stage === 'none') {
      if (result.ok || result.errno !== 'EIO') throw new InvariantViolation('§2 secondary I/O in NONE', `the SVM's read ${result.ok ? 'succeeded' : `failed with ${result.errno}`}, expected EIO`);
      return;
    }
    if (!mayFail && !result.ok) throw new InvariantViolation('SVM read', `failed (${result.errno}) with no fault on its way`);
    if (!result.ok) {
      const errnos = m.failureErrnos(path);
      if (!errnos.includes(result.errno)) throw new InvariantViolation('§8.12 errors reach the SVM unchanged', `failed with ${result.errno}, expected one of ${errnos.join(', ')}`);
      return;
    }
    m.svm.checkRange(range.offsetSectors, sectorsOf(result.data, 'SVM read'), '§8.5 SVM view', `the SVM's read in stage ${stage}`);
    this.count(`SVM read compared in ${stage}${m.svmOnSecondaryDisk ? ' (after commit)' : ''}`);
  }

  /** 1 for sectors of clusters allocated in neither the active nor the hidden disk (is_allocated_above(active, secondary)). */
  private unallocatedAboveSecondary(pre: Observation): Uint8Array {
    const active = allocatedSectorMask(pre.active.allocatedClusters, this.qcow2ClusterSectors, this.sectorCount);
    const hidden = allocatedSectorMask(pre.hidden.allocatedClusters, this.qcow2ClusterSectors, this.sectorCount);
    const mask = new Uint8Array(this.sectorCount);
    for (let sector = 0; sector < mask.length; sector++) mask[sector] = active[sector] || hidden[sector] ? 0 : 1;
    return mask;
  }

  /** 1 for sectors of the backup clusters `range` touches that the active disk does not mask. */
  private touchedBackupClustersNotInActive(range: ResolvedRange, pre: Observation): Uint8Array {
    const active = allocatedSectorMask(pre.active.allocatedClusters, this.qcow2ClusterSectors, this.sectorCount);
    const mask = new Uint8Array(this.sectorCount);
    const first = Math.floor(range.offsetSectors / this.backupClusterSectors) * this.backupClusterSectors;
    const end = Math.min(Math.ceil((range.offsetSectors + range.lengthSectors) / this.backupClusterSectors) * this.backupClusterSectors, this.sectorCount);
    for (let sector = first; sector < end; sector++) mask[sector] = active[sector] ? 0 : 1;
    return mask;
  }

  // ---- replication control --------------------------------------------------------------------

  /** replication_start's checks in QEMU's order; 'start' lists the messages its first checkpoint may fail with. */
  private startPlan(host: HostName, mode: ReplicationMode): { kind: 'ignored' } | { kind: 'error'; message: string } | { kind: 'start'; checkpointMayFailWith: string[] } {
    const m = this.m;
    const stage = m.stage[host];
    if (stage === 'done' || stage === 'failover') return { kind: 'ignored' };
    if (stage !== 'none') return { kind: 'error', message: QEMU.runningOrDone };
    if (mode !== host) return { kind: 'error', message: QEMU.wrongMode(host, mode) };
    if (host === 'primary') return { kind: 'start', checkpointMayFailWith: [] };
    // An ejected image has no length (bdrv_getlength fails).
    if ([NODE.activeDisk, NODE.hiddenDisk, NODE.secondaryDisk].some((node) => m.ejected.has(node))) return { kind: 'error', message: QEMU.lengthsDiffer };
    const checkpointMayFailWith: string[] = [];
    if (m.mayFail(NODE.activeDisk, 'write')) checkpointMayFailWith.push(QEMU.failedToEmpty(NODE.activeDisk));
    if (m.mayFail(NODE.hiddenDisk, 'write')) checkpointMayFailWith.push(QEMU.failedToEmpty(NODE.hiddenDisk));
    return { kind: 'start', checkpointMayFailWith };
  }

  private applyStart(host: HostName): void {
    const m = this.m;
    m.stage[host] = 'running';
    m.errorSet[host] = false; // s->error = 0 at the end of start, whatever the checkpoint did
    if (host === 'primary') return;
    m.backupJob = true;
    // Nothing writes the active or hidden disk before start (the SVM's I/O fails in NONE, and
    // there is no copy-before-write yet), so they are empty and all bits are set even when
    // start's checkpoint fails: the epoch is valid either way.
    const obs = this.obs;
    if (obs.active.allocatedClusters.includes(1) || obs.hidden.allocatedClusters.includes(1)) {
      throw new InvariantViolation('§1 buffers start empty', 'the active or hidden disk has allocated clusters right after start');
    }
    this.beginEpoch();
  }

  /** A checkpoint succeeded: the secondary disk as it is now is what the SVM sees (§4, §8.8). */
  private beginEpoch(): void {
    const m = this.m;
    m.secondary.adoptUnknown(this.obs.secondaryDisk);
    m.checkpointSectors = m.secondary.values.slice();
    m.svm.setFrom(m.secondary);
    m.epochValid = true;
    m.hiddenWriteMayHaveFailedThisEpoch = false;
    this.replicaFollowedPrimaryAtCheckpoint = m.replicaFollowsPrimary && this.inFlight.length === 0 && m.ioFaultRules.size === 0 && m.ejected.size === 0 && m.linkUp;
    // A forward still on the wire (a checkpoint without the COLO drain) lands later, through
    // copy-before-write: the SVM keeps the checkpoint, the secondary disk gets it.
    for (const entry of this.inFlight) {
      if (entry.replicationChildSucceeds) m.secondary.markUnknown(entry.range.offsetSectors, entry.range.lengthSectors);
    }
  }

  /**
   * colo-start: migrate with x-colo from the primary (migration/migration.c migrate_prepare's
   * checks, then the connection), the secondary's incoming thread starting replication and
   * sending CHECKPOINT_READY, then the primary starting replication (migration/colo.c).
   */
  private coloStart(pre: Observation): void {
    const m = this.m;
    const refusal =
      m.lostHost === 'primary'
        ? LOST.start
        : m.primaryMigrationInSetup
          ? QEMU.migrationActive
          : m.coloMode.primary
            ? QEMU.duplicateYank
            : !m.linkUp || !m.secondaryListening || m.lostHost === 'secondary'
              ? QEMU.connectionRefused
              : undefined;
    const inFlightBefore = [...this.inFlight];
    const writesWereInFlight = inFlightBefore.length > 0;
    const outcome = expectControl(this.perform({ op: 'colo-start' }));
    if (refusal) {
      expectOutcome(outcome, [refusal], 'COLO start refused');
      // (refused before the migration starts: no virtual time passes, nothing lands)
      expectUnchanged(pre, this.obs, 'a refused COLO start');
      if (refusal === QEMU.duplicateYank) {
        // The primary is in no COLO mode any more: no checkpoint, no failover to it.
        m.primaryMigrationInSetup = true;
        m.coloMode.primary = false;
        if (m.coloPhase === 'running') m.coloPhase = 'ended';
      }
      return;
    }
    this.checkMigrationDrained(inFlightBefore);
    // The stream arrived: both hosts are in COLO mode, whatever happens next.
    m.coloMode.primary = true;
    m.coloMode.secondary = true;
    m.secondaryListening = false;
    m.coloPhase = 'ended';
    // The migration takes virtual time before the secondary's replication_start_all runs, so a
    // commit running there may end first (see commitEndedBeforeCall), and the stage it leaves is
    // the one replication_start sees (FAILOVER_FAILED: "Block replication is running or done").
    const commitEnded = this.commitEndedBeforeCall('start');
    if (commitEnded) this.reconcileCommit({ op: 'colo-start' });
    const secondaryPlan = this.startPlan('secondary', 'secondary');
    const primaryPlan = this.startPlan('primary', 'primary');
    if (secondaryPlan.kind === 'error') {
      expectOutcome(outcome, [secondaryPlan.message], 'COLO start (secondary)');
      // Writes in flight land meanwhile (migration_completion's vm_stop drains them), and the
      // commit's end changes the secondary: the rest must stay as it was.
      expectUnchanged(pre, this.obs, 'a failed start', { landings: writesWereInFlight, commitEnd: commitEnded });
      return;
    }
    if (secondaryPlan.kind === 'start') {
      this.applyStart('secondary');
      // replication_start_all reports the first checkpoint's error: the incoming thread exits (COLO_EXIT).
      if (!outcome.ok && secondaryPlan.checkpointMayFailWith.includes(outcome.message)) return;
    }
    if (primaryPlan.kind === 'error') {
      expectOutcome(outcome, [primaryPlan.message], 'COLO start (primary)');
      return;
    }
    expectOutcome(outcome, [], 'COLO start');
    if (primaryPlan.kind === 'start') this.applyStart('primary');
    m.coloPhase = 'running';
    if (secondaryPlan.kind === 'start') this.checkAfterCheckpoint('start');
  }

  /** The COLO checkpoint (migration/colo.c): primary checkpoint (a no-op), secondary get_error, secondary checkpoint. */
  private coloCheckpoint(op: TraceOp, pre: Observation): boolean {
    const m = this.m;
    if (m.coloPhase !== 'running') {
      // No COLO thread can run a checkpoint: refused, or the primary's send fails on a broken connection.
      const outcome = expectControl(this.perform(op));
      if (outcome.ok) throw new InvariantViolation('COLO checkpoint', `a checkpoint succeeded with COLO ${m.coloPhase}`);
      if (this.inFlight.length === 0) expectUnchanged(pre, this.obs, `a checkpoint with COLO ${m.coloPhase}`);
      return false;
    }
    const succeeded = this.coloCheckpointWhileRunning(op, pre);
    // migration/colo.c: any error in the transaction ends COLO; only a failover is left.
    if (!succeeded) m.coloPhase = 'ended';
    return succeeded;
  }

  private coloCheckpointWhileRunning(op: TraceOp, pre: Observation): boolean {
    const m = this.m;
    const inFlightBefore = [...this.inFlight];
    const commitBefore = m.commit !== undefined;
    const outcome = expectControl(this.perform(op));
    this.checkCheckpointDrained(inFlightBefore);
    // The transaction takes virtual time (COLO's messages, the drain), so a running commit may
    // have ended before get_error, or only after it.
    this.reconcileCommit(op);
    let expected: { kind: 'error'; message: string } | { kind: 'ignored' } | { kind: 'checkpoint' };
    if (m.stage.secondary === 'none') expected = { kind: 'error', message: QEMU.notRunning };
    else if (m.errorSet.secondary) expected = { kind: 'error', message: QEMU.ioErrorOccurred };
    else if (m.stage.secondary === 'done' || m.stage.secondary === 'failover') expected = { kind: 'ignored' };
    else expected = { kind: 'checkpoint' };
    // landings during the drain and a commit that ran during the transaction legitimately change the disks
    const drained = inFlightBefore.length > 0 || commitBefore;
    if (commitBefore && m.commit === undefined && m.stage.secondary === 'done' && !outcome.ok && outcome.message === QEMU.ioErrorOccurred) {
      // The commit completed after the secondary's get_error had seen its s->error.
      return false;
    }
    if (expected.kind === 'error') {
      expectOutcome(outcome, [expected.message], '§8.3 get_error in the COLO checkpoint');
      if (!drained) expectUnchanged(pre, this.obs, 'a checkpoint that failed at get_error');
      return false;
    }
    if (expected.kind === 'ignored') {
      expectOutcome(outcome, [], '§8.3 checkpoint in DONE/FAILOVER');
      if (!drained) expectUnchanged(pre, this.obs, 'a checkpoint in DONE or FAILOVER');
      return true;
    }
    return this.secondaryCheckpoint(outcome, pre);
  }

  /**
   * Reference §6 steps 2-3: both VMs stop, which drains I/O, so every forwarded write in flight
   * has landed (or failed) before either host's replication checkpoint runs.
   */
  private checkCheckpointDrained(inFlightBefore: readonly InFlightWrite[]): void {
    if (inFlightBefore.length === 0) return;
    const firstReplicationCall = this.opEvents.findIndex((event) => event.kind === 'replication-call');
    for (const entry of inFlightBefore) {
      if (entry.result === undefined && !this.sim.isSettled(entry.pending)) throw new InvariantViolation('§6 checkpoint drains I/O', `request ${entry.requestId} is still in flight after the checkpoint`);
      const completed = this.opEvents.findIndex((event) => event.kind === 'io-completed' && event.requestId === entry.requestId);
      if (firstReplicationCall >= 0 && completed > firstReplicationCall) {
        throw new InvariantViolation('§6 checkpoint drains I/O', `request ${entry.requestId} completed after the replication checkpoint calls began`);
      }
    }
  }

  /**
   * migration/migration.c migration_completion: vm_stop_force_state(RUN_STATE_FINISH_MIGRATE)
   * stops the primary VM and drains its I/O (do_vm_stop's bdrv_drain_all) before the device
   * state goes out, so every write in flight has completed before the secondary's incoming
   * thread (colo_process_incoming_thread) calls replication_start_all.
   */
  private checkMigrationDrained(inFlightBefore: readonly InFlightWrite[]): void {
    if (inFlightBefore.length === 0) return;
    this.count('COLO start drained writes in flight');
    const secondaryStart = this.opEvents.findIndex((event) => event.kind === 'replication-call' && event.host === 'secondary' && event.action === 'start');
    for (const entry of inFlightBefore) {
      if (entry.result === undefined && !this.sim.isSettled(entry.pending)) throw new InvariantViolation('migration_completion drains I/O', `request ${entry.requestId} is still in flight after COLO start`);
      const completed = this.opEvents.findIndex((event) => event.kind === 'io-completed' && event.requestId === entry.requestId);
      if (secondaryStart >= 0 && completed > secondaryStart) {
        throw new InvariantViolation('migration_completion drains I/O', `request ${entry.requestId} completed after the secondary's replication start`);
      }
    }
  }

  /**
   * secondary_do_checkpoint (reference §4), judged after the fact: the outcome must be one QEMU
   * could give with the faults in force, and the model follows the step it failed at.
   */
  private secondaryCheckpoint(outcome: Outcome, pre: Observation): boolean {
    const m = this.m;
    if (!m.backupJob) {
      expectOutcome(outcome, [QEMU.backupCancelled], 'checkpoint without a backup job');
      expectUnchanged(pre, this.obs, 'a checkpoint without a backup job');
      return false;
    }
    const activeFailure = m.ejected.has(NODE.activeDisk) ? QEMU.activeEjected : m.mayFail(NODE.activeDisk, 'write') ? QEMU.failedToEmpty(NODE.activeDisk) : undefined;
    const activeFailureCertain = m.ejected.has(NODE.activeDisk);
    const hiddenFailure = m.ejected.has(NODE.hiddenDisk) ? QEMU.hiddenEjected : m.mayFail(NODE.hiddenDisk, 'write') ? QEMU.failedToEmpty(NODE.hiddenDisk) : undefined;
    const allowed: string[] = [];
    if (activeFailure) allowed.push(activeFailure);
    if (!activeFailureCertain && hiddenFailure) allowed.push(hiddenFailure);
    const mustFail = activeFailureCertain || m.ejected.has(NODE.hiddenDisk);
    if (outcome.ok && mustFail) throw new InvariantViolation('§4 checkpoint', 'succeeded with an ejected buffer disk');
    if (!outcome.ok && !allowed.includes(outcome.message)) {
      throw new InvariantViolation('§4 checkpoint', `failed with "${outcome.message}", expected ${allowed.length ? allowed.map((text) => `"${text}"`).join(' or ') : 'success'}`);
    }
    // Every path past the job check resets the bitmap first (backup_do_checkpoint).
    if (this.obs.copiedBackupClusters?.length) throw new InvariantViolation('§4 checkpoint', 'the backup bitmap was not reset (some bits are still clear)');
    if (outcome.ok) {
      this.beginEpoch();
      this.checkAfterCheckpoint('checkpoint');
      this.count('secondary checkpoint succeeded');
      return true;
    }
    this.count('secondary checkpoint failed after resetting the bitmap');
    if (outcome.message === activeFailure) {
      // Nothing emptied; the SVM still reads what it read. Later copies may replace hidden data.
      if (differenceBetweenLayers(pre.active, this.obs.active)) throw new InvariantViolation('§4 checkpoint', 'a checkpoint that failed at the active disk changed the active disk');
    } else {
      // The active disk was emptied, the hidden disk was not: the SVM now reads hidden over
      // secondary, which is the last checkpoint if the epoch was valid.
      if (this.obs.active.allocatedClusters.includes(1)) throw new InvariantViolation('§4 checkpoint', 'the active disk was not emptied before the hidden disk step failed');
      if (m.epochValid && m.checkpointSectors) {
        m.svm.write(0, m.checkpointSectors);
      } else m.svm.markAllUnknown();
    }
    m.epochValid = false;
    return false;
  }

  /** §8.8: after a checkpoint, active and hidden are empty, all bits set, SVM view == secondary (== primary). */
  private checkAfterCheckpoint(what: string): void {
    const obs = this.obs;
    if (obs.active.allocatedClusters.includes(1) || obs.hidden.allocatedClusters.includes(1)) {
      throw new InvariantViolation('§8.8 after a checkpoint', `the active or hidden disk is not empty after ${what}`);
    }
    if (!obs.copiedBackupClusters || obs.copiedBackupClusters.length > 0) throw new InvariantViolation('§8.8 after a checkpoint', `not every bit is set after ${what}`);
    const difference = firstDifferentSector(obs.activeChain, obs.secondaryDisk);
    if (difference !== undefined) {
      throw new InvariantViolation('§8.8 after a checkpoint', `SVM view != secondary disk after ${what}: ${describeDifference(difference, obs.activeChain, obs.secondaryDisk)}`);
    }
    if (this.m.replicaFollowsPrimary && this.inFlight.length === 0) {
      const primaryDifference = firstDifferentSector(obs.secondaryDisk, obs.primaryDisk);
      if (primaryDifference !== undefined) {
        throw new InvariantViolation('§8.8 after a checkpoint', `secondary disk != primary disk after ${what}: ${describeDifference(primaryDifference, obs.secondaryDisk, obs.primaryDisk)}`);
      }
    }
  }

  private stopPlan(host: HostName): { kind: 'ignored' } | { kind: 'error'; message: string } | { kind: 'stop' } {
    const stage = this.m.stage[host];
    if (stage === 'done' || stage === 'failover') return { kind: 'ignored' };
    if (stage !== 'running') return { kind: 'error', message: QEMU.notRunning };
    return { kind: 'stop' };
  }

  /** replication_stop on a node in RUNNING; returns the message the call must fail with, if any. */
  private applyStop(host: HostName, failover: boolean, pre: Observation): string | undefined {
    const m = this.m;
    if (host === 'primary') {
      m.stage.primary = 'done';
      m.errorSet.primary = false;
      return undefined;
    }
    if (m.backupJob) {
      // job_cancel_sync: the completion callback runs in RUNNING, so s->error = -EIO.
      m.backupJob = false;
      m.errorSet.secondary = true;
    }
    m.epochValid = false;
    if (!failover) {
      // The checkpoint always fails (no job any more); the buffers stay; the stage is DONE.
      m.stage.secondary = 'done';
      return QEMU.backupCancelled;
    }
    m.stage.secondary = 'failover';
    m.replicaFollowsPrimary = false; // the commit writes the SVM's view into the secondary disk
    m.commit = {
      cancelRequested: false,
      faultSeen: this.commitMayFailNow(),
      secondaryBefore: m.secondary.values.slice(),
      secondaryBeforeUnknown: m.secondary.unknown.slice(),
      unconstrained: new Uint8Array(this.sectorCount),
    };
    // §8.9: the SVM view does not change at stop(true).
    const difference = firstDifferentSector(this.obs.activeChain, pre.activeChain);
    if (difference !== undefined) throw new InvariantViolation('§8.9 SVM view at stop(true)', describeDifference(difference, this.obs.activeChain, pre.activeChain));
    return undefined;
  }

  /**
   * failover: the other host is lost (its process stops, the NBD link goes down), then
   * x-colo-lost-heartbeat on the survivor (migration/colo-failover.c, colo.c colo_do_failover).
   */
  private failover(op: Extract<TraceOp, { op: 'failover' }>, pre: Observation): void {
    const m = this.m;
    const refusal = m.lostHost === op.to ? LOST.failover(op.to) : !m.coloMode[op.to] ? QEMU.featureDisabled : undefined;
    if (!refusal && op.to === 'primary' && this.stopPlan('primary').kind === 'stop') {
      // Reference §6: colo_do_failover stops the VM first, draining I/O: forwards still on the
      // wire (to a host that is gone) fail then, and the stop that follows clears s->error.
      for (const entry of this.inFlight) {
        if (!entry.replicationChildSucceeds || this.failedForwardRequestIds.has(entry.requestId)) continue;
        this.forwardsDrainedAtFailover.add(entry.requestId);
        m.replicaFollowsPrimary = false;
      }
    }
    const outcome = expectControl(this.perform(op));
    if (refusal) {
      expectOutcome(outcome, [refusal], 'COLO failover refused');
      expectUnchanged(pre, this.obs, 'a refused failover');
      return;
    }
    m.coloPhase = 'failed-over';
    m.coloMode[op.to] = false;
    m.lostHost = op.to === 'primary' ? 'secondary' : 'primary';
    m.linkUp = false;
    if (op.to === 'primary') m.quorumHasReplicationChild = false;
    // The lost heartbeat's bottom half and vm_stop's drain come before replication_stop_all, so
    // a commit running on the secondary may end first: stop then sees the stage it left
    // (FAILOVER_FAILED: "Block replication is not running"; DONE: ignored).
    if (op.to === 'secondary' && this.commitEndedBeforeCall('stop')) this.reconcileCommit(op);
    const plan = this.stopPlan(op.to);
    if (plan.kind === 'error') expectOutcome(outcome, [plan.message], 'failover stop');
    else if (plan.kind === 'ignored') expectOutcome(outcome, [], 'failover stop (ignored)');
    else {
      const message = this.applyStop(op.to, true, pre);
      expectOutcome(outcome, message === undefined ? [] : [message], 'failover stop');
    }
  }

  private replicationAction(op: Extract<TraceOp, { op: 'replication' }>, pre: Observation): boolean {
    const m = this.m;
    const host = op.host;
    const stage = m.stage[host];
    switch (op.action) {
      case 'start': {
        const plan = this.startPlan(host, op.mode);
        const outcome = expectControl(this.perform(op));
        if (plan.kind === 'ignored' || plan.kind === 'error') {
          // §8.3: in DONE/FAILOVER start returns no error and changes nothing.
          expectOutcome(outcome, plan.kind === 'error' ? [plan.message] : [], plan.kind === 'ignored' ? '§8.3 start in DONE/FAILOVER' : 'start');
          expectUnchanged(pre, this.obs, `start in stage ${stage}`);
          return false;
        }
        if (!outcome.ok && !plan.checkpointMayFailWith.includes(outcome.message)) expectOutcome(outcome, [], 'start');
        this.applyStart(host);
        if (host === 'secondary' && outcome.ok) this.checkAfterCheckpoint('start');
        return false;
      }
      case 'get-error': {
        const outcome = expectControl(this.perform(op));
        // §8.3: get_error fails exactly when the stage is NONE or s->error != 0.
        const expected = stage === 'none' ? [QEMU.notRunning] : m.errorSet[host] ? [QEMU.ioErrorOccurred] : [];
        expectOutcome(outcome, expected, '§8.3 get_error');
        expectUnchanged(pre, this.obs, 'get_error');
        return false;
      }
      case 'checkpoint': {
        const outcome = expectControl(this.perform(op));
        if (stage === 'done' || stage === 'failover') {
          expectOutcome(outcome, [], '§8.3 checkpoint in DONE/FAILOVER');
          expectUnchanged(pre, this.obs, `checkpoint in stage ${stage}`);
          return false;
        }
        if (host === 'primary') {
          expectOutcome(outcome, [], 'primary checkpoint (a no-op)');
          expectUnchanged(pre, this.obs, 'a primary checkpoint');
          return false;
        }
        return this.secondaryCheckpoint(outcome, pre);
      }
      case 'stop': {
        const plan = this.stopPlan(host);
        const outcome = expectControl(this.perform(op));
        if (plan.kind !== 'stop') {
          expectOutcome(outcome, plan.kind === 'error' ? [plan.message] : [], plan.kind === 'ignored' ? '§8.3 stop in DONE/FAILOVER' : 'stop');
          expectUnchanged(pre, this.obs, `stop in stage ${stage}`);
          return false;
        }
        const message = this.applyStop(host, op.failover, pre);
        expectOutcome(outcome, message === undefined ? [] : [message], `stop(failover=${op.failover})`);
        return false;
      }
    }
  }

  private fault(op: Extract<TraceOp, { op: 'fault' }>): void {
    const m = this.m;
    const fault = op.fault;
    const outcome = expectControl(this.perform(op));
    switch (fault.kind) {
      case 'io-error': {
        expectOutcome(outcome, [], 'io-error fault');
        const rules = m.ioFaultRules.get(fault.node) ?? new Set();
        rules.add(fault.on);
        m.ioFaultRules.set(fault.node, rules);
        break;
      }
      case 'link-down':
      case 'link-up':
        expectOutcome(outcome, [], fault.kind);
        // The connections between the hosts are reset: COLO's threads fail on their channel and exit.
        if (fault.kind === 'link-down' && m.linkUp && m.coloPhase === 'running') m.coloPhase = 'ended';
        m.linkUp = fault.kind === 'link-up';
        break;
      case 'eject':
        expectOutcome(outcome, [], 'eject');
        m.ejected.add(fault.node);
        break;
      case 'clear':
        expectOutcome(outcome, [], 'clear');
        m.ioFaultRules.clear();
        m.ejected.clear();
        m.linkUp = true;
        break;
      case 'cancel-job': {
        const exists = fault.host === 'secondary' && (fault.type === 'backup' ? m.backupJob : m.commit !== undefined);
        if (!exists) {
          if (outcome.ok) throw new InvariantViolation('cancel-job', `cancelled a ${fault.type} job on the ${fault.host} host that should not exist`);
          break;
        }
        expectOutcome(outcome, [], 'cancel-job');
        if (fault.type === 'backup') {
          // backup_job_completed: outside FAILOVER a cancelled job sets s->error = -EIO.
          m.backupJob = false;
          m.errorSet.secondary = true;
          m.epochValid = false;
        } else m.commit!.cancelRequested = true;
        break;
      }
    }
    if (m.commit && this.commitMayFailNow()) m.commit.faultSeen = true;
  }

  // ---- the active commit ------------------------------------------------------------------------

  /** A fault in force that the commit's reads (active, hidden, secondary) or writes (secondary) may meet. */
  private commitMayFailNow(): boolean {
    const m = this.m;
    return (
      m.mayFail(NODE.activeDisk, 'read') ||
      m.mayFail(NODE.hiddenDisk, 'read') ||
      m.mayFail(NODE.secondaryDisk, 'read') ||
      m.mayFail(NODE.secondaryDisk, 'write') ||
      m.ejected.has(NODE.activeDisk) ||
      m.ejected.has(NODE.hiddenDisk) ||
      m.ejected.has(NODE.secondaryDisk)
    );
  }

  /**
   * Whether the commit ended during the last operation before the secondary's replication
   * call `action` in it. The commit's completion callback (replication_done) runs from
   * job_exit, a bottom half the job's coroutine schedules when mirror_run returns
   * (job_co_entry, job.c), never inside replication_stop itself: with the secondary disk
   * ejected mirror_run fails at once (blk_getlength), with a cancel or an I/O error after its
   * I/O. A COLO operation that lets virtual time pass before its replication_*_all call
   * (colo-start's migration, failover's bottom half and drain) may thus find the secondary in
   * FAILOVER_FAILED or DONE rather than FAILOVER.
   */
  private commitEndedBeforeCall(action: 'start' | 'stop'): boolean {
    if (!this.m.commit) return false;
    const ended = this.opEvents.findIndex((event) => event.kind === 'stage-changed' && event.host === 'secondary' && event.from === 'failover');
    if (ended < 0) return false;
    const call = this.opEvents.findIndex((event) => event.kind === 'replication-call' && event.host === 'secondary' && event.action === action);
    return call < 0 || ended < call;
  }

  private reconcileCommit(op: TraceOp): void {
    const m = this.m;
    const commit = m.commit;
    if (!commit) return;
    const stage = this.obs.stage.secondary;
    if (stage === 'failover') {
      if (op.op === 'run-until-idle') throw new InvariantViolation('§5 commit', 'run until idle returned while the commit still runs');
      return;
    }
    m.commit = undefined;
    if (stage === 'done') {
      // §8.10: the secondary disk now holds the SVM view, file = secondary, DONE, error 0.
      if (commit.cancelRequested) throw new InvariantViolation('§5 commit', 'the commit was cancelled, yet replication reached DONE');
      m.stage.secondary = 'done';
      m.errorSet.secondary = false;
      m.svmOnSecondaryDisk = true;
      m.svm.check(this.obs.secondaryDisk, '§8.10 after the commit', 'secondary-disk must equal the SVM view');
      this.count(commit.unconstrained.includes(1) ? 'commit done (with SVM writes or base writes during it)' : 'commit done');
      m.svm.adoptUnknown(this.obs.secondaryDisk);
      m.secondary.setFrom(m.svm);
      return;
    }
    if (stage === 'failover-failed') {
      if (!commit.cancelRequested && !commit.faultSeen) throw new InvariantViolation('§5 commit', 'the commit failed with no fault in force and no cancel');
      m.stage.secondary = 'failover-failed';
      m.errorSet.secondary = true; // replication_done(<0): s->error = -EIO
      this.checkSecondaryDuringCommit(commit);
      this.count('commit failed');
      m.secondary.adopt(this.obs.secondaryDisk);
      return;
    }
    throw new InvariantViolation('§8.1 stage changes', `the secondary went from failover to ${stage}`);
  }

  /** While the commit runs, each sector of the secondary disk holds what it held, or the SVM's view. */
  private checkSecondaryDuringCommit(commit: CommitModel): void {
    const observed = this.obs.secondaryDisk;
    const svm = this.m.svm;
    for (let sector = 0; sector < this.sectorCount; sector++) {
      if (commit.unconstrained[sector] || commit.secondaryBeforeUnknown[sector] || svm.unknown[sector]) continue;
      const actual = observed[sector];
      if (actual !== commit.secondaryBefore[sector] && actual !== svm.values[sector]) {
        throw new InvariantViolation(
          '§5 commit copies the SVM view',
          `secondary-disk sector ${sector} holds 0x${actual!.toString(16)}: neither its old 0x${commit.secondaryBefore[sector]!.toString(16)} nor the SVM's 0x${svm.values[sector]!.toString(16)}`,
        );
      }
    }
  }

  // ---- checks after every operation ---------------------------------------------------------------

  private count(what: string): void {
    this.coverage.set(what, (this.coverage.get(what) ?? 0) + 1);
  }

  private checkState(): void {
    const m = this.m;
    const obs = this.obs;
    this.count(`stage ${m.stage.primary}/${m.stage.secondary}`);
    for (const host of ['primary', 'secondary'] as const) {
      // §8.1: the mode never changes; the stage is the one the model expects.
      if (obs.mode[host] !== host) throw new InvariantViolation('§8.1 mode', `the ${host} node's mode is ${obs.mode[host]}`);
      if (obs.stage[host] !== m.stage[host]) throw new InvariantViolation('§8.1 stage', `${host} is in ${obs.stage[host]}, expected ${m.stage[host]}`);
      // §8.2 (primary: error != 0 exactly when a forward failed since start/stop) and §8.3.
      if ((obs.errno[host] !== 0) !== m.errorSet[host]) {
        throw new InvariantViolation(host === 'primary' ? '§8.2 s->error' : 'reference §2/§5 s->error', `${host} error is ${obs.errno[host] || 0}, expected ${m.errorSet[host] ? 'set' : '0'}`);
      }
    }
    if (obs.backupJobPresent !== m.backupJob) throw new InvariantViolation('backup job', `backup job ${obs.backupJobPresent ? 'present' : 'absent'}, expected ${m.backupJob ? 'present' : 'absent'}`);
    if ((obs.commitJob !== undefined) !== (m.commit !== undefined)) throw new InvariantViolation('commit job', `commit job ${obs.commitJob ? 'present' : 'absent'}, expected otherwise`);
    const expectedFile = m.svmOnSecondaryDisk ? NODE.secondaryDisk : m.commit ? `mirror_top(${NODE.activeDisk})` : NODE.activeDisk;
    if (obs.secondaryFile !== expectedFile) throw new InvariantViolation(m.svmOnSecondaryDisk ? '§8.10 file = secondary' : 'reference §5 graph', `replication-secondary's file is ${obs.secondaryFile}, expected ${expectedFile}`);
    const expectedChildren = m.quorumHasReplicationChild ? [`children.0=${NODE.primaryDisk}`, `children.1=${NODE.replicationPrimary}`] : [`children.0=${NODE.primaryDisk}`];
    if (obs.primaryQuorumChildren.join() !== expectedChildren.join()) throw new InvariantViolation('quorum children', `colo-disk has ${obs.primaryQuorumChildren.join(', ')}`);

    m.primary.check(obs.primaryDisk, 'reference model', 'primary-disk');
    if (m.commit) this.checkSecondaryDuringCommit(m.commit);
    else m.secondary.check(obs.secondaryDisk, 'reference model', 'secondary-disk');
    if (m.stage.secondary !== 'none') {
      // §8.5 (RUNNING: the checkpoint plus the SVM's own writes), §8.9 (unchanged while the
      // commit runs), §8.10, §8.11: the view the SVM reads.
      m.svm.check(this.svmViewOf(obs), m.commit ? '§8.9 SVM view during the commit' : '§8.5 SVM view', `the SVM view in stage ${m.stage.secondary}`);
    }
    if (m.stage.secondary === 'running' && m.backupJob && m.epochValid) this.checkEpochInvariants();
    this.checkLiveInvariants();
    if (m.svm.hasUnknown()) this.count('SVM view partly unknown');
    if (m.replicaFollowsPrimary && this.inFlight.length === 0) {
      this.count('§8.7 secondary = primary checked');
      // §8.7: while no forward fails (and nothing else touched either disk), secondary == primary.
      const difference = firstDifferentSector(obs.secondaryDisk, obs.primaryDisk);
      if (difference !== undefined) throw new InvariantViolation('§8.7 secondary = primary', describeDifference(difference, obs.secondaryDisk, obs.primaryDisk));
    }
    if (obs.commitJob) {
      const previous = this.commitOffsetSeenBytes.get(obs.commitJob.id) ?? 0;
      if (obs.commitJob.offsetBytes < previous || obs.commitJob.offsetBytes > obs.commitJob.lenBytes) {
        throw new InvariantViolation('§8.9 commit progress', `offset ${obs.commitJob.offsetBytes} (was ${previous}), len ${obs.commitJob.lenBytes}`);
      }
      this.commitOffsetSeenBytes.set(obs.commitJob.id, obs.commitJob.offsetBytes);
    }
  }

  /**
   * The app's live invariants say "held" wherever this model says the pair is sound: in RUNNING
   * with the backup job and a valid epoch, no fault in force and every change so far a primary
   * write replicated whole; (a) when that held at the last checkpoint too. And they never apply
   * outside RUNNING, nor once the primary's replication node is stopped or out of its quorum.
   */
  private checkLiveInvariants(): void {
    const m = this.m;
    const report = this.live.report();
    const status = (id: string) => report.checks.find((check) => check.id === id)!;
    // Not protected: the secondary's node is not running, or the primary's was stopped (a
    // failover to the primary also takes it out of the quorum).
    const primaryStopped = !m.quorumHasReplicationChild || (m.stage.primary !== 'running' && m.stage.primary !== 'none');
    if (m.stage.secondary !== 'running' || primaryStopped) {
      for (const check of report.checks) if (check.status !== 'not-applicable') throw new InvariantViolation('live invariants', `${check.id} is ${check.status} in stage ${m.stage.primary}/${m.stage.secondary}${m.quorumHasReplicationChild ? '' : ', the replication node out of the quorum'}`);
      return;
    }
    const sound = m.backupJob && m.epochValid && m.replicaFollowsPrimary && m.ioFaultRules.size === 0 && m.ejected.size === 0 && m.linkUp;
    if (!sound) return;
    this.count('live invariants compared (sound epoch)');
    for (const id of ['svm-view-layers', 'hidden-holds-overwritten']) {
      const check = status(id);
      if (check.status !== 'held') throw new InvariantViolation('live invariants', `${id} is ${check.status}: ${check.broken.map((range) => `[${range.offsetBytes}, +${range.lengthBytes}) ${range.why}`).join('; ')}`);
    }
    const equal = status('checkpoint-equal');
    if (this.replicaFollowedPrimaryAtCheckpoint && equal.status === 'broken') {
      throw new InvariantViolation('live invariants', `checkpoint-equal is broken: ${equal.broken.map((range) => `[${range.offsetBytes}, +${range.lengthBytes}) ${range.why}`).join('; ')}`);
    }
  }

  /** §8.4 and §8.5 for every backup cluster, in RUNNING with a valid epoch. */
  private checkEpochInvariants(): void {
    this.count('epoch invariants (§8.4/§8.5) checked');
    const obs = this.obs;
    const checkpoint = this.m.checkpointSectors!;
    const copied = new Set(obs.copiedBackupClusters ?? []);
    const clusterSectors = this.backupClusterSectors;
    const clusterCount = Math.ceil(this.sectorCount / clusterSectors);
    for (const cluster of copied) {
      if (cluster < 0 || cluster >= clusterCount) throw new InvariantViolation('§8.4 bitmap', `bit ${cluster} cleared, but the disk has ${clusterCount} backup clusters`);
    }
    const perBackupCluster = clusterSectors / this.qcow2ClusterSectors;
    for (let cluster = 0; cluster < clusterCount; cluster++) {
      const start = cluster * clusterSectors;
      const end = Math.min(start + clusterSectors, this.sectorCount);
      const firstQcow2Cluster = cluster * perBackupCluster;
      const endQcow2Cluster = Math.ceil(end / this.qcow2ClusterSectors);
      if (!copied.has(cluster)) {
        // bit set => hidden(c) unallocated and secondary(c) == ckpt(c). A copy into the hidden
        // disk that failed may leave part of the cluster written in QEMU (with ckpt data), so
        // then only the data is checked.
        for (let qcow2Cluster = firstQcow2Cluster; qcow2Cluster < endQcow2Cluster; qcow2Cluster++) {
          if (!obs.hidden.allocatedClusters[qcow2Cluster]) continue;
          if (!this.m.hiddenWriteMayHaveFailedThisEpoch) {
            throw new InvariantViolation('§8.4 bit set => hidden unallocated', `backup cluster ${cluster} (bit set) has hidden qcow2 cluster ${qcow2Cluster} allocated`);
          }
          const qStart = qcow2Cluster * this.qcow2ClusterSectors;
          const qEnd = Math.min(qStart + this.qcow2ClusterSectors, this.sectorCount);
          this.expectSectorsEqual(obs.hidden.sectors, checkpoint, qStart, qEnd, '§8.4 hidden = ckpt', `hidden cluster ${qcow2Cluster}, partly copied`);
        }
        this.expectSectorsEqual(obs.secondaryDisk, checkpoint, start, end, '§8.4 bit set => secondary = ckpt', `backup cluster ${cluster}`);
      } else {
        // bit clear => hidden(c) == ckpt(c), copied whole.
        for (let qcow2Cluster = firstQcow2Cluster; qcow2Cluster < endQcow2Cluster; qcow2Cluster++) {
          if (!obs.hidden.allocatedClusters[qcow2Cluster]) {
            throw new InvariantViolation('§8.4 bit clear => hidden = ckpt', `backup cluster ${cluster} (bit clear) has hidden qcow2 cluster ${qcow2Cluster} unallocated`);
          }
        }
        this.expectSectorsEqual(obs.hidden.sectors, checkpoint, start, end, '§8.4 bit clear => hidden = ckpt', `backup cluster ${cluster}`);
      }
    }
    // §8.5: hidden over secondary reads as the checkpoint.
    this.expectSectorsEqual(obs.hiddenOverSecondary, checkpoint, 0, this.sectorCount, '§8.5 hidden over secondary = ckpt', 'the whole disk');
    // §8.5's "SVM view = active where allocated, else ckpt" follows from the line above for the
    // composed view; checkState compares that view with the model (ckpt + the SVM's own
    // writes), and guest reads compare what the SVM really reads with the model.
  }

  private expectSectorsEqual(actual: Uint8Array, expected: Uint8Array, start: number, end: number, invariant: string, what: string): void {
    for (let sector = start; sector < end; sector++) {
      if (actual[sector] !== expected[sector]) throw new InvariantViolation(invariant, `${what}: ${describeDifference(sector, actual, expected)}`);
    }
  }
}

// ---- small helpers ---------------------------------------------------------------------------

function expectWrite(outcome: OpOutcome) {
  if (outcome.kind !== 'write') throw new Error(`expected a write outcome, got ${outcome.kind}`);
  return outcome.result;
}

function expectRead(outcome: OpOutcome) {
  if (outcome.kind !== 'read') throw new Error(`expected a read outcome, got ${outcome.kind}`);
  return outcome.result;
}

function expectControl(outcome: OpOutcome): Outcome {
  if (outcome.kind !== 'control') throw new Error(`expected a control outcome, got ${outcome.kind}`);
  return outcome.outcome.ok ? { ok: true } : { ok: false, message: outcome.outcome.message };
}

function expectIoFailure(outcome: OpOutcome, errnos: Errno[], invariant: string): void {
  const result = outcome.kind === 'read' || outcome.kind === 'write' ? outcome.result : undefined;
  if (!result || result.ok || !errnos.includes(result.errno)) {
    throw new InvariantViolation(invariant, `expected failure with ${errnos.join(' or ')}, got ${result ? (result.ok ? 'success' : result.errno) : outcome.kind}`);
  }
}

/** `messages` empty: must succeed; else must fail with one of them. */
function expectOutcome(outcome: Outcome, messages: readonly string[], invariant: string): void {
  if (messages.length === 0) {
    if (!outcome.ok) throw new InvariantViolation(invariant, `failed with "${outcome.message}", expected success`);
    return;
  }
  if (outcome.ok) throw new InvariantViolation(invariant, `succeeded, expected "${messages.join('" or "')}"`);
  if (!messages.includes(outcome.message)) throw new InvariantViolation(invariant, `failed with "${outcome.message}", expected "${messages.join('" or "')}"`);
}

/** §8.3 and friends: a call that is ignored or refused changes nothing. */
function expectUnchanged(before: Observation, after: Observation, what: string, allowed: AllowedChanges = {}): void {
  const difference = differenceBetween(before, after, allowed);
  if (difference) throw new InvariantViolation('§8.3 changes nothing', `${what} changed ${difference}`);
}

function differenceBetweenLayers(a: Qcow2Layer, b: Qcow2Layer): boolean {
  return firstDifferentSector(a.sectors, b.sectors) !== undefined || firstDifferentSector(a.allocatedClusters, b.allocatedClusters) !== undefined;
}

/**
 * What an operation that changes nothing itself may still see change while virtual time passes
 * in it: `landings`, writes that were in flight completing (their data on the primary disk,
 * their forward on the secondary disk through copy-before-write, a failed forward in the
 * primary's s->error); `commitEnd`, the commit ending (the secondary's stage and s->error, the
 * data it copied into the secondary disk, the job, replication-secondary's file).
 */
interface AllowedChanges {
  readonly landings?: boolean;
  readonly commitEnd?: boolean;
}

/** What differs between two observations, or undefined. */
function differenceBetween(a: Observation, b: Observation, allowed: AllowedChanges = {}): string | undefined {
  const landings = allowed.landings ?? false;
  const commitEnd = allowed.commitEnd ?? false;
  for (const host of ['primary', 'secondary'] as const) {
    const stageMayChange = commitEnd && host === 'secondary';
    const errorMayChange = stageMayChange || (landings && host === 'primary');
    if (!stageMayChange && a.stage[host] !== b.stage[host]) return `the ${host} stage (${a.stage[host]} -> ${b.stage[host]})`;
    if (!errorMayChange && a.errno[host] !== b.errno[host]) return `the ${host} error (${a.errno[host]} -> ${b.errno[host]})`;
  }
  if (!landings && firstDifferentSector(a.primaryDisk, b.primaryDisk) !== undefined) return 'primary-disk';
  if (!landings && !commitEnd && firstDifferentSector(a.secondaryDisk, b.secondaryDisk) !== undefined) return 'secondary-disk';
  if (!landings && differenceBetweenLayers(a.hidden, b.hidden)) return 'hidden-disk';
  if (differenceBetweenLayers(a.active, b.active)) return 'active-disk';
  if (a.backupJobPresent !== b.backupJobPresent) return 'whether the backup job exists';
  if (!landings && (a.copiedBackupClusters ?? []).join() !== (b.copiedBackupClusters ?? []).join()) return 'the backup bitmap';
  if (!commitEnd && (a.commitJob === undefined) !== (b.commitJob === undefined)) return 'whether the commit job exists';
  if (!commitEnd && a.secondaryFile !== b.secondaryFile) return "replication-secondary's file";
  return undefined;
}

export function runCheckedTrace(trace: Trace): CheckedTraceRun {
  const run = new CheckedTraceRun(trace.setup);
  run.run(trace.ops);
  return run;
}
