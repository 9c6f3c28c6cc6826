/** Every file in public/scenarios runs as a test and must pass, byte for byte. */
import { describe, expect, it } from 'vitest';
import { explainFailure, listScenarioFiles, loadScenario, runScenario } from '../support/scenario-files.js';

const files = listScenarioFiles();

describe('scenario library', () => {
  it('holds the QEMU vectors and the lessons', () => {
    expect(files.filter((file) => file.includes('qemu-vectors')).length).toBe(72);
  });

  for (const file of files) {
    it(file, () => {
      const outcome = runScenario(loadScenario(file));
      expect(explainFailure(outcome)).toBe('passed');
      expect(outcome.stepsRun).toBe(outcome.stepCount);
    });
  }
});
