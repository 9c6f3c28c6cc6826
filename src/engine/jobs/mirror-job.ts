/**
 * drive-mirror's job (mirror_start, block/mirror.c) as COLO-FT.txt's "resume replication" runs
 * it: sync=full from the VM's quorum to the new secondary's NBD export, mode=existing.
 *
 * - A mirror_top filter goes above the source; a dirty bitmap on the source records every write,
 *   which the job copies again (copy-mode background, 7.2's default).
 * - mirror_dirty_init with sync=full: quorum has no block status of its own, so every granule is
 *   allocated and starts dirty: the whole disk is copied.
 * - Each dirty granule is read from the source and written to the target; each copy takes
 *   `copyTimeUs` of virtual time plus the target's own time (NBD's round trip).
 * - When nothing is dirty or in flight the target is flushed and the job is READY
 *   (BLOCK_JOB_READY). It keeps copying what the guest writes, looking every
 *   BLOCK_JOB_SLICE_TIME (100 ms) when there is nothing to do.
 * - block-job-cancel before READY stops it (BLOCK_JOB_CANCELLED; the target is left partial);
 *   after READY it is a soft cancel: the job copies what is left, then ends without switching
 *   the guest to the target (BLOCK_JOB_COMPLETED): "block-job-cancel will leave the target in a
 *   consistent state" (mirror_run). block-job-complete after READY ends it the same way but
 *   replaces the source by the target in every parent (the pivot).
 * - A failed read or write ends the job (on-source-error and on-target-error "report").
 */
import { STRERROR, type Errno, type WriteResult } from '../block/errno.js';
import type { BlockGraph } from '../block/graph.js';
import { isSuspended, type IoFrame, type IoOutcome, type IoResult } from '../block/io-frames.js';
import type { BlockEnv, BlockNode } from '../block/node.js';
import type { JobRegistry } from './block-job.js';
import { MirrorLoop, type CopyPhase, type InFlightCopy, type MirrorLoopState } from './mirror-loop.js';

/** BLOCK_JOB_SLICE_TIME: a READY mirror with nothing to copy looks again after this long. */
export const BLOCK_JOB_SLICE_TIME_US = 100_000;

/** What drive-mirror was asked for, as query-block-jobs and the events report it. */
export interface MirrorJobParts {
  readonly source: BlockNode;
  /** The node drive-mirror opened for `target` (an NBD client here); dropped when the job ends. */
  readonly target: BlockNode;
  readonly granularityBytes: number;
  /** The source's length when the job was created (its dirty bitmap's size). */
  readonly sizeBytes: number;
  readonly copyTimeUs: number;
  readonly requestId: () => number;
}

/**
 * Where the job's coroutine is: a copy's phases (mirror-loop.ts), `flushing` the target before
 * READY, `idle` (READY and clean, asleep for a slice).
 */
export type MirrorPhase = CopyPhase | 'flushing' | 'idle';

/** Everything needed to resume a mirror job in a restored simulation. */
export interface MirrorJobState extends MirrorLoopState<MirrorPhase> {
  readonly id: string;
  readonly ready: boolean;
  /** block-job-cancel: `force` before READY, soft after. */
  readonly cancel: 'none' | 'force' | 'soft';
  readonly shouldComplete: boolean;
  /** The scheduler entry of an idle job's slice, cancelled when the operator wakes it. */
  readonly sliceTimer: number | null;
}

/** What the job tells the monitor: QMP events on its host. */
export type MirrorEventSink = (name: string, data: Record<string, unknown>) => void;

const MIRROR_READ = 'mirror-read';
const MIRROR_WRITE = 'mirror-write';
const MIRROR_FLUSH = 'mirror-flush';

export class MirrorJob extends MirrorLoop<'flushing' | 'idle'> {
  readonly type = 'mirror' as const;
  private ready = false;
  private cancelMode: 'none' | 'force' | 'soft' = 'none';
  private shouldComplete = false;
  private sliceTimer: number | null = null;

  constructor(
    env: BlockEnv,
    registry: JobRegistry,
    graph: BlockGraph,
    private readonly parts: MirrorJobParts,
    private readonly emitQmp: MirrorEventSink,
    id: string,
  ) {
    super(id, env, registry, graph, {
      source: parts.source,
      granularityBytes: parts.granularityBytes,
      sizeBytes: parts.sizeBytes,
      copyTimeUs: parts.copyTimeUs,
      readStep: MIRROR_READ,
      writeStep: MIRROR_WRITE,
      origin: 'mirror-job',
    });
  }

  get targetNode(): BlockNode {
    return this.parts.target;
  }

  get sizeBytes(): number {
    return this.parts.sizeBytes;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** query-block-jobs' status: running, ready, or aborting once a forced cancel waits for its copy. */
  get qmpStatus(): 'running' | 'ready' | 'aborting' {
    if (this.cancelMode === 'force') return 'aborting';
    return this.ready ? 'ready' : 'running';
  }

  protected get copyTarget(): BlockNode {
    return this.parts.target;
  }

  start(): void {
    this.attach(this.parts.requestId);
    this.statusChange('created');
    this.statusChange('running');
    this.env.scheduler.schedule(0, { type: 'job-run', host: this.host, jobId: this.id });
  }

  resume(state: MirrorJobState): void {
    this.resumeLoop(state);
    this.ready = state.ready;
    this.status = state.ready ? 'ready' : 'running';
    this.cancelMode = state.cancel;
    this.shouldComplete = state.shouldComplete;
    this.sliceTimer = state.sliceTimer;
  }

  saveState(): MirrorJobState {
    return { id: this.id, ...this.saveLoopState(), ready: this.ready, cancel: this.cancelMode, shouldComplete: this.shouldComplete, sliceTimer: this.sliceTimer };
  }

  /** A READY job with nothing dirty waits for the guest or the operator: `run until idle` need not wait for it. */
  hasPendingWork(): boolean {
    if (this.status === 'concluded') return false;
    return !(this.ready && this.phase === 'idle' && this.cancelMode === 'none' && !this.shouldComplete && this.dirty.dirtyBytes === 0);
  }

  /** block-job-cancel was asked for (job_cancel_requested). */
  get cancelRequested(): boolean {
    return this.cancelMode !== 'none';
  }

  /** sync=none: nothing is copied but what the guest writes from now on (no mirror_dirty_init). */
  skipInitialCopy(): void {
    this.initialized = true;
  }

  /**
   * job_cancel (block-job-cancel): mirror_cancel treats any cancel before READY as forced; after
   * READY a cancel without force is soft (the job completes without pivot).
   */
  cancel(force = false): void {
    if (this.cancelMode === 'force' || (this.cancelMode === 'soft' && !force)) return;
    this.cancelMode = force || !this.ready ? 'force' : 'soft';
    if (this.cancelMode === 'force') this.statusChange('aborting');
    this.wake();
  }

  /** block-job-complete on a READY job (the caller has checked it is READY): pivot when clean. */
  complete(): void {
    this.shouldComplete = true;
    this.wake();
  }

  /** An idle READY job wakes at once for the operator (job_enter), not at the end of its slice. */
  private wake(): void {
    if (this.phase !== 'idle') return;
    if (this.sliceTimer !== null) this.env.scheduler.cancel(this.sliceTimer);
    this.sliceTimer = null;
    this.phase = 'between';
    this.env.scheduler.schedule(0, { type: 'job-run', host: this.host, jobId: this.id });
  }

  /** READY and clean: sleep one slice (job_sleep_ns(BLOCK_JOB_SLICE_TIME)). */
  private sleepSlice(): void {
    this.phase = 'idle';
    this.sliceTimer = this.env.scheduler.schedule(BLOCK_JOB_SLICE_TIME_US, { type: 'job-run', host: this.host, jobId: this.id });
  }

  /** mirror_run's loop, from wherever the job was woken. */
  run(): void {
    if (this.status === 'concluded') return;
    const { source, target } = this.parts;
    if (!this.initialized) {
      const sourceLength = source.lengthBytes();
      const targetLength = target.lengthBytes();
      if (sourceLength === undefined || targetLength === undefined) {
        this.finish('ENOMEDIUM', 'No medium found');
        return;
      }
      if (sourceLength !== targetLength) {
        this.finish('EINVAL', 'Source and target image have different sizes');
        return;
      }
      this.initialized = true;
      // mirror_dirty_init, sync=full: bdrv_is_allocated_above says "allocated" everywhere for a quorum.
      this.dirty.markRange(0, sourceLength);
      this.updateLen();
    }
    if (this.phase === 'copying') {
      this.writeCopy();
      return;
    }
    if (this.phase === 'idle') {
      this.phase = 'between';
      this.sliceTimer = null;
    }
    this.nextStep();
  }

  private nextStep(): void {
    if (this.cancelMode === 'force') {
      this.finish('ECANCELED', undefined);
      return;
    }
    const granule = this.dirty.nextDirty(this.cursorGranule);
    if (granule !== undefined) {
      this.copyGranule(granule);
      return;
    }
    // Clean and nothing in flight: flush the target before READY, and before ending.
    if (!this.ready || this.cancelMode === 'soft' || this.shouldComplete) {
      this.flushTarget();
      return;
    }
    this.sleepSlice();
  }

  protected copyFailed(errno: Errno): void {
    this.finish(errno, STRERROR[errno]);
  }

  protected copyDone(copy: InFlightCopy): void {
    this.emitCopyProgress(copy.granule * this.dirty.granularityBytes, copy.data.lengthBytes);
    this.nextStep();
  }

  /** mirror_flush: blk_flush(target); a failure ends the job (on-target-error report). */
  private flushTarget(): void {
    const flushed = this.parts.target.flush(this.ctx);
    if (isSuspended(flushed)) {
      this.phase = 'flushing';
      this.env.frames.suspendOn(flushed, this.frameOwner, MIRROR_FLUSH, {});
      return;
    }
    this.targetFlushed(flushed);
  }

  private targetFlushed(flushed: WriteResult): void {
    this.phase = 'between';
    if (!flushed.ok) {
      this.finish(flushed.errno, STRERROR[flushed.errno]);
      return;
    }
    // The guest may have written while the flush was on its way: copy that first.
    if (this.dirty.dirtyBytes > 0) {
      this.nextStep();
      return;
    }
    if (!this.ready) {
      this.ready = true;
      this.status = 'ready';
      this.env.events.emit({ kind: 'job-ready', jobId: this.id, jobType: 'mirror' });
      this.statusChange('ready');
      this.emitQmp('BLOCK_JOB_READY', this.jobInfo());
    }
    if (this.cancelMode === 'soft' || this.shouldComplete) {
      this.finish(undefined, undefined);
      return;
    }
    this.sleepSlice();
  }

  override resumeFrame(frame: IoFrame, _slot: number, result: IoResult): IoOutcome {
    if (this.resumeCopyFrame(frame, result)) return result;
    if (frame.step === MIRROR_FLUSH) this.targetFlushed(result as WriteResult);
    else throw new Error(`mirror job ${this.id} has no step ${frame.step}`);
    return result;
  }

  /** The members BLOCK_JOB_* events carry (block_job_event_*). */
  private jobInfo(): Record<string, unknown> {
    return { type: 'mirror', device: this.id, len: this.lenBytes, offset: this.offsetBytes, speed: 0 };
  }

  private statusChange(status: string): void {
    this.emitQmp('JOB_STATUS_CHANGE', { status, id: this.id });
  }

  /**
   * mirror_exit_common, then the job's end: the filter goes, the guest is switched to the
   * target only on block-job-complete, the target node drive-mirror opened is dropped
   * otherwise, and the job is dismissed (auto-dismiss).
   */
  private finish(errno: Errno | undefined, errorText: string | undefined): void {
    const { source, target } = this.parts;
    source.dirtyBitmaps.delete(this.dirty);
    const events = this.env.events;
    const pivot = errno === undefined && this.shouldComplete;
    this.graph.removeFilter(this.mirrorTop, source);
    if (pivot) {
      this.graph.replaceNode(source, target);
      events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top removed; ${source.nodeName} replaced by ${target.nodeName} (pivot)` });
    } else {
      this.graph.remove(target);
      events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top removed; the target ${target.nodeName} is closed` });
    }
    const info = this.jobInfo();
    if (errno === undefined) {
      this.statusChange('waiting');
      this.statusChange('pending');
      this.statusChange('concluded');
      this.conclude();
      events.emit({ kind: 'job-completed', jobId: this.id, jobType: 'mirror' });
      this.emitQmp('BLOCK_JOB_COMPLETED', info);
    } else {
      if (errno !== 'ECANCELED') this.statusChange('aborting');
      this.statusChange('concluded');
      this.conclude();
      events.emit({ kind: 'job-failed', jobId: this.id, jobType: 'mirror', errno, cancelled: errno === 'ECANCELED' });
      this.emitQmp(errno === 'ECANCELED' ? 'BLOCK_JOB_CANCELLED' : 'BLOCK_JOB_COMPLETED', errno === 'ECANCELED' ? info : { ...info, error: errorText ?? STRERROR[errno] });
    }
    this.statusChange('null');
  }
}
