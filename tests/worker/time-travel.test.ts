/**
 * Time travel through the worker's session (fake-indexeddb): going to a step shows the disks and
 * the event log a replay from the start has there; acting in the past forks (the old future is
 * a branch until discarded, and can be switched back to); the moment shown and the branches
 * survive a reload; a loaded scenario can be stepped again from an earlier step; diffs and a
 * step's events.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { LiveInvariants, type InvariantReport } from '../../src/engine/invariants/live-invariants.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { SimSession } from '../../src/worker/session.js';
import { decodeStepMarks } from '../../src/worker/step-mark-columns.js';
import { openSession } from './support/session-harness.js';

let databaseCounter = 0;

async function act(session: SimSession, step: unknown): Promise<void> {
  const result = await session.execute(step);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
}

/** Replays an exported session from the start: disks and events after each step. */
function replay(text: string): { digests: Array<Record<string, string>>; eventCounts: number[]; events: SimEvent[] } {
  const validation = validateScenarioText(text);
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  const runner = new ScenarioRunner(validation.scenario, createMemoryStore);
  const events: SimEvent[] = [];
  runner.simulation.events.subscribe((event) => events.push(event));
  const digests = [digestImages(runner.simulation)];
  const eventCounts = [0];
  while (runner.nextStepIndex < validation.scenario.steps.length) {
    runner.step();
    digests.push(digestImages(runner.simulation));
    eventCounts.push(events.length);
  }
  return { digests, eventCounts, events };
}

const SMALL = { diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 };

async function session5(databaseName: string) {
  const opened = await openSession(databaseName);
  const { session, ports } = opened;
  await session.newSimulation(SMALL);
  await act(session, { op: 'colo-start' });
  await act(session, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' });
  // The clock runs between two commands: the time becomes a step of its own.
  await session.setClock({ playing: true, speed: 1000 });
  await ports.advance(5);
  await ports.advance(5);
  await session.setClock({ playing: false, speed: 1000 });
  await act(session, { op: 'guest-write', vm: 'secondary', offset: '128K', length: '64K', pattern: '0x22' });
  await act(session, { op: 'checkpoint' });
  await act(session, { op: 'guest-write', vm: 'primary', offset: '256K', length: '4K', pattern: '0x33' });
  return opened;
}

describe('time travel in the worker session', () => {
  it('every step shows what a replay from the start has there: disks and event log', async () => {
    const { session, ports } = await session5(`tt-${databaseCounter++}`);
    const exported = await session.exportScenario('t');
    const reference = replay(exported);
    const stepCount = reference.digests.length - 1;
    expect(stepCount).toBe(6);
    for (const step of [3, 0, 6, 1, 5, 2, 4]) {
      const travelled = await session.goToStep(step);
      expect(travelled).toMatchObject({ ok: true, position: { step, stepCount, atEnd: step === stepCount } });
      expect(await session.digestDisks(), `step ${step}`).toEqual(reference.digests[step]);
      const frame = ports.lastFrame();
      expect(frame.restored).toBe(true);
      expect(frame.events).toEqual(reference.events.slice(0, reference.eventCounts[step]));
      expect(frame.timeline).toMatchObject({ step, stepCount });
    }
    expect(await session.goToStep(7)).toEqual({ ok: false, message: 'there is no step 7: the timeline has steps 0 to 6' });
    const marks = decodeStepMarks((await session.timelineMarks(0)).marks);
    expect(marks.map((mark) => mark.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(marks.map((mark) => mark.op)).toEqual(['colo-start', 'guest-write', 'run', 'guest-write', 'checkpoint', 'guest-write']);
    expect(marks[4]!.notes).toContain('checkpoint');
    expect(decodeStepMarks((await session.timelineMarks(4)).marks).map((mark) => mark.index)).toEqual([4, 5]);
  });

  it('acting at a past step forks; the old future is a branch to switch back to, or discard', async () => {
    const { session } = await session5(`tt-${databaseCounter++}`);
    const original = replay(await session.exportScenario('t'));
    await session.goToStep(2);
    await act(session, { op: 'failover', to: 'secondary' });
    const frame = (await session.goToStep(3)) as unknown as { ok: true; position: { stepCount: number; branches: Array<{ id: number; forkStep: number; stepCount: number }> } };
    expect(frame.position.stepCount).toBe(3);
    expect(frame.position.branches).toEqual([{ id: 1, label: 'branch 1', forkStep: 2, stepCount: 6 }]);
    const forked = replay(await session.exportScenario('t'));
    expect(forked.digests.slice(0, 3)).toEqual(original.digests.slice(0, 3));
    expect(await session.digestDisks()).toEqual(forked.digests[3]);

    const switched = await session.switchBranch(1);
    expect(switched).toMatchObject({ ok: true, position: { step: 6, stepCount: 6, atEnd: true, branches: [{ id: 2, forkStep: 2, stepCount: 3 }] } });
    expect(await session.digestDisks()).toEqual(original.digests[6]);
    expect(await session.goToStep(4)).toMatchObject({ ok: true });
    expect(await session.digestDisks()).toEqual(original.digests[4]);
    expect(await session.discardBranch(2)).toBe(true);
    expect(await session.discardBranch(2)).toBe(false);
    expect(await session.switchBranch(2)).toEqual({ ok: false, message: 'there is no branch 2' });
  });

  it('the moment shown and the branches survive a reload', async () => {
    const databaseName = `tt-${databaseCounter++}`;
    const { session } = await session5(databaseName);
    const original = replay(await session.exportScenario('t'));
    await session.goToStep(3);
    await act(session, { op: 'guest-write', vm: 'primary', offset: '512K', length: '4K', pattern: '0x44' });
    const branchAt = replay(await session.exportScenario('t'));
    await session.goToStep(2);
    const before = await session.digestDisks();

    const { session: reloaded, ports } = await openSession(databaseName);
    expect(await reloaded.digestDisks()).toEqual(before);
    expect(ports.lastFrame().timeline).toMatchObject({ step: 2, stepCount: 4, atEnd: false, branches: [{ id: 1, forkStep: 3, stepCount: 6 }] });
    expect(decodeStepMarks((await reloaded.timelineMarks(0)).marks)).toHaveLength(4);
    expect(await reloaded.goToStep(4)).toMatchObject({ ok: true });
    expect(await reloaded.digestDisks()).toEqual(branchAt.digests[4]);
    expect(await reloaded.switchBranch(1)).toMatchObject({ ok: true, position: { step: 6 } });
    expect(await reloaded.digestDisks()).toEqual(original.digests[6]);
  });

  it('diffs between two steps and the events of one step', async () => {
    const { session } = await session5(`tt-${databaseCounter++}`);
    const diff = await session.diffSteps(1, 2);
    if (!diff.ok) throw new Error(diff.message);
    const differing = Object.fromEntries(diff.disks.map((disk) => [disk.name, disk.differing]));
    expect(differing).toEqual({ 'active-disk': [], 'hidden-disk': [0], 'primary-disk': [0], 'secondary-disk': [0] });
    const events = await session.stepEvents(1);
    if (!events.ok) throw new Error(events.message);
    expect(events.events[0]!.event.kind).toBe('io-issued');
    expect(events.events[0]!.entry).toBe(0);
    // The middle of the step: to look at; acting there first goes back to the step's start, then forks.
    const lastEntry = events.events[events.events.length - 1]!.entry;
    expect(await session.goToWithinStep(1, 1)).toMatchObject({ ok: true, position: { within: { stepIndex: 1, entries: 1 } } });
    expect(await session.goToWithinStep(1, lastEntry)).toMatchObject({ ok: true });
    expect(await session.goToStep(2)).toMatchObject({ ok: true, position: { step: 2 } });
    expect(await session.diffSteps(0, 99)).toEqual({ ok: false, message: 'there is no step 99: the timeline has steps 0 to 6' });
  });

  it('a loaded scenario goes back and steps again to the same results', async () => {
    const { session, ports } = await openSession(`tt-${databaseCounter++}`);
    const text = JSON.stringify({
      format: 'colo-sim/1',
      title: 'tt',
      setup: { diskSize: '1M', clusterSize: '64K' },
      steps: [
        { op: 'colo-start' },
        { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x11' },
        { op: 'checkpoint' },
        { op: 'guest-read', vm: 'secondary', offset: 0, length: '4K', expect: { pattern: '0x11' } },
      ],
    });
    await session.loadScenario('tt.json', text);
    const end = await session.scenarioRunToEnd();
    expect(end).toMatchObject({ done: true, outcome: { passed: true } });
    const endDisks = await session.digestDisks();
    expect(await session.goToStep(1)).toMatchObject({ ok: true, position: { step: 1, stepCount: 4 } });
    expect(ports.lastFrame().scenario).toMatchObject({ nextStepIndex: 1, resultCount: 1, done: false });
    const again = await session.scenarioRunToEnd();
    expect(again).toMatchObject({ done: true, outcome: { passed: true }, resultCount: 4 });
    expect(await session.digestDisks()).toEqual(endDisks);
    const share = await session.shareState();
    expect(share).toEqual({ scenarioText: text, step: 4 });
  });
});

describe('the live invariants of a moment shown', () => {
  /** The invariants after each step of a run from the start, LiveInvariants following it from the new simulation on. */
  function invariantsOfReplay(text: string): InvariantReport[] {
    const validation = validateScenarioText(text);
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    const runner = new ScenarioRunner(validation.scenario, createMemoryStore);
    const invariants = new LiveInvariants(runner.simulation);
    const reports = [invariants.report()];
    while (runner.nextStepIndex < validation.scenario.steps.length) {
      runner.step();
      reports.push(invariants.report());
    }
    return reports;
  }

  /** The newest invariants the page was sent. */
  const shownInvariants = (ports: { frames(): Array<{ invariants?: InvariantReport }> }) => [...ports.frames()].reverse().find((frame) => frame.invariants !== undefined)?.invariants;

  it('are those a run from the start has there, at every step and back at the end; a fork goes on with them; a reload keeps them', async () => {
    const databaseName = `tt-inv-${databaseCounter++}`;
    const { session, ports } = await openSession(databaseName);
    await session.newSimulation(SMALL);
    // (c) breaks when the hidden disk cannot take a copy; the checkpoint empties it and starts a new epoch.
    await act(session, { op: 'colo-start' });
    await act(session, { op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    await act(session, { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x22' });
    await act(session, { op: 'checkpoint' });
    await act(session, { op: 'guest-write', vm: 'primary', offset: '64K', length: '4K', pattern: '0x33' });
    await act(session, { op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'read' });
    const reference = invariantsOfReplay(await session.exportScenario('t'));
    expect(reference).toHaveLength(7);
    const statuses = reference.map((report) => report.checks.map((check) => check.status).join(' '));
    // The steps differ: a moment showing the end's invariants would fail below.
    expect(new Set(statuses).size, statuses.join(' | ')).toBeGreaterThanOrEqual(3);
    const atEnd = shownInvariants(ports);
    expect(atEnd).toEqual(reference[6]);

    for (const step of [3, 0, 5, 1, 4, 2, 6]) {
      expect((await session.goToStep(step)).ok).toBe(true);
      expect(shownInvariants(ports), `invariants at step ${step}`).toEqual(reference[step]);
    }
    expect(shownInvariants(ports)).toEqual(atEnd);

    // Acting at step 3 (after the failed copy, before the checkpoint) forks: the invariants go on from step 3's.
    expect((await session.goToStep(3)).ok).toBe(true);
    await act(session, { op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x44' });
    const forked = reference.slice(0, 4);
    const forkReference = invariantsOfReplay(await session.exportScenario('fork'));
    expect(forkReference.slice(0, 4)).toEqual(forked);
    expect(shownInvariants(ports)).toEqual(forkReference.at(-1));

    // A reload at a moment in the past shows that moment's invariants.
    expect((await session.goToStep(2)).ok).toBe(true);
    const before = shownInvariants(ports);
    expect(before).toEqual(forkReference[2]);
    const reopened = await openSession(databaseName);
    expect(shownInvariants(reopened.ports)).toEqual(before);
  });
});
