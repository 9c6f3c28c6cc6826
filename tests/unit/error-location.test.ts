import { describe, expect, it } from 'vitest';
import { locateError, stepOfPath } from '../../src/engine/scenario/error-location.js';

describe('where a validation error is', () => {
  it('gives the 1-based step of a path inside steps, beside the path', () => {
    expect(stepOfPath('steps[0].offset')).toBe(1);
    expect(locateError('steps[0].offset')).toBe('steps[0].offset (step 1)');
    expect(locateError('steps[17002]')).toBe('steps[17002] (step 17003)');
    expect(locateError('steps[3].expect.pattern')).toBe('steps[3].expect.pattern (step 4)');
  });

  it('leaves paths outside steps as they are', () => {
    for (const path of ['setup.diskSize', 'title', 'format', 'stepsX[1]', 'setup.steps[1]']) {
      expect(stepOfPath(path)).toBeUndefined();
      expect(locateError(path)).toBe(path);
    }
  });
});
