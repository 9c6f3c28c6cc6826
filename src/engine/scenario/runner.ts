/**
 * Runs a validated scenario on a fresh Simulation, step by step, and judges each step against
 * its expectation. The CLI, the tests and the app all run scenarios through this class.
 *
 * - An I/O step waits until its request completes, while virtual time advances and background
 *   work goes on; with "async": true it is judged when it completes, after later steps.
 * - Control steps take no virtual time, except checkpoint (it drains I/O) and run.
 * - The run stops at the first step that does not meet its expectation.
 */
import { formatByte } from '../block/data-runs.js';
import type { ReadResult, WriteResult } from '../block/errno.js';
import { DataRuns } from '../block/data-runs.js';
import { Simulation, type StepOutcome } from '../colo/simulation.js';
import type { Future } from '../sim/coroutine.js';
import type { EventListener } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import { describeExpectation, describeStep } from './describe.js';
import type { Expectation, ParsedStep } from './schema.js';
import type { Scenario } from './validate.js';

export interface StepResult {
  readonly index: number;
  readonly op: ParsedStep['op'];
  readonly description: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly actual: string;
  readonly quirk?: string;
  /** Virtual time when the step was judged. */
  readonly timeUs: number;
}

export interface ScenarioOutcome {
  readonly title: string;
  readonly passed: boolean;
  readonly stepCount: number;
  readonly stepsRun: number;
  readonly failure?: StepResult;
  readonly virtualTimeUs: number;
}

type Observed =
  | { readonly kind: 'read'; readonly result: ReadResult; readonly offsetBytes: number }
  | { readonly kind: 'write'; readonly result: WriteResult }
  | { readonly kind: 'control'; readonly outcome: StepOutcome };

interface PendingAsync {
  readonly index: number;
  readonly step: ParsedStep & { offset: number };
  readonly future: Future<ReadResult> | Future<WriteResult>;
}

export class ScenarioRunner {
  readonly simulation: Simulation;
  private nextIndex = 0;
  private readonly pending: PendingAsync[] = [];
  private firstFailure: StepResult | undefined;
  private finished = false;

  constructor(
    readonly scenario: Scenario,
    createStore: StoreFactory,
    options: { onEvent?: EventListener; simulation?: Simulation } = {},
  ) {
    this.simulation = options.simulation ?? new Simulation(scenario.settings, createStore);
    if (options.onEvent) this.simulation.events.subscribe(options.onEvent);
  }

  get done(): boolean {
    return this.finished;
  }

  get failure(): StepResult | undefined {
    return this.firstFailure;
  }

  get nextStepIndex(): number {
    return this.nextIndex;
  }

  /** Runs the next step; returns its result and those of async steps that completed meanwhile. */
  step(): StepResult[] {
    if (this.finished) return [];
    const results: StepResult[] = [];
    if (this.nextIndex < this.scenario.steps.length) {
      const index = this.nextIndex++;
      const result = this.execute(index, this.scenario.steps[index]!);
      if (result) results.push(result);
      results.push(...this.collectSettledAsync());
    } else {
      // The end: every async step still in flight is waited for and judged.
      for (const pending of this.pending) this.simulation.settle(pending.future);
      results.push(...this.collectSettledAsync());
      this.finished = true;
    }
    for (const result of results) {
      if (!result.passed && !this.firstFailure) this.firstFailure = result;
    }
    if (this.firstFailure) this.finished = true;
    return results;
  }

  runToEnd(): ScenarioOutcome {
    while (!this.finished) this.step();
    return this.outcome();
  }

  outcome(): ScenarioOutcome {
    return {
      title: this.scenario.title,
      passed: this.finished && !this.firstFailure,
      stepCount: this.scenario.steps.length,
      stepsRun: this.nextIndex,
      ...(this.firstFailure ? { failure: this.firstFailure } : {}),
      virtualTimeUs: this.simulation.nowUs,
    };
  }

  private execute(index: number, step: ParsedStep): StepResult | undefined {
    const sim = this.simulation;
    switch (step.op) {
      case 'write':
      case 'guest-write': {
        const data = DataRuns.fill(step.length, step.pattern);
        const future = step.op === 'write' ? sim.write(step.node, step.offset, data) : sim.guestWrite(step.vm, step.offset, data);
        if (step.async) return this.deferAsync(index, step, future);
        return this.judge(index, step, { kind: 'write', result: sim.settle(future) });
      }
      case 'read':
      case 'guest-read': {
        const future = step.op === 'read' ? sim.read(step.node, step.offset, step.length) : sim.guestRead(step.vm, step.offset, step.length);
        if (step.async) return this.deferAsync(index, step, future);
        return this.judge(index, step, { kind: 'read', result: sim.settle(future), offsetBytes: step.offset });
      }
      case 'replication':
        return this.judgeControl(index, step, sim.replication(step.host, step.action, { ...(step.mode ? { mode: step.mode } : {}), ...(step.failover === undefined ? {} : { failover: step.failover }) }));
      case 'colo-start':
        return this.judgeControl(index, step, sim.coloStart());
      case 'checkpoint':
        return this.judgeControl(index, step, sim.settle(sim.checkpoint()));
      case 'failover':
        return this.judgeControl(index, step, sim.failover(step.to));
      case 'open':
        return this.judgeControl(
          index,
          step,
          sim.openReplication(step.host, {
            nodeName: step.options['node-name'],
            ...(step.options.mode === undefined ? {} : { mode: step.options.mode }),
            ...(step.options['top-id'] === undefined ? {} : { topId: step.options['top-id'] }),
            ...(step.options.file === undefined ? {} : { file: step.options.file }),
          }),
        );
      case 'fault':
        switch (step.kind) {
          case 'io-error':
            return this.judgeControl(index, step, sim.injectFault({ kind: 'io-error', node: step.node, on: step.on, ...(step.count === undefined ? {} : { count: step.count }) }));
          case 'cancel-job':
            return this.judgeControl(index, step, sim.injectFault({ kind: 'cancel-job', host: step.host, type: step.type }));
          case 'eject':
            return this.judgeControl(index, step, sim.injectFault({ kind: 'eject', node: step.node }));
          default:
            return this.judgeControl(index, step, sim.injectFault({ kind: step.kind }));
        }
      case 'run':
        if (step.for !== undefined) {
          sim.runFor(step.for);
          return this.judgeControl(index, step, { ok: true });
        }
        return this.judgeControl(index, step, sim.runUntilIdle() ? { ok: true } : { ok: false, message: 'the simulation can never become idle' });
      case 'check':
        return this.judgeControl(index, step, this.check(step));
      case 'say':
        return this.judgeControl(index, step, { ok: true });
    }
  }

  private deferAsync(index: number, step: ParsedStep & { offset: number }, future: Future<ReadResult> | Future<WriteResult>): undefined {
    this.pending.push({ index, step, future });
    return undefined;
  }

  private collectSettledAsync(): StepResult[] {
    const results: StepResult[] = [];
    for (let position = 0; position < this.pending.length; ) {
      const pending = this.pending[position]!;
      if (!pending.future.isSettled) {
        position++;
        continue;
      }
      this.pending.splice(position, 1);
      const isRead = pending.step.op === 'read' || pending.step.op === 'guest-read';
      const observed: Observed = isRead
        ? { kind: 'read', result: pending.future.value as ReadResult, offsetBytes: pending.step.offset }
        : { kind: 'write', result: pending.future.value as WriteResult };
      results.push(this.judge(pending.index, pending.step, observed));
    }
    return results;
  }

  private judgeControl(index: number, step: ParsedStep, outcome: StepOutcome): StepResult {
    return this.judge(index, step, { kind: 'control', outcome });
  }

  private judge(index: number, step: ParsedStep, observed: Observed): StepResult {
    const expect: Expectation | undefined = step.expect;
    const control = observed.kind === 'control';
    const { passed, actual, quirk } = evaluate(expect, observed);
    return {
      index,
      op: step.op,
      description: describeStep(step),
      passed,
      expected: describeExpectation(expect, control),
      actual,
      ...(quirk ? { quirk } : {}),
      timeUs: this.simulation.nowUs,
    };
  }

  private check(step: Extract<ParsedStep, { op: 'check' }>): StepOutcome {
    const sim = this.simulation;
    if (step.stage) {
      const node = sim.replicationNode(step.stage.node);
      if (!node) return { ok: false, message: `${step.stage.node} does not exist` };
      return node.stage === step.stage.is ? { ok: true } : { ok: false, message: `${step.stage.node} is in stage ${node.stage}, not ${step.stage.is}` };
    }
    if (step.job) {
      const job = sim.host(step.job.host).jobs.ofType(step.job.type);
      const state = job ? 'running' : 'absent';
      return state === step.job.is ? { ok: true } : { ok: false, message: `the ${step.job.type} job on ${step.job.host} is ${state}, not ${step.job.is}` };
    }
    if (step.allocated) {
      const { node, offset, length, is } = step.allocated;
      if (!sim.image(node)) return { ok: false, message: `${node} does not exist` };
      const state = sim.allocationOf(node, offset, length);
      return state === is ? { ok: true } : { ok: false, message: `${node} [${offset}, +${length}) is ${describeAllocation(state)}, not ${describeAllocation(is)}` };
    }
    return this.checkSame(step.same!);
  }

  private checkSame(names: readonly string[]): StepOutcome {
    const sim = this.simulation;
    const size = sim.settings.diskSizeBytes;
    let reference: { name: string; data: DataRuns } | undefined;
    for (const name of names) {
      if (!sim.findNode(name)) return { ok: false, message: `${name} does not exist` };
      const read = sim.settle(sim.read(name, 0, size, 'check'));
      if (!read.ok) return { ok: false, message: `reading ${name} failed with ${read.errno}` };
      if (!reference) {
        reference = { name, data: read.data };
        continue;
      }
      const difference = reference.data.firstDifference(read.data);
      if (difference !== undefined) {
        const mine = reference.data.slice(difference, difference + 1).uniformByte()!;
        const theirs = read.data.slice(difference, difference + 1).uniformByte()!;
        return { ok: false, message: `${reference.name} and ${name} differ at offset ${difference} (${formatByte(mine)} vs ${formatByte(theirs)})` };
      }
    }
    return { ok: true };
  }
}

function describeAllocation(state: 'all' | 'none' | 'some'): string {
  return state === 'all' ? 'all allocated' : state === 'none' ? 'not allocated' : 'partly allocated';
}

function evaluate(expect: Expectation | undefined, observed: Observed): { passed: boolean; actual: string; quirk?: string } {
  if (observed.kind === 'control') {
    const outcome = observed.outcome;
    const actual = outcome.ok ? 'success' : `error "${outcome.message}"`;
    const quirk = outcome.ok ? undefined : outcome.quirk;
    const withQuirk = (passed: boolean) => (quirk ? { passed, actual, quirk } : { passed, actual });
    if (expect?.error !== undefined) {
      return withQuirk(!outcome.ok && (expect.error === true || expect.error === outcome.message));
    }
    return withQuirk(outcome.ok);
  }

  const result = observed.result;
  if (!result.ok) {
    const actual = `error ${result.errno}`;
    return { passed: expect?.error !== undefined && (expect.error === true || expect.error === result.errno), actual };
  }
  if (observed.kind === 'write') return { passed: expect?.error === undefined, actual: 'success' };

  const data = (result as { ok: true; data: DataRuns }).data;
  if (expect?.pattern !== undefined) {
    const difference = data.firstDifferenceFrom(expect.pattern);
    if (difference === undefined) return { passed: true, actual: `every byte ${formatByte(expect.pattern)}` };
    return { passed: false, actual: `byte ${formatByte(difference.actualByte)} at offset ${observed.offsetBytes + difference.offsetBytes}${describeRead(data)}` };
  }
  return { passed: expect?.error === undefined, actual: `success${describeRead(data)}` };
}

function describeRead(data: DataRuns): string {
  const uniform = data.uniformByte();
  return uniform === undefined ? ' (mixed bytes)' : ` (every byte ${formatByte(uniform)})`;
}
