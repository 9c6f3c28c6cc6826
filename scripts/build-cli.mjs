// @ts-check
/**
 * Builds the command line: bundles src/cli/colo-sim.ts with everything it imports (the engine,
 * zod, jsonc-parser) into build/cli/colo-sim.mjs, one file that Node loads without compiling
 * TypeScript. Running the sources through tsx instead costs about a second per run.
 *
 * `npm install` and `npm ci` run this file (the package's `prepare` script), so the CLI works
 * right after them; bin/colo-sim.js runs it again when a source is newer than the build, so the
 * CLI never runs stale code. Plain JavaScript, because it runs before anything is compiled.
 *
 *   node scripts/build-cli.mjs    builds, and prints where and how long it took
 */
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = 'src/cli/colo-sim.ts';
export const BUNDLE = 'build/cli/colo-sim.mjs';
/** What the bundle was built from, and when: the freshness check reads it on every run. */
const MANIFEST = 'build/cli/manifest.json';
/** Files that shape the bundle without being imported by it. */
const BUILD_INPUTS = ['scripts/build-cli.mjs', 'package-lock.json', 'tsconfig.node.json', 'tsconfig.base.json'];

/**
 * @typedef {{ fresh: true } | { fresh: false, reason: string }} BuildState
 * @typedef {{ startedAtMs: number, inputs: string[] }} Manifest
 */

/**
 * Whether the bundle in `root` is current: it exists and no file it was built from changed
 * since its build started. A stat per input (about 70 files, under a millisecond); the inputs
 * are those esbuild read (node_modules excepted: the package-lock.json stands for them), so
 * a new source file counts once a file already in the bundle imports it, which changes that file.
 *
 * @param {string} [root]
 * @returns {BuildState}
 */
export function buildState(root = PROJECT_ROOT) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'));
    statSync(join(root, BUNDLE));
  } catch {
    return { fresh: false, reason: `${BUNDLE} is not built yet` };
  }
  for (const input of manifest.inputs) {
    let mtimeMs;
    try {
      mtimeMs = statSync(join(root, input)).mtimeMs;
    } catch {
      return { fresh: false, reason: `${input}, which the build used, is gone` };
    }
    // Newer than the build's start, not its end: a file saved while esbuild ran may not be in it.
    if (mtimeMs > manifest.startedAtMs) return { fresh: false, reason: `${input} changed since the last build` };
  }
  return { fresh: true };
}

/**
 * Builds the bundle in `root`. Writes it under a temporary name and renames it, so a colo-sim
 * started meanwhile (or a second build racing this one) never loads half a file.
 *
 * @param {string} [root]
 * @returns {Promise<{ wallMs: number }>}
 */
export async function buildCli(root = PROJECT_ROOT) {
  const startedAtMs = Date.now();
  // esbuild comes with tsx and Vite as well; it is declared in package.json because this file uses it.
  const esbuild = await import('esbuild');
  const outfile = join(root, BUNDLE);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, ENTRY)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.node.json'),
    // jsonc-parser's default (UMD) build loads its parts with a dynamic require(), which an ES
    // module bundle cannot do; its ES module build bundles cleanly.
    mainFields: ['module', 'main'],
    // Half the bytes for Node to read and parse on each start. Names are kept, so a stack
    // trace of a colo-sim bug still says which function it was in.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const bundle = result.outputFiles.find((file) => file.path === outfile);
  if (!bundle) throw new Error(`esbuild did not produce ${BUNDLE}`);
  // Paths are relative to root; a package may show as ../x/node_modules/... when node_modules is a link.
  const sources = Object.keys(result.metafile.inputs).filter((input) => !input.split('/').includes('node_modules'));
  const inputs = [...sources, ...BUILD_INPUTS];
  /** @type {Manifest} */
  const manifest = { startedAtMs, inputs };
  mkdirSync(dirname(outfile), { recursive: true });
  const temporarySuffix = `.${process.pid}.tmp`;
  writeFileSync(outfile + temporarySuffix, bundle.contents);
  renameSync(outfile + temporarySuffix, outfile);
  // The manifest last: until it is there, the next run rebuilds rather than trusts the bundle.
  writeFileSync(join(root, MANIFEST) + temporarySuffix, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(join(root, MANIFEST) + temporarySuffix, join(root, MANIFEST));
  return { wallMs: Date.now() - startedAtMs };
}

/**
 * One line saying why a build failed: esbuild's first error with its place in the source (its
 * own message starts "Build failed with 1 error:", which says nothing), or the error's message.
 *
 * @param {unknown} error
 * @returns {string}
 */
export function describeBuildError(error) {
  const first = /** @type {{ errors?: Array<{ text: string, location?: { file: string, line: number, column: number } | null }> }} */ (error).errors?.[0];
  if (first) return first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ${first.text}` : first.text;
  return error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
}

// Run as a program (not imported by bin/colo-sim.js or a test): build now.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { wallMs } = await buildCli();
    process.stdout.write(`colo-sim: built ${relative(process.cwd(), join(PROJECT_ROOT, BUNDLE)) || BUNDLE} in ${wallMs} ms\n`);
  } catch (error) {
    process.stderr.write(`colo-sim: could not build the command line: ${describeBuildError(error)}\n`);
    process.exitCode = 1;
  }
}
