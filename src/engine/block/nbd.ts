/**
 * The NBD connection between the hosts: the primary's nbd-client node sends each request over
 * a link with a one-way latency in virtual time; the secondary's NBD server hands it to its
 * export (a BlockBackend, so it passes through whatever QEMU put above the exported node).
 *
 * A request sent while the link is down fails at once. One in flight when the link goes down
 * fails then; if it had already reached the server, its write has landed and only the reply is
 * lost.
 */
import { awaitFuture, Future, type Co } from '../sim/coroutine.js';
import type { HostName, IoKind } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, type Errno, type ReadResult, type WriteResult } from './errno.js';
import type { BlockBackend } from './graph.js';
import { BlockNode, type BlockEnv, type IoContext } from './node.js';

export class NbdLink {
  private up = true;
  private readonly inTransit = new Set<Future<boolean>>();

  constructor(
    private readonly env: BlockEnv,
    readonly latencyUs: number,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  /** Requests and replies currently on the wire. */
  get messagesInTransit(): number {
    return this.inTransit.size;
  }

  setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.env.events.emit({ kind: 'link-changed', up });
    if (!up) {
      const lost = [...this.inTransit];
      this.inTransit.clear();
      for (const message of lost) message.resolve(false);
    }
  }

  /** Sets the state without events, for a restored simulation (nothing is in transit then). */
  setUpSilently(up: boolean): void {
    this.up = up;
  }

  /** Carries one message across; false when the link is or goes down before it arrives. */
  *carry(): Co<boolean> {
    if (!this.up) return false;
    const arrival = new Future<boolean>();
    this.inTransit.add(arrival);
    this.env.scheduler.schedule(this.latencyUs, () => {
      if (this.inTransit.delete(arrival)) arrival.resolve(true);
    });
    return yield* awaitFuture(arrival);
  }
}

/**
 * The errno the primary sees: NBD carries only a few error codes, and the server maps every
 * other errno to EINVAL (nbd/server.c system_errno_to_nbd_errno).
 */
export function errnoOverNbd(errno: Errno): Errno {
  switch (errno) {
    case 'EIO':
    case 'EPERM':
    case 'ENOSPC':
    case 'ENOTSUP':
      return errno;
    default:
      return 'EINVAL';
  }
}

export class NbdClientNode extends BlockNode {
  readonly driver = 'nbd' as const;
  readonly isFilter = false;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    private readonly link: NbdLink,
    private readonly exportBackend: BlockBackend,
    private readonly exportSizeBytes: number,
  ) {
    super(nodeName, host, env);
  }

  protected driverLengthBytes(): number {
    return this.exportSizeBytes;
  }

  protected *readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    const outcome = yield* this.roundTrip('read', offsetBytes, lengthBytes, undefined, ctx);
    return outcome;
  }

  protected *writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult> {
    const outcome = yield* this.roundTrip('write', offsetBytes, data.lengthBytes, data, ctx);
    return outcome.ok ? { ok: true } : outcome;
  }

  private *roundTrip(io: IoKind, offsetBytes: number, lengthBytes: number, data: DataRuns | undefined, ctx: IoContext): Co<ReadResult> {
    const events = this.env.events;
    const request = { requestId: ctx.requestId, io, offsetBytes, lengthBytes };
    if (!this.link.isUp) {
      this.reportFailure(io, offsetBytes, lengthBytes, ctx, 'EIO', 'NBD link down');
      return failed('EIO');
    }
    const fillByte = data?.uniformByte();
    events.emit({ kind: 'forward-sent', ...request, ...(fillByte === undefined ? {} : { fillByte }), arrivesAtUs: this.env.scheduler.nowUs + this.link.latencyUs });
    if (!(yield* this.link.carry())) {
      events.emit({ kind: 'forward-lost', ...request, landed: false });
      this.reportFailure(io, offsetBytes, lengthBytes, ctx, 'EIO', 'NBD link went down before the request arrived');
      return failed('EIO');
    }
    const serverCtx: IoContext = { requestId: ctx.requestId, origin: 'nbd-export' };
    const root = this.exportBackend.root;
    let result: ReadResult;
    if (!root) result = failed('ENOMEDIUM');
    else if (data) {
      const written = yield* root.write(offsetBytes, data, serverCtx);
      result = written.ok ? { ok: true, data } : written;
    } else result = yield* root.read(offsetBytes, lengthBytes, serverCtx);
    const errno = result.ok ? undefined : errnoOverNbd(result.errno);
    events.emit({ kind: 'forward-landed', ...request, ...(errno ? { errno } : {}) });
    if (!(yield* this.link.carry())) {
      events.emit({ kind: 'forward-lost', ...request, landed: true });
      this.reportFailure(io, offsetBytes, lengthBytes, ctx, 'EIO', 'NBD link went down before the reply arrived');
      return failed('EIO');
    }
    events.emit({ kind: 'forward-completed', ...request, ...(errno ? { errno } : {}) });
    return errno ? failed(errno) : result;
  }
}
