/**
 * colo-sim run FILE... [--json] [--trace] [--junit FILE] [--reload-each-step] [--stats]
 *
 * Runs scenario files and prints a line per scenario; for a failing one, the first step that
 * failed. Exit status: 0 all passed, 1 a step's expectation failed, 2 a file is not a valid
 * scenario, or the command line is wrong, or the JUnit report cannot be written.
 *
 * Steps are numbered from 1 in everything a person reads, as the app numbers them; the JSON
 * path (steps[N-1]) says where the step is in the file. The engine's StepResult.index stays
 * 0-based (the app depends on it); this file is where the two meet.
 *
 * Kept free of process-wide effects (exit code, stdout's error handler), so tests can call
 * `main` in-process; colo-sim.ts is the program around it.
 */
import { writeFileSync } from 'node:fs';
import { describeStep } from '../engine/scenario/describe.js';
import { locateError, stepOfPath } from '../engine/scenario/error-location.js';
import { ScenarioRunner, type ScenarioOutcome, type StepResult } from '../engine/scenario/runner.js';
import { formatDuration } from '../engine/scenario/units.js';
import { validateScenarioText, type ScenarioError } from '../engine/scenario/validate.js';
import type { SimEvent } from '../engine/sim/events.js';
import { describeEvent, qemuFunctionOf } from '../engine/sim/format-event.js';
import { ReplicationCost, type CostReport } from '../engine/stats/replication-cost.js';
import { createMemoryStore } from '../storage/chunked-memory-store.js';
import { expandPaths } from './expand-paths.js';
import { formatJUnitReport, type JUnitCase } from './junit.js';
import { readScenarioFile } from './read-scenario-file.js';
import { runReloadingEachStep, type ReloadRunWatch } from '../worker/reload-run.js';

export const USAGE = `usage: colo-sim run FILE... [--json] [--trace] [--junit FILE] [--reload-each-step] [--stats]

  FILE                a scenario file (colo-sim/1), a directory of them, or a glob
  --json              print the results as JSON
  --trace             print every simulation event with its virtual time, under the step it belongs to
  --junit FILE        also write the results to FILE as JUnit XML, for CI
  --reload-each-step  save the simulation after every step as the app does, and continue each
                      step in a new session restored from what was saved (a reload between any
                      two steps); the result also says how many reloads there were
  --stats             what replication cost, per file, as JSON (implies --json): bytes forwarded
                      over NBD, copy-before-write copies and bytes, active and hidden disk
                      occupancy in clusters, each checkpoint and what it emptied, the active
                      commit's duration and bytes, and the same over virtual time (series)`;

/** At most this many validation errors are printed per file; --json has them all. */
const MAX_PRINTED_ERRORS = 20;

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

interface RunOptions {
  readonly paths: readonly string[];
  readonly json: boolean;
  readonly trace: boolean;
  readonly junitFile?: string;
  readonly reloadEachStep: boolean;
  readonly stats: boolean;
}

/** A traced event in --json output, with the 1-based step that was running (null: after the last step, async steps completing). */
export type TracedEvent = SimEvent & { readonly step: number | null };

export type FileResult =
  | { readonly file: string; readonly status: 'invalid'; readonly errors: readonly ScenarioError[] }
  | {
      readonly file: string;
      readonly status: 'pass' | 'fail';
      readonly outcome: ScenarioOutcome;
      readonly events?: readonly TracedEvent[];
      readonly internalError?: string;
      /** With --reload-each-step: how many times the session was saved, dropped and restored. */
      readonly reloads?: number;
      /** With --stats: what replication cost in this run. */
      readonly stats?: CostReport;
    };

interface TimedResult {
  readonly result: FileResult;
  readonly wallMs: number;
}

/**
 * Runs the command line `argv` (without node and the script), writing to `output`.
 * Resolves to the exit status (0, 1 or 2, as in the file comment); never rejects for a bad
 * scenario or argument. Async because --reload-each-step saves and restores through the app's
 * (promise-based) persistence.
 */
export async function main(argv: readonly string[], output: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    output.stdout(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'run') {
    return usageError(output, command === undefined ? 'missing command' : `unknown command "${command}"`);
  }
  const options = parseRunArguments(rest);
  if (options === 'help') {
    output.stdout(`${USAGE}\n`);
    return 0;
  }
  if (typeof options === 'string') return usageError(output, options);

  const expansions = expandPaths(options.paths);
  if (expansions.every((expansion) => expansion.files.length === 0)) {
    const why = expansions.map((expansion) => `${JSON.stringify(expansion.arg)} is ${expansion.nothingBecause}`).join('; ');
    return usageError(output, `no scenario files given${why === '' ? '' : `: ${why}`}`);
  }

  const startedAt = new Date();
  const runStartMs = nowMs();
  const timed: TimedResult[] = [];
  for (const expansion of expansions) {
    // An argument that stands for no file is reported among the results, so the run still
    // fails (exit 2) and CI shows which argument it was.
    const jobs: Array<() => FileResult | Promise<FileResult>> =
      expansion.files.length === 0
        ? [() => ({ file: expansion.arg, status: 'invalid', errors: [{ path: '', message: expansion.nothingBecause! }] })]
        : expansion.files.map((file) => () => (options.reloadEachStep ? runFileReloading(file, options, output) : runFile(file, options, output)));
    for (const job of jobs) {
      const fileStartMs = nowMs();
      const result = await job();
      timed.push({ result, wallMs: nowMs() - fileStartMs });
      if (!options.json) output.stdout(formatResult(result));
    }
  }
  const runWallMs = nowMs() - runStartMs;

  const results = timed.map(({ result }) => result);
  const summary = {
    passed: results.filter((result) => result.status === 'pass').length,
    failed: results.filter((result) => result.status === 'fail').length,
    invalid: results.filter((result) => result.status === 'invalid').length,
  };
  let exitCode = summary.invalid > 0 ? 2 : summary.failed > 0 ? 1 : 0;

  if (options.junitFile !== undefined) {
    const report = formatJUnitReport({ name: 'colo-sim run', startedAt, wallMs: runWallMs, cases: timed.map(junitCaseOf) });
    try {
      writeFileSync(options.junitFile, report);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      output.stderr(`colo-sim: cannot write the JUnit report to ${options.junitFile} (${code ?? String(error)})\n`);
      exitCode = 2;
    }
  }

  if (options.json) {
    output.stdout(`${JSON.stringify({ results: results.map(toJsonResult), summary, exitCode }, null, 2)}\n`);
  } else if (results.length > 1) {
    output.stdout(`${summary.passed} passed, ${summary.failed} failed, ${summary.invalid} invalid\n`);
  }
  return exitCode;
}

/** Wall-clock milliseconds, for the JUnit report. Not `performance.now()`: that global loads node:perf_hooks, a millisecond of every run. */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function usageError(output: CliOutput, message: string): number {
  output.stderr(`colo-sim: ${message}\n${USAGE}\n`);
  return 2;
}

/** The options of `run`, 'help', or what is wrong with them. */
function parseRunArguments(args: readonly string[]): RunOptions | 'help' | string {
  const paths: string[] = [];
  let json = false;
  let trace = false;
  let junitFile: string | undefined;
  let reloadEachStep = false;
  let stats = false;
  for (let position = 0; position < args.length; position++) {
    const arg = args[position]!;
    if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--json') json = true;
    else if (arg === '--trace') trace = true;
    else if (arg === '--reload-each-step') reloadEachStep = true;
    else if (arg === '--stats') stats = true;
    else if (arg === '--junit' || arg.startsWith('--junit=')) {
      const value = arg === '--junit' ? args[++position] : arg.slice('--junit='.length);
      if (value === undefined || value === '' || value.startsWith('--')) return '--junit needs the file to write the report to (--junit FILE)';
      junitFile = value;
    } else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else paths.push(arg);
  }
  return { paths, json: json || stats, trace, reloadEachStep, stats, ...(junitFile === undefined ? {} : { junitFile }) };
}

function runFile(file: string, options: RunOptions, output: CliOutput): FileResult {
  const read = readScenarioFile(file);
  if (!read.ok) return { file, status: 'invalid', errors: [{ path: '', message: read.message }] };
  const validation = validateScenarioText(read.text);
  if (!validation.ok) return { file, status: 'invalid', errors: validation.errors };
  const { steps } = validation.scenario;

  // The 1-based step running now; null once every step has run and async ones are completing.
  let currentStep: number | null = null;
  const events: TracedEvent[] = [];
  const cost = options.stats ? new ReplicationCost(validation.scenario.settings.clusterSizeBytes) : undefined;
  const trace = options.trace
    ? (event: SimEvent) => {
        if (options.json) events.push({ ...event, step: currentStep });
        else output.stdout(`  ${formatTime(event.timeUs)}  ${describeEvent(event)}  ‹${qemuFunctionOf(event)}›\n`);
      }
    : undefined;
  const onEvent =
    trace || cost
      ? (event: SimEvent) => {
          trace?.(event);
          cost?.observe(event);
        }
      : undefined;
  const traceText = options.trace && !options.json;
  const onWaitForAsync = (pending: number): void => {
    currentStep = null;
    if (traceText) output.stdout(`  ── after step ${steps.length}: waiting for ${pending} async step${pending === 1 ? '' : 's'} ──\n`);
  };
  const runner = new ScenarioRunner(validation.scenario, createMemoryStore, onEvent ? { onEvent, onWaitForAsync } : {});
  try {
    // runToEnd() one step at a time, to know which step each event belongs to.
    while (!runner.done) {
      const index = runner.nextStepIndex;
      // The last step also waits for async steps still in flight (onWaitForAsync marks it).
      currentStep = index < steps.length ? index + 1 : null;
      if (traceText && currentStep !== null) output.stdout(`  ── step ${currentStep}: ${describeStep(steps[index]!)} ──\n`);
      runner.step();
    }
    const outcome = runner.outcome();
    return { file, status: outcome.passed ? 'pass' : 'fail', outcome, ...(options.trace && options.json ? { events } : {}), ...(cost ? { stats: cost.report(outcome.virtualTimeUs) } : {}) };
  } catch (error) {
    // A bug in colo-sim, not in the scenario: say so plainly, without a stack trace.
    const message = error instanceof Error ? error.message : String(error);
    const where = currentStep === null ? 'after the last step, while async steps completed' : `at step ${currentStep} (${stepPath(currentStep - 1)})`;
    return { file, status: 'fail', outcome: runner.outcome(), internalError: `internal error in colo-sim ${where}: ${message}`, ...(cost ? { stats: cost.report(runner.simulation.nowUs) } : {}) };
  }
}

/**
 * runFile through the app's session (src/worker/reload-run.ts): saved after every step into an
 * in-memory database, then continued by a new session restored from it. The events are the
 * engine's, in the same order as a plain run's (the step they belong to is not tracked here:
 * --trace prints them without step markers).
 */
async function runFileReloading(file: string, options: RunOptions, output: CliOutput): Promise<FileResult> {
  const read = readScenarioFile(file);
  if (!read.ok) return { file, status: 'invalid', errors: [{ path: '', message: read.message }] };
  const validation = validateScenarioText(read.text);
  if (!validation.ok) return { file, status: 'invalid', errors: validation.errors };
  const { steps, title } = validation.scenario;
  let currentStep: number | null = null;
  let reloaded = false;
  const events: TracedEvent[] = [];
  const traceText = options.trace && !options.json;
  const cost = options.stats ? new ReplicationCost(validation.scenario.settings.clusterSizeBytes) : undefined;
  const watch: ReloadRunWatch = options.trace
    ? {
        onEvent: (event) => {
          cost?.observe(event);
          if (options.json) events.push({ ...event, step: currentStep });
          else output.stdout(`  ${formatTime(event.timeUs)}  ${describeEvent(event)}  ‹${qemuFunctionOf(event)}›\n`);
        },
        onStep: (index) => {
          currentStep = index === null ? null : index + 1;
          // Every step but the first runs in a session restored from what the one before saved.
          if (traceText && index !== null) output.stdout(`  ── step ${index + 1}${reloaded ? ', in a restored session' : ''}: ${describeStep(steps[index]!)} ──\n`);
          reloaded = true;
        },
        onWaitForAsync: (pending) => {
          currentStep = null;
          if (traceText) output.stdout(`  ── after step ${steps.length}: waiting for ${pending} async step${pending === 1 ? '' : 's'} ──\n`);
        },
      }
    : cost
      ? { onEvent: (event) => cost.observe(event) }
      : {};
  try {
    const run = await runReloadingEachStep(file, read.text, watch);
    if (!run.ok) return { file, status: 'invalid', errors: run.errors };
    return { file, status: run.outcome.passed ? 'pass' : 'fail', outcome: run.outcome, reloads: run.reloads, ...(options.trace && options.json ? { events } : {}), ...(cost ? { stats: cost.report(run.outcome.virtualTimeUs) } : {}) };
  } catch (error) {
    // A save or a restore that fails is a bug in colo-sim, not in the scenario.
    const message = error instanceof Error ? error.message : String(error);
    const outcome: ScenarioOutcome = { title, passed: false, stepCount: steps.length, stepsRun: 0, virtualTimeUs: 0 };
    const where = currentStep === null ? '' : ` at step ${currentStep} (${stepPath(currentStep - 1)})`;
    return { file, status: 'fail', outcome, internalError: `internal error in colo-sim while saving and restoring${where}: ${message}` };
  }
}

/** Where a step is in the file, from its 0-based index. */
function stepPath(index: number): string {
  return `steps[${index}]`;
}

function describeFailure(failure: StepResult): string {
  return `step ${failure.index + 1} at ${stepPath(failure.index)} (${failure.op}: ${failure.description}): expected ${failure.expected}, got ${failure.actual}`;
}

function formatTime(timeUs: number): string {
  return `${(timeUs / 1000).toFixed(3).padStart(10)} ms`;
}

function errorLines(errors: readonly ScenarioError[], limit: number): string[] {
  const lines = errors.slice(0, limit).map((error) => (error.path === '' ? error.message : `${locateError(error.path)}: ${error.message}`));
  if (errors.length > limit) lines.push(`... and ${errors.length - limit} more`);
  return lines;
}

function formatResult(result: FileResult): string {
  if (result.status === 'invalid') {
    const lines = errorLines(result.errors, MAX_PRINTED_ERRORS).map((line) => `    ${line}\n`);
    return `INVALID  ${result.file}: not a valid scenario\n${lines.join('')}`;
  }
  const { outcome } = result;
  const time = formatDuration(outcome.virtualTimeUs);
  const reloads = result.reloads === undefined ? '' : `, ${result.reloads} reload${result.reloads === 1 ? '' : 's'}`;
  if (result.status === 'pass') return `PASS     ${result.file}  ${outcome.title} (${outcome.stepCount} steps, ${time} virtual${reloads})\n`;
  if (result.internalError) return `FAIL     ${result.file}  ${outcome.title}\n    ${result.internalError}\n`;
  const failure = outcome.failure!;
  return `FAIL     ${result.file}  ${outcome.title}\n    ${describeFailure(failure)}\n${failure.quirk ? `    ${failure.quirk}\n` : ''}`;
}

/**
 * The --json form of a result: the engine's 0-based `index` is kept (scripts read it), and a
 * failure also gets `step` (1-based, as people count) and `path` (where it is in the file).
 */
function toJsonResult(result: FileResult): unknown {
  if (result.status === 'invalid') {
    return { ...result, errors: result.errors.map((error) => ({ ...error, ...(stepOfPath(error.path) === undefined ? {} : { step: stepOfPath(error.path) }) })) };
  }
  const { failure } = result.outcome;
  if (!failure) return result;
  return { ...result, outcome: { ...result.outcome, failure: { ...failure, step: failure.index + 1, path: stepPath(failure.index) } } };
}

function junitCaseOf({ result, wallMs }: TimedResult): JUnitCase {
  const common = { classname: result.file, file: result.file, wallMs };
  if (result.status === 'invalid') {
    const lines = errorLines(result.errors, result.errors.length);
    return { ...common, name: result.file, error: { message: `not a valid scenario: ${lines[0] ?? ''}`, type: 'invalid scenario', details: lines.join('\n') } };
  }
  const name = result.outcome.title;
  if (result.internalError) return { ...common, name, error: { message: result.internalError, type: 'internal error', details: result.internalError } };
  const failure = result.outcome.failure;
  if (!failure) return { ...common, name };
  const message = describeFailure(failure);
  return { ...common, name, failure: { message, type: 'step failed', details: failure.quirk ? `${message}\n${failure.quirk}` : message } };
}
