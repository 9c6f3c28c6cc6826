/**
 * Turns a frame's events into a short, ordered animation: each event gets a start time (wall
 * ms from now) from its virtual time and the clock speed; when the frame comes from a command
 * (the worker ran it to completion at once), the events are spread out so cause and effect can
 * be seen: the forwarded write crosses the link, the old cluster is copied into the hidden disk,
 * then the new data lands. Disk cells change when their landing is shown.
 */
import type { SimEvent } from '../../engine/sim/events.js';
import type { IoOrigin, Stage } from '../../engine/sim/events.js';
import { byteColour, LAYER_COLOUR, MIXED_COLOUR, READ_COLOUR } from './palette.js';
import { hexByte } from './format.js';
import { VIEW_NAME } from './disks.js';
import type { PairParts } from './host-roles.js';

/**
 * The ends of COLO's NBD link, whatever the client and the export are called (the graph view
 * resolves them: after "resume replication" they are replication0-nbd and the new secondary's export).
 */
export const LINK_CLIENT = '@link-client';
export const LINK_EXPORT = '@link-export';

export type Tone = 'ok' | 'info' | 'read' | 'write' | 'copy' | 'error' | 'quirk' | 'warn';
export type HighlightKind = 'write' | 'read' | 'copy-src' | 'cow' | 'error' | 'commit';

export interface GraphAnimator {
  /** A chip travelling from one node to another (or over the NBD link). */
  packet(options: { from: string; to: string; colour: string; delay: number; duration: number; style: 'data' | 'ack' | 'copy' | 'commit' | 'lost' }): void;
  flash(node: string, tone: Tone, delay: number): void;
  caption(node: string, text: string, tone: Tone, delay: number): void;
  /** A line in the graph's feed: what the control plane did. */
  feed(text: string, tone: Tone, delay: number): void;
  linkBurst(delay: number): void;
  /** Drops every animation under way (a new simulation). */
  reset(): void;
}

export interface GridAnimator {
  highlight(startCell: number, endCell: number, kind: HighlightKind, delay: number, duration: number, colour?: string): void;
  sweep(delay: number, duration: number): void;
  /** Drops every animation under way (a new simulation). */
  reset(): void;
}

export interface ChoreographyContext {
  /** Virtual µs per wall ms. */
  speed: number;
  /** Spread the events out (a command's frame) rather than follow the clock. */
  stretch: boolean;
  /** The frame came while a command was being answered (else the worker's clock made it). */
  commandInFlight: boolean;
  cellBytes: number;
  /** Stage of the secondary's replication filter when the frame arrived. */
  secondaryStage: Stage | undefined;
  commitRunning: boolean;
  cbwNode: string | undefined;
  /** The pair's parts by role (lib/host-roles.ts): node names change across failovers and restarts. */
  parts: PairParts;
  /** Animations are off (reduced motion): cells change at once and nothing moves. */
  reducedMotion: boolean;
}

interface Landing {
  start: number;
  end: number;
  at: number;
}

export interface Plan {
  /** When each disk cell may change (wall ms, absolute), per disk. */
  revealAt(disk: string): ((index: number) => number | undefined) | undefined;
  play(): void;
}

/** Frames with more events than this follow the clock only, and animate a sample. */
const DENSE_EVENTS = 160;
const MAX_SPAN_MS = 2600;
const MAX_BACKLOG_MS = 2000;
const CHIP_MS = 300;
const MAX_PACKETS = 40;
const MAX_HIGHLIGHTS = 600;
/** Frames of the running clock with more events than this are animated quietly. */
const QUIET_EVENTS = 40;
/**
 * So is a running clock producing more events per second than this, however it splits them into
 * frames: the worker's frame rate varies, and small frames of a busy workload must not each get
 * the full animation.
 */
const BUSY_EVENTS_PER_SECOND = 600;
const RATE_WINDOW_MS = 1000;
/**
 * A quiet animation's budget of chips and cell highlights: up to this many in one frame, refilled
 * at the rate per second of wall time, however many frames the worker sends.
 */
const QUIET_PACKETS = 6;
const QUIET_PACKETS_PER_SECOND = 12;
const QUIET_HIGHLIGHTS = 48;
const QUIET_HIGHLIGHTS_PER_SECOND = 160;

interface RequestInfo {
  origin: IoOrigin;
  forwarded: boolean;
}

export class Choreographer {
  graph: GraphAnimator | undefined;
  readonly grids = new Map<string, GridAnimator>();
  private readonly requests = new Map<number, RequestInfo>();
  /** When the animations planned so far end (wall ms): a command's animation starts after them. */
  private timelineEnd = 0;
  /**
   * Called at the animated moment of each job-progress event with its figures, or with null
   * when a newer frame has overtaken the animation (a command's stretched animation ends after
   * the running clock's later frames): the page then shows the job's current figures, never an
   * older one put back.
   */
  onJobProgress: ((jobId: string, progress: { offsetBytes: number; lenBytes: number } | null) => void) | undefined;
  /** Sequence number of the newest job-progress event of each job in a frame so far. */
  private readonly newestJobProgress = new Map<string, number>();
  /** Event counts of the recent frames no command asked for (wall ms of arrival), oldest first. */
  private recentFrames: Array<{ atMs: number; events: number }> = [];
  private recentEvents = 0;
  private readonly quietBudget = { packets: QUIET_PACKETS, highlights: QUIET_HIGHLIGHTS, refilledAtMs: 0 };

  /** A new simulation: forget requests and stop what is being animated. */
  reset(): void {
    this.requests.clear();
    this.newestJobProgress.clear();
    this.timelineEnd = 0;
    this.recentFrames = [];
    this.recentEvents = 0;
    this.graph?.reset();
    for (const grid of this.grids.values()) grid.reset();
  }

  plan(events: readonly SimEvent[], context: ChoreographyContext, now: number): Plan {
    const landings = new Map<string, Landing[]>();
    this.track(events);
    // Known as the frame arrives, before any of its animations plays (and when none will).
    const newestInFrame = newestJobProgressOf(events);
    for (const [jobId, sequence] of newestInFrame) this.newestJobProgress.set(jobId, sequence);
    if (events.length === 0 || context.reducedMotion) return { revealAt: () => undefined, play: () => undefined };
    const dense = events.length > DENSE_EVENTS;
    // A stream of frames no command asked for is the worker's clock running, even if the page
    // was not told it plays (the clock can be set through the client): never spread those out.
    const busy = !context.commandInFlight && this.eventsPerSecond(events.length, now) > BUSY_EVENTS_PER_SECOND;
    const stretch = context.stretch && !dense && !busy;
    const t0 = events[0]!.timeUs;
    const speed = Math.max(1, context.speed);
    const times: number[] = new Array(events.length);
    let cursor = 0;
    for (let position = 0; position < events.length; position++) {
      const event = events[position]!;
      const natural = (event.timeUs - t0) / speed;
      let at = natural;
      if (stretch) {
        at = Math.max(natural, cursor);
        cursor = at + this.gapOf(event, speed, context.parts);
      }
      times[position] = at;
    }
    const last = times[times.length - 1] ?? 0;
    const scale = last > MAX_SPAN_MS ? MAX_SPAN_MS / last : 1;
    // Commands sent in quick succession play one after the other (up to a short backlog).
    const start = stretch ? Math.min(MAX_BACKLOG_MS, Math.max(0, this.timelineEnd - now)) : 0;
    for (let position = 0; position < times.length; position++) times[position] = start + times[position]! * scale;
    this.timelineEnd = Math.max(this.timelineEnd, now + start + last * scale + 150);

    // Landings: when the cells of a write (or make_empty) change on the page.
    const cellBytes = context.cellBytes;
    const addLanding = (disk: string, start: number, end: number, at: number) => {
      let list = landings.get(disk);
      if (!list) landings.set(disk, (list = []));
      list.push({ start, end, at: now + at });
    };
    if (!dense) {
      for (let position = 0; position < events.length; position++) {
        const event = events[position]!;
        const at = times[position]!;
        if (event.kind === 'write-landed') {
          const chip = this.chipFor(event, context) ? CHIP_MS * Math.min(1, scale * 1.5) : 0;
          addLanding(event.node, Math.floor(event.offsetBytes / cellBytes), Math.ceil((event.offsetBytes + event.lengthBytes) / cellBytes), at + chip);
          for (const part of event.cow)
            addLanding(event.node, Math.floor(part.offsetBytes / cellBytes), Math.ceil((part.offsetBytes + part.lengthBytes) / cellBytes), at + chip);
        } else if (event.kind === 'make-empty' && event.error === undefined) {
          addLanding(event.node, 0, Number.MAX_SAFE_INTEGER, at + 220);
        }
      }
    }

    return {
      revealAt: (disk) => {
        const list = landings.get(disk);
        if (!list || list.length === 0) return undefined;
        return (index) => {
          let found: number | undefined;
          for (const landing of list) if (index >= landing.start && index < landing.end) found = found === undefined ? landing.at : Math.max(found, landing.at);
          return found;
        };
      },
      // A busy clock (a workload at speed) gets the essentials only: errors, a few chips, writes landing.
      play: () => this.play(events, times, busy ? { ...context, stretch: false } : context, dense || busy || (!stretch && events.length > QUIET_EVENTS), scale, now, newestInFrame),
    };
  }

  /** The event rate of the worker's clock (frames no command asked for) over the last second, this frame included. */
  private eventsPerSecond(count: number, now: number): number {
    this.recentFrames.push({ atMs: now, events: count });
    this.recentEvents += count;
    while (this.recentFrames.length > 0 && this.recentFrames[0]!.atMs < now - RATE_WINDOW_MS) this.recentEvents -= this.recentFrames.shift()!.events;
    return (this.recentEvents * 1000) / RATE_WINDOW_MS;
  }

  /** What a quiet frame may still animate, after refilling the budget for the time since the last. */
  private refillQuietBudget(now: number): void {
    const budget = this.quietBudget;
    const elapsedMs = Math.max(0, now - budget.refilledAtMs);
    budget.refilledAtMs = now;
    budget.packets = Math.min(QUIET_PACKETS, budget.packets + (elapsedMs * QUIET_PACKETS_PER_SECOND) / 1000);
    budget.highlights = Math.min(QUIET_HIGHLIGHTS, budget.highlights + (elapsedMs * QUIET_HIGHLIGHTS_PER_SECOND) / 1000);
  }

  /** Requests' origins must be known even when nothing is animated. */
  private track(events: readonly SimEvent[]): void {
    for (const event of events) this.trackOne(event);
  }

  private trackOne(event: SimEvent): void {
    if (event.kind === 'io-issued') {
      if (!this.requests.has(event.requestId)) this.requests.set(event.requestId, { origin: event.origin, forwarded: false });
    } else if (event.kind === 'forward-sent') {
      const info = this.requests.get(event.requestId);
      if (info) info.forwarded = true;
      else this.requests.set(event.requestId, { origin: 'primary-vm', forwarded: true });
    } else return;
    if (this.requests.size > 4096) {
      const oldest = this.requests.keys().next().value;
      if (oldest !== undefined) this.requests.delete(oldest);
    }
  }

  private gapOf(event: SimEvent, speed: number, parts: PairParts): number {
    switch (event.kind) {
      case 'forward-sent':
        return travelMs(event.arrivesAtUs - event.timeUs, speed);
      case 'forward-landed':
        return event.errno ? 200 : 300;
      case 'write-landed':
        return event.node === parts.primaryDisk ? 120 : CHIP_MS;
      case 'read-served':
        return 110;
      case 'cbw-copy':
        return 140;
      case 'make-empty':
        return event.clustersFreed > 0 || event.error ? 380 : 120;
      case 'io-issued':
        return 90;
      case 'io-completed':
      case 'vm-state':
      case 'forward-completed':
        return 50;
      case 'job-progress':
        return event.copiedLengthBytes > 0 ? 150 : 40;
      case 'error-recorded':
      case 'forward-lost':
      case 'link-changed':
        return 260;
      case 'replication-call':
      case 'stage-changed':
      case 'job-created':
      case 'job-completed':
      case 'job-failed':
      case 'io-failed':
      case 'quorum-child-failed':
      case 'node-opened':
        return 170;
      case 'job-ready':
      case 'graph-changed':
        return 90;
      default:
        return 120;
    }
  }

  /** Where a write's chip starts, if it travels. */
  private chipFor(event: Extract<SimEvent, { kind: 'write-landed' }>, context: ChoreographyContext): { from: string; style: 'data' | 'copy' | 'commit' } | undefined {
    const info = this.requests.get(event.requestId);
    const { hidden, base, active, primaryQuorum, secondaryReplication } = context.parts;
    const chip = (from: string | undefined, style: 'data' | 'copy' | 'commit') => (from === undefined ? undefined : { from, style });
    if (info?.forwarded) {
      if (event.node === hidden) return chip(base, 'copy');
      if (event.node === base) return chip(context.cbwNode ?? LINK_EXPORT, 'data');
    }
    switch (info?.origin) {
      case 'primary-vm':
        return chip(primaryQuorum, 'data');
      case 'secondary-vm':
        return chip(secondaryReplication, 'data');
      case 'nbd-export':
        if (event.node === hidden) return chip(base, 'copy');
        return chip(context.cbwNode ?? LINK_EXPORT, 'data');
      case 'step':
        if (event.node === hidden && context.cbwNode) return chip(base, 'copy');
        return undefined;
      default:
        if (event.node === base && context.commitRunning) return chip(active, 'commit');
        if (event.node === hidden && context.cbwNode) return chip(base, 'copy');
        return undefined;
    }
  }

  /** `newestInFrame`: each job's newest job-progress sequence number in `events` (plan's). */
  private play(events: readonly SimEvent[], times: number[], context: ChoreographyContext, quiet: boolean, scale: number, now: number, newestInFrame: ReadonlyMap<string, number>): void {
    const graph = this.graph;
    if (quiet) this.refillQuietBudget(now);
    const maxPackets = quiet ? Math.floor(this.quietBudget.packets) : MAX_PACKETS;
    const maxHighlights = quiet ? Math.floor(this.quietBudget.highlights) : MAX_HIGHLIGHTS;
    const cellBytes = context.cellBytes;
    const cells = (offset: number, length: number): [number, number] => [Math.floor(offset / cellBytes), Math.ceil((offset + length) / cellBytes)];
    let packets = 0;
    let highlights = 0;
    const chipMs = CHIP_MS * Math.min(1, scale * 1.5);
    const highlight = (disk: string, offset: number, length: number, kind: HighlightKind, delay: number, duration: number, colour?: string) => {
      // Errors are what a busy run must still show: they are rare and outside the budget.
      if (highlights >= maxHighlights && kind !== 'error') return;
      if (quiet && kind !== 'write' && kind !== 'error' && kind !== 'commit') return;
      const grid = this.grids.get(disk);
      if (!grid) return;
      if (kind !== 'error') highlights++;
      const [start, end] = cells(offset, length);
      grid.highlight(start, end, kind, delay, quiet ? Math.min(duration, 400) : duration, colour);
    };
    const packet = (from: string, to: string, colour: string, delay: number, duration: number, style: 'data' | 'ack' | 'copy' | 'commit' | 'lost') => {
      if (!graph || packets >= maxPackets) return;
      packets++;
      graph.packet({ from, to, colour, delay, duration, style });
    };
    let lastJobProgressAt = -Infinity;

    for (let position = 0; position < events.length; position++) {
      const event = events[position]!;
      const at = times[position]!;
      const info = 'requestId' in event ? this.requests.get(event.requestId) : undefined;
      switch (event.kind) {
        case 'io-issued':
          if (!quiet && graph) graph.flash(event.node, event.io === 'read' ? 'read' : 'write', at);
          break;
        case 'write-landed': {
          const colour = event.fillByte === undefined ? MIXED_COLOUR : byteColour(event.fillByte);
          const chip = this.chipFor(event, context);
          if (chip) packet(chip.from, event.node, colour, at, chipMs, chip.style);
          const landAt = at + (chip ? chipMs : 0);
          highlight(event.node, event.offsetBytes, event.lengthBytes, chip?.style === 'commit' ? 'commit' : 'write', landAt, 650);
          for (const part of event.cow) highlight(event.node, part.offsetBytes, part.lengthBytes, 'cow', landAt, 900);
          if (info?.origin === 'secondary-vm') highlight(VIEW_NAME, event.offsetBytes, event.lengthBytes, 'write', landAt, 650);
          if (!quiet && graph) {
            graph.flash(event.node, chip?.style === 'copy' ? 'copy' : 'write', landAt);
            if (info?.origin === 'secondary-vm' && context.secondaryStage === 'failover-failed')
              graph.caption(event.node, event.node === context.parts.active ? 'allocated extent → active disk' : 'unallocated extent → secondary disk', 'warn', landAt);
            if (chip?.style === 'copy' && event.node === context.parts.hidden)
              graph.caption(event.node, event.fillByte === undefined ? 'old cluster saved' : `old cluster saved (${event.fillByte === 0 ? 'zeros' : hexByte(event.fillByte)})`, 'copy', landAt);
            if (event.cow.length > 0 && event.node === context.parts.active) graph.caption(event.node, 'copy-on-write from backing', 'info', landAt + 80);
          }
          break;
        }
        case 'read-served': {
          if (info?.forwarded || info?.origin === 'nbd-export') {
            highlight(event.node, event.offsetBytes, event.lengthBytes, 'copy-src', at, 900, LAYER_COLOUR['hidden-disk']);
            if (!quiet && graph) graph.caption(event.node, 'copy-before-write: read old cluster', 'copy', at);
          } else if (info?.origin === 'secondary-vm' || info?.origin === 'primary-vm' || info?.origin === 'step' || info?.origin === 'check') {
            const colour = LAYER_COLOUR[event.node] ?? READ_COLOUR;
            highlight(event.node, event.offsetBytes, event.lengthBytes, 'read', at, 1100, colour);
            if (info.origin === 'secondary-vm') highlight(VIEW_NAME, event.offsetBytes, event.lengthBytes, 'read', at, 1100, colour);
            if (!quiet && graph) graph.flash(event.node, 'read', at);
          } else {
            highlight(event.node, event.offsetBytes, event.lengthBytes, 'read', at, 700, LAYER_COLOUR[event.node] ?? READ_COLOUR);
          }
          break;
        }
        case 'io-failed':
          highlight(event.node, event.offsetBytes, event.lengthBytes, 'error', at, 1000);
          if (graph) {
            graph.flash(event.node, 'error', at);
            if (!quiet) graph.caption(event.node, `${event.io} failed: ${event.errno}`, 'error', at);
          }
          break;
        case 'io-completed':
          if (event.errno && graph) graph.flash(event.node, 'error', at);
          break;
        case 'forward-sent':
          packet(LINK_CLIENT, LINK_EXPORT, event.fillByte === undefined ? MIXED_COLOUR : byteColour(event.fillByte), at, travelMs(event.arrivesAtUs - event.timeUs, context.speed) * (context.stretch ? scale : 1), 'data');
          break;
        case 'forward-landed':
          if (graph) {
            if (!quiet) graph.flash(LINK_EXPORT, event.errno ? 'error' : 'ok', at);
            packet(LINK_EXPORT, LINK_CLIENT, event.errno ? '#d64545' : '#94a3b8', at, context.stretch ? 260 * scale : 200, 'ack');
          }
          break;
        case 'forward-completed':
          if (graph && (event.errno || !quiet)) graph.flash(LINK_CLIENT, event.errno ? 'error' : 'ok', at);
          break;
        case 'forward-lost':
          if (graph) {
            graph.linkBurst(at);
            if (!quiet) graph.caption(LINK_CLIENT, event.landed ? 'reply lost (the write landed)' : 'request lost on the link', 'error', at);
          }
          break;
        case 'cbw-copy':
          if (event.errno) {
            highlight(event.target, event.offsetBytes, event.lengthBytes, 'error', at, 1000);
            if (graph) {
              graph.flash(event.target, 'error', at);
              graph.caption(event.filter, `copy-before-write failed: ${event.errno}`, 'error', at);
            }
          }
          break;
        case 'make-empty':
          if (event.error === undefined && event.clustersFreed > 0) this.grids.get(event.node)?.sweep(at, 420);
          if (graph && (event.clustersFreed > 0 || event.error)) {
            graph.flash(event.node, event.error ? 'error' : 'info', at);
            graph.caption(event.node, event.error ? `make_empty failed` : `make_empty: ${event.clustersFreed} cluster${event.clustersFreed === 1 ? '' : 's'} dropped`, event.error ? 'error' : 'info', at);
          }
          break;
        case 'bitmap-reset':
          if (graph && !quiet) graph.feed(`backup job: copy bitmap set again (${event.clustersReset} cluster${event.clustersReset === 1 ? '' : 's'} copied last epoch)`, 'info', at);
          break;
        case 'job-created':
          if (graph)
            graph.feed(
              event.jobType === 'backup'
                ? `${event.host}: backup job (sync=none) started, copy-before-write armed`
                : event.jobType === 'mirror'
                  ? `${event.host}: drive-mirror (sync=full) resyncing the new secondary`
                  : `${event.host}: active commit started (active → secondary)`,
              'info',
              at,
            );
          break;
        case 'job-progress':
          if (this.onJobProgress && (at - lastJobProgressAt > 40 || position === events.length - 1)) {
            lastJobProgressAt = at;
            const callback = this.onJobProgress;
            const { jobId, offsetBytes, lenBytes } = event;
            const frameNewest = newestInFrame.get(jobId)!;
            later(at, () => callback(jobId, (this.newestJobProgress.get(jobId) ?? frameNewest) > frameNewest ? null : { offsetBytes, lenBytes }));
          }
          break;
        case 'job-ready':
          break;
        case 'job-completed':
          if (graph) graph.feed(event.jobType === 'commit' ? 'active commit completed: the secondary disk is the SVM\'s disk' : `${event.jobType} job completed`, 'ok', at);
          break;
        case 'job-failed':
          if (graph) graph.feed(`${event.jobType} job ${event.cancelled ? 'cancelled' : `failed: ${event.errno}`}`, event.cancelled ? 'warn' : 'error', at);
          break;
        case 'stage-changed':
          if (graph) {
            graph.flash(event.node, event.to === 'failover-failed' ? 'error' : 'info', at);
            graph.feed(`${event.node}: stage ${event.from} → ${event.to}`, event.to === 'failover-failed' ? 'error' : 'info', at);
          }
          break;
        case 'error-recorded':
          if (graph) {
            if (event.errno) graph.flash(event.node, 'error', at);
            graph.feed(`${event.node}: error = ${event.errno ? `-${event.errno}` : '0'} (${event.cause})`, event.errno ? 'error' : 'ok', at);
          }
          break;
        case 'replication-call':
          if (graph) {
            const args = event.action === 'start' ? `(${event.mode})` : event.action === 'stop' ? `(failover=${event.failover})` : '()';
            const outcome = event.outcome === 'error' ? `✗ ${event.message ?? 'error'}` : event.outcome === 'ignored' ? 'ignored' : 'ok';
            graph.flash(event.node, event.outcome === 'error' ? 'error' : 'info', at);
            graph.feed(`${event.node}: ${event.action}${args} → ${outcome}`, event.outcome === 'error' ? 'error' : event.outcome === 'ignored' ? 'info' : 'ok', at);
            if (event.quirk) graph.feed(shortQuirk(event.quirk), 'quirk', at + 60);
          }
          break;
        case 'node-opened':
          if (graph) graph.feed(`${event.host}: open ${event.node} ${event.error ? `failed: ${event.error}` : '→ ok'}`, event.error ? 'error' : 'ok', at);
          break;
        case 'quorum-child-failed':
          if (graph) {
            graph.flash(event.node, 'error', at);
            graph.caption(event.node, `${event.child} failed (QUORUM_REPORT_BAD)`, 'error', at);
          }
          break;
        case 'medium-ejected':
          if (graph) graph.flash(event.node, 'error', at);
          break;
        case 'link-changed':
          if (graph) graph.feed(event.up ? 'NBD link up' : 'NBD link down', event.up ? 'ok' : 'error', at);
          break;
        case 'colo':
          if (graph) {
            const text = event.phase === 'start' ? 'COLO start' : event.phase === 'checkpoint-begin' ? 'COLO checkpoint: VMs pause' : event.phase === 'checkpoint-end' ? 'checkpoint done: VMs resume' : event.phase === 'failover-begin' ? 'failover: VMs stop, I/O drains' : `failover to the ${event.to ?? 'survivor'}`;
            graph.feed(event.error ? `${text} failed: ${event.error}` : text, event.error ? 'error' : 'info', at);
          }
          break;
        case 'vm-state':
          if (graph && !quiet) graph.flash(event.vm === 'primary' ? 'primary-vm' : 'secondary-vm', 'info', at);
          break;
        default:
          break;
      }
    }
    if (quiet) {
      this.quietBudget.packets -= packets;
      this.quietBudget.highlights -= highlights;
    }
  }
}

/** A quirk's explanation cut to one line for the feed (the log and the toast have it whole). */
function shortQuirk(quirk: string): string {
  const text = quirk.replace(/^QEMU quirk:\s*/, '');
  return `QEMU quirk: ${text.length > 58 ? `${text.slice(0, 56).replace(/[ ,;:]+\S*$/, '')}…` : text}`;
}

/** How long a chip takes to cross the link, for a one-way virtual delay. */
function travelMs(delayUs: number, speed: number): number {
  return Math.min(700, Math.max(320, delayUs / Math.max(1, speed)));
}

/** The sequence number of each job's newest job-progress event among `events`. */
function newestJobProgressOf(events: readonly SimEvent[]): Map<string, number> {
  const newest = new Map<string, number>();
  for (const event of events) if (event.kind === 'job-progress') newest.set(event.jobId, event.sequence);
  return newest;
}

function later(delay: number, callback: () => void): void {
  if (delay <= 1) callback();
  else setTimeout(callback, delay);
}
