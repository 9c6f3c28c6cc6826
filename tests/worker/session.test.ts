/**
 * The worker's session in Node, with fake-indexeddb: commands, frames, saving and restoring,
 * falling back to memory, and exporting a session that replays to the same disks.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { IndexedDbPersistence, PersistenceError, type ChunkChange } from '../../src/storage/indexeddb-persistence.js';
import type { Frame, PersistenceStatus, WorkerNotice } from '../../src/worker/protocol.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { SimSession, type SavedMeta, type SessionPorts } from '../../src/worker/session.js';

class FakePorts implements SessionPorts {
  readonly notices: WorkerNotice[] = [];
  private nowMs = 0;
  private timers: Array<() => void> = [];

  post(notice: WorkerNotice): void {
    this.notices.push(notice);
  }
  wallClockMs(): number {
    return this.nowMs;
  }
  setTimer(callback: () => void): void {
    this.timers.push(callback);
  }
  /** Lets `wallMs` of wall time pass, firing the armed timer once. */
  async advance(wallMs: number): Promise<void> {
    this.nowMs += wallMs;
    const due = this.timers.splice(0);
    for (const timer of due) timer();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  frames(): Frame[] {
    return this.notices.flatMap((notice) => (notice.kind === 'frame' ? [notice.frame] : []));
  }
  lastFrame(): Frame {
    const frames = this.frames();
    return frames[frames.length - 1]!;
  }
}

let databaseCounter = 0;

async function openSession(databaseName: string): Promise<{ session: SimSession; ports: FakePorts }> {
  const persistence = await IndexedDbPersistence.open<SavedMeta>(databaseName);
  const saved = await persistence.load();
  const ports = new FakePorts();
  const status: PersistenceStatus = { kind: 'indexeddb', databaseName };
  const session = new SimSession(ports, persistence, status);
  await session.start(saved);
  return { session, ports };
}

async function mustExecute(session: SimSession, step: unknown) {
  const result = await session.execute(step);
  if (!result.ok) throw new Error(`command rejected: ${JSON.stringify(result.errors)}`);
  return result.result;
}

describe('worker session', () => {
  it('sends the whole disks first, then only the cells that changed', async () => {
    const { session, ports } = await openSession(`db-${databaseCounter++}`);
    await session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 });
    const first = ports.lastFrame();
    expect(first.layouts?.map((layout) => layout.name).sort()).toEqual(['active-disk', 'hidden-disk', 'primary-disk', 'secondary-disk']);
    expect(first.cells.every((disk) => disk.indices === undefined && disk.content.length === 16)).toBe(true);

    await mustExecute(session, { op: 'colo-start' });
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' });
    const frame = ports.lastFrame();
    expect(frame.layouts).toBeUndefined();
    const primary = frame.cells.find((disk) => disk.name === 'primary-disk')!;
    expect([...primary.indices!]).toEqual([2]);
    expect(primary.content[0]).toBe(256); // 4 KiB of 0x22 in a 64 KiB cell of zeros: mixed
    const hidden = frame.cells.find((disk) => disk.name === 'hidden-disk')!;
    expect([...hidden.indices!]).toEqual([2]);
    expect(hidden.allocated[0]).toBe(1); // copy-before-write allocated the cluster (as zeros)
    expect(hidden.content[0]).toBe(0);
    expect(frame.saved).toBe(true);
    expect(frame.events.some((event) => event.kind === 'cbw-copy')).toBe(true);
  });

  it('rejects an invalid command without changing anything', async () => {
    const { session, ports } = await openSession(`db-${databaseCounter++}`);
    const framesBefore = ports.frames().length;
    const result = await session.execute({ op: 'guest-write', vm: 'primary', offset: 100, length: 512, pattern: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ path: 'step.offset', message: 'must be a multiple of 512 (got 100)' }]);
    expect(ports.frames().length).toBe(framesBefore);
    expect(await session.exportScenario('empty')).toContain('"steps": []');
  });

  it('restores a saved simulation byte for byte, with its stages and its session log', async () => {
    const databaseName = `db-${databaseCounter++}`;
    const first = await openSession(databaseName);
    await first.session.newSimulation({ diskSizeBytes: 2 * 1024 * 1024, clusterSizeBytes: 4096, seed: 9 });
    await mustExecute(first.session, { op: 'colo-start' });
    await mustExecute(first.session, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' });
    await mustExecute(first.session, { op: 'guest-write', vm: 'secondary', offset: '32K', length: '8K', pattern: '0x33' });
    await mustExecute(first.session, { op: 'checkpoint' });
    await mustExecute(first.session, { op: 'guest-write', vm: 'primary', offset: '1M', length: '12K', pattern: '0x44' });
    await mustExecute(first.session, { op: 'failover', to: 'secondary' });
    const digests = await first.session.digestDisks();
    const summary = first.ports.lastFrame().summary;
    expect(summary.jobs.map((job) => job.type)).toEqual(['commit']);

    const second = await openSession(databaseName);
    expect(await second.session.digestDisks()).toEqual(digests);
    const restored = second.ports.lastFrame();
    expect(restored.summary.nodes).toEqual(summary.nodes);
    expect(restored.summary.nowUs).toBe(summary.nowUs);
    expect(restored.summary.jobs).toEqual(summary.jobs);
    expect(restored.sessionStepCount).toBe(first.ports.lastFrame().sessionStepCount);
    // The commit resumes where it was and completes in the restored session.
    await mustExecute(second.session, { op: 'run', until: 'idle' });
    const stage = second.ports.lastFrame().summary.nodes.find((node) => node.name === 'replication-secondary')!.replication!.stage;
    expect(stage).toBe('done');
  });

  it('exports a session that replays to the same disks', async () => {
    const { session, ports } = await openSession(`db-${databaseCounter++}`);
    await session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536, seed: 4 });
    await mustExecute(session, { op: 'colo-start' });
    await mustExecute(session, { op: 'workload', writesPerSecond: 500, vm: 'both' });
    await session.setClock({ playing: true, speed: 1000 });
    for (let tick = 0; tick < 5; tick++) await ports.advance(16);
    await session.setClock({ playing: false, speed: 1000 });
    await mustExecute(session, { op: 'replication', host: 'primary', action: 'start', mode: 'primary' });
    await mustExecute(session, { op: 'checkpoint' });
    await mustExecute(session, { op: 'workload', writesPerSecond: 0 });
    await mustExecute(session, { op: 'guest-read', vm: 'secondary', offset: 0, length: '64K' });
    const digests = await session.digestDisks();
    expect(ports.lastFrame().summary.nowUs).toBeGreaterThan(0);

    const text = await session.exportScenario('round trip');
    const validation = validateScenarioText(text);
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    const document = JSON.parse(text) as { steps: Array<Record<string, unknown>> };
    expect(document.steps.some((step) => step.op === 'run')).toBe(true);
    expect(document.steps.find((step) => step.op === 'replication')?.expect).toEqual({ error: 'Block replication is running or done' });

    const runner = new ScenarioRunner(validation.scenario, createMemoryStore);
    const outcome = runner.runToEnd();
    expect(outcome.failure).toBeUndefined();
    expect(outcome.passed).toBe(true);
    expect(runner.simulation.nowUs).toBe(ports.lastFrame().summary.nowUs);
    expect(digestImages(runner.simulation)).toEqual(digests);
  });

  it('goes on in memory, and says so, when IndexedDB refuses a save', async () => {
    const { session, ports } = await openSession(`db-${databaseCounter++}`);
    const persistence = (session as unknown as { persistence: IndexedDbPersistence<SavedMeta> }).persistence;
    persistence.save = async (_changes: readonly ChunkChange[]) => {
      throw new PersistenceError('IndexedDB is out of space (test)', true);
    };
    await mustExecute(session, { op: 'colo-start' });
    expect(ports.notices.some((notice) => notice.kind === 'persistence' && notice.status.kind === 'memory' && notice.status.reason.includes('out of space'))).toBe(true);
    const result = await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: 0, length: 4096, pattern: 7 });
    expect(result.passed).toBe(true);
    expect(session.status.kind).toBe('memory');
  });

  it('plays a scenario step by step and resumes it after a reload', async () => {
    const databaseName = `db-${databaseCounter++}`;
    const first = await openSession(databaseName);
    const text = JSON.stringify({
      format: 'colo-sim/1',
      title: 'tiny',
      setup: { diskSize: '1M' },
      steps: [
        { op: 'colo-start' },
        { op: 'guest-write', vm: 'primary', offset: 0, length: 4096, pattern: 5 },
        { op: 'read', node: 'secondary-disk', offset: 0, length: 4096, expect: { pattern: 5 } },
        { op: 'read', node: 'secondary-disk', offset: 0, length: 4096, expect: { pattern: 6 } },
      ],
    });
    const loaded = await first.session.loadScenario('tiny.json', text);
    expect(loaded.ok).toBe(true);
    await first.session.scenarioStep();
    await first.session.scenarioStep();
    const second = await openSession(databaseName);
    expect(second.ports.lastFrame().scenario?.nextStepIndex).toBe(2);
    const progress = await second.session.scenarioRunToEnd();
    expect(progress?.results.map((result) => result.passed)).toEqual([true, true, true, false]);
    expect(progress?.outcome?.failure?.actual).toBe('byte 0x05 at offset 0 (every byte 0x05)');
  });
});
