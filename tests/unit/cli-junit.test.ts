/**
 * `colo-sim run --junit FILE`: a JUnit XML report CI systems can show. Read back with a strict
 * well-formedness check (support/xml.ts): one testsuite per run, one testcase per scenario
 * file, a failing step as <failure>, an invalid file as <error>.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/cli.js';
import { formatJUnitReport } from '../../src/cli/junit.js';
import { elementsNamed, parseXml, type XmlElement } from './support/xml.js';

type Json = Record<string, unknown>;

function scenario(title: string, ...steps: Json[]): string {
  return JSON.stringify({ format: 'colo-sim/1', title, setup: { diskSize: '1M' }, steps });
}

const WRITE: Json = { op: 'write', node: 'primary-disk', offset: 0, length: 512, pattern: '0x11' };

function read(pattern: string): Json {
  return { op: 'read', node: 'primary-disk', offset: 0, length: 512, expect: { pattern } };
}

async function runCli(args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { exitCode, stdout, stderr };
}

let directory = '';
const files: Record<string, string> = {};

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'colo-sim-junit-'));
  const texts: Record<string, string> = {
    pass: scenario('it passes', WRITE, read('0x11')),
    fail: scenario('it fails', WRITE, read('0x22')),
    invalid: scenario('it is invalid', { op: 'say', text: 'a' }, { ...WRITE, offset: 100 }),
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

describe('colo-sim run --junit', () => {
  let run: Awaited<ReturnType<typeof runCli>>;
  let root: XmlElement;
  const report = (): string => join(directory, 'report.xml');

  beforeAll(async () => {
    run = (await runCli(['run', files.pass!, files.fail!, files.invalid!, files.missing!, '--junit', report()]));
    root = parseXml(readFileSync(report(), 'utf8'));
  });

  it('keeps the exit code and the printed results', async () => {
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('1 passed, 1 failed, 2 invalid\n');
    expect(run.stderr).toBe('');
  });

  it('one testsuite for the run, with the counts', async () => {
    expect(root.name).toBe('testsuites');
    const suites = elementsNamed(root, 'testsuite');
    expect(suites).toHaveLength(1);
    expect(suites[0]!.attributes).toMatchObject({ name: 'colo-sim run', tests: '4', failures: '1', errors: '2', skipped: '0' });
    expect(suites[0]!.attributes.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(Number(suites[0]!.attributes.time)).toBeGreaterThanOrEqual(0);
  });

  it('one testcase per file, in the order run: its title, its file, its wall time', async () => {
    const cases = elementsNamed(root, 'testcase');
    expect(cases.map((testCase) => [testCase.attributes.name, testCase.attributes.file])).toEqual([
      ['it passes', files.pass],
      ['it fails', files.fail],
      [files.invalid, files.invalid],
      [files.missing, files.missing],
    ]);
    for (const testCase of cases) {
      expect(testCase.attributes.classname).toBe(testCase.attributes.file);
      expect(testCase.attributes.time).toMatch(/^\d+\.\d{3}$/);
    }
    expect(cases[0]!.children).toEqual([]);
  });

  it('a failing step is a <failure> with the step’s text, numbered from 1', async () => {
    const [failure, ...more] = elementsNamed(elementsNamed(root, 'testcase')[1]!, 'failure');
    expect(more).toEqual([]);
    const text = 'step 2 at steps[1] (read: read primary-disk [0 B, +512 B)): expected every byte 0x22, got byte 0x11 at offset 0 (every byte 0x11)';
    expect(failure!.attributes).toEqual({ message: text, type: 'step failed' });
    expect(failure!.text).toBe(text);
  });

  it('a file that is not a valid scenario, or cannot be read, is an <error> naming the JSON path', async () => {
    const cases = elementsNamed(root, 'testcase');
    const invalid = elementsNamed(cases[2]!, 'error')[0]!;
    expect(invalid.attributes).toEqual({ message: 'not a valid scenario: steps[1].offset (step 2): must be a multiple of 512 (got 100)', type: 'invalid scenario' });
    expect(invalid.text).toBe('steps[1].offset (step 2): must be a multiple of 512 (got 100)');
    expect(elementsNamed(cases[3]!, 'error')[0]!.attributes.message).toBe('not a valid scenario: cannot read the file: no such file (ENOENT)');
    expect(elementsNamed(root, 'failure')).toHaveLength(1);
  });

  it('works with --json, which still prints only JSON', async () => {
    const file = join(directory, 'with-json.xml');
    const withJson = (await runCli(['run', files.pass!, '--json', `--junit=${file}`]));
    expect(withJson.exitCode).toBe(0);
    expect(JSON.parse(withJson.stdout)).toMatchObject({ exitCode: 0 });
    expect(elementsNamed(parseXml(readFileSync(file, 'utf8')), 'testcase')).toHaveLength(1);
  });

  it('a report that cannot be written: exit 2 and a message naming it, even when every scenario passed', async () => {
    const file = join(directory, 'no-such-directory', 'report.xml');
    const failed = (await runCli(['run', files.pass!, '--junit', file]));
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toBe(`colo-sim: cannot write the JUnit report to ${file} (ENOENT)\n`);
    expect(failed.stdout).toMatch(/^PASS/);
  });
});

describe('formatJUnitReport', () => {
  it('stays well-formed whatever a title or message contains: markup, quotes, line breaks, control characters, lone surrogates', async () => {
    const nasty = 'a <b> & "c" \'d\'\ne\tf\u0001g\ud800h ]]> i';
    const xml = formatJUnitReport({
      name: nasty,
      startedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
      wallMs: 1234.5,
      cases: [{ name: nasty, classname: nasty, file: nasty, wallMs: 0.4, failure: { message: nasty, type: nasty, details: nasty } }],
    });
    const root = parseXml(xml);
    const suite = elementsNamed(root, 'testsuite')[0]!;
    expect(suite.attributes).toMatchObject({ timestamp: '2026-01-02T03:04:05', time: '1.234' });
    const testCase = elementsNamed(root, 'testcase')[0]!;
    // What XML cannot carry is written as a JSON-style escape; everything else reads back as it was.
    const readable = 'a <b> & "c" \'d\'\ne\tf\\u0001g\\ud800h ]]> i';
    expect(testCase.attributes.name).toBe(readable);
    expect(testCase.attributes.time).toBe('0.000');
    expect(elementsNamed(testCase, 'failure')[0]!.text).toBe(readable);
    expect(elementsNamed(testCase, 'failure')[0]!.attributes.message).toBe(readable);
  });
});

describe('the well-formedness check used above', () => {
  it('rejects what an XML parser rejects', async () => {
    for (const bad of ['<a><b></a>', '<a b=c/>', '<a b="1" b="2"/>', '<a>x & y</a>', '<a>x < y</a>', '<a>&nbsp;</a>', '<a>\u0001</a>', '<a/><b/>', '<a>']) {
      expect(() => parseXml(bad), bad).toThrow(/not well-formed XML/);
    }
    expect(parseXml('<a b="&lt;&#10;"><c>&amp;</c></a>')).toEqual({ name: 'a', attributes: { b: '<\n' }, children: [{ name: 'c', attributes: {}, children: [], text: '&' }], text: '' });
  });
});
