/**
 * Coroutines on the virtual clock, shaped like QEMU's: a request is a generator that runs
 * synchronously until it must wait (for the network, a timer or another request), yields a
 * Future, and is resumed by the scheduler when that Future resolves. Nested calls use
 * `yield*`, so a request that never waits completes within the call that issued it.
 *
 * Promises are not used on purpose: their continuations run on the JavaScript microtask
 * queue, outside the virtual clock, which would break exact replay.
 */
import type { Scheduler } from './scheduler.js';

/** What a coroutine yields: something that calls back once with a value. */
export interface Waitable {
  onSettled(waiter: (value: unknown) => void): void;
}

export type Co<T> = Generator<Waitable, T, unknown>;

export class Future<T> implements Waitable {
  private settled = false;
  private result: T | undefined;
  private readonly waiters: Array<(value: T) => void> = [];

  get isSettled(): boolean {
    return this.settled;
  }

  /** The value; only valid once settled. */
  get value(): T {
    if (!this.settled) throw new Error('Future.value read before it settled');
    return this.result as T;
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.result = value;
    const waiters = this.waiters.splice(0);
    for (const waiter of waiters) waiter(value);
  }

  onSettled(waiter: (value: T) => void): void {
    if (this.settled) waiter(this.result as T);
    else this.waiters.push(waiter);
  }

  static settled<T>(value: T): Future<T> {
    const future = new Future<T>();
    future.resolve(value);
    return future;
  }
}

/** Waits for `future` inside a coroutine. */
export function* awaitFuture<T>(future: Future<T>): Co<T> {
  if (future.isSettled) return future.value;
  return (yield future) as T;
}

/** Waits for every future, returning their values in order. */
export function* awaitAll<T>(futures: readonly Future<T>[]): Co<T[]> {
  const values: T[] = [];
  for (const future of futures) values.push(yield* awaitFuture(future));
  return values;
}

/** Suspends the coroutine for `durationUs` of virtual time. */
export function* sleep(scheduler: Scheduler, durationUs: number): Co<void> {
  const timer = new Future<void>();
  scheduler.schedule(durationUs, () => timer.resolve());
  yield* awaitFuture(timer);
}

/** Suspends the coroutine until the clock reads `timeUs` (at once if it already has). */
export function* sleepUntil(scheduler: Scheduler, timeUs: number): Co<void> {
  yield* sleep(scheduler, Math.max(0, timeUs - scheduler.nowUs));
}

/**
 * Starts a coroutine now and returns a Future of its result. The coroutine runs synchronously
 * up to its first wait; each resumption is queued on the scheduler at the instant its Future
 * resolved, so resumptions happen in a fixed order and never deep inside another call stack.
 */
export function spawn<T>(scheduler: Scheduler, coroutine: Co<T>): Future<T> {
  const done = new Future<T>();
  const step = (input: unknown): void => {
    const next = coroutine.next(input);
    if (next.done) {
      done.resolve(next.value);
      return;
    }
    next.value.onSettled((value) => {
      scheduler.schedule(0, () => step(value));
    });
  };
  step(undefined);
  return done;
}
