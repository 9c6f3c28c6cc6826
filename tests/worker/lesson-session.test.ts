/**
 * The worker's side of the app's lesson player (issue 6 §3): at a lesson's task the learner acts
 * with the normal commands and the clock, and the goal is tested after each of them; a lesson is
 * replayed up to a step (the player's Back); what the learner did is what a close or an export
 * replays; a reload in the middle of a task goes on. And the live invariants travel in frames.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { openSession } from './support/session-harness.js';

let databaseCounter = 0;

const LESSON_3 = 'public/lessons/03-hidden-disk-keeps-the-past.json';
const LESSON_6 = 'public/lessons/06-the-secondary-starts-first.json';

function lessonText(path: string): string {
  return readFileSync(path, 'utf8');
}

function indexOfOp(path: string, op: string, nth = 0): number {
  const steps = (JSON.parse(lessonText(path)) as { steps: Array<{ op: string }> }).steps;
  return steps.map((step, index) => (step.op === op ? index : -1)).filter((index) => index >= 0)[nth]!;
}

describe('a lesson in the worker', () => {
  it('lets the learner do a task with the normal commands, tests the goal after each, and goes on from the learner\'s state', async () => {
    const { session, ports } = await openSession(`lesson-db-${databaseCounter++}`);
    const task = indexOfOp(LESSON_3, 'task');
    expect((await session.loadScenario('lessons/03.json', lessonText(LESSON_3), { upToStep: task })).ok).toBe(true);
    let position = ports.lastFrame().scenario!;
    expect(position.nextStepIndex).toBe(task);
    // The goal is first tested when the learner acts (so "Show me" runs the task as colo-sim run does).
    expect(position.learnerTask).toEqual({ notYet: '' });

    // A command that does not reach the goal: the task waits, saying why.
    const secondaryWrite = await session.execute({ op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' });
    expect(secondaryWrite.ok).toBe(true);
    position = ports.lastFrame().scenario!;
    expect(position.nextStepIndex).toBe(task);
    expect(position.learnerTask?.notYet).toBe('hidden-disk [131072, +65536) is not allocated, not all allocated');

    // The learner's own primary write (another byte and offset than the solution's) reaches it.
    expect((await session.execute({ op: 'guest-write', vm: 'primary', offset: '180K', length: '4K', pattern: '0x66' })).ok).toBe(true);
    position = ports.lastFrame().scenario!;
    expect(position.nextStepIndex).toBe(task + 1);
    expect(position.learnerTask).toBeUndefined();
    expect(ports.results().get(task)).toMatchObject({ op: 'task', passed: true, actual: "it did not hold before, and held after the learner's actions" });

    // Past the task the commands are the lesson's again.
    const refused = await session.execute({ op: 'checkpoint' });
    expect(refused).toEqual({ ok: false, errors: [{ path: '', message: 'a scenario is loaded: close it before acting on the simulation yourself' }] });
    const end = await session.scenarioRunToEnd();
    expect(end?.outcome?.passed).toBe(true);

    // What ran, the learner's commands included, replays to the same disks and instant.
    const digests = await session.digestDisks();
    const text = await session.exportScenario('lesson 3 as played');
    const validation = validateScenarioText(text);
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    const steps = (JSON.parse(text) as { steps: Array<Record<string, unknown>> }).steps;
    expect(steps.some((step) => step.op === 'task')).toBe(false);
    expect(steps.filter((step) => step.op === 'guest-write' && step.pattern === '0x66')).toHaveLength(1);
    const runner = new ScenarioRunner(validation.scenario, createMemoryStore);
    expect(runner.runToEnd().passed).toBe(true);
    expect(digestImages(runner.simulation)).toEqual(digests);
    expect(runner.simulation.nowUs).toBe(ports.lastFrame().summary.nowUs);
  });

  it('runs the clock for the learner during a task and stops it once the goal holds', async () => {
    const { session, ports } = await openSession(`lesson-db-${databaseCounter++}`);
    const task = indexOfOp(LESSON_6, 'task');
    await session.loadScenario('lessons/06.json', lessonText(LESSON_6), { upToStep: task });
    expect(ports.lastFrame().scenario?.learnerTask).toEqual({ notYet: '' });
    await session.setClock({ playing: true, speed: 20 });
    await ports.advance(16);
    expect(ports.lastFrame().scenario?.learnerTask?.notYet).toBe('replication-primary is in stage none, not running');
    for (let tick = 0; tick < 200 && ports.lastFrame().scenario!.nextStepIndex === task; tick++) await ports.advance(16);
    expect(ports.lastFrame().scenario?.nextStepIndex).toBe(task + 1);
    expect(ports.results().get(task)?.passed).toBe(true);
    // Stopped: more wall time moves no virtual time.
    const stoppedAt = ports.lastFrame().summary.nowUs;
    await ports.advance(16);
    await ports.advance(16);
    expect(ports.lastFrame().summary.nowUs).toBe(stoppedAt);
    // The export holds the time the learner let run.
    const text = await session.exportScenario('lesson 6');
    expect((JSON.parse(text) as { steps: Array<Record<string, unknown>> }).steps.filter((step) => step.op === 'run').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses the clock and commands outside a task, as for any scenario', async () => {
    const { session, ports } = await openSession(`lesson-db-${databaseCounter++}`);
    await session.loadScenario('lessons/03.json', lessonText(LESSON_3), { upToStep: 3 });
    expect(ports.lastFrame().scenario?.learnerTask).toBeUndefined();
    await session.setClock({ playing: true, speed: 1000 });
    const before = ports.lastFrame().summary.nowUs;
    await ports.advance(16);
    await session.stepEvent();
    expect(ports.lastFrame().summary.nowUs).toBe(before);
    expect((await session.execute({ op: 'checkpoint' })).ok).toBe(false);
  });

  it('replays a lesson up to a step in one frame that lists its events without animating them', async () => {
    const { session, ports } = await openSession(`lesson-db-${databaseCounter++}`);
    const firstAsk = indexOfOp(LESSON_3, 'ask');
    const before = ports.frames().length;
    const loaded = await session.loadScenario('lessons/03.json', lessonText(LESSON_3), { upToStep: firstAsk });
    expect(loaded.ok && loaded.progress.nextStepIndex).toBe(firstAsk);
    const frames = ports.frames().slice(before);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.restored).toBe(true);
    expect(frames[0]!.layouts).toBeDefined();
    expect([...(frames[0]!.scenarioResults?.results.index ?? [])]).toEqual([...Array(firstAsk).keys()]);
    expect(frames[0]!.events.some((event) => event.kind === 'cbw-copy' || event.kind === 'colo')).toBe(true);
    // The same state as stepping there one by one.
    const stepped = await openSession(`lesson-db-${databaseCounter++}`);
    await stepped.session.loadScenario('lessons/03.json', lessonText(LESSON_3));
    for (let step = 0; step < firstAsk; step++) await stepped.session.scenarioStep();
    expect(await stepped.session.digestDisks()).toEqual(await session.digestDisks());
    expect(stepped.ports.lastFrame().summary.nowUs).toBe(ports.lastFrame().summary.nowUs);
  });

  it('goes on with a task after a reload: the learner\'s command then completes it', async () => {
    const databaseName = `lesson-db-${databaseCounter++}`;
    const first = await openSession(databaseName);
    const task = indexOfOp(LESSON_3, 'task');
    await first.session.loadScenario('lessons/03.json', lessonText(LESSON_3), { upToStep: task });
    await first.session.execute({ op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' });
    const second = await openSession(databaseName);
    expect(second.ports.lastFrame().scenario).toMatchObject({ nextStepIndex: task, learnerTask: { notYet: '' } });
    expect((await second.session.execute({ op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' })).ok).toBe(true);
    expect(second.ports.lastFrame().scenario?.nextStepIndex).toBe(task + 1);
    expect(second.ports.results().get(task)?.passed).toBe(true);
  });
});

describe('live invariants in frames', () => {
  it('are sent when they change, held on a healthy run and broken, with where and why, by a fault', async () => {
    const { session, ports } = await openSession(`lesson-db-${databaseCounter++}`);
    await session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 });
    expect(ports.lastFrame().invariants?.checks.map((check) => check.status)).toEqual(['not-applicable', 'not-applicable', 'not-applicable']);
    await session.execute({ op: 'colo-start' });
    expect(ports.lastFrame().invariants?.checks.map((check) => check.status)).toEqual(['held', 'held', 'held']);
    // Nothing changed for them: the next frame does not carry them again.
    await session.execute({ op: 'guest-read', vm: 'primary', offset: 0, length: '4K' });
    expect(ports.lastFrame().invariants).toBeUndefined();
    await session.execute({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'read' });
    const views = ports.lastFrame().invariants!.checks[1]!;
    expect(views).toMatchObject({ id: 'svm-view-layers', status: 'broken', brokenClusters: 16 });
    expect(views.broken[0]).toMatchObject({ offsetBytes: 0, lengthBytes: 1024 * 1024, nodes: ['hidden-disk', 'top-disk'] });
  });

  it('go on where they were after a reload', async () => {
    const databaseName = `lesson-db-${databaseCounter++}`;
    const first = await openSession(databaseName);
    await first.session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 });
    await first.session.execute({ op: 'colo-start' });
    await first.session.execute({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    await first.session.execute({ op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x22' });
    const before = first.ports.lastFrame().invariants;
    expect(before?.checks[2]?.status).toBe('broken');
    const second = await openSession(databaseName);
    expect(second.ports.lastFrame().invariants).toEqual(before);
  });
});
