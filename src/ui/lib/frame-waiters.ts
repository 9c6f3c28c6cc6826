/**
 * Promises that resolve once a worker frame brings the page to a state: a command's answer
 * arrives before the frame that shows its effect, and the page's controls wait for that frame.
 */

/** How long a wait lasts at most, in ms: a frame that never comes must not hang the page. */
export const FRAME_WAIT_MS = 5000;

export class FrameWaiters {
  private readonly waiters: Array<{ readonly reached: () => boolean; readonly resolve: () => void }> = [];

  /**
   * Resolves when `reached()` holds: at once if it holds now, else after the frame for which
   * `frameApplied` finds it true, or after `timeoutMs` (never rejects).
   */
  until(reached: () => boolean, timeoutMs = FRAME_WAIT_MS): Promise<void> {
    if (reached()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { reached, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.remove(waiter);
        resolve();
      }, timeoutMs);
    });
  }

  /** To call after a frame is applied: resolves the waits it satisfied. */
  frameApplied(): void {
    for (const waiter of this.waiters.filter((candidate) => candidate.reached())) {
      this.remove(waiter);
      waiter.resolve();
    }
  }

  private remove(waiter: (typeof this.waiters)[number]): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
  }
}
