import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameWaiters, FRAME_WAIT_MS } from '../../src/ui/lib/frame-waiters.js';

describe('FrameWaiters', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves at once when the state is already reached', async () => {
    const waiters = new FrameWaiters();
    let done = false;
    void waiters.until(() => true).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(true);
  });

  it('resolves on the first frame that reaches the state, and only those waits', async () => {
    const waiters = new FrameWaiters();
    let step = 0;
    const resolved: number[] = [];
    void waiters.until(() => step >= 2).then(() => resolved.push(2));
    void waiters.until(() => step >= 5).then(() => resolved.push(5));
    step = 1;
    waiters.frameApplied();
    await Promise.resolve();
    expect(resolved).toEqual([]);
    step = 3;
    waiters.frameApplied();
    await Promise.resolve();
    expect(resolved).toEqual([2]);
    step = 5;
    waiters.frameApplied();
    waiters.frameApplied();
    await Promise.resolve();
    expect(resolved).toEqual([2, 5]);
  });

  it('gives up after the time limit, so a frame that never comes does not hang the page', async () => {
    const waiters = new FrameWaiters();
    let done = false;
    void waiters.until(() => false).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(FRAME_WAIT_MS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
  });
});
