/**
 * The active commit (commit_active_start, block/mirror.c) that failover starts on the
 * secondary: it folds the active and hidden disks into the secondary disk while the secondary
 * VM keeps writing.
 *
 * - A mirror_top filter goes above the active disk; a dirty bitmap on the active disk records
 *   every write, so a granule written during the commit is copied again.
 * - The first dirty set is every granule allocated in the active or the hidden disk.
 * - Each dirty granule is read through the active chain and written to the secondary disk;
 *   each copy takes `copyTimeUs` of virtual time.
 * - Progress: `offset` grows by each completed copy; `len` is re-set to
 *   offset + dirty + in flight on every iteration.
 * - When nothing is dirty or in flight the job is ready and completes at once (auto-complete):
 *   the filter's parents are pointed at the secondary disk. On error or cancel the graph is
 *   restored (file = active disk) and the job fails.
 */
import type { Errno } from '../block/errno.js';
import type { BlockGraph } from '../block/graph.js';
import type { BlockEnv, BlockNode } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import type { JobRegistry } from './block-job.js';
import { MirrorLoop, type CopyPhase, type InFlightCopy, type MirrorLoopState } from './mirror-loop.js';

/** bdrv_get_default_bitmap_granularity: the target's cluster size clamped to 4-64 KiB, else 64 KiB. */
export function commitGranularityBytes(targetClusterSizeBytes: number | undefined): number {
  if (!targetClusterSizeBytes) return 64 * 1024;
  return Math.min(64 * 1024, Math.max(4 * 1024, targetClusterSizeBytes));
}

export interface CommitJobParts {
  readonly source: BlockNode;
  readonly intermediate: BlockNode;
  readonly base: BlockNode;
  readonly granularityBytes: number;
  readonly copyTimeUs: number;
  readonly requestId: () => number;
}

/** Where the job's coroutine is (mirror-loop.ts): between copies, copying, reading or writing. */
export type CommitPhase = CopyPhase;

/** Everything needed to resume a commit job in a restored simulation (its timer is in the scheduler, its I/O in the frame table). */
export interface CommitJobState extends MirrorLoopState<CommitPhase> {
  readonly id: string;
  readonly cancelRequested: boolean;
}

const COMMIT_READ = 'commit-read';
const COMMIT_WRITE = 'commit-write';

export class CommitJob extends MirrorLoop {
  readonly type = 'commit' as const;
  private cancelRequested = false;

  constructor(
    env: BlockEnv,
    registry: JobRegistry,
    graph: BlockGraph,
    private readonly parts: CommitJobParts,
    private readonly onDone: (errno: Errno | undefined) => void,
    id?: string,
  ) {
    super(id ?? registry.newJobId('commit'), env, registry, graph, {
      source: parts.source,
      granularityBytes: parts.granularityBytes,
      sizeBytes: parts.source.lengthBytes() ?? parts.base.lengthBytes() ?? 0,
      copyTimeUs: parts.copyTimeUs,
      readStep: COMMIT_READ,
      writeStep: COMMIT_WRITE,
      origin: 'commit-job',
    });
  }

  get baseNode(): BlockNode {
    return this.parts.base;
  }

  get intermediateNode(): BlockNode {
    return this.parts.intermediate;
  }

  protected get copyTarget(): BlockNode {
    return this.parts.base;
  }

  start(): void {
    this.attach(this.parts.requestId);
    // job_start: the job's coroutine first runs from the main loop, not inside the caller.
    this.env.scheduler.schedule(0, { type: 'job-run', host: this.host, jobId: this.id });
  }

  /** Puts a job back as it was saved; the graph (mirror_top above the source), its timer and its frames are restored by the caller. */
  resume(state: CommitJobState): void {
    this.resumeLoop(state);
    this.cancelRequested = state.cancelRequested;
  }

  saveState(): CommitJobState {
    return { id: this.id, ...this.saveLoopState(), cancelRequested: this.cancelRequested };
  }

  hasPendingWork(): boolean {
    return this.status !== 'concluded';
  }

  /** job_cancel: takes effect when the copy in flight has finished. */
  cancel(): void {
    this.cancelRequested = true;
  }

  /** mirror_run's loop, from wherever the job was woken (its start, or the end of a copy time). */
  run(): void {
    const { source, intermediate, base } = this.parts;
    if (!this.initialized) {
      if (source.lengthBytes() === undefined || base.lengthBytes() === undefined || intermediate.ejected) {
        this.finish('ENOMEDIUM');
        return;
      }
      this.initialized = true;
      this.markAllocatedDirty(source);
      this.markAllocatedDirty(intermediate);
      this.updateLen();
      this.emitCopyProgress(0, 0);
    }
    if (this.phase === 'copying') {
      this.writeCopy();
      return;
    }
    this.nextCopy();
  }

  /** Picks the next dirty granule and copies it, or completes when nothing is dirty. */
  private nextCopy(): void {
    if (this.cancelRequested) {
      this.finish('ECANCELED');
      return;
    }
    const granule = this.dirty.nextDirty(this.cursorGranule);
    if (granule === undefined) {
      this.status = 'ready';
      this.env.events.emit({ kind: 'job-ready', jobId: this.id, jobType: 'commit' });
      this.finish(undefined);
      return;
    }
    this.copyGranule(granule);
  }

  protected copyFailed(errno: Errno): void {
    this.finish(errno);
  }

  protected copyDone(copy: InFlightCopy): void {
    this.emitCopyProgress(copy.granule * this.dirty.granularityBytes, copy.data.lengthBytes);
    this.nextCopy();
  }

  /** mirror_dirty_init: granules allocated in this layer start dirty. */
  private markAllocatedDirty(layer: BlockNode): void {
    if (!(layer instanceof Qcow2Image)) return;
    for (const clusterIndex of layer.allocatedClusterIndices()) {
      const start = clusterIndex * layer.clusterSizeBytes;
      this.dirty.markRange(start, Math.min(layer.clusterSizeBytes, layer.sizeBytes - start));
    }
  }

  /** mirror_exit_common, then the completion callback (replication_done). */
  private finish(errno: Errno | undefined): void {
    const { source, base } = this.parts;
    source.dirtyBitmaps.delete(this.dirty);
    const events = this.env.events;
    if (errno === undefined) {
      this.graph.removeFilter(this.mirrorTop, base);
      events.emit({ kind: 'graph-changed', host: this.host, change: `${source.nodeName} replaced by ${base.nodeName}; mirror_top removed` });
      this.conclude();
      events.emit({ kind: 'job-completed', jobId: this.id, jobType: 'commit' });
    } else {
      this.graph.removeFilter(this.mirrorTop, source);
      events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top removed; ${source.nodeName} restored` });
      this.conclude();
      events.emit({ kind: 'job-failed', jobId: this.id, jobType: 'commit', errno, cancelled: errno === 'ECANCELED' });
    }
    this.onDone(errno);
  }
}
