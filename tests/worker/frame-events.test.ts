/**
 * A frame carries at most MAX_EVENTS_PER_FRAME (4,000) events: the newest, with the count of the
 * older ones left out. A run to the end with a wall clock that stands still makes one frame for
 * many thousand events.
 */
import { describe, expect, it } from 'vitest';
import { openSession } from './support/session-harness.js';

const MAX_EVENTS_PER_FRAME = 4000;

describe('events per frame', () => {
  it('keeps the newest 4,000 events of a burst and counts every one it left out', async () => {
    const { session, ports } = await openSession(`frame-events-${Date.now()}`);
    const steps: unknown[] = [{ op: 'colo-start' }];
    for (let index = 0; index < 1500; index++) steps.push({ op: 'guest-write', vm: index % 2 ? 'secondary' : 'primary', offset: (index % 64) * 4096, length: 4096, pattern: (index % 250) + 1 });
    const loaded = await session.loadScenario('burst.json', JSON.stringify({ format: 'colo-sim/1', title: 'burst', setup: { diskSize: '1M' }, steps }));
    expect(loaded.ok).toBe(true);
    const framesBefore = ports.frames().length;
    const lastSequenceBefore = Math.max(-1, ...ports.frames().flatMap((frame) => frame.events.map((event) => event.sequence)));
    await session.scenarioRunToEnd();
    const burst = ports.frames().slice(framesBefore);
    const carried = burst.flatMap((frame) => frame.events);
    const dropped = burst.reduce((sum, frame) => sum + frame.droppedEvents, 0);
    expect(dropped).toBeGreaterThan(0);
    for (const frame of burst) expect(frame.events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_FRAME);
    // Each frame's events are consecutive and the newest of their stretch: nothing reordered, and
    // every event of the run is either carried or counted.
    for (const frame of burst) {
      frame.events.forEach((event, index) => {
        if (index > 0) expect(event.sequence).toBe(frame.events[index - 1]!.sequence + 1);
      });
    }
    const lastSequence = carried[carried.length - 1]!.sequence;
    expect(carried.length + dropped).toBe(lastSequence - lastSequenceBefore);
    const frameWithDrops = burst.find((frame) => frame.droppedEvents > 0)!;
    expect(frameWithDrops.events).toHaveLength(MAX_EVENTS_PER_FRAME);
  });
});
