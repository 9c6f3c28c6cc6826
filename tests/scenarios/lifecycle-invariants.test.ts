/**
 * The library's lifecycle scenarios (public/scenarios/lifecycle: COLO-FT.txt's failover, resume
 * replication either way and failing over again) with the app's live invariants following the
 * run: after every step at which a pair is protected (its secondary replication node running,
 * the secondary host alive) all three hold, for the resumed pairs (top-disk-2, hidden-disk-2...)
 * as for the first; at every step at which none is, none applies.
 */
import { describe, expect, it } from 'vitest';
import { resolveProtectedPair } from '../../src/engine/colo/protected-pair.js';
import { LiveInvariants } from '../../src/engine/invariants/live-invariants.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { explainFailure, listScenarioFiles, loadScenario } from '../support/scenario-files.js';

/** The scenarios that resume replication (a restart of the lost host, then COLO again). */
const RESUMING = listScenarioFiles('public/scenarios/lifecycle').filter((file) => loadScenario(file).steps.some((step) => step.op === 'restart'));

describe('live invariants through the lifecycle scenarios', () => {
  it('the library has resume scenarios in both directions', () => {
    expect(RESUMING.map((file) => file.replace(/^.*\//, ''))).toEqual(['01-secondary-resume-replication.json', '02-primary-resume-replication.json', '06-fresh-secondary-then-failover-to-primary.json']);
  });

  for (const file of RESUMING) {
    it(`${file}: held at every step a pair is protected, the resumed pairs' included; not applicable when none is`, () => {
      const scenario = loadScenario(file);
      const runner = new ScenarioRunner(scenario, createMemoryStore);
      const sim = runner.simulation;
      const live = new LiveInvariants(sim);
      let heldOnResumedPair = 0;
      let notProtected = 0;
      while (!runner.done) {
        const index = runner.nextStepIndex;
        runner.step();
        const where = `after step ${index + 1} (${scenario.steps[index]?.op ?? 'the end'})`;
        const pair = resolveProtectedPair(sim);
        const report = live.report();
        const described = report.checks.map((check) => `${check.id} ${check.status}: ${check.note} ${check.broken.map((range) => range.why).join('; ')}`).join(' | ');
        if (pair.unprotected !== undefined) {
          expect(report.checks.every((check) => check.status === 'not-applicable'), `${where}: ${described}`).toBe(true);
          notProtected++;
        } else if (!sim.colo.process('secondary').state.crashed) {
          expect(report.checks.every((check) => check.status === 'held'), `${where}: ${described}`).toBe(true);
          if (pair.names.topDisk !== 'top-disk') {
            expect(report.checks[2]!.note, where).toContain(pair.names.hiddenDisk!);
            heldOnResumedPair++;
          }
        }
      }
      expect(explainFailure(runner.outcome())).toBe('passed');
      expect(heldOnResumedPair, 'steps checked on a resumed pair').toBeGreaterThanOrEqual(5);
      expect(notProtected, 'steps with no pair protected').toBeGreaterThanOrEqual(5);
    });
  }
});
