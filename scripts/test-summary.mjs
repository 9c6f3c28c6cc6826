#!/usr/bin/env node
// Prints one closing line for the whole `npm test`, "N passed, N failed[, N skipped]" with nothing
// else on it, summed over the JUnit XML files that Vitest and Playwright write to reports/. (CI
// recorded the landings that closed on "tests: N passed, N failed" as having run no test.)
// Vitest's and Playwright's own closing lines are not ones CI systems recognise; this plain one is.
// `--clear` removes the old reports first, so a summary never counts a previous run.
// Exits 1 when a report is missing or unreadable, or when any test failed.
import { existsSync, readFileSync, rmSync } from 'node:fs';

const REPORTS = ['reports/unit-junit.xml', 'reports/e2e-junit.xml'];

if (process.argv.includes('--clear')) {
  for (const file of REPORTS) rmSync(file, { force: true });
  process.exit(0);
}

/**
 * Reads one count attribute of the root <testsuites> element; 0 when absent.
 * @param {string} xml
 * @param {string} name
 * @returns {number}
 */
function rootCount(xml, name) {
  const root = /<testsuites\b[^>]*>/.exec(xml);
  if (!root) throw new Error('no <testsuites> element');
  const match = new RegExp(`\\s${name}="(\\d+)"`).exec(root[0]);
  return match ? Number(match[1]) : 0;
}

let total = 0;
let failed = 0;
let skipped = 0;
for (const file of REPORTS) {
  if (!existsSync(file)) {
    console.error(`test-summary: ${file} is missing: its test runner did not finish`);
    process.exit(1);
  }
  try {
    const xml = readFileSync(file, 'utf8');
    total += rootCount(xml, 'tests');
    failed += rootCount(xml, 'failures') + rootCount(xml, 'errors');
    // Vitest leaves `skipped` off its root element, so count the <skipped/> markers of its cases.
    skipped += (xml.match(/<skipped\b/g) ?? []).length;
  } catch (error) {
    console.error(`test-summary: ${file}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
const passed = total - failed - skipped;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || total === 0 ? 1 : 0);
