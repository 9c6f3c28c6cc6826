import { describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/engine/scenario/runner.js';
import { ResultsByStep } from '../../src/worker/results-by-step.js';

const result = (index: number, actual = 'success'): StepResult => ({ index, op: 'read', description: `read ${index}`, passed: true, expected: 'success', actual, timeUs: index });

describe('each step’s results', () => {
  it('give back the results of the steps before a moment, in step order, skipping steps with none', () => {
    const byStep = new ResultsByStep();
    byStep.set(0, [result(0)]);
    byStep.set(1, []);
    byStep.set(2, [result(2, 'a'), result(2, 'b')]);
    byStep.set(4, [result(4)]);
    expect(byStep.before(0)).toEqual([]);
    expect(byStep.before(3)).toEqual([result(0), result(2, 'a'), result(2, 'b')]);
    expect(byStep.before(99)).toEqual([result(0), result(2, 'a'), result(2, 'b'), result(4)]);
  });

  it('replace a step’s results when it is recorded again', () => {
    const byStep = new ResultsByStep();
    byStep.set(0, [result(0, 'a'), result(0, 'b')]);
    byStep.set(0, [result(0, 'c')]);
    expect(byStep.before(1)).toEqual([result(0, 'c')]);
  });
});
