/** QEMU's 13 test-replication.c cases at 64 MiB: total wall time to validate and run them all. */
import { readFileSync } from 'node:fs';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { listScenarioFiles } from '../support/scenario-files.js';

export function benchQemuScenarios(): { files: number; wallMs: number; allPassed: boolean } {
  const files = listScenarioFiles('public/scenarios/qemu-tests');
  const texts = files.map((file) => readFileSync(file, 'utf8'));
  const started = process.hrtime.bigint();
  let allPassed = true;
  for (const text of texts) {
    const validation = validateScenarioText(text);
    if (!validation.ok) throw new Error('a QEMU scenario is invalid');
    if (validation.scenario.settings.diskSizeBytes !== 64 * 1024 * 1024) throw new Error('QEMU scenarios must use 64 MiB disks');
    const outcome = new ScenarioRunner(validation.scenario, createMemoryStore).runToEnd();
    allPassed &&= outcome.passed;
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { files: files.length, wallMs, allPassed };
}
