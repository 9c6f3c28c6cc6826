/**
 * The colo-sim program: `main` (cli.ts) wired to the process. `npm install` bundles this file
 * into build/cli/colo-sim.cjs (scripts/build-cli.mjs), which bin/colo-sim.js runs.
 */
// First: it must run before the engine's modules make their schemas.
import './zod-jitless.js';
import { main } from './cli.js';

// A reader that stops early (`colo-sim run --trace ... | head`) closes the pipe: end quietly with
// the run's exit code instead of Node's unhandled EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit();
});

process.exitCode = main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
