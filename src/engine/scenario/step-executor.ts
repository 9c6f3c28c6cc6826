/**
 * Performs one scenario step on a simulation and judges what happened against the step's
 * expectation. The scenario runner, the tests and the app's commands all go through here, so a
 * step means the same everywhere.
 */
import { DataRuns, formatByte } from '../block/data-runs.js';
import type { ReadResult, WriteResult } from '../block/errno.js';
import type { Pending, Simulation, StepOutcome } from '../colo/simulation.js';
import { containsSubset } from '../colo/colo-control.js';
import { executeQmp } from '../qmp/qmp.js';
import { evaluateProbe, type LessonCounter } from '../lesson/probes.js';
import { describeExpectation, describeStep, describeUntil } from './describe.js';
import type { ActionStep, Expectation, ParsedStep, TaskStep, Until } from './schema.js';

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
  /** `ask` steps: the value the engine computed for the probe (absent when it could not). */
  readonly value?: string;
}

/** What a lesson's run lends its steps: the event counter behind `count` probes. */
export interface LessonContext {
  readonly counter: LessonCounter;
}

/** What a step did, before it is compared with its expectation. */
export type Observed =
  | { readonly kind: 'read'; readonly result: ReadResult; readonly offsetBytes: number }
  | { readonly kind: 'write'; readonly result: WriteResult }
  | { readonly kind: 'control'; readonly outcome: StepOutcome };

/** A step either finished, or (async I/O) is still in flight: then it is plain data, saved with a scenario in progress. */
export type Performed =
  | { readonly kind: 'done'; readonly observed: Observed }
  | { readonly kind: 'pending'; readonly requestId: number; readonly isRead: boolean; readonly offsetBytes: number };

type InFlight = Extract<Performed, { kind: 'pending' }>;

/**
 * Performs a step. `lesson` is given by a lesson's run: `count` probes need its counter, and the
 * events of probes and checks are kept out of the counts.
 */
export function performStep(sim: Simulation, step: ParsedStep | ActionStep, lesson?: LessonContext): Performed {
  const control = (outcome: StepOutcome): Performed => ({ kind: 'done', observed: { kind: 'control', outcome } });
  switch (step.op) {
    case 'write':
    case 'guest-write': {
      const data = DataRuns.fill(step.length, step.pattern);
      const pending = step.op === 'write' ? sim.write(step.node, step.offset, data) : sim.guestWrite(step.vm, step.offset, data);
      if (step.async) return { kind: 'pending', requestId: pending.id, isRead: false, offsetBytes: step.offset };
      return { kind: 'done', observed: { kind: 'write', result: sim.settle(pending) } };
    }
    case 'flush': {
      const pending = step.vm === undefined ? sim.flush(step.node!) : sim.guestFlush(step.vm);
      if (step.async) return { kind: 'pending', requestId: pending.id, isRead: false, offsetBytes: 0 };
      return { kind: 'done', observed: { kind: 'write', result: sim.settle(pending) } };
    }
    case 'read':
    case 'guest-read': {
      const pending = step.op === 'read' ? sim.read(step.node, step.offset, step.length) : sim.guestRead(step.vm, step.offset, step.length);
      if (step.async) return { kind: 'pending', requestId: pending.id, isRead: true, offsetBytes: step.offset };
      return { kind: 'done', observed: { kind: 'read', result: sim.settle(pending), offsetBytes: step.offset } };
    }
    case 'replication':
      return control(sim.replication(step.host, step.action, { ...(step.mode ? { mode: step.mode } : {}), ...(step.failover === undefined ? {} : { failover: step.failover }) }));
    case 'colo-start':
      return control(sim.settle(sim.coloStart()));
    case 'checkpoint':
      return control(sim.settle(sim.checkpoint()));
    case 'failover':
      return control(sim.settle(sim.failover(step.to)));
    case 'restart':
      return control(sim.restartHost(step.host, step.disks));
    case 'open':
      return control(
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
          return control(sim.injectFault({ kind: 'io-error', node: step.node, on: step.on, ...(step.count === undefined ? {} : { count: step.count }) }));
        case 'cancel-job':
          return control(sim.injectFault({ kind: 'cancel-job', host: step.host, type: step.type }));
        case 'eject':
          return control(sim.injectFault({ kind: 'eject', node: step.node }));
        case 'host-down':
          return control(sim.injectFault({ kind: 'host-down', host: step.host }));
        default:
          return control(sim.injectFault({ kind: step.kind }));
      }
    case 'run':
      if (step.for !== undefined) {
        sim.runFor(step.for);
        return control({ ok: true });
      }
      if (step.events !== undefined) {
        const ran = sim.runEvents(step.events);
        return control(ran === step.events ? { ok: true } : { ok: false, message: `only ${ran} of ${step.events} events were pending` });
      }
      return control(sim.runUntilIdle() ? { ok: true } : { ok: false, message: 'the simulation can never become idle' });
    case 'workload':
      sim.setWorkload(
        step.writesPerSecond === 0 ? undefined : { writesPerSecond: step.writesPerSecond, vm: step.vm ?? 'primary', blockBytes: step.blockSize ?? 4096, maxBlocks: step.maxBlocks ?? 16 },
      );
      return control({ ok: true });
    case 'check':
      return control(lesson ? lesson.counter.unobserved(() => checkState(sim, step)) : checkState(sim, step));
    case 'ask': {
      const probed = evaluateProbe(sim, step.probe, lesson?.counter);
      return control(probed.ok ? { ok: true, value: probed.value } : { ok: false, message: probed.message });
    }
    case 'task':
      return control(runTask(sim, step, lesson));
    case 'say':
      return control({ ok: true });
    case 'qmp': {
      const reply = executeQmp(sim, step.host, { execute: step.execute, ...(step.arguments ? { arguments: step.arguments } : {}) });
      return control('error' in reply ? { ok: false, message: reply.error.desc } : { ok: true, value: reply.return });
    }
  }
}

/** Whether an async step's request has been answered. */
export function isAnswered(sim: Simulation, performed: InFlight): boolean {
  return sim.isSettled(requestOf(performed));
}

/** Runs the clock until an async step's request is answered, and observes it. */
export function settleAsync(sim: Simulation, performed: InFlight): Observed {
  const result = sim.settle(requestOf(performed));
  return performed.isRead ? { kind: 'read', result: result as ReadResult, offsetBytes: performed.offsetBytes } : { kind: 'write', result: result as WriteResult };
}

function requestOf(performed: InFlight): Pending<ReadResult | WriteResult> {
  return { kind: 'request', id: performed.requestId } as Pending<ReadResult | WriteResult>;
}

/**
 * Runs a task's solution as `colo-sim run` checks it: the goal must not hold before, every step
 * of the solution must meet its expectation (async ones are waited for at the end), and the goal
 * must hold after. The run goes on from the state the solution left.
 */
export function runTask(sim: Simulation, step: TaskStep, lesson?: LessonContext): StepOutcome {
  if (goalHolds(sim, step.until, lesson).ok) {
    return { ok: false, message: `the goal (${describeUntil(step.until)}) already held before the solution: a task must leave something to do` };
  }
  const inFlight: Array<{ position: number; step: ActionStep; performed: InFlight }> = [];
  const failure = (result: StepResult): StepOutcome => ({
    ok: false,
    message: `solution step ${result.index} (${result.op}: ${result.description}): expected ${result.expected}, got ${result.actual}`,
  });
  for (const [position, solutionStep] of step.solution.entries()) {
    const performed = performStep(sim, solutionStep, lesson);
    if (performed.kind === 'pending') {
      inFlight.push({ position, step: solutionStep, performed });
      continue;
    }
    const result = judgeStep(position, solutionStep, performed.observed, sim.nowUs);
    if (!result.passed) return failure(result);
  }
  for (const entry of inFlight) {
    const result = judgeStep(entry.position, entry.step, settleAsync(sim, entry.performed), sim.nowUs);
    if (!result.passed) return failure(result);
  }
  const after = goalHolds(sim, step.until, lesson);
  if (!after.ok) return { ok: false, message: `after the solution the goal (${describeUntil(step.until)}) does not hold: ${after.message}` };
  return { ok: true };
}

/** Whether a task's goal holds now (a check, run without counting its events). */
export function goalHolds(sim: Simulation, until: Until, lesson?: LessonContext): StepOutcome {
  const check = (): StepOutcome => checkState(sim, { op: 'check', ...until });
  return lesson ? lesson.counter.unobserved(check) : check();
}

/**
 * A task the learner did by hand (the app's lesson player) instead of running its solution:
 * `heldBefore` is the goal's first test, before the learner acted (it must not hold, as in
 * runTask); `after` is the latest test. The expectation reads as runTask's.
 */
export function judgeTaskByHand(index: number, step: TaskStep, heldBefore: boolean, after: StepOutcome, timeUs: number): StepResult {
  const base = { index, op: step.op, description: describeStep(step), timeUs, expected: 'the goal not holding before the learner acted, and holding after' };
  if (heldBefore) {
    return { ...base, passed: false, actual: `the goal (${describeUntil(step.until)}) already held before the learner acted: a task must leave something to do` };
  }
  return after.ok
    ? { ...base, passed: true, actual: "it did not hold before, and held after the learner's actions" }
    : { ...base, passed: false, actual: `the goal (${describeUntil(step.until)}) does not hold: ${after.message}` };
}

export function judgeStep(index: number, step: ParsedStep | ActionStep, observed: Observed, timeUs: number): StepResult {
  if (step.op === 'ask' || step.op === 'task') return judgeLessonStep(index, step, observed, timeUs);
  const expect: Expectation | undefined = step.expect;
  const { passed, actual, quirk } = evaluate(expect, observed);
  return {
    index,
    op: step.op,
    description: describeStep(step),
    passed,
    expected: describeExpectation(expect, observed.kind === 'control'),
    actual,
    ...(quirk ? { quirk } : {}),
    timeUs,
  };
}

/** An ask passes when the engine's value is the keyed answer (one of the choices); a task when its solution did what runTask checks. */
function judgeLessonStep(index: number, step: Extract<ParsedStep, { op: 'ask' | 'task' }>, observed: Observed, timeUs: number): StepResult {
  const outcome: StepOutcome = observed.kind === 'control' ? observed.outcome : { ok: false, message: 'not a control step' };
  const base = { index, op: step.op, description: describeStep(step), timeUs };
  if (step.op === 'ask') {
    const value = outcome.ok && typeof outcome.value === 'string' ? outcome.value : undefined;
    const passed = value !== undefined && value === step.answer && step.choices.includes(step.answer);
    const inChoices = step.choices.includes(step.answer) ? '' : ' (which is not one of the choices)';
    return {
      ...base,
      passed,
      expected: `the keyed answer "${step.answer}"${inChoices}`,
      actual: value !== undefined ? `the engine's value "${value}"` : `no value: ${outcome.ok ? 'the probe gave none' : outcome.message}`,
      ...(value !== undefined ? { value } : {}),
    };
  }
  return {
    ...base,
    passed: outcome.ok,
    expected: 'the goal not holding before the solution, and holding after it',
    actual: outcome.ok ? 'it did not hold before, and held after the solution' : outcome.message,
  };
}

export function checkState(sim: Simulation, step: Extract<ParsedStep, { op: 'check' }>): StepOutcome {
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
  if (step.event) return sim.colo.checkEvent(step.event.host, step.event.name, step.event.data);
  if (step.allocated) {
    const { node, offset, length, is } = step.allocated;
    if (!sim.image(node)) return { ok: false, message: `${node} does not exist` };
    const state = sim.allocationOf(node, offset, length);
    return state === is ? { ok: true } : { ok: false, message: `${node} [${offset}, +${length}) is ${describeAllocation(state)}, not ${describeAllocation(is)}` };
  }
  return checkSame(sim, step.same!);
}

function checkSame(sim: Simulation, names: readonly string[]): StepOutcome {
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

function describeAllocation(state: 'all' | 'none' | 'some'): string {
  return state === 'all' ? 'all allocated' : state === 'none' ? 'not allocated' : 'partly allocated';
}

function evaluate(expect: Expectation | undefined, observed: Observed): { passed: boolean; actual: string; quirk?: string } {
  if (observed.kind === 'control') {
    const outcome = observed.outcome;
    const actual = outcome.ok ? (outcome.value === undefined ? 'success' : `return ${JSON.stringify(outcome.value)}`) : `error "${outcome.message}"`;
    const quirk = outcome.ok ? undefined : outcome.quirk;
    const withQuirk = (passed: boolean) => (quirk ? { passed, actual, quirk } : { passed, actual });
    if (expect?.error !== undefined) {
      return withQuirk(!outcome.ok && (expect.error === true || expect.error === outcome.message));
    }
    if (expect?.return !== undefined) return withQuirk(outcome.ok && containsSubset(outcome.value, expect.return));
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
