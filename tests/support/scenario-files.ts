/** Finds and runs scenario files for tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioRunner, type ScenarioOutcome } from '../../src/engine/scenario/runner.js';
import { validateScenarioText, type Scenario } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

export const SCENARIO_ROOT = 'public/scenarios';

export function listScenarioFiles(directory = SCENARIO_ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...listScenarioFiles(path));
    else if (entry.name.endsWith('.json')) out.push(path);
  }
  return out.sort();
}

export function loadScenario(file: string): Scenario {
  const result = validateScenarioText(readFileSync(file, 'utf8'));
  if (!result.ok) throw new Error(`${file} is invalid: ${result.errors.map((error) => `${error.path}: ${error.message}`).join('; ')}`);
  return result.scenario;
}

export function runScenario(scenario: Scenario): ScenarioOutcome {
  return new ScenarioRunner(scenario, createMemoryStore).runToEnd();
}

/** One line saying why a scenario failed, for assertion messages. */
export function explainFailure(outcome: ScenarioOutcome): string {
  const failure = outcome.failure;
  if (!failure) return 'passed';
  // Numbered from 1, as the app and the CLI number steps; the path finds it in the file.
  return `step ${failure.index + 1} at steps[${failure.index}] (${failure.description}): expected ${failure.expected}, got ${failure.actual}`;
}
