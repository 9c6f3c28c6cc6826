/**
 * A node of a host's block graph, shaped like QEMU's BlockDriverState: a driver, its own state,
 * and children reached through named roles (file, backing, children.N, ...). A node only ever
 * calls its children; it never knows what sits above it.
 *
 * Reads and writes answer at once or return `Suspended` (see io-frames.ts): a driver that has
 * work left after a child that waits records a frame and resumes in `resumeDriver`.
 */
import type { EngineAction } from '../sim/actions.js';
import type { EventBus, HostName, IoKind, IoOrigin } from '../sim/events.js';
import type { Scheduler } from '../sim/scheduler.js';
import type { DataRuns } from './data-runs.js';
import { failed, WRITE_OK, type Errno, type ReadResult, type WriteResult } from './errno.js';
import type { DirtyBitmap } from './dirty-bitmap.js';
import { NodeFaults } from './faults.js';
import { Suspended, type FrameOwner, type FrameResumer, type FrameTable, type IoFrame, type IoOutcome, type IoResult } from './io-frames.js';

export interface BlockEnv {
  readonly scheduler: Scheduler<EngineAction>;
  readonly events: EventBus;
  readonly frames: FrameTable;
}

/** Carried down the graph with each request, so every event names the request it belongs to. */
export interface IoContext {
  readonly requestId: number;
  readonly origin: IoOrigin;
}

export type ChildRole = 'file' | 'backing' | 'target' | 'hidden disk' | 'secondary disk' | `children.${number}`;

export type DriverName = 'raw' | 'qcow2' | 'quorum' | 'replication' | 'nbd' | 'copy-before-write' | 'mirror_top';

/** The step of BlockNode.write that marks dirty bitmaps once the driver has answered. */
const WRITE_FINISH = 'write-req-finish';
/** The step of the generic flush that goes on to the next child once one has answered. */
const FLUSH_CHILDREN = 'flush-children';

interface FlushChildrenState {
  readonly roles: ChildRole[];
  /** Index in `roles` of the child being flushed. */
  index: number;
  /** The first child's error (bdrv_co_flush keeps the first and flushes the rest anyway). */
  firstErrno: Errno | null;
  readonly ctx: IoContext;
}

export abstract class BlockNode implements FrameResumer {
  abstract readonly driver: DriverName;
  /** Filters pass I/O to one child (QEMU's is_filter); COW images have a backing child. */
  abstract readonly isFilter: boolean;
  readonly children = new Map<ChildRole, BlockNode>();
  readonly faults = new NodeFaults();
  /** The medium was removed: QEMU's bs->drv == NULL. */
  ejected = false;
  /** Bitmaps marked by every write the driver answered, failed or not (bdrv_co_write_req_finish). */
  readonly dirtyBitmaps = new Set<DirtyBitmap>();
  /** This node as the owner of its frames. */
  readonly frameOwner: FrameOwner;

  constructor(
    readonly nodeName: string,
    readonly host: HostName,
    protected readonly env: BlockEnv,
  ) {
    this.frameOwner = { kind: 'node', host, node: nodeName };
  }

  /** bdrv_co_preadv: an ejected medium fails with ENOMEDIUM, an injected fault with EIO, else the driver reads. */
  read(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    if (this.ejected) return this.refuse('read', offsetBytes, lengthBytes, ctx, 'ENOMEDIUM', 'medium ejected');
    if (this.faults.trigger('read')) return this.refuse('read', offsetBytes, lengthBytes, ctx, 'EIO', 'injected fault');
    return this.readFromDriver(offsetBytes, lengthBytes, ctx);
  }

  /**
   * bdrv_co_pwritev_part then bdrv_aligned_pwritev. An ejected medium fails before the tracked
   * request begins, so no dirty bit is set. Otherwise the driver writes (an injected fault fails
   * inside it, as blkdebug's would) and bdrv_co_write_req_finish sets this node's dirty bits
   * whatever the result: QEMU 7.2 marks a failed write dirty too (block/io.c).
   */
  write(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    if (this.ejected) return this.refuse('write', offsetBytes, data.lengthBytes, ctx, 'ENOMEDIUM', 'medium ejected');
    let outcome: IoOutcome<WriteResult>;
    if (this.faults.trigger('write')) outcome = this.refuse('write', offsetBytes, data.lengthBytes, ctx, 'EIO', 'injected fault');
    else outcome = this.writeToDriver(offsetBytes, data, ctx);
    if (outcome instanceof Suspended) return this.env.frames.suspendOn(outcome, this.frameOwner, WRITE_FINISH, { offsetBytes, lengthBytes: data.lengthBytes });
    return this.finishWrite(offsetBytes, data.lengthBytes, outcome);
  }

  /**
   * bdrv_co_flush (block/io.c): a node without a medium answers success at once; an injected
   * fault fails it; a driver with its own flush (quorum, NBD, the filters) does the whole job;
   * otherwise the children it may write to are flushed one after the other, and the first error
   * is the answer. Images have no such child here (their file protocol is part of them): their
   * flush succeeds.
   */
  flush(ctx: IoContext): IoOutcome<WriteResult> {
    if (this.ejected) return WRITE_OK;
    if (this.faults.trigger('flush')) return this.refuse('flush', 0, 0, ctx, 'EIO', 'injected fault');
    return this.flushDriver(ctx);
  }

  /** A driver's flush; by default the generic one of bdrv_co_flush over `flushedChildRoles`. */
  protected flushDriver(ctx: IoContext): IoOutcome<WriteResult> {
    return this.flushChildren({ roles: this.flushedChildRoles().filter((role) => this.children.has(role)), index: 0, firstErrno: null, ctx });
  }

  /**
   * The children bdrv_co_flush walks: those this node holds with write permission, in the
   * order of bs->children (QLIST_INSERT_HEAD: the child attached last comes first). None for
   * an image.
   */
  protected flushedChildRoles(): ChildRole[] {
    return [];
  }

  private flushChildren(state: FlushChildrenState): IoOutcome<WriteResult> {
    for (; state.index < state.roles.length; state.index++) {
      const child = this.children.get(state.roles[state.index]!);
      if (!child) continue;
      const outcome = child.flush(state.ctx);
      if (outcome instanceof Suspended) return this.suspendOn(outcome, FLUSH_CHILDREN, state);
      if (!outcome.ok) state.firstErrno ??= outcome.errno;
    }
    return state.firstErrno === null ? WRITE_OK : failed(state.firstErrno);
  }

  resumeFrame(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    if (frame.step === WRITE_FINISH) {
      const state = frame.state as { offsetBytes: number; lengthBytes: number };
      return this.finishWrite(state.offsetBytes, state.lengthBytes, result as WriteResult);
    }
    if (frame.step === FLUSH_CHILDREN) {
      const state = frame.state as FlushChildrenState;
      if (!result.ok) state.firstErrno ??= result.errno;
      state.index++;
      return this.flushChildren(state);
    }
    return this.resumeDriver(frame, slot, result);
  }

  private finishWrite(offsetBytes: number, lengthBytes: number, result: WriteResult): WriteResult {
    for (const bitmap of this.dirtyBitmaps) bitmap.markRange(offsetBytes, lengthBytes);
    return result;
  }

  protected abstract readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult>;
  protected abstract writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult>;

  /** Continues one of the driver's own steps; drivers that never wait have none. */
  protected resumeDriver(frame: IoFrame, _slot: number, _result: IoResult): IoOutcome {
    throw new Error(`${this.driver} node ${this.nodeName} has no step ${frame.step}`);
  }

  /** The node's length (bdrv_getlength), or undefined when it cannot be known (ejected). */
  lengthBytes(): number | undefined {
    if (this.ejected) return undefined;
    return this.driverLengthBytes();
  }

  protected abstract driverLengthBytes(): number | undefined;

  /** bdrv_filter_or_cow_bs: the child a backing chain continues through. */
  filterOrCowChild(): BlockNode | undefined {
    return this.isFilter ? (this.children.get('file') ?? this.children.get('backing')) : this.children.get('backing');
  }

  child(role: ChildRole): BlockNode | undefined {
    return this.children.get(role);
  }

  private refuse(io: IoKind, offsetBytes: number, lengthBytes: number, ctx: IoContext, errno: Errno, cause: string): { readonly ok: false; readonly errno: Errno } {
    this.reportFailure(io, offsetBytes, lengthBytes, ctx, errno, cause);
    return failed(errno);
  }

  /** Reports a request failed by the driver itself (a stage that refuses I/O, a lost link, ...). */
  protected reportFailure(io: IoKind, offsetBytes: number, lengthBytes: number, ctx: IoContext, errno: Errno, cause: string): void {
    this.env.events.emit({ kind: 'io-failed', requestId: ctx.requestId, node: this.nodeName, io, offsetBytes, lengthBytes, errno, cause });
  }

  /** Waits on `child` in a new frame of this node, to continue at `step` with `state`. */
  protected suspendOn(child: Suspended, step: string, state: unknown): Suspended {
    return this.env.frames.suspendOn(child, this.frameOwner, step, state);
  }
}
