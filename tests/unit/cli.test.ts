/**
 * `colo-sim run` (src/cli/cli.ts), called in-process: exit codes, what it prints for a passing,
 * failing and invalid scenario, steps numbered from 1 as in the app, --json, --trace's step
 * markers, files as the app reads them (a UTF-8 BOM), and arguments that name no file.
 * The built program and its launcher are tested in cli-build.test.ts, --junit in cli-junit.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/cli.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import type { ScenarioError } from '../../src/engine/scenario/validate.js';

type Json = Record<string, unknown>;

interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function runCli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { exitCode, stdout, stderr };
}

function scenario(...steps: Json[]): string {
  return JSON.stringify({ format: 'colo-sim/1', title: 'a scenario', setup: { diskSize: '1M' }, steps });
}

function write(extra: Json = {}): Json {
  return { op: 'write', node: 'primary-disk', offset: 0, length: 512, pattern: '0x11', ...extra };
}

function read(pattern: string): Json {
  return { op: 'read', node: 'primary-disk', offset: 0, length: 512, expect: { pattern } };
}

function expectNoStackTrace(run: CliRun): void {
  const output = run.stdout + run.stderr;
  expect(output).not.toMatch(/^\s+at\s/m);
  expect(output).not.toContain('Error:');
}

let directory = '';
const files: Record<string, string> = {};

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'colo-sim-cli-'));
  const texts: Record<string, string> = {
    pass: scenario(write(), read('0x11')),
    fail: scenario(write(), read('0x22')),
    invalid: scenario({ op: 'say', text: 'a' }, { op: 'say', text: 'b' }, { op: 'say', text: 'c' }, write({ offset: 100 })),
    badJson: '{\n  "format": "colo-sim/1",\n  "title": "t",\n}',
    // Step 4 is still in flight when the steps run out: NBD takes nbdLatency to deliver it.
    asyncAtEnd: JSON.stringify({
      format: 'colo-sim/1',
      title: 'an async write outlives the steps',
      setup: { diskSize: '1M', nbdLatency: '500us' },
      steps: [{ op: 'colo-start' }, { op: 'say', text: 'the primary VM writes' }, { op: 'run', for: '10us' }, { op: 'guest-write', vm: 'primary', offset: 0, length: 512, pattern: '0x33', async: true }],
    }),
  };
  for (const [name, text] of Object.entries(texts)) {
    files[name] = join(directory, `${name}.json`);
    writeFileSync(files[name]!, text);
  }
  files.missing = join(directory, 'missing.json');
});

afterAll(async () => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The lines printed for one file: its own line and the indented ones under it. */
function blockOf(output: string, file: string): string {
  const lines = output.split('\n');
  const first = lines.findIndex((line) => line.includes(file));
  if (first < 0) return '';
  let last = first + 1;
  while (last < lines.length && /^\s/.test(lines[last]!)) last++;
  return lines.slice(first, last).join('\n');
}

describe('colo-sim run: outcomes and exit codes', () => {
  it('exit 0 when every scenario passes, naming the file', async () => {
    const run = (await runCli(['run', files.pass!]));
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`PASS     ${files.pass}  a scenario (2 steps, 0us virtual)\n`);
    expect(run.stderr).toBe('');
  });

  it('exit 1 when a step’s expectation fails: the step numbered from 1 as in the app, its JSON path, op, expected and actual', async () => {
    const run = (await runCli(['run', files.pass!, files.fail!]));
    expect(run.exitCode).toBe(1);
    expect(blockOf(run.stdout, files.fail!)).toBe(
      `FAIL     ${files.fail}  a scenario\n` + '    step 2 at steps[1] (read: read primary-disk [0 B, +512 B)): expected every byte 0x22, got byte 0x11 at offset 0 (every byte 0x11)',
    );
    expect(run.stdout).toContain('1 passed, 1 failed, 0 invalid\n');
    expectNoStackTrace(run);
  });

  it('exit 2 when any file is not a valid scenario; the worst outcome decides', async () => {
    const run = (await runCli(['run', files.pass!, files.fail!, files.invalid!, files.badJson!, files.missing!]));
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('1 passed, 1 failed, 3 invalid\n');
    expectNoStackTrace(run);
  });

  it('an invalid scenario: the file, the JSON path and the step number the app shows', async () => {
    const run = (await runCli(['run', files.invalid!]));
    expect(run.stdout).toBe(`INVALID  ${files.invalid}: not a valid scenario\n    steps[3].offset (step 4): must be a multiple of 512 (got 100)\n`);
  });

  it('invalid JSON: the file, the line and the column', async () => {
    const block = blockOf((await runCli(['run', files.badJson!])).stdout, files.badJson!);
    expect(block).toMatch(/^INVALID/);
    expect(block).toMatch(/invalid JSON at line 4, column 1/);
  });

  it('a file that cannot be read: the file and why', async () => {
    expect((await runCli(['run', files.missing!])).stdout).toBe(`INVALID  ${files.missing}: not a valid scenario\n    cannot read the file: no such file (ENOENT)\n`);
  });

  it('a bug in colo-sim during a step: "internal error" with the 1-based step and its path, no stack trace', async () => {
    // The runner fails on its second step, as a bug in the engine would.
    const realStep = ScenarioRunner.prototype.step;
    let calls = 0;
    vi.spyOn(ScenarioRunner.prototype, 'step').mockImplementation(function (this: ScenarioRunner) {
      if (++calls === 2) throw new TypeError('cannot read properties of undefined');
      return realStep.call(this);
    });
    const run = (await runCli(['run', files.pass!]));
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe(`FAIL     ${files.pass}  a scenario\n    internal error in colo-sim at step 2 (steps[1]): cannot read properties of undefined\n`);
  });
});

describe('colo-sim run --json', () => {
  interface Report {
    exitCode: number;
    summary: { passed: number; failed: number; invalid: number };
    results: Array<{
      file: string;
      status: string;
      errors?: Array<ScenarioError & { step?: number }>;
      outcome?: { failure?: { index: number; step: number; path: string; op: string } };
      events?: Array<{ kind: string; step: number | null }>;
    }>;
  }

  it('prints the same as JSON; a failing step has its 1-based step, its JSON path and the engine’s 0-based index', async () => {
    const run = (await runCli(['run', files.invalid!, files.fail!, '--json']));
    expect(run.exitCode).toBe(2);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.exitCode).toBe(2);
    expect(report.summary).toEqual({ passed: 0, failed: 1, invalid: 1 });
    expect(report.results.map((result) => [result.file, result.status])).toEqual([
      [files.invalid, 'invalid'],
      [files.fail, 'fail'],
    ]);
    expect(report.results[0]!.errors).toEqual([{ path: 'steps[3].offset', step: 4, message: 'must be a multiple of 512 (got 100)' }]);
    expect(report.results[1]!.outcome!.failure).toMatchObject({ index: 1, step: 2, path: 'steps[1]', op: 'read' });
    expectNoStackTrace(run);
  });

  it('with --trace, every event says which step (1-based) was running', async () => {
    const report = JSON.parse((await runCli(['run', files.pass!, '--json', '--trace'])).stdout) as Report;
    const events = report.results[0]!.events!;
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((event) => event.kind === 'write-landed').map((event) => event.step)).toEqual([1]);
    expect(events.filter((event) => event.kind === 'read-served').map((event) => event.step)).toEqual([2]);
  });

  it('with --trace, events of async steps completing after the last step have step null', async () => {
    const report = JSON.parse((await runCli(['run', files.asyncAtEnd!, '--json', '--trace'])).stdout) as Report;
    const events = report.results[0]!.events!;
    expect(events.find((event) => event.kind === 'forward-sent')?.step).toBe(4);
    expect(events.find((event) => event.kind === 'forward-landed')?.step).toBeNull();
  });
});

describe('colo-sim run --trace', () => {
  it('marks where each step starts, before that step’s events', async () => {
    const lines = (await runCli(['run', files.pass!, '--trace'])).stdout.split('\n');
    const step1 = lines.indexOf('  ── step 1: write 0x11 to primary-disk [0 B, +512 B) ──');
    const step2 = lines.indexOf('  ── step 2: read primary-disk [0 B, +512 B) ──');
    const landed = lines.findIndex((line) => line.includes('primary-disk holds [0, +512) 0x11'));
    const served = lines.findIndex((line) => line.includes('primary-disk served [0, +512)'));
    expect(step1).toBeGreaterThanOrEqual(0);
    expect(landed).toBeGreaterThan(step1);
    expect(step2).toBeGreaterThan(landed);
    expect(served).toBeGreaterThan(step2);
    expect(lines.at(-2)).toMatch(/^PASS/);
  });

  it('marks the wait for async steps still in flight after the last step', async () => {
    const lines = (await runCli(['run', files.asyncAtEnd!, '--trace'])).stdout.split('\n');
    const marker = lines.indexOf('  ── after step 4: waiting for 1 async step ──');
    const step4 = lines.findIndex((line) => line.startsWith('  ── step 4: primary VM writes 0x33'));
    const landed = lines.findIndex((line) => line.includes('forwarded write reached the secondary'));
    expect(step4).toBeGreaterThanOrEqual(0);
    expect(marker).toBeGreaterThan(step4);
    expect(landed).toBeGreaterThan(marker);
    // Every event line is under a marker: none before the first one.
    const firstEvent = lines.findIndex((line) => /^ +\d+\.\d{3} ms/.test(line));
    expect(firstEvent).toBeGreaterThan(lines.indexOf('  ── step 1: COLO start (secondary, then primary) ──'));
  });

  it('without --trace, no markers', async () => {
    expect((await runCli(['run', files.pass!])).stdout).not.toContain('──');
  });
});

describe('colo-sim run: reading files as the app does', () => {
  it('accepts a UTF-8 byte order mark at the start of a file, as the app does (Blob.text() drops it)', async () => {
    const file = join(directory, 'bom.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(scenario(write(), read('0x11')))]));
    const run = (await runCli(['run', file]));
    expect(run.stdout).toBe(`PASS     ${file}  a scenario (2 steps, 0us virtual)\n`);
    expect(run.exitCode).toBe(0);
  });

  it('a byte order mark anywhere else is an error that shows it', async () => {
    const file = join(directory, 'bom-inside.json');
    writeFileSync(file, `${scenario()}\ufeff`);
    const run = (await runCli(['run', file]));
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('unexpected "\\ufeff"');
  });
});

describe('colo-sim run: arguments that name no scenario file', () => {
  let empty = '';
  beforeAll(async () => {
    empty = join(directory, 'empty');
    mkdirSync(join(empty, 'nested'), { recursive: true });
    writeFileSync(join(empty, 'nested', 'notes.txt'), 'not a scenario');
  });

  it('a directory with no .json files is named in the message, exit 2', async () => {
    const run = (await runCli(['run', empty]));
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(`colo-sim: no scenario files given: "${empty}" is a directory with no .json files below it`);
    expect(run.stdout).toBe('');
  });

  it('a glob that matches nothing is named in the message, with every other such argument', async () => {
    const pattern = join(directory, 'nothing-*.json');
    const run = (await runCli(['run', empty, pattern]));
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      `colo-sim: no scenario files given: "${empty}" is a directory with no .json files below it; "${pattern}" is a pattern that matches no file`,
    );
  });

  it('no argument at all: no scenario files given, and the usage', async () => {
    const run = (await runCli(['run']));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^colo-sim: no scenario files given\nusage: colo-sim run/);
  });

  it('next to real files, an argument that stands for none is reported as invalid, so the run fails', async () => {
    const run = (await runCli(['run', files.pass!, empty]));
    expect(run.exitCode).toBe(2);
    expect(blockOf(run.stdout, empty)).toBe(`INVALID  ${empty}: not a valid scenario\n    a directory with no .json files below it`);
    expect(run.stdout).toContain('1 passed, 0 failed, 1 invalid\n');
  });

  it('a glob that matches files runs them in order', async () => {
    const run = (await runCli(['run', join(directory, 'pa*.json'), join(directory, 'f?il.json')]));
    expect(run.stdout.split('\n').filter((line) => /^(PASS|FAIL)/.test(line)).map((line) => line.split(/\s+/)[1])).toEqual([files.pass, files.fail]);
  });
});

describe('colo-sim: the command line itself', () => {
  it('exit 2 for an unknown command, with the usage', async () => {
    const run = (await runCli(['frobnicate']));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('usage: colo-sim run');
  });

  it('exit 2 for an unknown option', async () => {
    const run = (await runCli(['run', files.pass!, '--jsno']));
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('colo-sim: unknown option --jsno');
    expect(run.stdout).toBe('');
  });

  it('exit 2 for --junit without a file', async () => {
    for (const args of [['run', files.pass!, '--junit'], ['run', '--junit', '--json', files.pass!], ['run', files.pass!, '--junit=']]) {
      const run = (await runCli(args));
      expect(run.exitCode).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe('colo-sim: --junit needs the file to write the report to (--junit FILE)');
    }
  });

  it('--help prints the usage, exit 0', async () => {
    for (const args of [['--help'], ['run', '--help']]) {
      const run = (await runCli(args));
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^usage: colo-sim run FILE\.\.\. \[--json\] \[--trace\] \[--junit FILE\] \[--reload-each-step\] \[--stats\]\n/);
    }
  });
});

describe('colo-sim run --reload-each-step', () => {
  it('passes what a plain run passes, says how many reloads, and gives the same events at the same steps', async () => {
    type Traced = { results: Array<{ reloads?: number; events?: unknown[] }> };
    const plain = JSON.parse((await runCli(['run', files.asyncAtEnd!, '--json', '--trace'])).stdout) as Traced;
    const reloadedRun = await runCli(['run', files.asyncAtEnd!, '--json', '--trace', '--reload-each-step']);
    expect(reloadedRun.exitCode).toBe(0);
    const reloaded = JSON.parse(reloadedRun.stdout) as Traced;
    // Four steps: the last one also waits for the async write, so three reloads.
    expect(reloaded.results[0]!.reloads).toBe(3);
    expect(plain.results[0]!.events!.length).toBeGreaterThan(0);
    expect(reloaded.results[0]!.events).toEqual(plain.results[0]!.events);
  });

  it('fails where a plain run fails, with the same step, and prints the reloads on a pass', async () => {
    const run = await runCli(['run', files.pass!, files.fail!, '--reload-each-step']);
    expect(run.exitCode).toBe(1);
    expect(blockOf(run.stdout, files.pass!)).toMatch(/\(2 steps, .* virtual, 1 reload\)$/);
    expect(blockOf(run.stdout, files.fail!)).toContain('step 2 at steps[1] (read: ');
    expectNoStackTrace(run);
  });

  it('marks the steps that run in a restored session', async () => {
    const lines = (await runCli(['run', files.pass!, '--trace', '--reload-each-step'])).stdout.split('\n');
    expect(lines).toContain('  ── step 1: write 0x11 to primary-disk [0 B, +512 B) ──');
    expect(lines).toContain('  ── step 2, in a restored session: read primary-disk [0 B, +512 B) ──');
  });

  it('an invalid file is reported as in a plain run', async () => {
    const plain = await runCli(['run', files.invalid!]);
    const reloaded = await runCli(['run', files.invalid!, '--reload-each-step']);
    expect(reloaded.exitCode).toBe(2);
    expect(reloaded.stdout).toBe(plain.stdout);
  });
});
