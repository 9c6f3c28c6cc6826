/**
 * Each step's results in scenario mode, by 0-based step: what the results list is rebuilt from
 * when time travel shows a moment (the list then holds the results of the steps before it).
 *
 * Most steps have exactly one result, kept as itself rather than in an array of one: a run of
 * 100,000 steps otherwise kept 100,000 small arrays alive to its end, which the garbage collector
 * copied again and again while the run went on (`node --trace-gc` on a run to the end).
 */
import type { StepResult } from '../engine/scenario/runner.js';

export class ResultsByStep {
  private readonly byStep: Array<StepResult | readonly StepResult[] | undefined> = [];

  /** Step `step`'s results (replacing any recorded before: a replay gives the same). */
  set(step: number, results: readonly StepResult[]): void {
    this.byStep[step] = results.length === 1 ? results[0] : results;
  }

  /** The results of steps 0 to `stepCount` − 1 that have any recorded, in step order. */
  before(stepCount: number): StepResult[] {
    const out: StepResult[] = [];
    const end = Math.min(stepCount, this.byStep.length);
    for (let step = 0; step < end; step++) {
      const results = this.byStep[step];
      if (results === undefined) continue;
      if (Array.isArray(results)) out.push(...(results as readonly StepResult[]));
      else out.push(results as StepResult);
    }
    return out;
  }
}
