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
import { DirtyBitmap } from '../block/dirty-bitmap.js';
import type { Errno } from '../block/errno.js';
import type { BlockGraph } from '../block/graph.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { MirrorTopFilter } from '../block/mirror-top.js';
import type { BlockEnv, BlockNode, IoContext } from '../block/node.js';
import { sleep, spawn, type Co } from '../sim/coroutine.js';
import { BlockJob, type JobRegistry } from './block-job.js';

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

export class CommitJob extends BlockJob {
  readonly type = 'commit' as const;
  readonly mirrorTop: MirrorTopFilter;
  readonly dirty: DirtyBitmap;
  private cursorGranule = 0;
  private inFlightBytes = 0;
  private cancelRequested = false;

  constructor(
    env: BlockEnv,
    registry: JobRegistry,
    private readonly graph: BlockGraph,
    private readonly parts: CommitJobParts,
    private readonly onDone: (errno: Errno | undefined) => void,
  ) {
    super(registry.newJobId('commit'), registry.host, env, registry);
    const sizeBytes = parts.source.lengthBytes() ?? parts.base.lengthBytes() ?? 0;
    this.dirty = new DirtyBitmap(parts.granularityBytes, sizeBytes);
    this.mirrorTop = new MirrorTopFilter(`${parts.source.nodeName}-mirror-top`, registry.host, env);
    this.mirrorTop.children.set('backing', parts.source);
  }

  start(): void {
    const { source } = this.parts;
    this.graph.insertAbove(source, this.mirrorTop);
    source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    const events = this.env.events;
    events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top ${this.mirrorTop.nodeName} inserted above ${source.nodeName}` });
    events.emit({ kind: 'job-created', host: this.host, jobId: this.id, jobType: 'commit', granularityBytes: this.parts.granularityBytes });
    // job_start: the job's coroutine first runs from the main loop, not inside the caller.
    this.env.scheduler.schedule(0, () => spawn(this.env.scheduler, this.run()));
  }

  hasPendingWork(): boolean {
    return this.status !== 'concluded';
  }

  /** job_cancel: takes effect when the copy in flight has finished. */
  cancel(): void {
    this.cancelRequested = true;
  }

  private *run(): Co<void> {
    const { source, intermediate, base, copyTimeUs } = this.parts;
    const ctx: IoContext = { requestId: this.parts.requestId(), origin: 'commit-job' };
    if (source.lengthBytes() === undefined || base.lengthBytes() === undefined || intermediate.ejected) {
      this.finish('ENOMEDIUM');
      return;
    }
    this.markAllocatedDirty(source);
    this.markAllocatedDirty(intermediate);
    this.updateLen();
    this.emitProgress(0, 0);

    for (;;) {
      if (this.cancelRequested) {
        this.finish('ECANCELED');
        return;
      }
      const granule = this.dirty.nextDirty(this.cursorGranule);
      if (granule === undefined) break;
      this.dirty.clearGranule(granule);
      this.cursorGranule = granule + 1;
      const offsetBytes = granule * this.dirty.granularityBytes;
      const lengthBytes = this.dirty.granuleBytes(granule);
      this.inFlightBytes = lengthBytes;
      this.updateLen();
      const read = yield* source.read(offsetBytes, lengthBytes, ctx);
      if (!read.ok) {
        this.finish(read.errno);
        return;
      }
      yield* sleep(this.env.scheduler, copyTimeUs);
      const written = yield* base.write(offsetBytes, read.data, ctx);
      this.inFlightBytes = 0;
      if (!written.ok) {
        this.finish(written.errno);
        return;
      }
      this.offsetBytes += lengthBytes;
      this.updateLen();
      this.emitProgress(offsetBytes, lengthBytes);
    }
    this.status = 'ready';
    this.env.events.emit({ kind: 'job-ready', jobId: this.id, jobType: 'commit' });
    this.finish(undefined);
  }

  /** mirror_dirty_init: granules allocated in this layer start dirty. */
  private markAllocatedDirty(layer: BlockNode): void {
    if (!(layer instanceof Qcow2Image)) return;
    for (const clusterIndex of layer.allocatedClusterIndices()) {
      const start = clusterIndex * layer.clusterSizeBytes;
      this.dirty.markRange(start, Math.min(layer.clusterSizeBytes, layer.sizeBytes - start));
    }
  }

  private updateLen(): void {
    this.lenBytes = this.offsetBytes + this.dirty.dirtyBytes + this.inFlightBytes;
  }

  private emitProgress(copiedOffsetBytes: number, copiedLengthBytes: number): void {
    this.env.events.emit({
      kind: 'job-progress',
      jobId: this.id,
      jobType: 'commit',
      offsetBytes: this.offsetBytes,
      lenBytes: this.lenBytes,
      copiedOffsetBytes,
      copiedLengthBytes,
    });
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
