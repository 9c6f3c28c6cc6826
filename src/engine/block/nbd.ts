/**
 * The NBD connection between the hosts: the primary's nbd-client node sends each request over
 * a link with a one-way latency in virtual time; the secondary's NBD server hands it to its
 * export (a BlockBackend, so it passes through whatever QEMU put above the exported node).
 *
 * A request sent while the link is down fails at once. One in flight when the link goes down
 * fails then; if it had already reached the server, its write has landed and only the reply is
 * lost.
 *
 * Each request in flight is a frame of the client node (io-frames.ts) and each message on the
 * wire an entry of the scheduler, so both can be saved mid-flight.
 */
import type { HostName, IoKind } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, type Errno, type ReadResult, type WriteResult } from './errno.js';
import type { BlockBackend } from './graph.js';
import { isSuspended, Suspended, type IoFrame, type IoOutcome, type IoResult } from './io-frames.js';
import { BlockNode, type BlockEnv, type IoContext } from './node.js';

const NBD_REQUEST = 'nbd-request';

/** Where a message of a request is: on the wire to the server, served (awaiting the export), or the reply on the wire. */
type NbdPhase = 'request' | 'serving' | 'reply';

interface NbdRequestState {
  readonly io: IoKind;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  /** A write's bytes, until they reach the server. */
  data?: DataRuns;
  readonly ctx: IoContext;
  phase: NbdPhase;
  /** The server's answer, carried back by the reply. */
  reply?: IoResult;
}

export interface NbdLinkSnapshot {
  readonly up: boolean;
  /** The secondary's NBD server runs and exports the disk (nbd-server-start, nbd-server-add). */
  readonly serving: boolean;
  /** Frames whose message is on the wire, in the order they were sent. */
  readonly inTransit: readonly number[];
}

export class NbdLink {
  private up = true;
  private serving = true;
  /** Told when the link goes down (the migration channel shares the network). */
  onDown: (() => void) | undefined;
  /** Frame ids of the requests whose message (request or reply) is on the wire, in send order. */
  private readonly inTransit = new Set<number>();

  constructor(
    private readonly env: BlockEnv,
    readonly latencyUs: number,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  /** The NBD server runs and exports the secondary disk. */
  get isServing(): boolean {
    return this.serving;
  }

  /**
   * nbd-server-stop (false) or nbd-server-start + nbd-server-add (true). Stopping closes the
   * connection: requests and replies on the wire are lost as when the link goes down.
   */
  setServing(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    this.env.events.emit({ kind: 'graph-changed', host: 'secondary', change: serving ? 'NBD server started, secondary disk exported' : 'NBD server stopped: the export is gone' });
    if (!serving) this.loseInTransit();
  }

  /** Requests and replies currently on the wire. */
  get messagesInTransit(): number {
    return this.inTransit.size;
  }

  /** Brings the link down (every message on the wire is lost, and its sender learns it in this instant) or up. */
  setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.env.events.emit({ kind: 'link-changed', up });
    if (!up) {
      this.onDown?.();
      this.loseInTransit();
    }
  }

  private loseInTransit(): void {
    const lost = [...this.inTransit];
    this.inTransit.clear();
    for (const frameId of lost) this.env.scheduler.schedule(0, { type: 'nbd-lost', frameId });
  }

  /** Puts a message of frame `frameId` on the wire; it arrives after the latency unless the link goes down. */
  send(frameId: number, arrival: 'nbd-arrive' | 'nbd-reply'): void {
    this.inTransit.add(frameId);
    this.env.scheduler.schedule(this.latencyUs, { type: arrival, frameId });
  }

  /** Takes a message off the wire when it arrives; false when it was lost on the way. */
  receive(frameId: number): boolean {
    return this.inTransit.delete(frameId);
  }

  snapshot(): NbdLinkSnapshot {
    return { up: this.up, serving: this.serving, inTransit: [...this.inTransit] };
  }

  restore(saved: NbdLinkSnapshot): void {
    this.up = saved.up;
    this.serving = saved.serving;
    this.inTransit.clear();
    for (const frameId of saved.inTransit) this.inTransit.add(frameId);
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
    readonly link: NbdLink,
    private readonly exportBackend: BlockBackend,
    private readonly exportSizeBytes: number,
  ) {
    super(nodeName, host, env);
  }

  protected driverLengthBytes(): number {
    return this.exportSizeBytes;
  }

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    return this.sendRequest({ io: 'read', offsetBytes, lengthBytes, ctx, phase: 'request' });
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    return this.sendRequest({ io: 'write', offsetBytes, lengthBytes: data.lengthBytes, data, ctx, phase: 'request' });
  }

  /**
   * NBD_CMD_FLUSH (nbd_client_co_flush, the driver's flush_to_os, so it is sent whether or not
   * anything was written since the last flush): the server flushes its export.
   */
  protected override flushDriver(ctx: IoContext): IoOutcome<WriteResult> {
    return this.sendRequest({ io: 'flush', offsetBytes: 0, lengthBytes: 0, ctx, phase: 'request' });
  }

  private sendRequest(state: NbdRequestState): Suspended | { readonly ok: false; readonly errno: Errno } {
    const { io, offsetBytes, lengthBytes, ctx } = state;
    if (!this.link.isUp || !this.link.isServing) {
      this.reportFailure(io, offsetBytes, lengthBytes, ctx, 'EIO', this.link.isUp ? 'NBD server stopped: the connection is closed' : 'NBD link down');
      return failed('EIO');
    }
    const fillByte = state.data?.uniformByte();
    this.env.events.emit({
      kind: 'forward-sent',
      requestId: ctx.requestId,
      io,
      offsetBytes,
      lengthBytes,
      ...(fillByte === undefined ? {} : { fillByte }),
      arrivesAtUs: this.env.scheduler.nowUs + this.link.latencyUs,
    });
    const frame = this.env.frames.create(this.frameOwner, NBD_REQUEST, state);
    this.link.send(frame.id, 'nbd-arrive');
    return new Suspended(frame.id);
  }

  /** The request reaches the NBD server, which runs it on its export. */
  onArrive(frame: IoFrame): void {
    if (!this.link.receive(frame.id)) return;
    const state = frame.state as NbdRequestState;
    const serverCtx: IoContext = { requestId: state.ctx.requestId, origin: 'nbd-export' };
    const root = this.exportBackend.root;
    const data = state.data;
    delete state.data;
    let outcome: IoOutcome;
    if (!root) outcome = failed('ENOMEDIUM');
    else if (data) outcome = root.write(state.offsetBytes, data, serverCtx);
    else if (state.io === 'flush') outcome = root.flush(serverCtx);
    else outcome = root.read(state.offsetBytes, state.lengthBytes, serverCtx);
    if (isSuspended(outcome)) {
      state.phase = 'serving';
      this.env.frames.link(outcome, frame, 0);
      return;
    }
    const answer = this.served(frame, outcome);
    if (!isSuspended(answer)) this.env.frames.complete(frame.id, answer);
  }

  /** The export answered: the reply goes back over the link (or is lost at once if the link is down). */
  private served(frame: IoFrame, result: IoResult): IoOutcome {
    const state = frame.state as NbdRequestState;
    const request = { requestId: state.ctx.requestId, io: state.io, offsetBytes: state.offsetBytes, lengthBytes: state.lengthBytes };
    const serverResult: IoResult = result.ok ? result : failed(errnoOverNbd(result.errno));
    this.env.events.emit({ kind: 'forward-landed', ...request, ...(serverResult.ok ? {} : { errno: serverResult.errno }) });
    if (!this.link.isUp) {
      this.env.events.emit({ kind: 'forward-lost', ...request, landed: true });
      this.reportFailure(state.io, state.offsetBytes, state.lengthBytes, state.ctx, 'EIO', 'NBD link went down before the reply arrived');
      return failed('EIO');
    }
    state.phase = 'reply';
    state.reply = serverResult;
    this.link.send(frame.id, 'nbd-reply');
    return new Suspended(frame.id);
  }

  /** The reply reaches the client: the request completes with the server's answer. */
  onReply(frame: IoFrame): void {
    if (!this.link.receive(frame.id)) return;
    const state = frame.state as NbdRequestState;
    const reply = state.reply!;
    this.env.events.emit({
      kind: 'forward-completed',
      requestId: state.ctx.requestId,
      io: state.io,
      offsetBytes: state.offsetBytes,
      lengthBytes: state.lengthBytes,
      ...(reply.ok ? {} : { errno: reply.errno }),
    });
    this.env.frames.complete(frame.id, reply);
  }

  /** The link went down with this request's message on the wire. */
  onLost(frame: IoFrame): void {
    const state = frame.state as NbdRequestState;
    const landed = state.phase === 'reply';
    this.env.events.emit({ kind: 'forward-lost', requestId: state.ctx.requestId, io: state.io, offsetBytes: state.offsetBytes, lengthBytes: state.lengthBytes, landed });
    this.reportFailure(
      state.io,
      state.offsetBytes,
      state.lengthBytes,
      state.ctx,
      'EIO',
      landed ? 'NBD link went down before the reply arrived' : 'NBD link went down before the request arrived',
    );
    this.env.frames.complete(frame.id, failed('EIO'));
  }

  protected override resumeDriver(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    if (frame.step === NBD_REQUEST) return this.served(frame, result);
    return super.resumeDriver(frame, slot, result);
  }
}
