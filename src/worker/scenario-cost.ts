/**
 * What replication cost in a scenario, computed exactly as `colo-sim run --stats` does: the
 * scenario runs to its end in memory (async steps still in flight included, as the CLI waits for
 * them) with ReplicationCost observing every event. Lives beside the worker, not in the engine,
 * because it picks a store (the engine takes a store factory and never imports one).
 */
import { ScenarioRunner } from '../engine/scenario/runner.js';
import type { Scenario } from '../engine/scenario/validate.js';
import { ReplicationCost, type CostReport } from '../engine/stats/replication-cost.js';
import { createMemoryStore } from '../storage/chunked-memory-store.js';

export function replicationCostOfScenario(scenario: Scenario): CostReport {
  const cost = new ReplicationCost(scenario.settings.clusterSizeBytes);
  const runner = new ScenarioRunner(scenario, createMemoryStore, { onEvent: (event) => cost.observe(event) });
  runner.runToEnd();
  return cost.report(runner.simulation.nowUs);
}
