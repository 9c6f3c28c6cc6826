/**
 * The built command line (scripts/build-cli.mjs, scripts/cli-bundle.cjs, bin/colo-sim.js):
 * `npm install` bundles the CLI into build/cli/colo-sim.cjs and makes its V8 code cache; the
 * launcher runs that bundle with the cache, rebuilds it first when a source is newer, and runs
 * the sources through tsx when it cannot be rebuilt. The tests work on a copy of the project in
 * a temporary directory, so the checkout's own build/ is never touched.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.mjs';
import { BUNDLE, CODE_CACHE, buildState, bundleIdentity, codeCacheFile, codeCacheFor } from '../../scripts/cli-bundle.cjs';

const CHECKOUT = process.cwd();
/** What a build reads, besides node_modules (linked, not copied). */
const PROJECT_FILES = ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'tsconfig.node.json', 'tsconfig.base.json', 'public/scenarios/qemu-tests'];
const ONE_HOUR_MS = 3_600_000;
const PASSING_SCENARIO = JSON.stringify({
  format: 'colo-sim/1',
  title: 'a scenario',
  setup: { diskSize: '1M' },
  steps: [
    { op: 'write', node: 'primary-disk', offset: 0, length: 512, pattern: '0x11' },
    { op: 'read', node: 'primary-disk', offset: 0, length: 512, expect: { pattern: '0x11' } },
  ],
});

interface ProcessRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNode(root: string, args: readonly string[]): ProcessRun {
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { exitCode: run.status, stdout: run.stdout, stderr: run.stderr };
}

function filesBelow(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => filesBelow(join(path, name)));
}

/** Sets a file's modification time `ageMs` before now. */
function age(file: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(file, then, then);
}

/** A copy of the project whose files all look an hour old: only what a test touches is newer than a build. */
function copyProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'colo-sim-build-'));
  for (const entry of PROJECT_FILES) cpSync(join(CHECKOUT, entry), join(root, entry), { recursive: true });
  for (const entry of PROJECT_FILES) for (const file of filesBelow(join(root, entry))) age(file, ONE_HOUR_MS);
  symlinkSync(join(CHECKOUT, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, 'pass.json'), PASSING_SCENARIO);
  return root;
}

/** Changes the usage text in the copy's sources, so a run shows whether it runs the current code. */
function editUsage(root: string, marker: string): void {
  const file = join(root, 'src/cli/cli.ts');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace(/usage: colo-sim run FILE\.\.\.[^`\n]*/, (usage) => `${usage} ${marker}`));
}

describe('the CLI build', () => {
  let root = '';
  beforeAll(() => {
    root = copyProject();
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('before a build: not fresh, because there is none', () => {
    expect(buildState(root)).toEqual({ fresh: false, reason: 'build/cli/colo-sim.cjs is not built yet' });
  });

  it('`node scripts/build-cli.mjs` (the prepare script) builds the bundle and records what it was built from', () => {
    const run = runNode(root, ['scripts/build-cli.mjs']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^colo-sim: built build\/cli\/colo-sim\.cjs in \d+ ms\n$/);
    expect(run.exitCode).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, 'build/cli/manifest.json'), 'utf8')) as { inputs: string[]; startedAtMs: number };
    expect(manifest.inputs).toEqual(
      expect.arrayContaining(['src/cli/colo-sim.ts', 'src/cli/cli.ts', 'src/engine/scenario/validate.ts', 'package-lock.json', 'scripts/build-cli.mjs', 'scripts/cli-bundle.cjs']),
    );
    expect(manifest.inputs.filter((input) => input.includes('node_modules') || input.startsWith('..'))).toEqual([]);
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('the bundle runs on its own, with the documented exit codes', () => {
    const pass = runNode(root, [BUNDLE, 'run', 'pass.json']);
    expect(pass).toEqual({ exitCode: 0, stdout: 'PASS     pass.json  a scenario (2 steps, 0us virtual)\n', stderr: '' });
    writeFileSync(join(root, 'fail.json'), PASSING_SCENARIO.replace('"expect":{"pattern":"0x11"}', '"expect":{"pattern":"0x22"}'));
    const fail = runNode(root, [BUNDLE, 'run', 'fail.json']);
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toContain('    step 2 at steps[1] (read: ');
    expect(runNode(root, [BUNDLE, 'run', 'missing.json']).exitCode).toBe(2);
    expect(runNode(root, [BUNDLE, 'frobnicate']).exitCode).toBe(2);
  });

  it('bin/colo-sim.js runs a fresh bundle without a word on stderr', () => {
    expect(runNode(root, ['bin/colo-sim.js', 'run', 'pass.json'])).toEqual({ exitCode: 0, stdout: 'PASS     pass.json  a scenario (2 steps, 0us virtual)\n', stderr: '' });
  });

  it('a reader that stops early (| head) ends the run quietly, with its exit code and no stack trace', async () => {
    const child = spawn(process.execPath, ['bin/colo-sim.js', 'run', 'public/scenarios/qemu-tests', '--trace'], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read the first chunk, then close the pipe as head does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
  });

  it('the build leaves a code cache made for the bundle it built, which a run takes as it is', () => {
    const cacheFile = join(root, CODE_CACHE);
    const cache = readFileSync(cacheFile);
    expect(codeCacheFor(bundleIdentity(statSync(join(root, BUNDLE))), cache)?.length).toBeGreaterThan(100_000);
    expect(runNode(root, ['bin/colo-sim.js', 'run', 'pass.json']).exitCode).toBe(0);
    // Refused or missing, it would have been written again at the end of the run.
    expect(readFileSync(cacheFile).equals(cache)).toBe(true);
  });

  it('a code cache made for another bundle is not used, and is made again for this one', () => {
    const cacheFile = join(root, CODE_CACHE);
    const identity = bundleIdentity(statSync(join(root, BUNDLE)));
    const v8Cache = codeCacheFor(identity, readFileSync(cacheFile))!;
    // Same length and V8 data, other content: V8 alone would take it and run the wrong code.
    writeFileSync(cacheFile, codeCacheFile(identity.replace(/inode \d+/, 'inode 1'), v8Cache));
    expect(runNode(root, ['bin/colo-sim.js', 'run', 'pass.json'])).toMatchObject({ exitCode: 0, stdout: 'PASS     pass.json  a scenario (2 steps, 0us virtual)\n' });
    expect(codeCacheFor(identity, readFileSync(cacheFile))?.length).toBeGreaterThan(100_000);
  });

  it('a code cache V8 refuses (another Node, other flags, damage) changes nothing but speed, and is made again', () => {
    const cacheFile = join(root, CODE_CACHE);
    const identity = bundleIdentity(statSync(join(root, BUNDLE)));
    const damaged = codeCacheFile(identity, Buffer.alloc(4096, 0x5a));
    writeFileSync(cacheFile, damaged);
    expect(runNode(root, ['bin/colo-sim.js', 'run', 'pass.json'])).toMatchObject({ exitCode: 0, stdout: 'PASS     pass.json  a scenario (2 steps, 0us virtual)\n' });
    const remade = readFileSync(cacheFile);
    expect(remade.equals(damaged)).toBe(false);
    expect(codeCacheFor(identity, remade)?.length).toBeGreaterThan(100_000);
  });

  it('a source newer than the build: not fresh, naming it', () => {
    const file = join(root, 'src/engine/scenario/describe.ts');
    age(file, 0);
    expect(buildState(root)).toEqual({ fresh: false, reason: 'src/engine/scenario/describe.ts changed since the last build' });
    // Back to before the build: fresh again (the check is by time, not by content).
    age(file, ONE_HOUR_MS);
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('a changed source is rebuilt before running, with a notice: never stale code', () => {
    editUsage(root, '(edited)');
    const run = runNode(root, ['bin/colo-sim.js', '--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/ \(edited\)$/);
    expect(run.stderr).toMatch(/^colo-sim: src\/cli\/cli\.ts changed since the last build: rebuilt build\/cli\/colo-sim\.cjs in \d+ ms\n$/);
    // The rebuild is recorded: the next run says nothing.
    expect(runNode(root, ['bin/colo-sim.js', '--help']).stderr).toBe('');
  });

  it('an input the build used is gone: not fresh, naming it', () => {
    const manifestFile = join(root, 'build/cli/manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { inputs: string[] };
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, inputs: [...manifest.inputs, 'src/cli/removed.ts'] }));
    expect(buildState(root)).toEqual({ fresh: false, reason: 'src/cli/removed.ts, which the build used, is gone' });
  });

  it('when the bundle cannot be rebuilt, the sources run through tsx, with a notice', () => {
    // build/ is a file now: the bundle can be neither read nor written.
    rmSync(join(root, 'build'), { recursive: true });
    writeFileSync(join(root, 'build'), 'not a directory');
    editUsage(root, '(through tsx)');
    const run = runNode(root, ['bin/colo-sim.js', '--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/ \(through tsx\)$/);
    expect(run.stderr).toMatch(/^colo-sim: build\/cli\/colo-sim\.cjs is not built yet, and rebuilding it failed \(ENOTDIR[^)]*\); running the TypeScript sources through tsx\n$/);
    const scenario = runNode(root, ['bin/colo-sim.js', 'run', 'pass.json']);
    expect(scenario.exitCode).toBe(0);
    expect(scenario.stdout).toBe('PASS     pass.json  a scenario (2 steps, 0us virtual)\n');
  });

  it('buildCli builds in place of a stale bundle, and reports its time', async () => {
    rmSync(join(root, 'build'));
    mkdirSync(join(root, 'build'));
    const { wallMs } = await buildCli(root);
    expect(wallMs).toBeGreaterThan(0);
    expect(buildState(root)).toEqual({ fresh: true });
  });
});

describe('the CLI build is wired into npm', () => {
  const packageJson = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string>; dependencies: Record<string, string> };

  it('`npm install` / `npm ci` build it (prepare); `npx colo-sim` and `npm run colo-sim` run it through the launcher', () => {
    expect(packageJson.scripts.prepare).toBe('node scripts/build-cli.mjs');
    expect(packageJson.bin['colo-sim']).toBe('bin/colo-sim.js');
    expect(packageJson.scripts['colo-sim']).toBe('node bin/colo-sim.js');
    // The build and the tsx fallback happen at install and run time, not only in development.
    expect(Object.keys(packageJson.dependencies)).toEqual(expect.arrayContaining(['esbuild', 'tsx']));
  });

  it('the launcher is CommonJS in a package that is ES modules: its own package.json says so', () => {
    expect(JSON.parse(readFileSync(join(CHECKOUT, 'bin/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('the build output is not committed', () => {
    const ignored = readFileSync(join(CHECKOUT, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain('build/');
  });
});

describe('codeCacheFor: a code cache is used only with the bundle it was made for', () => {
  const identity = bundleIdentity({ ino: 42, size: 718_611, mtimeMs: 1_796_015_225_360.4973 });
  const v8Cache = Buffer.from([1, 2, 3, 4]);

  it('the cache, when its first line names this bundle', () => {
    expect(codeCacheFor(identity, codeCacheFile(identity, v8Cache))).toEqual(v8Cache);
  });

  it('nothing when it names another bundle (inode, size or time), has no such line, or no data after it', () => {
    for (const other of [
      bundleIdentity({ ino: 43, size: 718_611, mtimeMs: 1_796_015_225_360.4973 }),
      bundleIdentity({ ino: 42, size: 718_612, mtimeMs: 1_796_015_225_360.4973 }),
      bundleIdentity({ ino: 42, size: 718_611, mtimeMs: 1_796_015_225_360.5 }),
    ]) {
      expect(codeCacheFor(identity, codeCacheFile(other, v8Cache))).toBeUndefined();
    }
    expect(codeCacheFor(identity, v8Cache)).toBeUndefined();
    expect(codeCacheFor(identity, codeCacheFile(identity, new Uint8Array(0)))).toBeUndefined();
    expect(codeCacheFor(identity, undefined)).toBeUndefined();
  });
});
