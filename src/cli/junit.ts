/**
 * JUnit XML, the report format CI systems (GitLab, Jenkins, GitHub Actions reporters) show as
 * test results: one <testsuite> per `colo-sim run`, one <testcase> per scenario file. A step
 * whose expectation failed is a <failure>; a file that is not a valid scenario, or a run that
 * colo-sim itself could not finish, is an <error> (the test could not run, rather than failed).
 */

export interface JUnitProblem {
  /** One line: CI systems show it as the headline. */
  readonly message: string;
  /** A word or two classifying it (the `type` attribute). */
  readonly type: string;
  /** The full text, shown when the case is opened. */
  readonly details: string;
}

export interface JUnitCase {
  readonly name: string;
  readonly classname: string;
  readonly file: string;
  readonly wallMs: number;
  readonly failure?: JUnitProblem;
  readonly error?: JUnitProblem;
  readonly systemOut?: string;
}

export interface JUnitSuite {
  readonly name: string;
  /** When the run started (written as UTC, to the second, as the JUnit schema's timestamp). */
  readonly startedAt: Date;
  readonly wallMs: number;
  readonly cases: readonly JUnitCase[];
}

export function formatJUnitReport(suite: JUnitSuite): string {
  const failures = suite.cases.filter((testCase) => testCase.failure).length;
  const errors = suite.cases.filter((testCase) => testCase.error).length;
  const counts = `tests="${suite.cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds(suite.wallMs)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attribute(suite.name)}" ${counts}>`,
    `  <testsuite name="${attribute(suite.name)}" ${counts} timestamp="${suite.startedAt.toISOString().slice(0, 19)}">`,
  ];
  for (const testCase of suite.cases) {
    const open = `    <testcase name="${attribute(testCase.name)}" classname="${attribute(testCase.classname)}" file="${attribute(testCase.file)}" time="${seconds(testCase.wallMs)}"`;
    const children: string[] = [];
    if (testCase.failure) children.push(problem('failure', testCase.failure));
    if (testCase.error) children.push(problem('error', testCase.error));
    if (testCase.systemOut) children.push(`      <system-out>${text(testCase.systemOut)}</system-out>`);
    lines.push(children.length === 0 ? `${open}/>` : `${open}>\n${children.join('\n')}\n    </testcase>`);
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function problem(element: 'failure' | 'error', { message, type, details }: JUnitProblem): string {
  return `      <${element} message="${attribute(message)}" type="${attribute(type)}">${text(details)}</${element}>`;
}

function seconds(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(3);
}

/**
 * XML 1.0 cannot carry most control characters or lone surrogates, even escaped, and a
 * scenario's title or QEMU's message may contain them (JSON allows "\u0001"): write them as
 * the JSON escape a reader would recognise instead of producing a file no parser accepts.
 */
function legal(value: string): string {
  return value.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function text(value: string): string {
  return legal(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values also escape quotes, and line breaks (which a parser would turn into spaces). */
function attribute(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
