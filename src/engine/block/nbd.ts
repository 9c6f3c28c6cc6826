/**
 * The NBD connection between the hosts: the primary's nbd-client node sends each request over
 * a link with a one-way latency in virtual time; the secondary's NBD server hands it to its
 * export (a BlockBackend, so it passes through whatever QEMU put above the exported node).
 *
 * A request sent while the link is down, or once its export is gone, fails at once. One in
 * flight when the link goes down fails then; if it had already reached the server, its write
 * has landed and only the reply is lost. While the link hangs, requests and replies wait on the
 * wire; QMP yank on the client gives up on them (EIO).
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

/** What the network between the hosts does with NBD traffic. */
export type LinkState = 'up' | 'down' | 'hung';

export interface NbdLinkSnapshot {
  readonly state: LinkState;
  /** Frames whose message is on the wire, in the order they were sent, with the host whose server they talk to. */
  readonly inTransit: ReadonlyArray<readonly [number, HostName]>;
  /** Messages a hung link holds, oldest first: delivered when it comes back, lost if it goes down. */
  readonly held: ReadonlyArray<{ readonly frameId: number; readonly arrival: NbdArrival }>;
}

export type NbdArrival = 'nbd-arrive' | 'nbd-reply';

/**
 * The network between the hosts, as NBD sees it: up, down (connections reset: every message on
 * the wire is lost and its sender learns it at once), or hung (the peer stops answering without
 * resetting anything: messages stay on the wire until the link comes back, or until the client
 * gives up through QMP yank).
 */
export class NbdLink {
  private linkState: LinkState = 'up';
  /** Told when the link goes down or hangs (the migration channel shares the network). */
  onDown: (() => void) | undefined;
  onHung: (() => void) | undefined;
  onRecovered: (() => void) | undefined;
  /** Frame ids of the requests whose message (request or reply) is on the wire, in send order, with their server's host. */
  private readonly inTransit = new Map<number, HostName>();
  private held: Array<{ frameId: number; arrival: NbdArrival }> = [];

  constructor(
    private readonly env: BlockEnv,
    readonly latencyUs: number,
  ) {}

  get isUp(): boolean {
    return this.linkState === 'up';
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** Requests and replies currently on the wire (held ones included). */
  get messagesInTransit(): number {
    return this.inTransit.size;
  }

  /**
   * Brings the link down (every message on the wire is lost, and its sender learns it in this
   * instant), hangs it (messages wait), or brings it back (held messages go on their way).
   */
  setState(state: LinkState): void {
    if (state === this.linkState) return;
    const before = this.linkState;
    this.linkState = state;
    this.env.events.emit({ kind: 'link-changed', up: state === 'up', ...(state === 'hung' ? { hung: true } : {}) });
    if (state === 'down') {
      this.onDown?.();
      this.held = [];
      this.lose(() => true);
    } else if (state === 'hung') {
      this.onHung?.();
    } else if (before === 'hung') {
      const held = this.held;
      this.held = [];
      for (const message of held) this.env.scheduler.schedule(this.latencyUs, { type: message.arrival, frameId: message.frameId });
      this.onRecovered?.();
    }
  }

  /** Up (true) or down (false), as the link-down and link-up faults set it. */
  setUp(up: boolean): void {
    this.setState(up ? 'up' : 'down');
  }

  /** nbd-server-stop on `serverHost`: its connections close, and their messages on the wire are lost. */
  closeConnectionsTo(serverHost: HostName): void {
    this.held = this.held.filter((message) => this.inTransit.get(message.frameId) !== serverHost);
    this.lose((host) => host === serverHost);
  }

  /** QMP yank of an NBD client: its messages on the wire are dropped and its requests fail now. */
  dropFrames(frameIds: ReadonlySet<number>): void {
    this.held = this.held.filter((message) => !frameIds.has(message.frameId));
    for (const frameId of frameIds) {
      if (!this.inTransit.delete(frameId)) continue;
      this.env.scheduler.schedule(0, { type: 'nbd-lost', frameId });
    }
  }

  private lose(which: (serverHost: HostName) => boolean): void {
    const lost = [...this.inTransit].filter(([, host]) => which(host)).map(([frameId]) => frameId);
    for (const frameId of lost) {
      this.inTransit.delete(frameId);
      this.env.scheduler.schedule(0, { type: 'nbd-lost', frameId });
    }
  }

  /** Puts a message of frame `frameId` on the wire; it arrives after the latency unless the link goes down (or waits while it is hung). */
  send(frameId: number, serverHost: HostName, arrival: NbdArrival): void {
    this.inTransit.set(frameId, serverHost);
    if (this.linkState === 'hung') this.held.push({ frameId, arrival });
    else this.env.scheduler.schedule(this.latencyUs, { type: arrival, frameId });
  }

  /**
   * Takes a message off the wire when it arrives: false when it was lost on the way, or when
   * the link hung meanwhile (then it waits for the link to come back).
   */
  receive(frameId: number, arrival: NbdArrival): boolean {
    if (!this.inTransit.has(frameId)) return false;
    if (this.linkState === 'hung') {
      this.held.push({ frameId, arrival });
      return false;
    }
    this.inTransit.delete(frameId);
    return true;
  }

  snapshot(): NbdLinkSnapshot {
    return { state: this.linkState, inTransit: [...this.inTransit], held: this.held.map((message) => ({ ...message })) };
  }

  restore(saved: NbdLinkSnapshot): void {
    this.linkState = saved.state;
    this.inTransit.clear();
    for (const [frameId, host] of saved.inTransit) this.inTransit.set(frameId, host);
    this.held = saved.held.map((message) => ({ ...message }));
  }
}

/** Finds the export an NBD client talks to: its server's host and the export's name. */
export type NbdExportResolver = (serverHost: HostName, exportName: string) => { readonly backend: BlockBackend; readonly writable: boolean } | undefined;

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

  /** nbd_yank: the connection was shut down; with reconnect-delay 0 every later request fails. */
  quit = false;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    readonly link: NbdLink,
    /** Where the export is: the other host's NBD server, and the export's name there. */
    readonly serverHost: HostName,
    readonly exportName: string,
    private readonly exportSizeBytes: number,
    private readonly resolveExport: NbdExportResolver,
  ) {
    super(nodeName, host, env);
  }

  /** The export, while its server runs and offers it. */
  private get export(): { readonly backend: BlockBackend; readonly writable: boolean } | undefined {
    return this.resolveExport(this.serverHost, this.exportName);
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
    const refusal = this.quit
      ? 'the NBD client was yanked: its connection is shut down'
      : this.link.state === 'down'
        ? 'NBD link down'
        : !this.export
          ? `NBD server stopped or export ${this.exportName} gone: the connection is closed`
          : undefined;
    if (refusal) {
      this.reportFailure(io, offsetBytes, lengthBytes, ctx, 'EIO', refusal);
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
    this.link.send(frame.id, this.serverHost, 'nbd-arrive');
    return new Suspended(frame.id);
  }

  /** The request reaches the NBD server, which runs it on its export. */
  onArrive(frame: IoFrame): void {
    if (!this.link.receive(frame.id, 'nbd-arrive')) return;
    const state = frame.state as NbdRequestState;
    const serverCtx: IoContext = { requestId: state.ctx.requestId, origin: 'nbd-export' };
    const served = this.export;
    const root = served?.backend.root;
    const data = state.data;
    delete state.data;
    let outcome: IoOutcome;
    if (!root) outcome = failed('ENOMEDIUM');
    // nbd_handle_request: a write to a read-only export is refused with EROFS, which NBD carries as EPERM.
    else if (data && !served.writable) outcome = failed('EPERM');
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
    if (this.link.state === 'down' || this.quit) {
      this.env.events.emit({ kind: 'forward-lost', ...request, landed: true });
      this.reportFailure(state.io, state.offsetBytes, state.lengthBytes, state.ctx, 'EIO', 'NBD link went down before the reply arrived');
      return failed('EIO');
    }
    state.phase = 'reply';
    state.reply = serverResult;
    this.link.send(frame.id, this.serverHost, 'nbd-reply');
    return new Suspended(frame.id);
  }

  /** The reply reaches the client: the request completes with the server's answer. */
  onReply(frame: IoFrame): void {
    if (!this.link.receive(frame.id, 'nbd-reply')) return;
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

  /**
   * QMP yank of this node's instance (nbd_yank): the socket is shut down, the requests on the
   * wire fail now, and, with reconnect-delay 0, so does every later one.
   */
  yank(requestFrames: readonly IoFrame[]): void {
    this.quit = true;
    this.link.dropFrames(new Set(requestFrames.filter((frame) => frame.step === NBD_REQUEST).map((frame) => frame.id)));
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
