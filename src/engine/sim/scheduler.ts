/**
 * The virtual clock and its event queue: the only source of time in the engine.
 *
 * Callbacks scheduled for the same instant run in the order they were scheduled
 * (a sequence number breaks ties), so a run replays exactly.
 */

interface QueuedCallback {
  readonly timeUs: number;
  readonly sequence: number;
  readonly run: () => void;
  cancelled: boolean;
}

export interface TimerHandle {
  readonly timeUs: number;
  /** Order among callbacks of the same instant (lower runs first). */
  readonly sequence: number;
  cancel(): void;
}

export class Scheduler {
  private currentTimeUs = 0;
  private nextSequence = 0;
  private readonly heap: QueuedCallback[] = [];

  get nowUs(): number {
    return this.currentTimeUs;
  }

  /** Runs `run` after `delayUs` of virtual time (0 = later in this same instant). */
  schedule(delayUs: number, run: () => void): TimerHandle {
    if (!(delayUs >= 0) || !Number.isFinite(delayUs)) {
      throw new RangeError(`delayUs must be a finite number >= 0, got ${delayUs}`);
    }
    const entry: QueuedCallback = {
      timeUs: this.currentTimeUs + delayUs,
      sequence: this.nextSequence++,
      run,
      cancelled: false,
    };
    this.push(entry);
    return {
      timeUs: entry.timeUs,
      sequence: entry.sequence,
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Runs `run` at `timeUs` (not before now). */
  scheduleAt(timeUs: number, run: () => void): TimerHandle {
    return this.schedule(Math.max(0, timeUs - this.currentTimeUs), run);
  }

  /** Sets the clock of a fresh scheduler, when a saved simulation is restored. */
  restoreTime(nowUs: number): void {
    if (this.heap.length > 0) throw new Error('restoreTime on a scheduler with pending callbacks');
    this.currentTimeUs = nowUs;
  }

  /** Time of the next pending callback, or undefined when nothing is queued. */
  nextTimeUs(): number | undefined {
    this.dropCancelledHead();
    return this.heap[0]?.timeUs;
  }

  hasPending(): boolean {
    return this.nextTimeUs() !== undefined;
  }

  /** Runs the next callback, advancing the clock to its time. Returns false when the queue is empty. */
  runNext(): boolean {
    this.dropCancelledHead();
    const entry = this.pop();
    if (!entry) return false;
    this.currentTimeUs = entry.timeUs;
    entry.run();
    return true;
  }

  /** Runs every callback due up to `untilUs`, then leaves the clock at `untilUs`. */
  runUntilTime(untilUs: number): void {
    for (;;) {
      const next = this.nextTimeUs();
      if (next === undefined || next > untilUs) break;
      this.runNext();
    }
    if (untilUs > this.currentTimeUs) this.currentTimeUs = untilUs;
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private static before(a: QueuedCallback, b: QueuedCallback): boolean {
    return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
  }

  private push(entry: QueuedCallback): void {
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

  private pop(): QueuedCallback | undefined {
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
