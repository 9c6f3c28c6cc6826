// @ts-check
/**
 * Builds the command line: bundles src/cli/colo-sim.ts with everything it imports (the engine,
 * zod, jsonc-parser) into build/cli/colo-sim.cjs, one file that Node loads without compiling
 * TypeScript (running the sources through tsx costs about a second per run), then runs it once
 * on QEMU's scenarios to make its V8 code cache (see cli-bundle.cjs).
 *
 * `npm install` and `npm ci` run this file (the package's `prepare` script), so the CLI works
 * right after them; bin/colo-sim.js runs it again when a source is newer than the build, so the
 * CLI never runs stale code. Plain JavaScript, because it runs before anything is compiled.
 *
 *   node scripts/build-cli.mjs    builds, and prints where and how long it took
 */
import { mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, CODE_CACHE, MANIFEST, PROJECT_ROOT } from './cli-bundle.cjs';

const ENTRY = 'src/cli/colo-sim.ts';
/** What the build runs to make the code cache: every part of the engine a typical run uses. */
const WARM_UP_SCENARIOS = 'public/scenarios/qemu-tests';
/** Files that shape the bundle without being imported by it. */
const BUILD_INPUTS = ['scripts/build-cli.mjs', 'scripts/cli-bundle.cjs', 'package-lock.json', 'tsconfig.node.json', 'tsconfig.base.json'];

/**
 * Builds the bundle in `root`. Writes it under a temporary name and renames it, so a colo-sim
 * started meanwhile (or a second build racing this one) never loads half a file. With
 * `warmCodeCache`, runs it once to make its code cache; otherwise the next run makes it.
 *
 * @param {string} [root]
 * @param {{ warmCodeCache?: boolean }} [options]
 * @returns {Promise<{ wallMs: number }>}
 */
export async function buildCli(root = PROJECT_ROOT, { warmCodeCache = false } = {}) {
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
    // CommonJS, because only a script (not an ES module) can be given a code cache in Node 20.
    format: 'cjs',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.node.json'),
    // jsonc-parser's default (UMD) build loads its parts with a require() esbuild cannot follow;
    // its ES module build bundles cleanly.
    mainFields: ['module', 'main'],
    // Non-ASCII characters as escapes (esbuild's default, stated because the launcher relies on it).
    charset: 'ascii',
    // A quarter fewer bytes for Node to read on each start. Names are kept, so a stack
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
  // cli-bundle.cjs reads the bundle as Latin-1, which is only right for ASCII.
  const nonAscii = bundle.contents.findIndex((byte) => byte >= 0x80);
  if (nonAscii >= 0) throw new Error(`${BUNDLE} has a non-ASCII byte at offset ${nonAscii}; the launcher reads it as Latin-1`);
  // Paths are relative to root; a package may show as ../x/node_modules/... when node_modules is a link.
  const sources = Object.keys(result.metafile.inputs).filter((input) => !input.split('/').includes('node_modules'));
  const inputs = [...sources, ...BUILD_INPUTS];
  const manifest = { startedAtMs, inputs };
  mkdirSync(dirname(outfile), { recursive: true });
  const temporarySuffix = `.${process.pid}.tmp`;
  writeFileSync(outfile + temporarySuffix, bundle.contents);
  renameSync(outfile + temporarySuffix, outfile);
  // The manifest last: until it is there, the next run rebuilds rather than trusts the bundle.
  writeFileSync(join(root, MANIFEST) + temporarySuffix, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(join(root, MANIFEST) + temporarySuffix, join(root, MANIFEST));
  // The old bundle's cache would be refused anyway (it names the bundle it was made from).
  rmSync(join(root, CODE_CACHE), { force: true });
  if (warmCodeCache) {
    // Output and exit status do not matter here: the run is for the bytecode it leaves behind.
    const { spawnSync } = await import('node:child_process');
    spawnSync(process.execPath, [join(root, 'bin/colo-sim.js'), 'run', WARM_UP_SCENARIOS], { cwd: root, stdio: 'ignore' });
  }
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
    const { wallMs } = await buildCli(PROJECT_ROOT, { warmCodeCache: true });
    process.stdout.write(`colo-sim: built ${relative(process.cwd(), join(PROJECT_ROOT, BUNDLE)) || BUNDLE} in ${wallMs} ms\n`);
  } catch (error) {
    process.stderr.write(`colo-sim: could not build the command line: ${describeBuildError(error)}\n`);
    process.exitCode = 1;
  }
}
