/**
 * Property tests of COLO block replication: random traces of guest I/O on both VMs (waited for
 * or left in flight), writes to the NBD export, COLO start, checkpoints, failover, replication
 * calls on each host, time and faults, on small disks, each checked after every operation
 * against an independent reference model and the invariants of the reference's §8 (see
 * support/checked-run.ts).
 *
 * A failure prints fast-check's report (seed, path, shrunk trace), the trace with each step's
 * outcome, and how to replay it with PROPERTY_SEED (support/property-runner.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCheckedTrace } from './support/checked-run.js';
import { assertProperty } from './support/property-runner.js';
import { describeOutcome, newSimulation, performOp, traceArbitrary, type Trace } from './support/trace.js';

const FAULT_FREE_TRACES = 450;
const FAULTY_TRACES = 450;
const DETERMINISM_TRACES = 120;
const MAX_OPS_PER_TRACE = 40;

/**
 * States and checks the traces must reach in a run (each is reached by dozens of traces per
 * run, so missing one means the trace generator stopped exercising it).
 */
const MUST_REACH_WITHOUT_FAULTS = [
  'epoch invariants (§8.4/§8.5) checked',
  'secondary checkpoint succeeded',
  '§8.6 second checkpoint compared',
  '§8.7 secondary = primary checked',
  'SVM write ok in failover',
  'SVM read compared in failover',
  'SVM read compared in done (after commit)',
  'commit done',
  'commit done (with SVM writes or base writes during it)',
  'live invariants compared (sound epoch)',
];
const MUST_REACH_WITH_FAULTS = [...MUST_REACH_WITHOUT_FAULTS, 'commit failed', 'SVM write ok in failover-failed', 'secondary checkpoint failed after resetting the bitmap'];

/** What a full run left unreached (nothing is required when PROPERTY_PATH replays a single trace). */
function unreached(required: readonly string[], reached: ReadonlySet<string>): string[] {
  if (process.env['PROPERTY_PATH']) return [];
  return required.filter((what) => !reached.has(what));
}

describe('replication invariants (reference §8) on random traces', () => {
  it('hold on fault-free traces', () => {
    const reached = new Set<string>();
    assertProperty(
      'hold on fault-free traces',
      fc.property(traceArbitrary({ withFaults: false, maxOps: MAX_OPS_PER_TRACE }), (trace) => {
        for (const what of runCheckedTrace(trace).coverage.keys()) reached.add(what);
      }),
      FAULT_FREE_TRACES,
    );
    expect(unreached(MUST_REACH_WITHOUT_FAULTS, reached)).toEqual([]);
  });

  it('hold on traces with injected faults', () => {
    const reached = new Set<string>();
    assertProperty(
      'hold on traces with injected faults',
      fc.property(traceArbitrary({ withFaults: true, maxOps: MAX_OPS_PER_TRACE }), (trace) => {
        for (const what of runCheckedTrace(trace).coverage.keys()) reached.add(what);
      }),
      FAULTY_TRACES,
    );
    expect(unreached(MUST_REACH_WITH_FAULTS, reached)).toEqual([]);
  });
});

/** Every event of a run, with its virtual time and sequence, as plain JSON. */
function eventStreamOf(trace: Trace): string {
  const sim = newSimulation(trace.setup);
  const events: unknown[] = [];
  sim.events.subscribe((event) => events.push(event));
  const outcomes = trace.ops.map((op) => describeOutcome(performOp(sim, trace.setup, op)));
  return JSON.stringify({ events, outcomes, finalTimeUs: sim.nowUs });
}

describe('determinism', () => {
  it('the same trace run twice gives identical event streams', () => {
    assertProperty(
      'the same trace run twice gives identical event streams',
      fc.property(traceArbitrary({ withFaults: true, maxOps: MAX_OPS_PER_TRACE }), (trace) => {
        const first = eventStreamOf(trace);
        const second = eventStreamOf(trace);
        expect(second).toBe(first);
        expect(first.length).toBeGreaterThan(2);
      }),
      DETERMINISM_TRACES,
    );
  });
});
