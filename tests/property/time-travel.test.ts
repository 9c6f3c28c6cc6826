/**
 * Property: for random sessions (COLO start, guest writes on both VMs — some async, left in
 * flight —, checkpoints, failovers, faults, a workload, time passing) and random keyframe
 * settings (interval, a small maximum so thinning happens), the timeline's state at any moment k
 * is the state a run from the start has after k steps: engine snapshot, every image's bytes and
 * allocation, the events up to k. A failure prints the seed (support/property-runner.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageNode } from '../../src/engine/block/image.js';
import { Qcow2Image } from '../../src/engine/block/qcow2-image.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioDocument } from '../../src/engine/scenario/validate.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { Timeline } from '../../src/engine/timeline/timeline.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { assertProperty } from './support/property-runner.js';

const RUNS = 100;

function disks(sim: Simulation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const host of [sim.primary, sim.secondary]) {
    for (const node of host.graph.nodes()) {
      if (!(node instanceof ImageNode)) continue;
      const runs = node.peekOwnLayer(0, node.sizeBytes).runs.map((run) => (run.bytes ? `${run.lengthBytes}b${Array.from(run.bytes).join(',')}` : `${run.lengthBytes}x${run.fillByte}`));
      out[node.nodeName] = `${runs.join(' ')} | ${node instanceof Qcow2Image ? [...node.allocatedClusterIndices()].sort((a, b) => a - b).join(',') : 'raw'}`;
    }
  }
  return out;
}

const KB = 1024;
const vm = fc.constantFrom('primary', 'secondary');
const write = fc.record({ op: fc.constant('guest-write'), vm, offset: fc.integer({ min: 0, max: 239 }).map((block) => block * 4 * KB), length: fc.constantFrom(512, 4 * KB, 64 * KB), pattern: fc.integer({ min: 1, max: 255 }), async: fc.boolean() });
const step = fc.oneof(
  { weight: 8, arbitrary: write },
  { weight: 2, arbitrary: fc.constant({ op: 'checkpoint' }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('failover'), to: vm }) },
  { weight: 1, arbitrary: fc.constant({ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom({ op: 'fault', kind: 'link-down' }, { op: 'fault', kind: 'clear' }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('workload'), writesPerSecond: fc.constantFrom(0, 500, 3000), vm: fc.constantFrom('primary', 'secondary', 'both') }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }).map((us) => ({ op: 'run', for: `${us}us` })) },
);

describe('time travel on random sessions', () => {
  it('any moment rebuilt from keyframes equals the run from the start', () => {
    assertProperty(
      'any moment rebuilt from keyframes equals the run from the start',
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        (steps, keyframeEvery, maxKeyframes, visits) => {
          const validation = validateScenarioDocument({ format: 'colo-sim/1', title: 'random', setup: { diskSize: '1M', clusterSize: '64K', copyTime: '50us' }, steps: [{ op: 'colo-start' }, ...steps.map((s) => ({ ...s, expect: undefined }))].map(stripUndefined) });
          if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
          const scenario = validation.scenario;
          // Steps are judged without expectations, so a failed write or checkpoint stops a run: both sides stop alike.
          const runner = new ScenarioRunner(scenario, createMemoryStore);
          const events: SimEvent[] = [];
          runner.simulation.events.subscribe((event) => events.push(event));
          const moments = [{ snapshot: JSON.stringify(runner.simulation.snapshot()), disks: disks(runner.simulation), events: 0 }];
          while (!runner.done && runner.nextStepIndex < scenario.steps.length) {
            runner.step();
            moments.push({ snapshot: JSON.stringify(runner.simulation.snapshot()), disks: disks(runner.simulation), events: events.length });
          }
          const timeline = new Timeline(scenario, { keyframeEvery, maxKeyframes });
          const last = moments.length - 1;
          expect(timeline.materialize(last, createMemoryStore).step).toBe(last);
          expect(timeline.memory().keyframes).toBeLessThanOrEqual(maxKeyframes);
          for (const visit of visits) {
            const k = visit % moments.length;
            const got = timeline.materialize(k, createMemoryStore);
            expect(got.step).toBe(k);
            expect(disks(got.simulation), `moment ${k}: disks`).toEqual(moments[k]!.disks);
            expect(JSON.stringify(got.simulation.snapshot()) === moments[k]!.snapshot, `moment ${k}: engine state`).toBe(true);
            expect(timeline.eventsBefore(k, 40, createMemoryStore)).toEqual(events.slice(Math.max(0, moments[k]!.events - 40), moments[k]!.events));
          }
        },
      ),
      RUNS,
    );
  });
});

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
}
