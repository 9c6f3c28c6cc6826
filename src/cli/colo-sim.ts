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

// Every output goes out through synchronous writes, so when main is done nothing is left to do:
// exit at once rather than let the event loop run what V8 queued meanwhile (an idle-time garbage
// collection of the start-up's garbage costs about 5 ms, a tenth of a short run's own time).
void main(process.argv.slice(2), { stdout: fdWriter(STDOUT_FD), stderr: fdWriter(STDERR_FD) }).then((exitCode) => {
  process.exit(exitCode);
});
