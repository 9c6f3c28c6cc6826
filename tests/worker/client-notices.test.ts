import { afterEach, describe, expect, it, vi } from 'vitest';
import { pageSideNoticeHandler } from '../../src/worker/client.js';
import type { WorkerNotice } from '../../src/worker/protocol.js';

const notice: WorkerNotice = { kind: 'error', message: 'a notice' };

describe('the page-side notice handler (what the worker calls through comlink)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands each notice to the page', () => {
    const seen: WorkerNotice[] = [];
    pageSideNoticeHandler((received) => seen.push(received))(notice);
    expect(seen).toEqual([notice]);
  });

  it("reports a page bug on the page instead of throwing it back to the worker (where the frame was dropped silently)", () => {
    const reported: unknown[] = [];
    const bug = new ReferenceError('newestInFrame is not defined');
    const handler = pageSideNoticeHandler(
      () => {
        throw bug;
      },
      (error) => reported.push(error),
    );
    expect(() => handler(notice)).not.toThrow();
    expect(reported).toEqual([bug]);
  });

  it('by default raises it as an uncaught error of the page, in a later task', () => {
    vi.useFakeTimers();
    const handler = pageSideNoticeHandler(() => {
      throw new Error('applyFrame failed');
    });
    expect(() => handler(notice)).not.toThrow();
    expect(() => vi.runAllTimers()).toThrow('applyFrame failed');
  });
});
