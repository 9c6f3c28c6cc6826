/**
 * The backup job with sync=none (block/backup.c), as replication starts it on the secondary:
 * source = secondary disk, target = hidden disk. It copies nothing in the background; all its
 * work happens in the copy-before-write filter it inserts above the source. Cancelling it drops
 * the filter and calls back the replication node.
 */
import type { BlockGraph } from '../block/graph.js';
import { BlockCopyState, CopyBeforeWriteFilter } from '../block/copy-before-write.js';
import type { BlockEnv, BlockNode } from '../block/node.js';
import type { Errno } from '../block/errno.js';
import { BlockJob, type JobRegistry } from './block-job.js';

/** QEMU's default minimum copy granularity (BACKUP_CLUSTER_SIZE_DEFAULT). */
export const BACKUP_CLUSTER_SIZE_DEFAULT_BYTES = 64 * 1024;

/** block_copy_calculate_cluster_size: max(64 KiB, the target's cluster size). */
export function backupClusterSizeBytes(targetClusterSizeBytes: number | undefined): number {
  return Math.max(BACKUP_CLUSTER_SIZE_DEFAULT_BYTES, targetClusterSizeBytes ?? 0);
}

export class BackupJob extends BlockJob {
  readonly type = 'backup' as const;
  readonly filter: CopyBeforeWriteFilter;

  constructor(
    env: BlockEnv,
    registry: JobRegistry,
    private readonly graph: BlockGraph,
    private readonly source: BlockNode,
    target: BlockNode,
    clusterSizeBytes: number,
    private readonly onCompleted: (errno: Errno | undefined) => void,
    id?: string,
  ) {
    super(id ?? registry.newJobId('backup'), registry.host, env, registry);
    const sizeBytes = source.lengthBytes() ?? 0;
    this.filter = new CopyBeforeWriteFilter(`${source.nodeName}-cbw`, registry.host, env, new BlockCopyState(clusterSizeBytes, sizeBytes));
    this.filter.children.set('file', source);
    this.filter.children.set('target', target);
    this.lenBytes = sizeBytes;
  }

  start(): void {
    this.graph.insertAbove(this.source, this.filter);
    this.registry.add(this);
    const events = this.env.events;
    events.emit({ kind: 'graph-changed', host: this.host, change: `copy-before-write filter ${this.filter.nodeName} inserted above ${this.source.nodeName}` });
    events.emit({ kind: 'job-created', host: this.host, jobId: this.id, jobType: 'backup', granularityBytes: this.filter.copyState.clusterSizeBytes });
  }

  /** Puts a saved job back: its filter is already in the graph, with the clusters it had copied. */
  resume(copiedClusters: readonly number[]): void {
    for (const clusterIndex of copiedClusters) this.copyState.markCopied(clusterIndex);
    this.registry.add(this);
  }

  get sourceNode(): BlockNode {
    return this.source;
  }

  get copyState(): BlockCopyState {
    return this.filter.copyState;
  }

  /** backup_do_checkpoint: every cluster must be copied again before it is overwritten. */
  doCheckpoint(): void {
    const clustersReset = this.copyState.resetAll();
    this.env.events.emit({ kind: 'bitmap-reset', jobId: this.id, clustersReset });
  }

  hasPendingWork(): boolean {
    return false;
  }

  /** job_cancel_sync: the filter is dropped at once and the completion callback runs. */
  cancel(): void {
    if (this.status === 'concluded') return;
    this.graph.removeFilter(this.filter, this.source);
    this.conclude();
    const events = this.env.events;
    events.emit({ kind: 'graph-changed', host: this.host, change: `copy-before-write filter ${this.filter.nodeName} removed` });
    events.emit({ kind: 'job-failed', jobId: this.id, jobType: 'backup', errno: 'ECANCELED', cancelled: true });
    this.onCompleted('ECANCELED');
  }
}
