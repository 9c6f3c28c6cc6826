/**
 * The event log's store: the last N events in a ring, with what the log shows for each (its
 * group, host and node when the event arrives; its text and QEMU function once, when first read).
 */
import { describeEvent, qemuFunctionOf } from '../../engine/sim/format-event.js';
import type { HostName, SimEvent, SimEventKind } from '../../engine/sim/events.js';

export const LOG_CAPACITY = 5000;

export type EventGroup = 'io' | 'nbd' | 'cbw' | 'job' | 'replication' | 'colo' | 'fault' | 'graph';

export const EVENT_GROUPS: ReadonlyArray<{ id: EventGroup; label: string; kinds: readonly SimEventKind[] }> = [
  { id: 'io', label: 'I/O', kinds: ['io-issued', 'io-completed', 'write-landed', 'read-served', 'io-failed'] },
  { id: 'nbd', label: 'NBD', kinds: ['forward-sent', 'forward-landed', 'forward-completed', 'forward-lost', 'link-changed'] },
  { id: 'cbw', label: 'Copy-before-write', kinds: ['cbw-copy', 'bitmap-reset', 'make-empty'] },
  { id: 'job', label: 'Jobs', kinds: ['job-created', 'job-progress', 'job-ready', 'job-completed', 'job-failed'] },
  { id: 'replication', label: 'Replication', kinds: ['stage-changed', 'error-recorded', 'replication-call', 'node-opened'] },
  { id: 'colo', label: 'COLO & VMs', kinds: ['colo', 'vm-state'] },
  { id: 'fault', label: 'Faults & errors', kinds: ['fault-injected', 'fault-cleared', 'medium-ejected', 'quorum-child-failed'] },
  { id: 'graph', label: 'Graph', kinds: ['graph-changed'] },
];

const GROUP_OF = new Map<SimEventKind, EventGroup>();
for (const group of EVENT_GROUPS) for (const kind of group.kinds) GROUP_OF.set(kind, group.id);

/**
 * One event as the log shows it. The texts are made when first read: a busy clock brings
 * thousands of events a second and the log shows a screenful, so most entries are never drawn
 * (and making every text up front kept the page's garbage collector busy).
 */
export class LogEntry {
  private cachedText: string | undefined;
  private cachedQemu: string | undefined;
  private cachedHaystack: string | undefined;

  constructor(
    /** Position in the whole session's stream. */
    readonly serial: number,
    readonly event: SimEvent,
    readonly group: EventGroup,
    readonly host: HostName | undefined,
    readonly node: string | undefined,
    readonly quirk: string | undefined,
    /** Something failed: shown in red. */
    readonly failed: boolean,
  ) {}

  get text(): string {
    return (this.cachedText ??= describeEvent(this.event));
  }

  get qemu(): string {
    return (this.cachedQemu ??= qemuFunctionOf(this.event));
  }

  /** Lower-cased text searched by the filter. */
  get haystack(): string {
    return (this.cachedHaystack ??= `${this.event.kind} ${this.text} ${this.qemu} ${this.quirk ?? ''}`.toLowerCase());
  }
}

/** The parts of the COLO pair of the moment that forwarded writes go through (SimSummary.pair). */
export interface ForwardPath {
  /** The primary's replication node's NBD client (nbd-client on the first pair). */
  readonly nbdClient: string | undefined;
  /** The secondary's data disk, the export it writes (secondary-disk on the first pair). */
  readonly secondaryDisk: string | undefined;
}

const FIRST_PAIR_FORWARD: ForwardPath = { nbdClient: 'nbd-client', secondaryDisk: 'secondary-disk' };

/**
 * The node an event is about, if any. Forwarded writes name no node: they are the pair's NBD
 * client's and, landing, its secondary disk's; after a "resume replication" those have the new
 * pair's names (replication0-nbd, a kept primary-disk...).
 */
export function nodeOf(event: SimEvent, forward: ForwardPath = FIRST_PAIR_FORWARD): string | undefined {
  switch (event.kind) {
    case 'io-issued':
    case 'io-completed':
    case 'write-landed':
    case 'read-served':
    case 'io-failed':
    case 'make-empty':
    case 'stage-changed':
    case 'error-recorded':
    case 'replication-call':
    case 'node-opened':
    case 'quorum-child-failed':
    case 'medium-ejected':
      return event.node;
    case 'cbw-copy':
      return event.filter;
    case 'forward-sent':
    case 'forward-completed':
    case 'forward-lost':
      return forward.nbdClient ?? FIRST_PAIR_FORWARD.nbdClient;
    case 'forward-landed':
      return forward.secondaryDisk ?? FIRST_PAIR_FORWARD.secondaryDisk;
    default:
      return undefined;
  }
}

function failedOf(event: SimEvent): boolean {
  switch (event.kind) {
    case 'io-failed':
    case 'forward-lost':
    case 'quorum-child-failed':
    case 'job-failed':
      return true;
    case 'io-completed':
    case 'forward-landed':
    case 'forward-completed':
    case 'cbw-copy':
      return event.errno !== undefined;
    case 'error-recorded':
      return event.errno !== null;
    case 'replication-call':
      return event.outcome === 'error';
    case 'make-empty':
    case 'node-opened':
    case 'colo':
      return event.error !== undefined;
    case 'link-changed':
      return !event.up;
    default:
      return false;
  }
}

export class EventLog {
  private readonly ring: Array<LogEntry | undefined> = new Array(LOG_CAPACITY);
  private start = 0;
  private count = 0;
  private serial = 0;

  constructor(
    private readonly hostOfNode: (node: string) => HostName | undefined,
    /** The pair's forwarding path when an event arrives (the first pair's when unknown). */
    private readonly forwardPath: () => ForwardPath | undefined = () => undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Events pushed since the log was made, including those the ring has since dropped. */
  get pushedCount(): number {
    return this.serial;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
  }

  push(event: SimEvent): void {
    const node = nodeOf(event, this.forwardPath());
    const host = 'host' in event ? (event.host as HostName) : 'vm' in event ? (event.vm as HostName) : node ? this.hostOfNode(node) : undefined;
    const quirk = event.kind === 'replication-call' ? event.quirk : undefined;
    const entry = new LogEntry(this.serial++, event, GROUP_OF.get(event.kind) ?? 'io', host, node, quirk, failedOf(event));
    if (this.count < LOG_CAPACITY) {
      this.ring[(this.start + this.count) % LOG_CAPACITY] = entry;
      this.count++;
    } else {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % LOG_CAPACITY;
    }
  }

  at(position: number): LogEntry {
    return this.ring[(this.start + position) % LOG_CAPACITY]!;
  }

  /** The entries, oldest first, that pass a filter. */
  filter(predicate: ((entry: LogEntry) => boolean) | undefined): LogEntry[] {
    const out: LogEntry[] = [];
    for (let position = 0; position < this.count; position++) {
      const entry = this.at(position);
      if (!predicate || predicate(entry)) out.push(entry);
    }
    return out;
  }
}
