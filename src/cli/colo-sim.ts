/**
 * The colo-sim program: `main` (cli.ts) wired to the process. `npm install` bundles this file
 * into build/cli/colo-sim.cjs (scripts/build-cli.mjs), which bin/colo-sim.js runs.
 */
// First: it must run before the engine's modules make their schemas.
import './zod-jitless.js';
import { main } from './cli.js';
import { fdWriter } from './fd-writer.js';

const STDOUT_FD = 1;
const STDERR_FD = 2;

void main(process.argv.slice(2), { stdout: fdWriter(STDOUT_FD), stderr: fdWriter(STDERR_FD) }).then((exitCode) => {
  process.exitCode = exitCode;
});
