/**
 * A node of a host's block graph, shaped like QEMU's BlockDriverState: a driver, its own state,
 * and children reached through named roles (file, backing, children.N, ...). A node only ever
 * calls its children; it never knows what sits above it.
 */
import type { Co } from '../sim/coroutine.js';
import type { EventBus, HostName, IoKind, IoOrigin } from '../sim/events.js';
import type { Scheduler } from '../sim/scheduler.js';
import type { DataRuns } from './data-runs.js';
import { failed, type Errno, type ReadResult, type WriteResult } from './errno.js';
import type { DirtyBitmap } from './dirty-bitmap.js';
import { NodeFaults } from './faults.js';

export interface BlockEnv {
  readonly scheduler: Scheduler;
  readonly events: EventBus;
}

/** Carried down the graph with each request, so every event names the request it belongs to. */
export interface IoContext {
  readonly requestId: number;
  readonly origin: IoOrigin;
}

export type ChildRole = 'file' | 'backing' | 'target' | 'hidden disk' | 'secondary disk' | `children.${number}`;

export type DriverName = 'raw' | 'qcow2' | 'quorum' | 'replication' | 'nbd' | 'copy-before-write' | 'mirror_top';

export abstract class BlockNode {
  abstract readonly driver: DriverName;
  /** Filters pass I/O to one child (QEMU's is_filter); COW images have a backing child. */
  abstract readonly isFilter: boolean;
  readonly children = new Map<ChildRole, BlockNode>();
  readonly faults = new NodeFaults();
  /** The medium was removed: QEMU's bs->drv == NULL. */
  ejected = false;
  /** Bitmaps marked by every successful write to this node (bdrv_co_write_req_finish). */
  readonly dirtyBitmaps = new Set<DirtyBitmap>();

  constructor(
    readonly nodeName: string,
    readonly host: HostName,
    protected readonly env: BlockEnv,
  ) {}

  *read(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    const refusal = this.refusal('read', offsetBytes, lengthBytes, ctx);
    if (refusal) return failed(refusal);
    return yield* this.readFromDriver(offsetBytes, lengthBytes, ctx);
  }

  *write(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult> {
    const refusal = this.refusal('write', offsetBytes, data.lengthBytes, ctx);
    if (refusal) return failed(refusal);
    const result = yield* this.writeToDriver(offsetBytes, data, ctx);
    if (result.ok) for (const bitmap of this.dirtyBitmaps) bitmap.markRange(offsetBytes, data.lengthBytes);
    return result;
  }

  protected abstract readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult>;
  protected abstract writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult>;

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

  /** Why a request must fail before the driver sees it: an ejected medium or an injected fault. */
  protected refusal(io: IoKind, offsetBytes: number, lengthBytes: number, ctx: IoContext): Errno | undefined {
    let errno: Errno | undefined;
    let cause = '';
    if (this.ejected) {
      errno = 'ENOMEDIUM';
      cause = 'medium ejected';
    } else if (this.faults.trigger(io)) {
      errno = 'EIO';
      cause = 'injected fault';
    }
    if (errno) {
      this.env.events.emit({ kind: 'io-failed', requestId: ctx.requestId, node: this.nodeName, io, offsetBytes, lengthBytes, errno, cause });
    }
    return errno;
  }

  /** Reports a request failed by the driver itself (a stage that refuses I/O, a lost link, ...). */
  protected reportFailure(io: IoKind, offsetBytes: number, lengthBytes: number, ctx: IoContext, errno: Errno, cause: string): void {
    this.env.events.emit({ kind: 'io-failed', requestId: ctx.requestId, node: this.nodeName, io, offsetBytes, lengthBytes, errno, cause });
  }
}
