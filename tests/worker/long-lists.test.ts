/**
 * Lists of any length: a scenario's steps and results, and the events of one step, go into the
 * session's logs without a spread into a call (`push(...list)` throws "Maximum call stack size
 * exceeded" in V8 from about 125,000 items). A scenario of 130,000 steps is run to its end,
 * travelled back into, reloaded, travelled again and closed into a session.
 */
import { describe, expect, it } from 'vitest';
import { MemoryDatabase, MemoryPersistence } from '../../src/storage/memory-persistence.js';
import { PagedLog } from '../../src/worker/paged-log.js';
import { SimSession } from '../../src/worker/session.js';
import { bigScenarioText } from '../support/big-scenario.js';
import { RecordingPorts } from './support/session-harness.js';

const STEPS = 130_000;

async function open(database: MemoryDatabase): Promise<{ session: SimSession; ports: RecordingPorts }> {
  const persistence = new MemoryPersistence(database);
  await persistence.claim();
  const ports = new RecordingPorts();
  const session = new SimSession(ports, persistence, { kind: 'indexeddb', databaseName: '(memory)' });
  await session.start(await persistence.loadAll());
  return { session, ports };
}

describe('lists longer than a spread can carry', () => {
  it('a paged log takes 300,000 items at once', () => {
    const log = new PagedLog<number>('numbers', 1000);
    const items = Array.from({ length: 300_000 }, (_, index) => index);
    expect(() => log.push(...items)).toThrow(RangeError);
    log.pushAll(items);
    expect(log.endIndex).toBe(300_000);
    expect(log.slice(299_998)).toEqual([299_998, 299_999]);
  });

  it(`a scenario of ${STEPS.toLocaleString('en')} steps: run to the end, travelled back into, reloaded, travelled again, closed`, async () => {
    const database = new MemoryDatabase();
    const first = await open(database);
    expect((await first.session.loadScenario('long.json', bigScenarioText(STEPS))).ok).toBe(true);
    const end = await first.session.scenarioRunToEnd();
    expect(end?.outcome?.passed).toBe(true);
    expect(end?.resultCount).toBe(STEPS);
    const atEnd = await first.session.digestDisks();

    // Back to a moment near the end: the results of the steps before it are put back.
    expect((await first.session.goToStep(STEPS - 7)).ok).toBe(true);
    expect((await first.session.currentScenario())?.resultCount).toBe(STEPS - 7);
    expect((await first.session.goToStep(STEPS)).ok).toBe(true);
    expect(await first.session.digestDisks()).toEqual(atEnd);

    const second = await open(database);
    const restored = await second.session.currentScenario();
    expect(restored?.resultCount).toBe(STEPS);
    expect(restored?.done).toBe(true);
    expect(await second.session.digestDisks()).toEqual(atEnd);
    expect((await second.session.goToStep(STEPS - 3)).ok).toBe(true);
    expect((await second.session.currentScenario())?.resultCount).toBe(STEPS - 3);

    // Closing keeps what ran as the session's own steps.
    await second.session.closeScenario();
    expect(second.ports.lastFrame().sessionStepCount).toBe(STEPS - 3);
  }, 120_000);
});
