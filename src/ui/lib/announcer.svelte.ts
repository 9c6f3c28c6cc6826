/**
 * What a screen reader hears: the events that matter (stage changes, errors, jobs starting and
 * ending, the link, COLO's phases) and each command's result, through one polite live region.
 *
 * A busy clock brings thousands of events a second and a frame every 16 ms: nothing here is said
 * per frame. Messages wait in a queue that is spoken at most once per `intervalMs`; repeats are
 * merged, and when more arrive than one announcement can hold the oldest are summarised as
 * "and N more".
 */
import type { SimEvent } from '../../engine/sim/events.js';

/** The longest a queue gets before its oldest messages are only counted. */
const QUEUE_LIMIT = 40;
/** Messages read out in one announcement. */
const PER_ANNOUNCEMENT = 3;

export class Announcer {
  /** The live region's text. */
  text = $state('');
  /** Announcements made so far (tests read it; it also alternates the text so a repeat is heard). */
  count = $state(0);
  private queue: string[] = [];
  private skipped = 0;
  private lastAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly intervalMs = 1500) {}

  /**
   * Queues `message`. With `supersede`, it answers what the user just did (a step inside a
   * command): the events still waiting from before are dropped, so it is the next thing heard
   * instead of being counted among "and N more" behind them.
   */
  say(message: string, options: { supersede?: boolean } = {}): void {
    if (options.supersede) {
      this.queue = [];
      this.skipped = 0;
    }
    if (this.queue.includes(message)) return;
    this.queue.push(message);
    if (this.queue.length > QUEUE_LIMIT) {
      this.skipped += this.queue.length - QUEUE_LIMIT;
      this.queue.splice(0, this.queue.length - QUEUE_LIMIT);
    }
    this.schedule();
  }

  /** The events of one frame that deserve to be heard. */
  events(events: readonly SimEvent[]): void {
    for (const event of events) {
      const message = announcementOf(event);
      if (message) this.say(message);
    }
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastAt + this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const spoken = this.queue.splice(0, PER_ANNOUNCEMENT);
    const more = this.queue.length + this.skipped;
    this.queue = [];
    this.skipped = 0;
    const text = spoken.join('. ') + (more > 0 ? `. And ${more} more ${more === 1 ? 'event' : 'events'} (see the event log).` : '.');
    this.lastAt = performance.now();
    this.count++;
    // A trailing space on every other announcement: the same words twice in a row still change
    // the region, so they are read again.
    this.text = this.count % 2 === 0 ? `${text} ` : text;
  }
}

/** The words for an event worth announcing, or null for the many that are not (I/O, progress). */
export function announcementOf(event: SimEvent): string | null {
  switch (event.kind) {
    case 'stage-changed':
      return `${event.node}: stage ${event.from} to ${event.to}`;
    case 'error-recorded':
      return event.errno ? `${event.node}: error set to -${event.errno}` : null;
    case 'job-created':
      return event.jobType === 'backup' ? `${event.host}: backup job started` : `${event.host}: active commit started`;
    case 'job-completed':
      return `${jobName(event.jobType)} completed`;
    case 'job-failed':
      return `${jobName(event.jobType)} ${event.cancelled ? 'cancelled' : `failed with ${event.errno}`}`;
    case 'io-failed':
      return `${event.node}: ${event.io} failed with ${event.errno}`;
    case 'forward-lost':
      return event.landed ? 'NBD reply lost on the link' : 'NBD request lost on the link';
    case 'link-changed':
      return event.up ? 'NBD link up' : 'NBD link down';
    case 'quorum-child-failed':
      return `${event.node}: child ${event.child} failed`;
    case 'medium-ejected':
      return `${event.node}: medium ejected`;
    case 'colo': {
      const what =
        event.phase === 'start'
          ? 'COLO started'
          : event.phase === 'checkpoint-end'
            ? 'checkpoint done'
            : event.phase === 'failover'
              ? `failed over to the ${event.to ?? 'survivor'}`
              : null;
      if (event.error) return `COLO ${event.phase} failed: ${event.error}`;
      return what;
    }
    default:
      return null;
  }
}

function jobName(type: string): string {
  return type === 'commit' ? 'active commit' : `${type} job`;
}
