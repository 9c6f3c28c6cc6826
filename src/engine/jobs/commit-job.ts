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
import type { DataRuns } from '../block/data-runs.js';
import { sleepUntil, spawn, type Co } from '../sim/coroutine.js';
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

/** A granule read from the source, on its way to the base. */
export interface InFlightCopy {
  readonly granule: number;
  readonly data: DataRuns;
  readonly wakeAtUs: number;
}

/** Everything needed to resume a commit job in a restored simulation. */
export interface CommitJobState {
  readonly id: string;
  readonly initialized: boolean;
  readonly dirtyGranules: number[];
  readonly cursorGranule: number;
  readonly offsetBytes: number;
  readonly cancelRequested: boolean;
  readonly requestId: number;
  readonly inFlight?: InFlightCopy;
  /** Sequence of the job's pending timer, to keep its place among others of the same instant. */
  readonly timerSequence: number;
}

export class CommitJob extends BlockJob {
  readonly type = 'commit' as const;
  readonly mirrorTop: MirrorTopFilter;
  readonly dirty: DirtyBitmap;
  private cursorGranule = 0;
  private inFlight: InFlightCopy | undefined;
  private cancelRequested = false;
  private initialized = false;
  private requestId = 0;
  private timerSequence = 0;

  constructor(
    env: BlockEnv,
    registry: JobRegistry,
    private readonly graph: BlockGraph,
    private readonly parts: CommitJobParts,
    private readonly onDone: (errno: Errno | undefined) => void,
    id?: string,
  ) {
    super(id ?? registry.newJobId('commit'), registry.host, env, registry);
    const sizeBytes = parts.source.lengthBytes() ?? parts.base.lengthBytes() ?? 0;
    this.dirty = new DirtyBitmap(parts.granularityBytes, sizeBytes);
    this.mirrorTop = new MirrorTopFilter(`${parts.source.nodeName}-mirror-top`, registry.host, env);
    this.mirrorTop.children.set('backing', parts.source);
  }

  get sourceNode(): BlockNode {
    return this.parts.source;
  }

  get baseNode(): BlockNode {
    return this.parts.base;
  }

  get intermediateNode(): BlockNode {
    return this.parts.intermediate;
  }

  get granularityBytes(): number {
    return this.parts.granularityBytes;
  }

  start(): void {
    const { source } = this.parts;
    this.graph.insertAbove(source, this.mirrorTop);
    source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    this.requestId = this.parts.requestId();
    const events = this.env.events;
    events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top ${this.mirrorTop.nodeName} inserted above ${source.nodeName}` });
    events.emit({ kind: 'job-created', host: this.host, jobId: this.id, jobType: 'commit', granularityBytes: this.parts.granularityBytes });
    // job_start: the job's coroutine first runs from the main loop, not inside the caller.
    this.timerSequence = this.env.scheduler.schedule(0, () => spawn(this.env.scheduler, this.run())).sequence;
  }

  /** Puts a job back as it was saved; the graph (mirror_top above the source) is restored by the caller. */
  resume(state: CommitJobState): void {
    this.initialized = state.initialized;
    for (const granule of state.dirtyGranules) this.dirty.setGranule(granule);
    this.cursorGranule = state.cursorGranule;
    this.offsetBytes = state.offsetBytes;
    this.cancelRequested = state.cancelRequested;
    this.requestId = state.requestId;
    this.inFlight = state.inFlight;
    this.parts.source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    this.updateLen();
    const wakeAtUs = state.inFlight?.wakeAtUs ?? this.env.scheduler.nowUs;
    this.timerSequence = this.env.scheduler.scheduleAt(wakeAtUs, () => spawn(this.env.scheduler, this.run())).sequence;
  }

  saveState(): CommitJobState {
    const dirtyGranules: number[] = [];
    for (let granule = 0; granule < this.dirty.granuleCount; granule++) if (this.dirty.isDirty(granule)) dirtyGranules.push(granule);
    return {
      id: this.id,
      initialized: this.initialized,
      dirtyGranules,
      cursorGranule: this.cursorGranule,
      offsetBytes: this.offsetBytes,
      cancelRequested: this.cancelRequested,
      requestId: this.requestId,
      ...(this.inFlight ? { inFlight: this.inFlight } : {}),
      timerSequence: this.timerSequence,
    };
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
    const scheduler = this.env.scheduler;
    const ctx: IoContext = { requestId: this.requestId, origin: 'commit-job' };
    if (!this.initialized) {
      if (source.lengthBytes() === undefined || base.lengthBytes() === undefined || intermediate.ejected) {
        this.finish('ENOMEDIUM');
        return;
      }
      this.initialized = true;
      this.markAllocatedDirty(source);
      this.markAllocatedDirty(intermediate);
      this.updateLen();
      this.emitProgress(0, 0);
    }

    for (;;) {
      if (!this.inFlight) {
        if (this.cancelRequested) {
          this.finish('ECANCELED');
          return;
        }
        const granule = this.dirty.nextDirty(this.cursorGranule);
        if (granule === undefined) break;
        this.dirty.clearGranule(granule);
        this.cursorGranule = granule + 1;
        const read = yield* source.read(granule * this.dirty.granularityBytes, this.dirty.granuleBytes(granule), ctx);
        if (!read.ok) {
          this.finish(read.errno);
          return;
        }
        this.inFlight = { granule, data: read.data, wakeAtUs: scheduler.nowUs + copyTimeUs };
        this.updateLen();
      }
      const copy = this.inFlight;
      yield* sleepUntil(scheduler, copy.wakeAtUs);
      const offsetBytes = copy.granule * this.dirty.granularityBytes;
      const written = yield* base.write(offsetBytes, copy.data, ctx);
      this.inFlight = undefined;
      if (!written.ok) {
        this.finish(written.errno);
        return;
      }
      this.offsetBytes += copy.data.lengthBytes;
      this.updateLen();
      this.emitProgress(offsetBytes, copy.data.lengthBytes);
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
    this.lenBytes = this.offsetBytes + this.dirty.dirtyBytes + (this.inFlight?.data.lengthBytes ?? 0);
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
