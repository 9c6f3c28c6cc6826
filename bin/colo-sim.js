#!/usr/bin/env node
// Runs the command line as built JavaScript (build/cli/colo-sim.cjs, made by `npm install`; see
// scripts/build-cli.mjs) with its V8 code cache (scripts/cli-bundle.cjs): Node starts it in a
// fraction of the time tsx needs to compile the TypeScript sources. When a source is newer than
// the build, it is rebuilt first (under a second, once, with a notice), so colo-sim never runs
// stale code. When it cannot be rebuilt (say, a read-only checkout), the sources run through
// tsx: slower, but current. CommonJS (bin/package.json says so), to keep Node's ES module loader
// out of a normal run; the name stays .js, so links that npm and npx made to it keep working.
'use strict';

const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { BUNDLE, PROJECT_ROOT, buildState, runCliBundle } = require('../scripts/cli-bundle.cjs');

const state = buildState();
if (state.fresh) {
  runCliBundle();
} else {
  rebuildAndRun(state.reason).catch((error) => {
    process.stderr.write(`colo-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}

/** @param {string} reason why the bundle is not current */
async function rebuildAndRun(reason) {
  const { buildCli, describeBuildError } = await import('../scripts/build-cli.mjs');
  try {
    const { wallMs } = await buildCli();
    process.stderr.write(`colo-sim: ${reason}: rebuilt ${BUNDLE} in ${wallMs} ms\n`);
  } catch (error) {
    process.stderr.write(`colo-sim: ${reason}, and rebuilding it failed (${describeBuildError(error)}); running the TypeScript sources through tsx\n`);
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(PROJECT_ROOT, 'src/cli/colo-sim.ts')).href);
    return;
  }
  runCliBundle();
}
