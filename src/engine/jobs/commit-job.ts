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
import type { ReadResult, WriteResult } from '../block/errno.js';
import { isSuspended, type FrameOwner, type FrameResumer, type IoFrame, type IoOutcome, type IoResult } from '../block/io-frames.js';
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
}

/**
 * Where the job's coroutine is: `between` copies (it runs at once when woken), `copying`
 * (a granule read, waiting out its copy time), or waiting for its own read or write to answer.
 */
export type CommitPhase = 'between' | 'copying' | 'reading' | 'writing';

/** Everything needed to resume a commit job in a restored simulation (its timer is in the scheduler, its I/O in the frame table). */
export interface CommitJobState {
  readonly id: string;
  readonly initialized: boolean;
  readonly dirtyGranules: number[];
  readonly cursorGranule: number;
  readonly offsetBytes: number;
  readonly cancelRequested: boolean;
  readonly requestId: number;
  readonly phase: CommitPhase;
  readonly inFlight: InFlightCopy | undefined;
}

const COMMIT_READ = 'commit-read';
const COMMIT_WRITE = 'commit-write';

export class CommitJob extends BlockJob implements FrameResumer {
  readonly type = 'commit' as const;
  readonly mirrorTop: MirrorTopFilter;
  readonly dirty: DirtyBitmap;
  private cursorGranule = 0;
  private inFlight: InFlightCopy | undefined;
  private cancelRequested = false;
  private initialized = false;
  private requestId = 0;
  private phase: CommitPhase = 'between';

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

  private get frameOwner(): FrameOwner {
    return { kind: 'job', host: this.host, jobId: this.id };
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
    this.env.scheduler.schedule(0, { type: 'job-run', host: this.host, jobId: this.id });
  }

  /** Puts a job back as it was saved; the graph (mirror_top above the source), its timer and its frames are restored by the caller. */
  resume(state: CommitJobState): void {
    this.initialized = state.initialized;
    for (const granule of state.dirtyGranules) this.dirty.setGranule(granule);
    this.cursorGranule = state.cursorGranule;
    this.offsetBytes = state.offsetBytes;
    this.cancelRequested = state.cancelRequested;
    this.requestId = state.requestId;
    this.phase = state.phase;
    this.inFlight = state.inFlight;
    this.parts.source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    this.updateLen();
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
      phase: this.phase,
      inFlight: this.inFlight,
    };
  }

  hasPendingWork(): boolean {
    return this.status !== 'concluded';
  }

  /** job_cancel: takes effect when the copy in flight has finished. */
  cancel(): void {
    this.cancelRequested = true;
  }

  private get ctx(): IoContext {
    return { requestId: this.requestId, origin: 'commit-job' };
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
      this.emitProgress(0, 0);
    }
    if (this.phase === 'copying') {
      this.writeCopy();
      return;
    }
    this.nextCopy();
  }

  /** Picks the next dirty granule and reads it, or completes when nothing is dirty. */
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
    this.dirty.clearGranule(granule);
    this.cursorGranule = granule + 1;
    const read = this.parts.source.read(granule * this.dirty.granularityBytes, this.dirty.granuleBytes(granule), this.ctx);
    if (isSuspended(read)) {
      this.phase = 'reading';
      this.env.frames.suspendOn(read, this.frameOwner, COMMIT_READ, { granule });
      return;
    }
    this.copyRead(granule, read);
  }

  private copyRead(granule: number, read: ReadResult): void {
    if (!read.ok) {
      this.finish(read.errno);
      return;
    }
    this.inFlight = { granule, data: read.data };
    this.phase = 'copying';
    this.updateLen();
    this.env.scheduler.schedule(this.parts.copyTimeUs, { type: 'job-run', host: this.host, jobId: this.id });
  }

  private writeCopy(): void {
    const copy = this.inFlight!;
    const written = this.parts.base.write(copy.granule * this.dirty.granularityBytes, copy.data, this.ctx);
    if (isSuspended(written)) {
      this.phase = 'writing';
      this.env.frames.suspendOn(written, this.frameOwner, COMMIT_WRITE, {});
      return;
    }
    this.copyWritten(written);
  }

  private copyWritten(written: WriteResult): void {
    const copy = this.inFlight!;
    this.inFlight = undefined;
    this.phase = 'between';
    if (!written.ok) {
      this.finish(written.errno);
      return;
    }
    this.offsetBytes += copy.data.lengthBytes;
    this.updateLen();
    this.emitProgress(copy.granule * this.dirty.granularityBytes, copy.data.lengthBytes);
    this.nextCopy();
  }

  resumeFrame(frame: IoFrame, _slot: number, result: IoResult): IoOutcome {
    if (frame.step === COMMIT_READ) this.copyRead((frame.state as { granule: number }).granule, result as ReadResult);
    else if (frame.step === COMMIT_WRITE) this.copyWritten(result as WriteResult);
    else throw new Error(`commit job ${this.id} has no step ${frame.step}`);
    return result;
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
