/**
 * A frame carries at most MAX_EVENTS_PER_FRAME (4,000) events: the newest, with the count of the
 * older ones left out. A run to the end with a wall clock that stands still makes one frame for
 * many thousand events; with a clock that moves, its frames before the last carry the newest
 * RUN_TO_END_EVENTS_PER_FRAME (250), and the one with the outcome the usual 4,000 at most; it
 * shows before the run's last save commits, and one more frame says saved.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDbPersistence } from '../../src/storage/indexeddb-persistence.js';
import type { Frame } from '../../src/worker/protocol.js';
import { SimSession } from '../../src/worker/session.js';
import { openSession, RecordingPorts } from './support/session-harness.js';

const MAX_EVENTS_PER_FRAME = 4000;
const RUN_TO_END_EVENTS_PER_FRAME = 250;

/** 1,500 writes of both VMs after COLO starts: many thousand events. */
function burstScenario(): string {
  const steps: unknown[] = [{ op: 'colo-start' }];
  for (let index = 0; index < 1500; index++) steps.push({ op: 'guest-write', vm: index % 2 ? 'secondary' : 'primary', offset: (index % 64) * 4096, length: 4096, pattern: (index % 250) + 1 });
  return JSON.stringify({ format: 'colo-sim/1', title: 'burst', setup: { diskSize: '1M' }, steps });
}

/** Every event of the frames is the newest of its stretch, in order, and each event of the run is carried or counted. */
function expectCarriedOrCounted(burst: readonly Frame[], lastSequenceBefore: number): void {
  for (const frame of burst) {
    frame.events.forEach((event, index) => {
      if (index > 0) expect(event.sequence).toBe(frame.events[index - 1]!.sequence + 1);
    });
  }
  const carried = burst.flatMap((frame) => frame.events);
  const dropped = burst.reduce((sum, frame) => sum + frame.droppedEvents, 0);
  expect(carried.length + dropped).toBe(carried[carried.length - 1]!.sequence - lastSequenceBefore);
}

describe('events per frame', () => {
  it('keeps the newest 4,000 events of a burst and counts every one it left out', async () => {
    const { session, ports } = await openSession(`frame-events-${Date.now()}`);
    const loaded = await session.loadScenario('burst.json', burstScenario());
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
    expectCarriedOrCounted(burst, lastSequenceBefore);
    const frameWithDrops = burst.find((frame) => frame.droppedEvents > 0)!;
    expect(frameWithDrops.events).toHaveLength(MAX_EVENTS_PER_FRAME);
  });

  it('in a run to the end, frames before the outcome carry the newest 250 events, the outcome frame every one since the frame before (up to 4,000), then one says saved', async () => {
    // A wall clock that moves 8 ms per reading (the run reads it every 8 steps): bursts end, and
    // a frame goes every 250 ms of it.
    class MovingClockPorts extends RecordingPorts {
      private movingMs = 0;
      override wallClockMs(): number {
        return (this.movingMs += 8);
      }
    }
    const databaseName = `frame-events-moving-${Date.now()}`;
    const persistence = await IndexedDbPersistence.open(databaseName);
    await persistence.claim();
    const ports = new MovingClockPorts();
    const session = new SimSession(ports, persistence, { kind: 'indexeddb', databaseName });
    await session.start(await persistence.loadAll());
    expect((await session.loadScenario('burst.json', burstScenario())).ok).toBe(true);
    const framesBefore = ports.frames().length;
    const lastSequenceBefore = Math.max(-1, ...ports.frames().flatMap((frame) => frame.events.map((event) => event.sequence)));
    await session.scenarioRunToEnd();
    const burst = ports.frames().slice(framesBefore);
    expect(burst.length, 'frames of the run').toBeGreaterThan(3);
    const outcomeAt = burst.findIndex((frame) => frame.scenario?.done === true);
    const outcome = burst[outcomeAt]!;
    for (const frame of burst.slice(0, outcomeAt)) expect(frame.events.length).toBeLessThanOrEqual(RUN_TO_END_EVENTS_PER_FRAME);
    expect(burst.slice(0, outcomeAt).some((frame) => frame.events.length === RUN_TO_END_EVENTS_PER_FRAME && frame.droppedEvents > 0), 'a frame before the last was trimmed').toBe(true);
    // The frame with the outcome keeps every event since the frame before it, up to the usual 4,000.
    expect(outcome.droppedEvents === 0 || outcome.events.length === MAX_EVENTS_PER_FRAME, `outcome frame: ${outcome.events.length} events, ${outcome.droppedEvents} left out`).toBe(true);
    // The outcome shows before the run's last save commits; one more frame says it is saved.
    expect(outcome.saved).toBe(false);
    expect(burst.slice(outcomeAt + 1)).toHaveLength(1);
    const last = burst[burst.length - 1]!;
    expect(last.saved).toBe(true);
    expect(last.savedUpToUs).toBe(last.summary.nowUs);
    expect(last.events).toEqual([]);
    expect(last.scenario?.done).toBe(true);
    expectCarriedOrCounted(burst, lastSequenceBefore);
  });
});
