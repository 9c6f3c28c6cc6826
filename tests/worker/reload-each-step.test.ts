/**
 * Every scenario of the library and every lesson, saved after every step exactly as the app saves it and
 * continued each time in a new session restored from the saved records, passes as it does
 * without reloads and emits the same events, sequence numbers and virtual times included.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { runReloadingEachStep } from '../../src/worker/reload-run.js';
import { listScenarioFiles } from '../support/scenario-files.js';

const files = [...listScenarioFiles(), ...listScenarioFiles('public/lessons')];

describe('--reload-each-step: a reload between any two steps changes nothing', () => {
  it('covers the whole library', () => {
    expect(files.length).toBeGreaterThanOrEqual(13 + 23 + 72 + 11);
  });

  for (const file of files) {
    it(file, async () => {
      const text = readFileSync(file, 'utf8');
      const validation = validateScenarioText(text);
      if (!validation.ok) throw new Error(`${file} is invalid`);
      const plainEvents: SimEvent[] = [];
      const plain = new ScenarioRunner(validation.scenario, createMemoryStore, { onEvent: (event) => plainEvents.push(event) }).runToEnd();
      const reloadedEvents: SimEvent[] = [];
      const reloaded = await runReloadingEachStep(file, text, { onEvent: (event) => reloadedEvents.push(event) });
      if (!reloaded.ok) throw new Error(`${file} is invalid: ${JSON.stringify(reloaded.errors)}`);
      expect(reloaded.outcome).toEqual(plain);
      expect(reloaded.reloads).toBe(Math.max(0, validation.scenario.steps.length - 1));
      expect(reloadedEvents).toEqual(plainEvents);
    });
  }
});
