/**
 * The virtual clock and its event queue: the only source of time in the engine.
 *
 * What waits on the queue is data, not closures: each entry is an action (a plain object with a
 * `type`) that the owner of the scheduler dispatches when its time comes. So the queue can be
 * saved and put back exactly, at any instant between two entries, with requests in flight.
 *
 * Entries of the same instant run in the order they were scheduled (a sequence number breaks
 * ties), so a run replays exactly; a restored queue keeps the sequence numbers it was saved with.
 */

/** A scheduled action: plain, structured-clone friendly data. */
export interface ActionBase {
  readonly type: string;
}

export interface ScheduledEntry<A extends ActionBase> {
  readonly timeUs: number;
  readonly sequence: number;
  readonly action: A;
}

/** The queue as saved: the clock, the next sequence number, the pending entries in run order. */
export interface SchedulerSnapshot<A extends ActionBase> {
  readonly nowUs: number;
  readonly nextSequence: number;
  readonly entriesRun: number;
  readonly entries: ReadonlyArray<ScheduledEntry<A>>;
}

export class Scheduler<A extends ActionBase = ActionBase> {
  private currentTimeUs = 0;
  private nextSequence = 0;
  private ran = 0;
  private readonly heap: Array<ScheduledEntry<A>> = [];
  /** Sequences of entries cancelled but still in the heap (dropped when they reach the top). */
  private readonly cancelled = new Set<number>();
  /** Runs an action when its time comes. Set by the owner before the clock runs. */
  dispatch: (action: A) => void = () => {
    throw new Error('Scheduler.dispatch is not set');
  };

  get nowUs(): number {
    return this.currentTimeUs;
  }

  /**
   * Queues `action` to run after `delayUs` of virtual time (0 = later in this same instant).
   * Returns the entry's sequence number, which `cancel` takes. Throws RangeError on a negative
   * or non-finite delay.
   */
  schedule(delayUs: number, action: A): number {
    if (!(delayUs >= 0) || !Number.isFinite(delayUs)) {
      throw new RangeError(`delayUs must be a finite number >= 0, got ${delayUs}`);
    }
    const entry: ScheduledEntry<A> = { timeUs: this.currentTimeUs + delayUs, sequence: this.nextSequence++, action };
    this.push(entry);
    return entry.sequence;
  }

  /** Queues `action` at `timeUs` (not before now). */
  scheduleAt(timeUs: number, action: A): number {
    return this.schedule(Math.max(0, timeUs - this.currentTimeUs), action);
  }

  /** Drops a pending entry; nothing happens if it already ran. */
  cancel(sequence: number): void {
    if (this.heap.some((entry) => entry.sequence === sequence)) this.cancelled.add(sequence);
  }

  /** Time of the next pending entry, or undefined when nothing is queued. */
  nextTimeUs(): number | undefined {
    this.dropCancelledHead();
    return this.heap[0]?.timeUs;
  }

  hasPending(): boolean {
    return this.nextTimeUs() !== undefined;
  }

  /** How many entries have run since the clock started: an exact position in a run (a command may come between two entries of one instant). */
  get entriesRun(): number {
    return this.ran;
  }

  /** Pending entries (not cancelled). */
  get pendingCount(): number {
    return this.heap.length - this.cancelled.size;
  }

  /** Runs the next entry, advancing the clock to its time. Returns false when the queue is empty. */
  runNext(): boolean {
    this.dropCancelledHead();
    const entry = this.pop();
    if (!entry) return false;
    this.currentTimeUs = entry.timeUs;
    this.ran++;
    this.dispatch(entry.action);
    return true;
  }

  /** Runs every entry due up to `untilUs`, then leaves the clock at `untilUs`. */
  runUntilTime(untilUs: number): void {
    for (;;) {
      const next = this.nextTimeUs();
      if (next === undefined || next > untilUs) break;
      this.runNext();
    }
    if (untilUs > this.currentTimeUs) this.currentTimeUs = untilUs;
  }

  /** The clock and every pending entry, in the order they will run. */
  snapshot(): SchedulerSnapshot<A> {
    const entries = this.heap.filter((entry) => !this.cancelled.has(entry.sequence)).sort((a, b) => (Scheduler.before(a, b) ? -1 : 1));
    return { nowUs: this.currentTimeUs, nextSequence: this.nextSequence, entriesRun: this.ran, entries };
  }

  /** Puts a saved queue back into a fresh scheduler, sequence numbers included. */
  /** Forgets everything (a simulation rebuilt in place restores the queue next). */
  clear(): void {
    this.heap.length = 0;
    this.cancelled.clear();
    this.currentTimeUs = 0;
    this.nextSequence = 0;
    this.ran = 0;
  }

  restore(saved: SchedulerSnapshot<A>): void {
    if (this.heap.length > 0 || this.nextSequence > 0) throw new Error('Scheduler.restore needs a fresh scheduler');
    this.currentTimeUs = saved.nowUs;
    this.nextSequence = saved.nextSequence;
    this.ran = saved.entriesRun;
    for (const entry of saved.entries) this.push({ timeUs: entry.timeUs, sequence: entry.sequence, action: entry.action });
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && this.cancelled.has(this.heap[0]!.sequence)) this.cancelled.delete(this.pop()!.sequence);
  }

  private static before<A extends ActionBase>(a: ScheduledEntry<A>, b: ScheduledEntry<A>): boolean {
    return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
  }

  private push(entry: ScheduledEntry<A>): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!Scheduler.before(entry, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = entry;
  }

  private pop(): ScheduledEntry<A> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && Scheduler.before(heap[right]!, heap[left]!) ? right : left;
      if (!Scheduler.before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
