/**
 * colo-sim run FILE... [--json] [--trace]
 *
 * Runs scenario files and prints a line per scenario; for a failing one, the first step that
 * failed. Exit status: 0 all passed, 1 a step's expectation failed, 2 a file is not a valid
 * scenario (or the command line is wrong).
 */
import { readFileSync } from 'node:fs';
import { formatDuration } from '../engine/scenario/units.js';
import { ScenarioRunner, type ScenarioOutcome } from '../engine/scenario/runner.js';
import { validateScenarioText, type ScenarioError } from '../engine/scenario/validate.js';
import { describeEvent, qemuFunctionOf } from '../engine/sim/format-event.js';
import type { SimEvent } from '../engine/sim/events.js';
import { createMemoryStore } from '../storage/chunked-memory-store.js';
import { expandPaths } from './expand-paths.js';

const USAGE = `usage: colo-sim run FILE... [--json] [--trace]

  FILE     a scenario file (colo-sim/1), a directory of them, or a glob
  --json   print the results as JSON
  --trace  print every simulation event with its virtual time`;

type FileResult =
  | { file: string; status: 'invalid'; errors: readonly ScenarioError[] }
  | { file: string; status: 'pass' | 'fail'; outcome: ScenarioOutcome; events?: SimEvent[]; internalError?: string };

export function main(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'run') {
    process.stderr.write(`colo-sim: ${command === undefined ? 'missing command' : `unknown command "${command}"`}\n${USAGE}\n`);
    return 2;
  }
  const flags = new Set(rest.filter((arg) => arg.startsWith('--')));
  const unknownFlags = [...flags].filter((flag) => flag !== '--json' && flag !== '--trace');
  if (unknownFlags.length > 0) {
    process.stderr.write(`colo-sim: unknown option ${unknownFlags.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const files = expandPaths(rest.filter((arg) => !arg.startsWith('--')));
  if (files.length === 0) {
    process.stderr.write(`colo-sim: no scenario files given\n${USAGE}\n`);
    return 2;
  }
  const json = flags.has('--json');
  const trace = flags.has('--trace');

  const results: FileResult[] = [];
  for (const file of files) {
    const result = runFile(file, trace, json);
    results.push(result);
    if (!json) process.stdout.write(formatResult(result));
  }
  const summary = {
    passed: results.filter((result) => result.status === 'pass').length,
    failed: results.filter((result) => result.status === 'fail').length,
    invalid: results.filter((result) => result.status === 'invalid').length,
  };
  const exitCode = summary.invalid > 0 ? 2 : summary.failed > 0 ? 1 : 0;
  if (json) {
    process.stdout.write(`${JSON.stringify({ results, summary, exitCode }, null, 2)}\n`);
  } else if (files.length > 1) {
    process.stdout.write(`${summary.passed} passed, ${summary.failed} failed, ${summary.invalid} invalid\n`);
  }
  return exitCode;
}

function runFile(file: string, trace: boolean, json: boolean): FileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { file, status: 'invalid', errors: [{ path: '', message: `cannot read the file (${code ?? String(error)})` }] };
  }
  const validation = validateScenarioText(text);
  if (!validation.ok) return { file, status: 'invalid', errors: validation.errors };

  const events: SimEvent[] = [];
  const onEvent = trace
    ? (event: SimEvent) => {
        if (json) events.push(event);
        else process.stdout.write(`  ${formatTime(event.timeUs)}  ${describeEvent(event)}  ‹${qemuFunctionOf(event)}›\n`);
      }
    : undefined;
  const runner = new ScenarioRunner(validation.scenario, createMemoryStore, onEvent ? { onEvent } : {});
  try {
    const outcome = runner.runToEnd();
    return { file, status: outcome.passed ? 'pass' : 'fail', outcome, ...(trace && json ? { events } : {}) };
  } catch (error) {
    // A bug in colo-sim, not in the scenario: say so plainly, without a stack trace.
    const message = error instanceof Error ? error.message : String(error);
    return { file, status: 'fail', outcome: runner.outcome(), internalError: `internal error in colo-sim at step ${runner.nextStepIndex - 1}: ${message}` };
  }
}

function formatTime(timeUs: number): string {
  return `${(timeUs / 1000).toFixed(3).padStart(10)} ms`;
}

function formatResult(result: FileResult): string {
  if (result.status === 'invalid') {
    const lines = result.errors.slice(0, 20).map((error) => `    ${error.path === '' ? '' : `${error.path}: `}${error.message}\n`);
    const more = result.errors.length > 20 ? `    ... and ${result.errors.length - 20} more\n` : '';
    return `INVALID  ${result.file}: not a valid scenario\n${lines.join('')}${more}`;
  }
  const { outcome } = result;
  const time = formatDuration(outcome.virtualTimeUs);
  if (result.status === 'pass') return `PASS     ${result.file}  ${outcome.title} (${outcome.stepCount} steps, ${time} virtual)\n`;
  if (result.internalError) return `FAIL     ${result.file}  ${outcome.title}\n    ${result.internalError}\n`;
  const failure = outcome.failure!;
  return (
    `FAIL     ${result.file}  ${outcome.title}\n` +
    `    step ${failure.index} (${failure.op}: ${failure.description}): expected ${failure.expected}, got ${failure.actual}\n` +
    (failure.quirk ? `    ${failure.quirk}\n` : '')
  );
}

// A reader that stops early (`colo-sim run --trace ... | head`) closes the pipe: end quietly with
// the run's exit code instead of Node's unhandled EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit();
});

process.exitCode = main(process.argv.slice(2));
