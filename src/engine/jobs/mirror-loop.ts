/**
 * mirror_run's copy loop (block/mirror.c), which both mirror jobs of QEMU 7.2 run: drive-mirror's
 * job (mirror_start) and the active commit failover starts (commit_active_start, which is
 * mirror_start_job in active-commit mode). Each subclass says where copies go, what follows a
 * copy, and how the job ends.
 *
 * - A mirror_top filter goes above the source, and a dirty bitmap on the source records every
 *   write, so a granule written while the job runs is copied again.
 * - A copy: the next dirty granule (from a cursor) is cleared and read from the source, held
 *   `copyTimeUs` of virtual time, then written to the target; offset grows by what was written.
 * - len is re-set to offset + dirty + in flight whenever one of them changes.
 * - A read or write that waits (NBD, a suspended request) parks the job in the frame table under
 *   the subclass's step names, which snapshots name, so a restored job resumes where it was.
 */
import type { DataRuns } from '../block/data-runs.js';
import { DirtyBitmap } from '../block/dirty-bitmap.js';
import type { Errno, ReadResult, WriteResult } from '../block/errno.js';
import type { BlockGraph } from '../block/graph.js';
import { isSuspended, type FrameOwner, type FrameResumer, type IoFrame, type IoOutcome, type IoResult } from '../block/io-frames.js';
import { MirrorTopFilter } from '../block/mirror-top.js';
import type { BlockEnv, BlockNode, IoContext } from '../block/node.js';
import type { IoOrigin } from '../sim/events.js';
import { BlockJob, type JobRegistry } from './block-job.js';

/** A granule read from the source, on its way to the target. */
export interface InFlightCopy {
  readonly granule: number;
  readonly data: DataRuns;
}

/**
 * Where a copy is: `between` copies (the loop runs at once when woken), `copying` (a granule
 * read, waiting out its copy time), or waiting for its own `reading` or `writing` to answer.
 */
export type CopyPhase = 'between' | 'copying' | 'reading' | 'writing';

/** What the loop needs to know of its job, fixed at creation. */
export interface MirrorLoopSpec {
  readonly source: BlockNode;
  readonly granularityBytes: number;
  /** The dirty bitmap's size: the source's length when the job was created. */
  readonly sizeBytes: number;
  /** Virtual time one copy takes, on top of the target's own time. */
  readonly copyTimeUs: number;
  /** The frame-table step names of a copy's read and write (saved in snapshots: never rename them). */
  readonly readStep: string;
  readonly writeStep: string;
  /** The requests' origin in events ('commit-job', 'mirror-job'). */
  readonly origin: IoOrigin;
}

/** The loop's part of a saved job (each job's state type holds these fields under these names). */
export interface MirrorLoopState<Phase extends string> {
  readonly initialized: boolean;
  readonly dirtyGranules: number[];
  readonly cursorGranule: number;
  readonly offsetBytes: number;
  readonly requestId: number;
  readonly phase: Phase;
  readonly inFlight: InFlightCopy | undefined;
}

/** `ExtraPhase`: the phases a job has besides a copy's (drive-mirror's flushing and idle). */
export abstract class MirrorLoop<ExtraPhase extends string = never> extends BlockJob implements FrameResumer {
  readonly mirrorTop: MirrorTopFilter;
  readonly dirty: DirtyBitmap;
  protected cursorGranule = 0;
  protected inFlight: InFlightCopy | undefined;
  protected initialized = false;
  protected requestId = 0;
  protected phase: CopyPhase | ExtraPhase = 'between';

  protected constructor(
    id: string,
    env: BlockEnv,
    registry: JobRegistry,
    protected readonly graph: BlockGraph,
    private readonly spec: MirrorLoopSpec,
  ) {
    super(id, registry.host, env, registry);
    this.dirty = new DirtyBitmap(spec.granularityBytes, spec.sizeBytes);
    this.mirrorTop = new MirrorTopFilter(`${spec.source.nodeName}-mirror-top`, registry.host, env);
    this.mirrorTop.children.set('backing', spec.source);
  }

  get sourceNode(): BlockNode {
    return this.spec.source;
  }

  get granularityBytes(): number {
    return this.spec.granularityBytes;
  }

  /** Where copies are written: the commit's base, drive-mirror's target. */
  protected abstract get copyTarget(): BlockNode;
  /** A copy's read or write failed (on-source-error / on-target-error "report": the job ends). */
  protected abstract copyFailed(errno: Errno): void;
  /** A copy landed (offset and len already updated): report it and go on. */
  protected abstract copyDone(copy: InFlightCopy): void;

  protected get frameOwner(): FrameOwner {
    return { kind: 'job', host: this.host, jobId: this.id };
  }

  protected get ctx(): IoContext {
    return { requestId: this.requestId, origin: this.spec.origin };
  }

  /** mirror_start_job's set-up: the filter above the source, the bitmap on it, the job's request id; then the events that announce it. */
  protected attach(nextRequestId: () => number): void {
    const { source } = this.spec;
    this.graph.insertAbove(source, this.mirrorTop);
    source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    this.requestId = nextRequestId();
    const events = this.env.events;
    events.emit({ kind: 'graph-changed', host: this.host, change: `mirror_top ${this.mirrorTop.nodeName} inserted above ${source.nodeName}` });
    events.emit({ kind: 'job-created', host: this.host, jobId: this.id, jobType: this.type, granularityBytes: this.spec.granularityBytes });
  }

  /** Starts copying `granule`: clear it, move the cursor past it, read it from the source. */
  protected copyGranule(granule: number): void {
    this.dirty.clearGranule(granule);
    this.cursorGranule = granule + 1;
    const read = this.spec.source.read(granule * this.dirty.granularityBytes, this.dirty.granuleBytes(granule), this.ctx);
    if (isSuspended(read)) {
      this.phase = 'reading';
      this.env.frames.suspendOn(read, this.frameOwner, this.spec.readStep, { granule });
      return;
    }
    this.copyRead(granule, read);
  }

  private copyRead(granule: number, read: ReadResult): void {
    if (!read.ok) {
      this.copyFailed(read.errno);
      return;
    }
    this.inFlight = { granule, data: read.data };
    this.phase = 'copying';
    this.updateLen();
    this.env.scheduler.schedule(this.spec.copyTimeUs, { type: 'job-run', host: this.host, jobId: this.id });
  }

  /** The copy time is over: write the granule in flight to the target. */
  protected writeCopy(): void {
    const copy = this.inFlight!;
    const written = this.copyTarget.write(copy.granule * this.dirty.granularityBytes, copy.data, this.ctx);
    if (isSuspended(written)) {
      this.phase = 'writing';
      this.env.frames.suspendOn(written, this.frameOwner, this.spec.writeStep, {});
      return;
    }
    this.copyWritten(written);
  }

  private copyWritten(written: WriteResult): void {
    const copy = this.inFlight!;
    this.inFlight = undefined;
    this.phase = 'between';
    if (!written.ok) {
      this.copyFailed(written.errno);
      return;
    }
    this.offsetBytes += copy.data.lengthBytes;
    this.updateLen();
    this.copyDone(copy);
  }

  /** Resumes a copy's read or write; false when `frame` is another step of the job's own. */
  protected resumeCopyFrame(frame: IoFrame, result: IoResult): boolean {
    if (frame.step === this.spec.readStep) this.copyRead((frame.state as { granule: number }).granule, result as ReadResult);
    else if (frame.step === this.spec.writeStep) this.copyWritten(result as WriteResult);
    else return false;
    return true;
  }

  resumeFrame(frame: IoFrame, _slot: number, result: IoResult): IoOutcome {
    if (!this.resumeCopyFrame(frame, result)) throw new Error(`${this.type} job ${this.id} has no step ${frame.step}`);
    return result;
  }

  protected updateLen(): void {
    this.lenBytes = this.offsetBytes + this.dirty.dirtyBytes + (this.inFlight?.data.lengthBytes ?? 0);
  }

  /** The job-progress event of a copy that landed. */
  protected emitCopyProgress(copiedOffsetBytes: number, copiedLengthBytes: number): void {
    this.env.events.emit({
      kind: 'job-progress',
      jobId: this.id,
      jobType: this.type,
      offsetBytes: this.offsetBytes,
      lenBytes: this.lenBytes,
      copiedOffsetBytes,
      copiedLengthBytes,
    });
  }

  /** The loop's part of the job's saved state. */
  protected saveLoopState(): MirrorLoopState<CopyPhase | ExtraPhase> {
    const dirtyGranules: number[] = [];
    for (let granule = 0; granule < this.dirty.granuleCount; granule++) if (this.dirty.isDirty(granule)) dirtyGranules.push(granule);
    return {
      initialized: this.initialized,
      dirtyGranules,
      cursorGranule: this.cursorGranule,
      offsetBytes: this.offsetBytes,
      requestId: this.requestId,
      phase: this.phase,
      inFlight: this.inFlight,
    };
  }

  /** Puts the loop back as saved, the bitmap on the source and the job in its registry; the caller restores the graph, timers and frames. */
  protected resumeLoop(state: MirrorLoopState<CopyPhase | ExtraPhase>): void {
    this.initialized = state.initialized;
    for (const granule of state.dirtyGranules) this.dirty.setGranule(granule);
    this.cursorGranule = state.cursorGranule;
    this.offsetBytes = state.offsetBytes;
    this.requestId = state.requestId;
    this.phase = state.phase;
    this.inFlight = state.inFlight;
    this.spec.source.dirtyBitmaps.add(this.dirty);
    this.registry.add(this);
    this.updateLen();
  }
}
