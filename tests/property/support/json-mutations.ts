/**
 * Mutations of JSON documents for fuzzing the scenario validator: delete keys, change types,
 * insert unknown or prototype-polluting keys, put arrays where objects were, nest deeply,
 * swap in hostile values. Keys are always set with defineProperty, so "__proto__" becomes an
 * own property (as JSON.parse makes it) and never changes a prototype.
 */
import fc from 'fast-check';

export type JsonPath = ReadonlyArray<string | number>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy that keeps "__proto__" as an ordinary own key (iterative: values may nest thousands deep). */
export function cloneJson(value: unknown): unknown {
  const copyShell = (original: unknown): unknown => (Array.isArray(original) ? new Array<unknown>(original.length) : isObject(original) ? {} : original);
  const root = copyShell(value);
  const stack: Array<[unknown, unknown]> = [[value, root]];
  while (stack.length > 0) {
    const [original, copy] = stack.pop()!;
    if (Array.isArray(original)) {
      original.forEach((item, index) => {
        const itemCopy = copyShell(item);
        (copy as unknown[])[index] = itemCopy;
        stack.push([item, itemCopy]);
      });
    } else if (isObject(original)) {
      for (const key of Object.keys(original)) {
        const itemCopy = copyShell(original[key]);
        setOwn(copy as Record<string, unknown>, key, itemCopy);
        stack.push([original[key], itemCopy]);
      }
    }
  }
  return root;
}

/** How deeply arrays and objects nest in `value` (iteratively: the value may be very deep). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (Array.isArray(current)) for (const item of current) stack.push([item, depth + 1]);
    else if (isObject(current)) for (const key of Object.keys(current)) stack.push([current[key], depth + 1]);
  }
  return deepest;
}

/** Paths deeper than this are not offered to mutations (deeply nested values stay as they are). */
const MAX_MUTATION_DEPTH = 64;

/** Every path in the document down to MAX_MUTATION_DEPTH, the root ([]) first. */
export function allPaths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (prefix.length >= MAX_MUTATION_DEPTH) return out;
  if (Array.isArray(value)) value.forEach((item, index) => allPaths(item, [...prefix, index], out));
  else if (isObject(value)) for (const key of Object.keys(value)) allPaths(value[key], [...prefix, key], out);
  return out;
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let value = root;
  for (const part of path) value = Array.isArray(value) ? value[part as number] : isObject(value) ? value[part as string] : undefined;
  return value;
}

/** Replaces the value at `path` (the root when empty) and returns the new root. */
function replaceAt(root: unknown, path: JsonPath, replacement: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replacement(root);
  const parent = valueAt(root, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) parent[key as number] = replacement(parent[key as number]);
  else if (isObject(parent)) setOwn(parent, key as string, replacement(parent[key as string]));
  return root;
}

export type Mutation =
  | { readonly kind: 'delete'; readonly pathIndex: number }
  | { readonly kind: 'replace'; readonly pathIndex: number; readonly value: unknown }
  | { readonly kind: 'insert-key'; readonly pathIndex: number; readonly key: string; readonly value: unknown }
  | { readonly kind: 'change-type'; readonly pathIndex: number }
  | { readonly kind: 'array-for-object'; readonly pathIndex: number }
  | { readonly kind: 'wrap-in-array'; readonly pathIndex: number }
  | { readonly kind: 'nest-deeply'; readonly pathIndex: number; readonly depth: number; readonly asArrays: boolean }
  | { readonly kind: 'duplicate-element'; readonly pathIndex: number };

/** The same value with another JSON type: numbers become strings, strings numbers, and so on. */
function changeType(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value === '' ? 0 : Number.isNaN(Number(value)) ? [value] : Number(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (value === null) return {};
  if (Array.isArray(value)) return value.length > 0 ? value[0] : null;
  if (isObject(value)) return Object.keys(value).length;
  return null;
}

export function applyMutation(document: unknown, mutation: Mutation): unknown {
  const paths = allPaths(document);
  const path = paths[mutation.pathIndex % paths.length]!;
  switch (mutation.kind) {
    case 'delete': {
      if (path.length === 0) return undefined;
      const parent = valueAt(document, path.slice(0, -1));
      const key = path[path.length - 1]!;
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (isObject(parent)) delete parent[key as string];
      return document;
    }
    case 'replace':
      return replaceAt(document, path, () => cloneJson(mutation.value));
    case 'insert-key': {
      const target = valueAt(document, path);
      if (isObject(target)) setOwn(target, mutation.key, cloneJson(mutation.value));
      else if (Array.isArray(target)) target.push(cloneJson(mutation.value));
      return document;
    }
    case 'change-type':
      return replaceAt(document, path, changeType);
    case 'array-for-object':
      return replaceAt(document, path, (old) => (isObject(old) ? Object.values(old) : Array.isArray(old) ? Object.fromEntries(old.map((item, index) => [String(index), item])) : old));
    case 'wrap-in-array':
      return replaceAt(document, path, (old) => [old]);
    case 'nest-deeply':
      // One deep nesting per document is enough, and keeps the fuzzer itself off the stack limit.
      if (nestingDepth(document) > MAX_MUTATION_DEPTH) return document;
      return replaceAt(document, path, (old) => {
        let value = old;
        for (let level = 0; level < mutation.depth; level++) value = mutation.asArrays ? [value] : { nested: value };
        return value;
      });
    case 'duplicate-element': {
      const target = valueAt(document, path);
      if (Array.isArray(target) && target.length > 0) target.push(cloneJson(target[target.length - 1]));
      return document;
    }
  }
}

// ---- arbitraries -------------------------------------------------------------------------------

/** Keys a hostile or careless author might write, prototype-polluting ones included. */
export const nastyKeyArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '', ' ', 'op', 'steps', 'setup', 'expect', 'Format', 'format '),
  fc.string({ maxLength: 12 }),
);

/** Values aimed at the validator's parsers: sizes, durations, patterns, numbers at the edges. */
export const nastyValueArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    // numbers at the edges (NaN, Infinity and -0 only reach validateScenarioDocument: JSON has none)
    0, -0, -1, 0.5, 511, 513, 1e-7, 1e21, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 4 * 1024 ** 3, 4 * 1024 ** 3 + 512, NaN, Infinity, -Infinity,
    // NaN-like and unit strings
    'NaN', 'Infinity', '-Infinity', 'nan', '1e999', '-0', '0x', '0x100', '0xGG', '0X11', '0x011', '64Q', '64k', ' 64K', '64K ', '1.5K', '99999999999999999999G', '9'.repeat(400), '\u0661\u0662',
    '1ms', '0us', '-1ms', '1.0000001us', '1e3ms', '1.5us', '999999999999999999999s', 'idle', 'busy',
    // names and enums
    'primary', 'secondary', 'tertiary', 'colo-disk', 'replication-secondary', 'no-such-node', '__proto__', 'constructor', '', ' ', '\u0000', '\ud800',
    true, false, null, [], {},
  ),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.double(),
  fc.integer(),
);

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pathIndex: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), pathIndex: fc.nat(), value: nastyValueArbitrary }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert-key' as const), pathIndex: fc.nat(), key: nastyKeyArbitrary, value: nastyValueArbitrary }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('change-type' as const), pathIndex: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('array-for-object' as const), pathIndex: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap-in-array' as const), pathIndex: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('nest-deeply' as const), pathIndex: fc.nat(), depth: fc.integer({ min: 2, max: 3000 }), asArrays: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-element' as const), pathIndex: fc.nat() }) },
);

/** Text-level damage: cut it short, splice in junk, flip a character. */
export type TextMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'replace-char'; readonly at: number; readonly char: string };

export const textMutationArbitrary: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(',', '}', ']', '{', '[', '"', '\\', '//', '/*', 'NaN', 'Infinity', '\ufeff', '"__proto__":{},', ',"x":1', '\n')),
  }),
  fc.record({ kind: fc.constant('replace-char' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
);

export function applyTextMutation(text: string, mutation: TextMutation): string {
  const at = text.length === 0 ? 0 : mutation.at % (text.length + 1);
  switch (mutation.kind) {
    case 'truncate':
      return text.slice(0, at);
    case 'insert':
      return text.slice(0, at) + mutation.text + text.slice(at);
    case 'replace-char':
      return text.slice(0, at) + mutation.char + text.slice(at + 1);
  }
}
