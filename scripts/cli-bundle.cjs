// @ts-check
/**
 * What bin/colo-sim.js needs on every run: whether the built CLI is current (buildState), and
 * running it with V8's code cache (runCliBundle). scripts/build-cli.mjs makes the bundle.
 *
 * CommonJS, as is the launcher: a run that never starts Node's ES module loader, nor its
 * facade of node:fs (which loads the stream modules), is about 15 ms shorter, a tenth of it.
 *
 * The code cache: compiling the 700 KB bundle is a large part of a short run, and Node 20 keeps
 * no compile cache of its own (Node 22's module.enableCompileCache() does), so the bytecode V8
 * made in an earlier run is kept next to the bundle and handed back: functions that ran then
 * are not compiled again. V8 checks a cache against the source's length, not its content, so
 * the cache file starts with a line naming the bundle file it was made from (inode, size,
 * modification time) and is used only with that file. That names its content, because a build
 * never rewrites the bundle in place: it writes a new file and renames it over the old one. (A
 * hash would say the same, but loading node:crypto costs more than everything else here.) A
 * cache that is missing, made for another bundle, or refused by V8 (another Node version, other
 * V8 flags) is made again when the run ends; the build makes the first one.
 */
'use strict';

const { closeSync, fstatSync, openSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const PROJECT_ROOT = dirname(__dirname);
const BUNDLE = 'build/cli/colo-sim.cjs';
const CODE_CACHE = 'build/cli/colo-sim.cache';
/** What the bundle was built from, and when: the freshness check reads it on every run. */
const MANIFEST = 'build/cli/manifest.json';
const NEWLINE = 0x0a;

/**
 * @typedef {{ fresh: true } | { fresh: false, reason: string }} BuildState
 * @typedef {{ startedAtMs: number, inputs: string[] }} Manifest
 */

/**
 * Whether the bundle in `root` is current: it exists and no file it was built from changed
 * since its build started. A stat per input (about 70 files, a millisecond or two); the inputs
 * are those esbuild read (node_modules excepted: the package-lock.json stands for them), so a
 * new source file counts once a file already in the bundle imports it, which changes that file.
 *
 * @param {string} [root]
 * @returns {BuildState}
 */
function buildState(root = PROJECT_ROOT) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'));
    statSync(join(root, BUNDLE));
  } catch {
    return { fresh: false, reason: `${BUNDLE} is not built yet` };
  }
  for (const input of manifest.inputs) {
    const stat = statSync(join(root, input), { throwIfNoEntry: false });
    if (!stat) return { fresh: false, reason: `${input}, which the build used, is gone` };
    // Newer than the build's start, not its end: a file saved while esbuild ran may not be in it.
    if (stat.mtimeMs > manifest.startedAtMs) return { fresh: false, reason: `${input} changed since the last build` };
  }
  return { fresh: true };
}

/**
 * Which bundle file this is: the same words for the same content (see above).
 *
 * @param {{ ino: number, size: number, mtimeMs: number }} stat
 * @returns {string}
 */
function bundleIdentity(stat) {
  return `colo-sim code cache for inode ${stat.ino}, ${stat.size} bytes, modified ${stat.mtimeMs}`;
}

/**
 * The V8 code cache in `cacheFile` if it was made for the bundle `identity` names, else undefined.
 *
 * @param {string} identity
 * @param {Uint8Array | undefined} cacheFile
 * @returns {Buffer | undefined}
 */
function codeCacheFor(identity, cacheFile) {
  if (!cacheFile) return undefined;
  const file = Buffer.from(cacheFile.buffer, cacheFile.byteOffset, cacheFile.byteLength);
  const lineEnd = file.indexOf(NEWLINE);
  if (lineEnd < 0 || file.toString('latin1', 0, lineEnd) !== identity || lineEnd + 1 === file.length) return undefined;
  return file.subarray(lineEnd + 1);
}

/**
 * What to write to the cache file: the line naming the bundle, then V8's cache.
 *
 * @param {string} identity
 * @param {Uint8Array} cachedData
 * @returns {Buffer}
 */
function codeCacheFile(identity, cachedData) {
  return Buffer.concat([Buffer.from(`${identity}\n`, 'latin1'), cachedData]);
}

/**
 * Runs the bundle in `root` as Node runs a CommonJS file (the same module wrapper, require and
 * file name, so stack traces point into it), with the code cache when there is a good one.
 *
 * @param {string} [root]
 * @returns {{ usedCodeCache: boolean }}
 */
function runCliBundle(root = PROJECT_ROOT) {
  const file = join(root, BUNDLE);
  const cacheFile = join(root, CODE_CACHE);
  // The identity and the text from one open file, so a rename in between cannot mix two builds.
  const descriptor = openSync(file, 'r');
  let source;
  let identity;
  try {
    identity = bundleIdentity(fstatSync(descriptor));
    // Latin-1, not UTF-8: the build writes only ASCII (esbuild's charset, checked by the build),
    // for which both give the same string, and Latin-1 skips the UTF-8 decoder.
    source = readFileSync(descriptor, 'latin1');
  } finally {
    closeSync(descriptor);
  }
  /** @type {Buffer | undefined} */
  let cache;
  try {
    cache = codeCacheFor(identity, readFileSync(cacheFile));
  } catch {
    cache = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cache ? { cachedData: cache } : {}),
  });
  const usedCodeCache = cache !== undefined && !script.cachedDataRejected;
  if (!usedCodeCache) {
    // At the end of the run, so the cache holds every function this run compiled, not only the top level.
    process.once('exit', () => {
      try {
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temporary, codeCacheFile(identity, script.createCachedData()));
        renameSync(temporary, cacheFile);
      } catch {
        // A read-only checkout: every run compiles, which is slower, not wrong.
      }
    });
  }
  const bundleModule = { exports: {} };
  script.runInThisContext()(bundleModule.exports, createRequire(file), bundleModule, file, dirname(file));
  return { usedCodeCache };
}

exports.PROJECT_ROOT = PROJECT_ROOT;
exports.BUNDLE = BUNDLE;
exports.CODE_CACHE = CODE_CACHE;
exports.MANIFEST = MANIFEST;
exports.buildState = buildState;
exports.bundleIdentity = bundleIdentity;
exports.codeCacheFor = codeCacheFor;
exports.codeCacheFile = codeCacheFile;
exports.runCliBundle = runCliBundle;
