/**
 * The runner checks lessons as the contract says: an `ask` passes when the engine's value is the
 * keyed answer, and fails naming the step, the keyed answer and the engine's value; a `task`
 * passes when its goal does not hold before the solution and holds after it, and the run goes on
 * from the solution's state. The CLI prints the same (exit 1), and a bad lesson file is exit 2.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { ScenarioRunner, type ScenarioOutcome } from '../../src/engine/scenario/runner.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

type Json = Record<string, unknown>;

const LESSON_BLOCK = { id: 'a-lesson', covers: ['rule-2'], order: 1, minutes: 3 };

function lesson(...steps: Json[]): Json {
  return { format: 'colo-sim/1', title: 'a lesson', lesson: LESSON_BLOCK, setup: { diskSize: '1M' }, steps };
}

const START: Json[] = [
  { op: 'write', node: 'primary-disk', offset: 0, length: '1M', pattern: '0x11' },
  { op: 'write', node: 'secondary-disk', offset: 0, length: '1M', pattern: '0x11' },
  { op: 'colo-start' },
];

const PRIMARY_WRITE: Json = { op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' };

function servedByAsk(answer: string): Json {
  return {
    op: 'ask',
    question: 'The secondary VM reads [128K, 192K). Which layer serves it?',
    probe: { 'served-by': { vm: 'secondary', offset: '128K', length: '64K' } },
    choices: ['active-disk', 'hidden-disk', 'secondary-disk'],
    answer,
    explain: 'Copy-before-write kept the old cluster in the hidden disk.',
  };
}

function hiddenTask(solution: Json[]): Json {
  return {
    op: 'task',
    goal: "Make the hidden disk keep the primary's old data of cluster 2.",
    until: { allocated: { node: 'hidden-disk', offset: '128K', length: '64K', is: 'all' } },
    hint: 'Which writes go through copy-before-write?',
    solution,
  };
}

function run(document: Json): ScenarioOutcome {
  const validation = validateScenarioText(JSON.stringify(document));
  if (!validation.ok) throw new Error(`invalid: ${JSON.stringify(validation.errors)}`);
  return new ScenarioRunner(validation.scenario, createMemoryStore).runToEnd();
}

describe('ask', () => {
  it('passes when the keyed answer is the engine\'s value', () => {
    const outcome = run(lesson(...START, PRIMARY_WRITE, servedByAsk('hidden-disk')));
    expect(outcome.failure).toBeUndefined();
    expect(outcome.passed).toBe(true);
  });

  it('fails when the keyed answer is wrong, naming the step, the keyed answer and the engine\'s value', () => {
    const outcome = run(lesson(...START, PRIMARY_WRITE, servedByAsk('active-disk'), { op: 'say', text: 'never reached' }));
    expect(outcome.passed).toBe(false);
    expect(outcome.stepsRun).toBe(5);
    const failure = outcome.failure!;
    expect(failure.index).toBe(4);
    expect(failure.op).toBe('ask');
    expect(failure.description).toBe('The secondary VM reads [128K, 192K). Which layer serves it?');
    expect(failure.expected).toBe('the keyed answer "active-disk"');
    expect(failure.actual).toBe('the engine\'s value "hidden-disk"');
    expect(failure.value).toBe('hidden-disk');
  });

  it('a count probe counts from the lesson\'s start', () => {
    const count = (answer: string): Json => ({
      op: 'ask',
      question: 'How many copy-before-write copies so far?',
      probe: { count: { event: 'cbw-copy', since: 'lesson-start' } },
      choices: ['0', '1', '2'],
      answer,
    });
    expect(run(lesson(...START, PRIMARY_WRITE, PRIMARY_WRITE, count('1'))).passed).toBe(true);
    expect(run(lesson(...START, PRIMARY_WRITE, PRIMARY_WRITE, count('2'))).failure?.actual).toBe('the engine\'s value "1"');
  });
});

describe('task', () => {
  it('passes when the goal does not hold before the solution and holds after; the run goes on from there', () => {
    const outcome = run(
      lesson(...START, hiddenTask([PRIMARY_WRITE]), { op: 'read', node: 'secondary-disk', offset: '128K', length: '4K', expect: { pattern: '0x22' } }, servedByAsk('hidden-disk')),
    );
    expect(outcome.failure).toBeUndefined();
    expect(outcome.passed).toBe(true);
  });

  it('fails when the goal already holds before the solution', () => {
    const outcome = run(lesson(...START, PRIMARY_WRITE, hiddenTask([PRIMARY_WRITE])));
    expect(outcome.passed).toBe(false);
    expect(outcome.failure!.index).toBe(4);
    expect(outcome.failure!.op).toBe('task');
    expect(outcome.failure!.actual).toBe(
      'the goal (hidden-disk [128 KiB, +64 KiB) is all allocated) already held before the solution: a task must leave something to do',
    );
  });

  it('fails when the solution does not reach the goal, saying what the check found', () => {
    const outcome = run(lesson(...START, hiddenTask([{ op: 'guest-write', vm: 'secondary', offset: '128K', length: '4K', pattern: '0x33' }])));
    expect(outcome.failure!.actual).toBe(
      'after the solution the goal (hidden-disk [128 KiB, +64 KiB) is all allocated) does not hold: hidden-disk [131072, +65536) is not allocated, not all allocated',
    );
  });

  it('fails when a step of the solution does not meet its expectation', () => {
    const outcome = run(lesson(...START, hiddenTask([{ ...PRIMARY_WRITE, expect: { error: 'EIO' } }])));
    expect(outcome.failure!.actual).toBe('solution step 0 (guest-write: primary VM writes 0x22 [128 KiB, +4 KiB)): expected error EIO, got success');
  });

  it('waits for async steps of the solution before testing the goal', () => {
    const outcome = run(lesson(...START, hiddenTask([{ ...PRIMARY_WRITE, async: true }])));
    expect(outcome.failure).toBeUndefined();
  });
});

/** A runner on a lesson document, for the learner's path through tasks. */
function runnerOf(document: Json): ScenarioRunner {
  const validation = validateScenarioText(JSON.stringify(document));
  if (!validation.ok) throw new Error(`invalid: ${JSON.stringify(validation.errors)}`);
  return new ScenarioRunner(validation.scenario, createMemoryStore);
}

describe('a task done by hand (the app\'s lesson player)', () => {
  it('passes once the goal holds after the learner\'s own actions; the run goes on from the learner\'s state', () => {
    const runner = runnerOf(lesson(...START, hiddenTask([PRIMARY_WRITE]), servedByAsk('hidden-disk')));
    while (runner.nextStepIndex < 3) runner.step();
    expect(runner.learnerTask?.goal).toBe("Make the hidden disk keep the primary's old data of cluster 2.");
    const before = runner.testLearnerTask()!;
    expect(before.goal).toEqual({ ok: false, message: 'hidden-disk [131072, +65536) is not allocated, not all allocated' });
    expect(before.results).toEqual([]);
    expect(runner.nextStepIndex).toBe(3);
    // The learner writes as the primary VM, at another offset of the same cluster than the solution does.
    runner.simulation.settle(runner.simulation.guestWrite('primary', 160 * 1024, DataRuns.fill(4096, 0x55)));
    const after = runner.testLearnerTask()!;
    expect(after.goal).toEqual({ ok: true });
    expect(after.results).toEqual([
      {
        index: 3,
        op: 'task',
        description: "Make the hidden disk keep the primary's old data of cluster 2.",
        passed: true,
        expected: 'the goal not holding before the learner acted, and holding after',
        actual: "it did not hold before, and held after the learner's actions",
        timeUs: runner.simulation.nowUs,
      },
    ]);
    expect(runner.nextStepIndex).toBe(4);
    expect(runner.learnerTask).toBeUndefined();
    expect(runner.testLearnerTask()).toBeUndefined();
    expect(runner.runToEnd().passed).toBe(true);
    // Nothing ran the solution: the cluster holds the learner's byte, not the solution's 0x22.
    expect(runner.simulation.readNow('secondary-disk', 160 * 1024, 4096)).toEqual({ ok: true, data: DataRuns.fill(4096, 0x55) });
  });

  it('fails, as runTask does, when the goal already held at its first test', () => {
    const runner = runnerOf(lesson(...START, PRIMARY_WRITE, hiddenTask([PRIMARY_WRITE]), { op: 'say', text: 'never reached' }));
    while (runner.nextStepIndex < 4) runner.step();
    const tested = runner.testLearnerTask()!;
    expect(tested.goal.ok).toBe(true);
    expect(tested.results.map((result) => [result.passed, result.actual])).toEqual([
      [false, 'the goal (hidden-disk [128 KiB, +64 KiB) is all allocated) already held before the learner acted: a task must leave something to do'],
    ]);
    expect(runner.done).toBe(true);
    expect(runner.outcome().failure?.index).toBe(4);
  });

  it('remembers the first test across a save (the progress), and a last task ends the run', () => {
    const document = lesson(...START, hiddenTask([PRIMARY_WRITE]));
    const runner = runnerOf(document);
    while (runner.nextStepIndex < 3) runner.step();
    runner.testLearnerTask();
    const progress = runner.progress();
    expect(progress.learnerTaskTested).toBe(3);
    const validation = validateScenarioText(JSON.stringify(document));
    if (!validation.ok) throw new Error('invalid');
    const resumed = new ScenarioRunner(validation.scenario, createMemoryStore, { simulation: runner.simulation, resume: progress });
    resumed.simulation.settle(resumed.simulation.guestWrite('primary', 128 * 1024, DataRuns.fill(4096, 0x22)));
    expect(resumed.testLearnerTask()!.results.map((result) => result.passed)).toEqual([true]);
    expect(resumed.done).toBe(true);
    expect(resumed.outcome().passed).toBe(true);
  });

  it('is not offered for a step that is no task', () => {
    const runner = runnerOf(lesson(...START, servedByAsk('secondary-disk')));
    while (runner.nextStepIndex < 3) runner.step();
    expect(runner.learnerTask).toBeUndefined();
    expect(runner.testLearnerTask()).toBeUndefined();
  });
});

describe('colo-sim run on lessons', () => {
  const directory = mkdtempSync(join(tmpdir(), 'colo-sim-lessons-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function cli(document: Json): Promise<{ exitCode: number; stdout: string }> {
    const file = join(directory, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(document));
    return new Promise((resolve) => {
      execFile('node_modules/.bin/tsx', ['src/cli/colo-sim.ts', 'run', file], { cwd: process.cwd(), timeout: 60_000 }, (error, stdout) => {
        resolve({ exitCode: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: stdout.replace(file, 'FILE') });
      });
    });
  }

  it('prints the failing ask with the keyed answer and the engine\'s value (exit 1), and a bad lesson file with its JSON path (exit 2)', async () => {
    const [wrong, bad] = await Promise.all([
      cli(lesson(...START, PRIMARY_WRITE, servedByAsk('active-disk'))),
      cli({ ...lesson(...START, { ...servedByAsk('hidden'), choices: ['active-disk', 'hidden-disk'] }), lesson: { ...LESSON_BLOCK, id: 'Not Kebab' } }),
    ]);
    expect(wrong.exitCode).toBe(1);
    // The CLI's own wording of a failing step (its number, its path) is the CLI's; the lesson's part is this:
    expect(wrong.stdout).toMatch(/^FAIL +FILE +a lesson\n/);
    expect(wrong.stdout).toContain(
      '(ask: The secondary VM reads [128K, 192K). Which layer serves it?): expected the keyed answer "active-disk", got the engine\'s value "hidden-disk"\n',
    );
    expect(wrong.stdout).toMatch(/step (4|5 at steps\[4\]) \(ask:/);
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toContain('INVALID  FILE: not a valid scenario\n');
    expect(bad.stdout).toContain('    lesson.id: must be kebab-case');
  });
});
