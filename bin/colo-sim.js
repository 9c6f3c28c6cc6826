#!/usr/bin/env node
// Runs the command line as built JavaScript (build/cli/colo-sim.mjs, made by `npm install`; see
// scripts/build-cli.mjs): Node starts it in a fraction of the time tsx needs to compile the
// TypeScript sources. When a source is newer than the build, it is rebuilt first (a few hundred
// milliseconds, once, with a notice), so colo-sim never runs stale code. When it cannot be
// rebuilt (say, a read-only checkout), the sources run through tsx: slower, but current.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE, PROJECT_ROOT, buildCli, buildState, describeBuildError } from '../scripts/build-cli.mjs';

const state = buildState();
let runSources = false;
if (!state.fresh) {
  try {
    const { wallMs } = await buildCli();
    process.stderr.write(`colo-sim: ${state.reason}: rebuilt ${BUNDLE} in ${wallMs} ms\n`);
  } catch (error) {
    process.stderr.write(`colo-sim: ${state.reason}, and rebuilding it failed (${describeBuildError(error)}); running the TypeScript sources through tsx\n`);
    runSources = true;
  }
}
if (runSources) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(PROJECT_ROOT, 'src/cli/colo-sim.ts')).href);
} else {
  await import(pathToFileURL(join(PROJECT_ROOT, BUNDLE)).href);
}
