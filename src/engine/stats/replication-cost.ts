/**
 * What replication costs, read from the engine's events: bytes the primary forwards over NBD,
 * copy-before-write copies into the hidden disk, how full the active and hidden disks get, what
 * each checkpoint empties, and how long the failover's active commit takes and how much it
 * copies. The same figures feed `colo-sim run --stats` and the app's charts.
 *
 * Series are step functions over virtual time: each point is (timeUs, value from then on).
 */
import type { SimEvent } from '../sim/events.js';

export interface SeriesPoint {
  readonly timeUs: number;
  readonly value: number;
}

export interface CheckpointCost {
  readonly endUs: number;
  readonly ok: boolean;
  /** Clusters make_empty freed in the active and the hidden disk. */
  readonly activeClustersFreed: number;
  readonly hiddenClustersFreed: number;
}

export interface CommitCost {
  readonly jobId: string;
  readonly startUs: number;
  readonly endUs: number | null;
  readonly bytesCopied: number;
  readonly outcome: 'running' | 'completed' | 'failed';
}

export interface CostReport {
  readonly virtualTimeUs: number;
  readonly nbd: { readonly writesForwarded: number; readonly bytesForwarded: number; readonly forwardsFailed: number };
  readonly copyBeforeWrite: { readonly copies: number; readonly bytes: number; readonly zeroCopies: number; readonly failed: number };
  readonly checkpoints: readonly CheckpointCost[];
  readonly commits: readonly CommitCost[];
  readonly series: {
    /** Bytes forwarded over NBD so far. */
    readonly bytesForwarded: readonly SeriesPoint[];
    /** Bytes copied by copy-before-write so far. */
    readonly cbwBytes: readonly SeriesPoint[];
    /** Clusters allocated in each buffer disk's own layer. */
    readonly activeClusters: readonly SeriesPoint[];
    readonly hiddenClusters: readonly SeriesPoint[];
  };
}

/** Follows a run's events; `clusterSizeBytes` is the qcow2 cluster size of the active and hidden disks. */
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
  private readonly commits = new Map<string, { startUs: number; endUs: number | null; bytesCopied: number; outcome: CommitCost['outcome'] }>();
  private readonly allocated = { active: new Set<number>(), hidden: new Set<number>() };
  private pendingFreed = { active: 0, hidden: 0 };
  private readonly series = { bytesForwarded: [] as SeriesPoint[], cbwBytes: [] as SeriesPoint[], activeClusters: [] as SeriesPoint[], hiddenClusters: [] as SeriesPoint[] };

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
        return;
      case 'write-landed':
        this.allocate(event.node, event.offsetBytes, event.lengthBytes, event.timeUs);
        for (const part of event.cow) this.allocate(event.node, part.offsetBytes, part.lengthBytes, event.timeUs);
        return;
      case 'make-empty': {
        const which = event.node === this.activeDisk ? 'active' : event.node === this.hiddenDisk ? 'hidden' : undefined;
        if (!which || event.error) return;
        this.pendingFreed[which] += event.clustersFreed;
        this.allocated[which].clear();
        push(which === 'active' ? this.series.activeClusters : this.series.hiddenClusters, event.timeUs, 0);
        return;
      }
      case 'colo':
        if (event.phase !== 'checkpoint-end') return;
        this.checkpoints.push({ endUs: event.timeUs, ok: event.error === undefined, activeClustersFreed: this.pendingFreed.active, hiddenClustersFreed: this.pendingFreed.hidden });
        this.pendingFreed = { active: 0, hidden: 0 };
        return;
      case 'job-created':
        if (event.jobType === 'commit') this.commits.set(event.jobId, { startUs: event.timeUs, endUs: null, bytesCopied: 0, outcome: 'running' });
        return;
      case 'job-progress': {
        const commit = this.commits.get(event.jobId);
        if (commit) commit.bytesCopied += event.copiedLengthBytes;
        return;
      }
      case 'job-completed':
      case 'job-failed': {
        const commit = this.commits.get(event.jobId);
        if (!commit) return;
        commit.endUs = event.timeUs;
        commit.outcome = event.kind === 'job-completed' ? 'completed' : 'failed';
        return;
      }
      default:
        return;
    }
  }

  private allocate(node: string, offsetBytes: number, lengthBytes: number, timeUs: number): void {
    const which = node === this.activeDisk ? 'active' : node === this.hiddenDisk ? 'hidden' : undefined;
    if (!which || lengthBytes <= 0) return;
    const set = this.allocated[which];
    const before = set.size;
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.clusterSizeBytes);
    for (let cluster = Math.floor(offsetBytes / this.clusterSizeBytes); cluster <= last; cluster++) set.add(cluster);
    if (set.size !== before) push(which === 'active' ? this.series.activeClusters : this.series.hiddenClusters, timeUs, set.size);
  }

  report(): CostReport {
    return {
      virtualTimeUs: this.virtualTimeUs,
      nbd: { writesForwarded: this.writesForwarded, bytesForwarded: this.bytesForwarded, forwardsFailed: this.forwardsFailed },
      copyBeforeWrite: { copies: this.cbwCopies, bytes: this.cbwBytes, zeroCopies: this.cbwZeroCopies, failed: this.cbwFailed },
      checkpoints: [...this.checkpoints],
      commits: [...this.commits].map(([jobId, commit]) => ({ jobId, ...commit })),
      series: {
        bytesForwarded: [...this.series.bytesForwarded],
        cbwBytes: [...this.series.cbwBytes],
        activeClusters: [...this.series.activeClusters],
        hiddenClusters: [...this.series.hiddenClusters],
      },
    };
  }
}

/** Appends a point, replacing one of the same instant (a step function keeps the last value of an instant). */
function push(series: SeriesPoint[], timeUs: number, value: number): void {
  const last = series[series.length - 1];
  if (last && last.timeUs === timeUs) series[series.length - 1] = { timeUs, value };
  else series.push({ timeUs, value });
}
