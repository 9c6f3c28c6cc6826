/**
 * The engine stays portable and deterministic: nothing under src/engine imports the UI, the
 * storage adapters, the worker, browser or Node libraries, and nothing reads the wall clock,
 * draws unseeded randomness, or touches browser globals. tsconfig.engine.json enforces the same
 * with a DOM-free lib.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const ENGINE = join(ROOT, 'src', 'engine');

function sourceFiles(directory: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs|cjs|svelte)$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** Every module specifier: static imports and re-exports, side-effect imports, dynamic import(), require(). */
function moduleSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

const NODE_BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'child_process', 'url', 'util', 'worker_threads', 'events', 'stream', 'buffer', 'process', 'timers', 'perf_hooks']);
const FORBIDDEN_PACKAGES = [/^svelte(\/|$)/, /^d3(-|\/|$)/, /^idb-keyval(\/|$)/, /^comlink(\/|$)/];
const FORBIDDEN_DIRECTORIES = ['ui', 'storage', 'worker', 'cli'].map((name) => join(ROOT, 'src', name));

/** Why a specifier in `file` is not allowed, or undefined. */
function forbiddenImport(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0]!)) return 'a Node module';
  if (FORBIDDEN_PACKAGES.some((pattern) => pattern.test(specifier))) return 'a UI or browser library';
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = resolve(dirname(file), specifier);
    for (const directory of FORBIDDEN_DIRECTORIES) if (target === directory || target.startsWith(directory + sep)) return `code outside the engine (${relative(ROOT, directory)})`;
    if (!(target === ENGINE || target.startsWith(ENGINE + sep))) return 'code outside src/engine';
    return undefined;
  }
  if (specifier.startsWith('src/')) return 'a path outside the engine';
  return undefined;
}

/** The source without comments and string contents, so prose and messages do not count. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, "''");
}

const FORBIDDEN_CALLS: Array<[RegExp, string]> = [
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bDate\s*\.\s*now\b/, 'Date.now'],
  [/\bnew\s+Date\s*\(/, 'new Date('],
  [/\bperformance\s*\.\s*now\b/, 'performance.now'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bqueueMicrotask\b/, 'queueMicrotask'],
  [/\brequestAnimationFrame\b/, 'requestAnimationFrame'],
  [/\bdocument\s*\./, 'document.'],
  [/\bwindow\s*\./, 'window.'],
  [/\bindexedDB\b/, 'indexedDB'],
  [/\blocalStorage\b/, 'localStorage'],
  [/\bprocess\s*\.\s*(env|hrtime|nextTick)\b/, 'process.'],
  [/\bcrypto\s*\.\s*getRandomValues\b/, 'crypto.getRandomValues'],
];

function forbiddenCalls(source: string): string[] {
  const code = codeOnly(source);
  return FORBIDDEN_CALLS.filter(([pattern]) => pattern.test(code)).map(([, name]) => name);
}

describe('the fence scanner finds what it must (so an empty result means something)', () => {
  const file = join(ENGINE, 'block', 'example.ts');

  it('flags forbidden imports of every form', () => {
    const source = [
      "import { mount } from 'svelte';",
      "import * as d3 from 'd3';",
      "import { select } from 'd3-selection';",
      "import { get } from 'idb-keyval';",
      "import { readFileSync } from 'node:fs';",
      "import path from 'path';",
      "import type { Frame } from '../../worker/protocol.js';",
      "export { createMemoryStore } from '../../storage/chunked-memory-store.js';",
      "import '../../ui/lib/palette.js';",
      "const lazy = await import('../../ui/App.svelte');",
      "import { DataRuns } from './data-runs.js';",
      "import { z } from 'zod';",
    ].join('\n');
    const flagged = moduleSpecifiers(source).filter((specifier) => forbiddenImport(file, specifier) !== undefined);
    expect(flagged).toEqual(
      expect.arrayContaining(['svelte', 'd3', 'd3-selection', 'idb-keyval', 'node:fs', 'path', '../../worker/protocol.js', '../../storage/chunked-memory-store.js', '../../ui/lib/palette.js', '../../ui/App.svelte']),
    );
    expect(flagged).not.toContain('./data-runs.js');
    expect(flagged).not.toContain('zod');
    expect(flagged).toHaveLength(10);
  });

  it('flags wall-clock time, randomness and browser globals in code, not in comments or strings', () => {
    const code = 'const t = Date.now(); const r = Math.random(); setTimeout(() => {}, 1); document.title = ""; window.x = 1; indexedDB.open("x"); performance.now();';
    expect(forbiddenCalls(code).sort()).toEqual(['Date.now', 'Math.random', 'document.', 'indexedDB', 'performance.now', 'setTimeout', 'window.'].sort());
    expect(forbiddenCalls('// never use Date.now() here\n/* nor Math.random() */\nconst text = "setTimeout is banned";')).toEqual([]);
  });
});

describe('src/engine', () => {
  const files = sourceFiles(ENGINE);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.some((file) => file.endsWith(join('replication', 'replication-node.ts')))).toBe(true);
  });

  it('imports nothing from svelte, d3, idb-keyval, src/ui, src/storage, src/worker or node:', () => {
    const violations: string[] = [];
    for (const file of files) {
      for (const specifier of moduleSpecifiers(readFileSync(file, 'utf8'))) {
        const reason = forbiddenImport(file, specifier);
        if (reason) violations.push(`${relative(ROOT, file)}: '${specifier}' is ${reason}`);
      }
    }
    expect(violations).toEqual([]);
  });

  // zod validates scenarios; jsonc-parser locates JSON syntax errors. Both are pure JavaScript.
  it('imports only its own modules, zod and jsonc-parser', () => {
    const packages = new Set<string>();
    for (const file of files) {
      // By package: zod/mini and zod's English messages are zod.
      for (const specifier of moduleSpecifiers(readFileSync(file, 'utf8'))) if (!specifier.startsWith('.')) packages.add(specifier.split('/')[0]!);
    }
    expect([...packages].sort()).toEqual(['jsonc-parser', 'zod']);
  });

  it('uses no Math.random, Date.now, performance.now, timers, document, window or indexedDB', () => {
    const violations: string[] = [];
    for (const file of files) {
      for (const name of forbiddenCalls(readFileSync(file, 'utf8'))) violations.push(`${relative(ROOT, file)}: ${name}`);
    }
    expect(violations).toEqual([]);
  });
});

describe('tsconfig.engine.json', () => {
  const config = JSON.parse(readFileSync(join(ROOT, 'tsconfig.engine.json'), 'utf8')) as {
    extends?: string;
    compilerOptions?: { lib?: string[]; types?: string[] };
    include?: string[];
  };

  it('compiles src/engine with lib ["es2022"] only: no DOM, no web worker', () => {
    expect(config.compilerOptions?.lib).toEqual(['es2022']);
    expect((config.compilerOptions?.lib ?? []).some((lib) => /dom|webworker/i.test(lib))).toBe(false);
  });

  it('brings in no ambient types (no @types/node), and covers the engine', () => {
    expect(config.compilerOptions?.types).toEqual([]);
    expect(config.include).toEqual(['src/engine/**/*.ts']);
  });

  it('the base config it extends adds no lib either', () => {
    if (!config.extends) return;
    const base = JSON.parse(readFileSync(join(ROOT, config.extends), 'utf8')) as { compilerOptions?: { lib?: string[] } };
    expect(base.compilerOptions?.lib).toBeUndefined();
  });
});
