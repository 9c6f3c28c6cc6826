/**
 * Every state change of the simulation is one of these events, stamped with its virtual time.
 * The app animates them, the log lists them, `colo-sim run --trace` prints them.
 */
import type { Errno } from '../block/errno.js';

export type HostName = 'primary' | 'secondary';
export type Stage = 'none' | 'running' | 'failover' | 'failover-failed' | 'done';
export type ReplicationMode = 'primary' | 'secondary';
export type ReplicationAction = 'start' | 'checkpoint' | 'get-error' | 'stop';
/** Replication's internal jobs, and drive-mirror's (resume replication). */
export type JobType = 'backup' | 'commit' | 'mirror';
/** A guest's or a job's request; a flush carries no bytes (its offset and length are 0). */
export type IoKind = 'read' | 'write' | 'flush';

/** Who issued a request: a guest, a scenario step addressing a node, or the engine itself. */
export type IoOrigin =
  | 'primary-vm'
  | 'secondary-vm'
  | 'step'
  | 'nbd-export'
  | 'copy-before-write'
  | 'commit-job'
  | 'mirror-job'
  | 'check';

export type SimEventBody =
  | { kind: 'io-issued'; requestId: number; origin: IoOrigin; node: string; io: IoKind; offsetBytes: number; lengthBytes: number; fillByte?: number }
  | { kind: 'io-completed'; requestId: number; origin: IoOrigin; node: string; io: IoKind; offsetBytes: number; lengthBytes: number; errno?: Errno }
  /** Bytes reached an image's own layer (its store). `cow` lists the parts copied up from the backing file. */
  | { kind: 'write-landed'; requestId: number; node: string; offsetBytes: number; lengthBytes: number; fillByte?: number; cow: { offsetBytes: number; lengthBytes: number }[] }
  /** An image served this part of a read from its own layer. */
  | { kind: 'read-served'; requestId: number; node: string; offsetBytes: number; lengthBytes: number }
  | { kind: 'io-failed'; requestId: number; node: string; io: IoKind; offsetBytes: number; lengthBytes: number; errno: Errno; cause: string }
  | { kind: 'forward-sent'; requestId: number; io: IoKind; offsetBytes: number; lengthBytes: number; fillByte?: number; arrivesAtUs: number }
  | { kind: 'forward-landed'; requestId: number; io: IoKind; offsetBytes: number; lengthBytes: number; errno?: Errno }
  | { kind: 'forward-completed'; requestId: number; io: IoKind; offsetBytes: number; lengthBytes: number; errno?: Errno }
  | { kind: 'forward-lost'; requestId: number; io: IoKind; offsetBytes: number; lengthBytes: number; landed: boolean }
  | { kind: 'cbw-copy'; requestId: number; filter: string; source: string; target: string; offsetBytes: number; lengthBytes: number; zeroes: boolean; errno?: Errno }
  | { kind: 'bitmap-reset'; jobId: string; clustersReset: number }
  | { kind: 'make-empty'; node: string; clustersFreed: number; error?: string }
  | { kind: 'job-created'; host: HostName; jobId: string; jobType: JobType; granularityBytes: number }
  | { kind: 'job-progress'; jobId: string; jobType: JobType; offsetBytes: number; lenBytes: number; copiedOffsetBytes: number; copiedLengthBytes: number }
  | { kind: 'job-ready'; jobId: string; jobType: JobType }
  | { kind: 'job-completed'; jobId: string; jobType: JobType }
  | { kind: 'job-failed'; jobId: string; jobType: JobType; errno: Errno; cancelled: boolean }
  | { kind: 'stage-changed'; host: HostName; node: string; from: Stage; to: Stage }
  | { kind: 'error-recorded'; host: HostName; node: string; errno: Errno | null; cause: string }
  | { kind: 'replication-call'; host: HostName; node: string; action: ReplicationAction; mode?: ReplicationMode; failover?: boolean; outcome: 'ok' | 'ignored' | 'error'; message?: string; quirk?: string }
  | { kind: 'graph-changed'; host: HostName; change: string }
  /** The pair's shape changed: roles swapped, a lost host restarted as the new secondary. */
  | { kind: 'host-lifecycle'; host: HostName; change: string }
  | { kind: 'node-opened'; host: HostName; node: string; error?: string }
  | { kind: 'quorum-child-failed'; node: string; child: string; io: IoKind; offsetBytes: number; lengthBytes: number; errno: Errno }
  | { kind: 'link-changed'; up: boolean; hung?: boolean }
  | { kind: 'fault-injected'; description: string }
  | { kind: 'fault-cleared' }
  | { kind: 'medium-ejected'; node: string }
  | { kind: 'colo'; phase: 'start' | 'start-end' | 'checkpoint-begin' | 'checkpoint-end' | 'failover-begin' | 'failover'; to?: HostName; error?: string }
  | { kind: 'vm-state'; vm: HostName; running: boolean }
  /** A change in a host's COLO state machine (run state, migration state, failover state, its COLO thread). */
  | { kind: 'colo-change'; host: HostName; change: string }
  /** A COLO message sent over the migration channel (`lost`: the peer is gone, it will never arrive). */
  | { kind: 'colo-message'; from: HostName; to: HostName; message: string; arrivesAtUs: number; lost: boolean }
  /** QEMU's error_report on that host (its log, not a QMP reply). */
  | { kind: 'colo-log'; host: HostName; message: string }
  /** A QMP event the host emitted. */
  | { kind: 'qmp-event'; host: HostName; name: string; data: Record<string, unknown> }
  /** A QMP command and QEMU's reply. */
  | { kind: 'qmp'; host: HostName; execute: string; arguments?: Record<string, unknown>; reply: { return: unknown } | { error: { class: string; desc: string } } };

export type SimEvent = SimEventBody & { readonly timeUs: number; readonly sequence: number };
export type SimEventKind = SimEventBody['kind'];

export type EventListener = (event: SimEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private nextSequence = 0;
  private readonly queue: SimEvent[] = [];
  private delivering = false;

  constructor(private readonly now: () => number) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The sequence number the next event will carry (saved with a simulation, so numbering goes on). */
  get nextSequenceValue(): number {
    return this.nextSequence;
  }

  restoreSequence(nextSequence: number): void {
    this.nextSequence = nextSequence;
  }

  /**
   * Numbers the event and hands it to every listener. A listener that emits in turn (QMP's
   * QUORUM_REPORT_BAD follows a quorum child's failure) has its event delivered after the
   * current one reached everybody, so every listener sees events in sequence order.
   */
  emit(body: SimEventBody): void {
    // Stamped in place: every caller passes a fresh literal, and copying it (a spread of one of
    // thirty shapes) was the engine's largest single cost. The stamps go last, as a copy put them.
    const stamps = body as { timeUs?: number; sequence?: number };
    stamps.timeUs = this.now();
    stamps.sequence = this.nextSequence++;
    const event = body as SimEvent;
    if (this.delivering) {
      this.queue.push(event);
      return;
    }
    this.delivering = true;
    try {
      this.deliver(event);
      for (let index = 0; index < this.queue.length; index++) this.deliver(this.queue[index]!);
    } finally {
      this.delivering = false;
      this.queue.length = 0;
    }
  }

  private deliver(event: SimEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
