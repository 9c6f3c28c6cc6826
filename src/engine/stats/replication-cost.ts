/**
 * What replication costs, read from the engine's events: bytes the primary forwards over NBD,
 * copy-before-write copies into the hidden disk, how full the active and hidden disks get, what
 * each checkpoint empties, and how long the failover's active commit takes and how much it
 * copies. The same figures feed `colo-sim run --stats` and the app's charts.
 *
 * Series are step functions over virtual time: each point is (timeUs, value from then on); times
 * are virtual microseconds, sizes bytes, occupancy clusters of the buffer disks' own layer.
 *
 * The active and hidden disks are recognised by name: `active-disk` and `hidden-disk`, and their
 * namesakes of a restarted secondary (`active-disk-2`, ...). A host restart starts new, empty
 * buffers, so occupancy drops to 0 there.
 */
import { TRANSACTION_BEGINS, TRANSACTION_DONE } from '../colo/colo-process.js';
import type { SimEvent } from '../sim/events.js';

export interface SeriesPoint {
  readonly timeUs: number;
  readonly value: number;
}

export interface CheckpointCost {
  /** When colo-compare asked for the checkpoint (checkpoint-begin), or null when the run started mid-checkpoint. */
  readonly startUs: number | null;
  readonly endUs: number;
  readonly ok: boolean;
  /** Clusters make_empty freed in the active and the hidden disk. */
  readonly activeClustersFreed: number;
  readonly hiddenClustersFreed: number;
  /** The same in bytes (clusters times the buffers' cluster size). */
  readonly bytesFreed: number;
}

export interface CommitCost {
  readonly jobId: string;
  readonly startUs: number;
  readonly endUs: number | null;
  /** endUs - startUs, or null while it runs. */
  readonly durationUs: number | null;
  readonly bytesCopied: number;
  readonly outcome: 'running' | 'completed' | 'failed';
}

export interface CostReport {
  readonly virtualTimeUs: number;
  readonly nbd: { readonly writesForwarded: number; readonly bytesForwarded: number; readonly forwardsFailed: number };
  readonly copyBeforeWrite: { readonly copies: number; readonly bytes: number; readonly zeroCopies: number; readonly failed: number };
  readonly checkpoints: readonly CheckpointCost[];
  readonly commits: readonly CommitCost[];
  /** Buffer occupancy in clusters: at the end of the run and the most at any time. */
  readonly occupancy: { readonly activeClusters: number; readonly hiddenClusters: number; readonly activePeakClusters: number; readonly hiddenPeakClusters: number };
  readonly series: {
    /** Bytes forwarded over NBD so far. */
    readonly bytesForwarded: readonly SeriesPoint[];
    /** Bytes copied by copy-before-write so far. */
    readonly cbwBytes: readonly SeriesPoint[];
    /** Copy-before-write copies so far (failed ones not counted). */
    readonly cbwCopies: readonly SeriesPoint[];
    /** Clusters allocated in each buffer disk's own layer. */
    readonly activeClusters: readonly SeriesPoint[];
    readonly hiddenClusters: readonly SeriesPoint[];
  };
}

/**
 * Follows a run's events (subscribe `observe` before the first step); `report()` may be called at
 * any time. `clusterSizeBytes` is the qcow2 cluster size of the active and hidden disks.
 */
export class ReplicationCost {
  private virtualTimeUs = 0;
  private writesForwarded = 0;
  private bytesForwarded = 0;
  private forwardsFailed = 0;
  private cbwCopies = 0;
  private cbwBytes = 0;
  private cbwZeroCopies = 0;
  private cbwFailed = 0;
  private readonly checkpoints: CheckpointCost[] = [];
  /** Every commit in the order they started: a job id is unique only while its job exists, so a later failover's commit may reuse it. */
  private readonly commits: Array<{ jobId: string; startUs: number; endUs: number | null; bytesCopied: number; outcome: CommitCost['outcome'] }> = [];
  /** The commit each job id names now. */
  private readonly commitByJobId = new Map<string, (typeof this.commits)[number]>();
  private readonly allocated = { active: new Set<number>(), hidden: new Set<number>() };
  private readonly peak = { active: 0, hidden: 0 };
  private pendingFreed = { active: 0, hidden: 0 };
  private checkpointStartUs: number | null = null;
  /** When the primary's thread began the checkpoint transaction under way (a step's or the timer's). */
  private transactionStartUs: number | null = null;
  /** The step's checkpoint (checkpoint-begin) was already recorded when its transaction was done. */
  private stepCheckpointRecorded = false;
  private readonly series = { bytesForwarded: [] as SeriesPoint[], cbwBytes: [] as SeriesPoint[], cbwCopies: [] as SeriesPoint[], activeClusters: [] as SeriesPoint[], hiddenClusters: [] as SeriesPoint[] };

  constructor(
    private readonly clusterSizeBytes: number,
    private readonly activeDisk = 'active-disk',
    private readonly hiddenDisk = 'hidden-disk',
  ) {}

  observe(event: SimEvent): void {
    this.virtualTimeUs = event.timeUs;
    switch (event.kind) {
      case 'forward-sent':
        if (event.io !== 'write') return;
        this.writesForwarded++;
        this.bytesForwarded += event.lengthBytes;
        push(this.series.bytesForwarded, event.timeUs, this.bytesForwarded);
        return;
      case 'forward-completed':
        if (event.io === 'write' && event.errno) this.forwardsFailed++;
        return;
      case 'forward-lost':
        if (event.io === 'write') this.forwardsFailed++;
        return;
      case 'cbw-copy':
        if (event.errno) {
          this.cbwFailed++;
          return;
        }
        this.cbwCopies++;
        this.cbwBytes += event.lengthBytes;
        if (event.zeroes) this.cbwZeroCopies++;
        push(this.series.cbwBytes, event.timeUs, this.cbwBytes);
        push(this.series.cbwCopies, event.timeUs, this.cbwCopies);
        return;
      case 'write-landed':
        this.allocate(event.node, event.offsetBytes, event.lengthBytes, event.timeUs);
        for (const part of event.cow) this.allocate(event.node, part.offsetBytes, part.lengthBytes, event.timeUs);
        return;
      case 'make-empty': {
        const which = this.bufferOf(event.node);
        if (!which || event.error) return;
        this.pendingFreed[which] += event.clustersFreed;
        this.allocated[which].clear();
        push(which === 'active' ? this.series.activeClusters : this.series.hiddenClusters, event.timeUs, 0);
        return;
      }
      // A checkpoint is counted when the primary's transaction is done, so the periodic ones
      // (x-checkpoint-delay's timer, which no step announces) count as well as a step's; a step's
      // checkpoint that fails before its transaction is done is counted, failed, at its end.
      case 'colo-change':
        if (event.change === TRANSACTION_BEGINS) this.transactionStartUs = event.timeUs;
        else if (event.change === TRANSACTION_DONE) {
          this.recordCheckpoint(this.checkpointStartUs ?? this.transactionStartUs, event.timeUs, true);
          this.stepCheckpointRecorded = this.checkpointStartUs !== null;
          this.transactionStartUs = null;
        }
        return;
      case 'colo':
        if (event.phase === 'checkpoint-begin') {
          this.checkpointStartUs = event.timeUs;
          this.stepCheckpointRecorded = false;
        }
        if (event.phase !== 'checkpoint-end') return;
        if (!this.stepCheckpointRecorded) this.recordCheckpoint(this.checkpointStartUs, event.timeUs, event.error === undefined);
        this.checkpointStartUs = null;
        this.stepCheckpointRecorded = false;
        return;
      case 'host-lifecycle':
        // A restarted secondary has new, empty buffers; the old ones are gone with its old QEMU.
        if (event.host !== 'secondary') return;
        for (const which of ['active', 'hidden'] as const) {
          if (this.allocated[which].size === 0) continue;
          this.allocated[which].clear();
          push(which === 'active' ? this.series.activeClusters : this.series.hiddenClusters, event.timeUs, 0);
        }
        return;
      case 'job-created':
        if (event.jobType === 'commit') {
          const commit = { jobId: event.jobId, startUs: event.timeUs, endUs: null, bytesCopied: 0, outcome: 'running' as const };
          this.commits.push(commit);
          this.commitByJobId.set(event.jobId, commit);
        }
        return;
      case 'job-progress': {
        const commit = this.commitByJobId.get(event.jobId);
        if (commit) commit.bytesCopied += event.copiedLengthBytes;
        return;
      }
      case 'job-completed':
      case 'job-failed': {
        const commit = this.commitByJobId.get(event.jobId);
        if (!commit) return;
        this.commitByJobId.delete(event.jobId);
        commit.endUs = event.timeUs;
        commit.outcome = event.kind === 'job-completed' ? 'completed' : 'failed';
        return;
      }
      default:
        return;
    }
  }

  private recordCheckpoint(startUs: number | null, endUs: number, ok: boolean): void {
    this.checkpoints.push({
      startUs,
      endUs,
      ok,
      activeClustersFreed: this.pendingFreed.active,
      hiddenClustersFreed: this.pendingFreed.hidden,
      bytesFreed: (this.pendingFreed.active + this.pendingFreed.hidden) * this.clusterSizeBytes,
    });
    this.pendingFreed = { active: 0, hidden: 0 };
  }

  /** Which buffer a node is: the active or hidden disk, or a restarted secondary's (name-2, name-3, ...). */
  private bufferOf(node: string): 'active' | 'hidden' | undefined {
    if (node === this.activeDisk || isGeneration(node, this.activeDisk)) return 'active';
    if (node === this.hiddenDisk || isGeneration(node, this.hiddenDisk)) return 'hidden';
    return undefined;
  }

  private allocate(node: string, offsetBytes: number, lengthBytes: number, timeUs: number): void {
    const which = this.bufferOf(node);
    if (!which || lengthBytes <= 0) return;
    const set = this.allocated[which];
    const before = set.size;
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.clusterSizeBytes);
    for (let cluster = Math.floor(offsetBytes / this.clusterSizeBytes); cluster <= last; cluster++) set.add(cluster);
    if (set.size === before) return;
    this.peak[which] = Math.max(this.peak[which], set.size);
    push(which === 'active' ? this.series.activeClusters : this.series.hiddenClusters, timeUs, set.size);
  }

  /**
   * The figures so far. `nowUs`: the run's virtual time now, in µs (the clock may have run past
   * the last event: a quiet `run for` moves it with no event); without it, the last event's time.
   */
  report(nowUs?: number): CostReport {
    return {
      virtualTimeUs: Math.max(this.virtualTimeUs, nowUs ?? 0),
      nbd: { writesForwarded: this.writesForwarded, bytesForwarded: this.bytesForwarded, forwardsFailed: this.forwardsFailed },
      copyBeforeWrite: { copies: this.cbwCopies, bytes: this.cbwBytes, zeroCopies: this.cbwZeroCopies, failed: this.cbwFailed },
      checkpoints: [...this.checkpoints],
      commits: this.commits.map((commit) => ({ ...commit, durationUs: commit.endUs === null ? null : commit.endUs - commit.startUs })),
      occupancy: { activeClusters: this.allocated.active.size, hiddenClusters: this.allocated.hidden.size, activePeakClusters: this.peak.active, hiddenPeakClusters: this.peak.hidden },
      series: {
        bytesForwarded: [...this.series.bytesForwarded],
        cbwBytes: [...this.series.cbwBytes],
        cbwCopies: [...this.series.cbwCopies],
        activeClusters: [...this.series.activeClusters],
        hiddenClusters: [...this.series.hiddenClusters],
      },
    };
  }
}

function isGeneration(node: string, base: string): boolean {
  return node.startsWith(`${base}-`) && /^\d+$/.test(node.slice(base.length + 1));
}

/** Appends a point, replacing one of the same instant (a step function keeps the last value of an instant). */
function push(series: SeriesPoint[], timeUs: number, value: number): void {
  const last = series[series.length - 1];
  if (last && last.timeUs === timeUs) series[series.length - 1] = { timeUs, value };
  else series.push({ timeUs, value });
}
