/**
 * Time travel: the state the timeline rebuilds at moment k (nearest keyframe + replay) is the
 * state a run from the start has after k steps — engine snapshot (clock, queue, jobs, requests
 * in flight, COLO), every image's bytes and allocation, and the events so far — for every
 * public scenario and lesson, at every moment. Also: keyframe thinning keeps memory bounded,
 * truncation (forks), the middle of a step, diffs between moments.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { ImageNode } from '../../src/engine/block/image.js';
import { Qcow2Image } from '../../src/engine/block/qcow2-image.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioDocument, validateScenarioText, type Scenario } from '../../src/engine/scenario/validate.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { captureDisks, diffDisks, differingClusters } from '../../src/engine/timeline/disks.js';
import { Timeline } from '../../src/engine/timeline/timeline.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { listScenarioFiles, loadScenario } from '../support/scenario-files.js';

interface Moment {
  readonly snapshot: unknown;
  readonly digests: Record<string, string>;
  readonly eventCount: number;
  readonly nowUs: number;
}

/** Every image's own layer as runs ("65536x0x11", "4b1,2,3,4") and its allocated clusters: equal text, equal disks (cheap on big sparse disks, unlike a byte digest). */
function digestImages(sim: Simulation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const host of [sim.primary, sim.secondary]) {
    for (const node of host.graph.nodes()) {
      if (!(node instanceof ImageNode)) continue;
      const runs = node.peekOwnLayer(0, node.sizeBytes).runs.map((run) => (run.bytes ? `${run.lengthBytes}b${Array.from(run.bytes).join(',')}` : `${run.lengthBytes}x${run.fillByte}`));
      const allocation = node instanceof Qcow2Image ? [...node.allocatedClusterIndices()].sort((a, b) => a - b).join(',') : 'raw';
      out[node.nodeName] = `${runs.join(' ')} | ${allocation}`;
    }
  }
  return out;
}

function momentOf(sim: Simulation, eventCount: number): Moment {
  return { snapshot: JSON.parse(JSON.stringify(sim.snapshot())), digests: digestImages(sim), eventCount, nowUs: sim.nowUs };
}

/** A run from the start, with the moment after every step (until the run stops). */
function reference(scenario: Scenario): { moments: Moment[]; events: SimEvent[] } {
  const events: SimEvent[] = [];
  const runner = new ScenarioRunner(scenario, createMemoryStore);
  runner.simulation.events.subscribe((event) => events.push(event));
  const moments = [momentOf(runner.simulation, 0)];
  for (let index = 0; index < scenario.steps.length && !runner.done; index++) {
    runner.step();
    moments.push(momentOf(runner.simulation, events.length));
  }
  return { moments, events };
}

function checkEveryMoment(scenario: Scenario, keyframeEvery: number): void {
  const { moments, events } = reference(scenario);
  const timeline = new Timeline(scenario, { keyframeEvery });
  // The first visit runs every step once (marks, keyframes); later visits restore and replay.
  const last = timeline.materialize(moments.length - 1, createMemoryStore);
  expect(last.step).toBe(moments.length - 1);
  for (let step = moments.length - 1; step >= 0; step--) {
    const replayed: SimEvent[] = [];
    const reached = timeline.materialize(step, createMemoryStore, { onEvent: (event) => replayed.push(event) });
    expect(reached.step).toBe(step);
    expect(reached.fromStep).toBeLessThanOrEqual(step);
    expect(reached.fromStep).toBeGreaterThan(step - keyframeEvery);
    const got = momentOf(reached.simulation, 0);
    expect(got.nowUs, `moment ${step}: time`).toBe(moments[step]!.nowUs);
    expect(got.digests, `moment ${step}: disks`).toEqual(moments[step]!.digests);
    expect(got.snapshot, `moment ${step}: engine state`).toEqual(moments[step]!.snapshot);
    // The replayed events are the reference's, from the keyframe on.
    expect(replayed).toEqual(events.slice(moments[reached.fromStep]!.eventCount, moments[step]!.eventCount));
    expect(timeline.eventsBefore(step, 25, createMemoryStore)).toEqual(events.slice(Math.max(0, moments[step]!.eventCount - 25), moments[step]!.eventCount));
  }
}

describe('timeline: going to a moment is replaying to it', () => {
  const files = [...listScenarioFiles(), ...listScenarioFiles('public/lessons')];
  it('finds the public scenarios and lessons', () => {
    expect(files.length).toBeGreaterThan(100);
  });
  for (const file of files) {
    it(file, () => checkEveryMoment(loadScenario(file), 3));
  }
});

function scenarioOf(steps: unknown[], setup: Record<string, unknown> = { diskSize: '1M', clusterSize: '64K' }): Scenario {
  const result = validateScenarioDocument({ format: 'colo-sim/1', title: 'timeline', setup, steps });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.scenario;
}

const WORKLOAD_STEPS = [
  { op: 'colo-start' },
  { op: 'workload', writesPerSecond: 2000, vm: 'both', blockSize: '4K', maxBlocks: 4 },
  ...Array.from({ length: 40 }, (_, index) => (index % 5 === 4 ? { op: 'checkpoint' } : { op: 'run', for: '3ms' })),
  { op: 'guest-write', vm: 'primary', offset: '128K', length: '64K', pattern: '0x5a', async: true },
  { op: 'run', for: '100us' },
  { op: 'failover', to: 'secondary' },
  { op: 'run', for: '2ms' },
];

describe('timeline: keyframes', () => {
  it('a workload, checkpoints, a write in flight and a failover: every moment matches, with several keyframe intervals', () => {
    for (const every of [1, 4, 7]) checkEveryMoment(scenarioOf(WORKLOAD_STEPS), every);
  });

  it('keeps at most maxKeyframes, doubling the interval, and still rebuilds every moment', () => {
    const scenario = scenarioOf(WORKLOAD_STEPS);
    const timeline = new Timeline(scenario, { keyframeEvery: 1, maxKeyframes: 4 });
    timeline.materialize(scenario.steps.length, createMemoryStore);
    const memory = timeline.memory();
    expect(memory.keyframes).toBeLessThanOrEqual(4);
    expect(memory.intervalSteps).toBeGreaterThan(1);
    expect(memory.keyframeSteps.every((step) => step % memory.intervalSteps === 0)).toBe(true);
    expect(memory.approxBytes).toBeGreaterThan(0);
    const { moments } = reference(scenario);
    for (const step of [0, 5, 13, 27, scenario.steps.length]) {
      expect(digestImages(timeline.materialize(step, createMemoryStore).simulation)).toEqual(moments[step]!.digests);
    }
  });

  it('a timeline that knows its steps starts at the interval it ends with: the same keyframes as one that grows and doubles', () => {
    const scenario = scenarioOf(WORKLOAD_STEPS);
    const known = new Timeline(scenario, { keyframeEvery: 1, maxKeyframes: 4 });
    expect(known.keyframeInterval).toBeGreaterThan(1);
    const growing = new Timeline(scenarioOf([]), { keyframeEvery: 1, maxKeyframes: 4 });
    for (const step of scenario.steps) growing.append(step);
    expect(growing.keyframeInterval).toBe(1);
    known.materialize(scenario.steps.length, createMemoryStore);
    growing.materialize(scenario.steps.length, createMemoryStore);
    const { approxBytes: knownBytes, ...knownKeyframes } = known.memory();
    const { approxBytes: growingBytes, ...growingKeyframes } = growing.memory();
    expect(knownKeyframes).toEqual(growingKeyframes);
    expect(knownBytes).toBe(growingBytes);
    expect(growingKeyframes.keyframes).toBeGreaterThan(1);
  });

  it('marks say what each step did', () => {
    const scenario = scenarioOf([
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x11' },
      { op: 'checkpoint' },
      { op: 'fault', kind: 'link-down' },
      { op: 'failover', to: 'primary' },
    ]);
    const timeline = new Timeline(scenario);
    timeline.materialize(5, createMemoryStore);
    expect(timeline.marks.map((mark) => [mark.op, mark.notes])).toEqual([
      ['colo-start', ['colo-start']],
      ['guest-write', []],
      ['checkpoint', ['checkpoint']],
      ['fault', ['fault']],
      ['failover', ['failover']],
    ]);
    for (let index = 1; index < 5; index++) expect(timeline.marks[index]!.eventEnd).toBeGreaterThan(timeline.marks[index - 1]!.eventEnd);
  });

  it('a normal failover to the secondary is no error, though it cancels the backup job; a failed I/O is', () => {
    const scenario = scenarioOf([
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x11' },
      { op: 'failover', to: 'secondary' },
      { op: 'fault', kind: 'io-error', node: 'secondary-disk', on: 'write' },
      { op: 'write', node: 'secondary-disk', offset: 0, length: '4K', pattern: '0x22', expect: { error: 'EIO' } },
    ]);
    const timeline = new Timeline(scenario);
    timeline.materialize(5, createMemoryStore);
    expect(timeline.marks.map((mark) => [mark.op, mark.notes])).toEqual([
      ['colo-start', ['colo-start']],
      ['guest-write', []],
      ['failover', ['failover']],
      ['fault', ['fault']],
      ['write', ['error']],
    ]);
  });
});

describe('timeline: forks', () => {
  it('truncating and appending other steps gives the new branch, and the old prefix is untouched', () => {
    const steps = [
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' },
      { op: 'checkpoint' },
      { op: 'guest-write', vm: 'primary', offset: '64K', length: '64K', pattern: '0x22' },
      { op: 'checkpoint' },
    ];
    const timeline = new Timeline(scenarioOf(steps), { keyframeEvery: 1 });
    timeline.materialize(5, createMemoryStore);
    const branchSteps = [...steps.slice(0, 2), { op: 'failover', to: 'secondary' }, { op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' }];
    const branch = scenarioOf(branchSteps);
    timeline.truncate(2);
    expect(timeline.stepCount).toBe(2);
    expect(timeline.marks).toHaveLength(2);
    expect(timeline.memory().keyframeSteps.every((step) => step <= 2)).toBe(true);
    for (const step of branch.steps.slice(2)) timeline.append(step);
    const expected = reference(branch).moments;
    for (let step = 0; step <= 4; step++) {
      const got = timeline.materialize(step, createMemoryStore).simulation;
      expect(digestImages(got), `moment ${step}`).toEqual(expected[step]!.digests);
      expect(JSON.parse(JSON.stringify(got.snapshot()))).toEqual(expected[step]!.snapshot);
    }
    expect(() => timeline.truncate(9)).toThrow(RangeError);
    expect(() => timeline.materialize(5, createMemoryStore)).toThrow(/outside the timeline/);
  });
});

describe('timeline: inside one step', () => {
  const scenario = scenarioOf([{ op: 'colo-start' }, { op: 'guest-write', vm: 'primary', offset: 0, length: '64K', pattern: '0x11' }, { op: 'checkpoint' }]);

  it("a step's events carry their scheduler entry, in order, and match the run's", () => {
    const { events, moments } = reference(scenario);
    const timeline = new Timeline(scenario);
    const stepEvents = timeline.stepEvents(1, createMemoryStore);
    expect(stepEvents.map((entry) => entry.event)).toEqual(events.slice(moments[1]!.eventCount, moments[2]!.eventCount));
    const entries = stepEvents.map((entry) => entry.entry);
    expect(entries[0]).toBe(0);
    expect(entries).toEqual([...entries].sort((a, b) => a - b));
    expect(entries[entries.length - 1]).toBeGreaterThan(0);
  });

  it('the state after n entries of a step has exactly the events up to them, and all entries give the step end', () => {
    const timeline = new Timeline(scenario);
    const all = timeline.stepEvents(1, createMemoryStore);
    const lastEntry = all[all.length - 1]!.entry;
    for (let entries = 0; entries <= lastEntry; entries++) {
      const moment = timeline.partial(1, entries, createMemoryStore);
      expect(moment.entries).toBe(entries);
      expect(moment.events).toEqual(all.filter((entry) => entry.entry <= entries));
    }
    const before = digestImages(timeline.materialize(1, createMemoryStore).simulation);
    const after = digestImages(timeline.materialize(2, createMemoryStore).simulation);
    expect(digestImages(timeline.partial(1, 0, createMemoryStore).simulation)).not.toEqual(after);
    expect(digestImages(timeline.partial(1, lastEntry, createMemoryStore).simulation)).toEqual(after);
    expect(before).not.toEqual(after);
  });
});

describe('diff two moments', () => {
  it('names the clusters whose bytes or allocation differ, per disk', () => {
    const scenario = scenarioOf([
      { op: 'colo-start' },
      { op: 'guest-write', vm: 'primary', offset: '64K', length: '4K', pattern: '0x11' },
      { op: 'guest-write', vm: 'secondary', offset: '320K', length: '128K', pattern: '0x22' },
      { op: 'checkpoint' },
    ]);
    const timeline = new Timeline(scenario);
    const at = (step: number) => captureDisks(timeline.materialize(step, createMemoryStore).simulation);
    const diff = diffDisks(at(1), at(3));
    const byName = Object.fromEntries(diff.map((disk) => [disk.name, disk]));
    // The primary write reaches both disks (forwarded); the hidden disk gets cluster 1's old zeros (copy-before-write).
    expect(byName['primary-disk']!.differing).toEqual([1]);
    expect(byName['secondary-disk']!.differing).toEqual([1]);
    expect(byName['hidden-disk']!.allocationDiffers).toEqual([1]);
    expect(byName['hidden-disk']!.bytesDiffer).toEqual([]);
    // The secondary VM's write (320K-448K: clusters 5 and 6) sits in the active disk.
    expect(byName['active-disk']!.differing).toEqual([5, 6]);
    // After the checkpoint both buffers are empty again: no difference with before the writes.
    const emptied = Object.fromEntries(diffDisks(at(1), at(4)).map((disk) => [disk.name, disk.differing]));
    expect(emptied['active-disk']).toEqual([]);
    expect(emptied['hidden-disk']).toEqual([]);
    expect(diffDisks(at(4), at(4)).every((disk) => disk.differing.length === 0)).toBe(true);
  });

  it('differingClusters compares runs and literal bytes, and a length difference makes the tail differ', () => {
    const a = DataRuns.concat([DataRuns.fill(100, 1), DataRuns.fromBytes(new Uint8Array([1, 2, 3, 4])), DataRuns.fill(96, 0)]);
    const b = DataRuns.concat([DataRuns.fill(100, 1), DataRuns.fromBytes(new Uint8Array([1, 2, 9, 4])), DataRuns.fill(96, 0)]);
    expect(differingClusters(a, a, 10)).toEqual([]);
    expect(differingClusters(a, b, 10)).toEqual([10]);
    expect(differingClusters(a, DataRuns.fill(200, 1), 50)).toEqual([2, 3]);
    expect(differingClusters(DataRuns.fill(100, 0), DataRuns.fill(130, 0), 50)).toEqual([2]);
    expect(() => differingClusters(a, b, 0)).toThrow(RangeError);
  });
});

it('validateScenarioText is what the tests parse with', () => {
  expect(validateScenarioText('{').ok).toBe(false);
});
