/**
 * A scenario's step results in columns: how a frame carries them to the page and how a saved
 * page of the results list holds them.
 *
 * Why columns: structured clone (postMessage, IndexedDB's put) pays per object and per property.
 * A run of 100,000 steps made 100,000 result objects of seven or eight properties each, about
 * 16 MB cloned once into frames and once into IndexedDB: a third of the worker's time in a run to
 * the end (a CPU profile of the worker in Chromium). In columns a batch is a few typed arrays
 * (copied as one block each) and one array of strings per text field. (Interning the texts, each
 * once, cost more than it saved: most descriptions and actuals are distinct, and hashing them
 * took longer than copying them.)
 */
import type { StepResult } from '../engine/scenario/runner.js';

export interface StepResultColumns {
  readonly kind: 'step-result-columns';
  readonly index: Uint32Array;
  /** Virtual time when each step was judged, µs. */
  readonly timeUs: Float64Array;
  /** 1 passed, 0 failed. */
  readonly passed: Uint8Array;
  readonly op: readonly string[];
  /** Null where it is the scenario's own description of the step (`knownDescriptions` below). */
  readonly description: ReadonlyArray<string | null>;
  readonly expected: readonly string[];
  readonly actual: readonly string[];
  /** Null where the result has none. */
  readonly quirk: ReadonlyArray<string | null>;
  readonly value: ReadonlyArray<string | null>;
}

/**
 * `results` in columns; `decodeStepResults` with the same `knownDescriptions` gives back objects
 * equal to them (the same keys, no `undefined` ones). `knownDescriptions[i]`: the description of
 * step i that the reader has already (the page has the scenario's step list), left out of the
 * batch where the result's is the same. Throws a RangeError on an index that is not an integer
 * in [0, 2^32).
 */
export function encodeStepResults(results: readonly StepResult[], knownDescriptions: readonly string[] = []): StepResultColumns {
  const count = results.length;
  const index = new Uint32Array(count);
  const timeUs = new Float64Array(count);
  const passed = new Uint8Array(count);
  const op: string[] = new Array(count);
  const description: Array<string | null> = new Array(count);
  const expected: string[] = new Array(count);
  const actual: string[] = new Array(count);
  const quirk: Array<string | null> = new Array(count);
  const value: Array<string | null> = new Array(count);
  for (let row = 0; row < count; row++) {
    const result = results[row]!;
    if (!Number.isInteger(result.index) || result.index < 0 || result.index > 0xffff_ffff) throw new RangeError(`step index ${result.index} is not an integer in [0, 2^32)`);
    index[row] = result.index;
    timeUs[row] = result.timeUs;
    passed[row] = result.passed ? 1 : 0;
    op[row] = result.op;
    description[row] = knownDescriptions[result.index] === result.description ? null : result.description;
    expected[row] = result.expected;
    actual[row] = result.actual;
    quirk[row] = result.quirk ?? null;
    value[row] = result.value ?? null;
  }
  return { kind: 'step-result-columns', index, timeUs, passed, op, description, expected, actual, quirk, value };
}

/** The buffers of `columns`' typed arrays: a postMessage can move them instead of copying. */
export function stepResultBuffers(columns: StepResultColumns): ArrayBuffer[] {
  return [columns.index.buffer as ArrayBuffer, columns.timeUs.buffer as ArrayBuffer, columns.passed.buffer as ArrayBuffer];
}

/**
 * The results `columns` holds, oldest first; `knownDescriptions` as given to encodeStepResults.
 * Throws a TypeError when `columns` is not well formed (see isStepResultColumns), or leaves out a
 * description that `knownDescriptions` does not have.
 */
export function decodeStepResults(columns: StepResultColumns, knownDescriptions: readonly string[] = []): StepResult[] {
  if (!isStepResultColumns(columns)) throw new TypeError('not a well-formed batch of step results in columns');
  const results: StepResult[] = new Array(columns.index.length);
  for (let row = 0; row < results.length; row++) {
    const quirk = columns.quirk[row];
    const value = columns.value[row];
    const index = columns.index[row]!;
    const description = columns.description[row] ?? knownDescriptions[index];
    if (description === undefined) throw new TypeError(`the description of step ${index} is left out, and it is not known`);
    results[row] = {
      index,
      op: columns.op[row] as StepResult['op'],
      description,
      passed: columns.passed[row] === 1,
      expected: columns.expected[row]!,
      actual: columns.actual[row]!,
      ...(quirk === null ? {} : { quirk }),
      timeUs: columns.timeUs[row]!,
      ...(value === null ? {} : { value }),
    };
  }
  return results;
}

/**
 * Whether `value` is a well-formed batch of step results in columns: what a saved record must be
 * before it is decoded (a record read back from IndexedDB is only data).
 */
export function isStepResultColumns(value: unknown): value is StepResultColumns {
  if (typeof value !== 'object' || value === null) return false;
  const columns = value as Partial<Record<keyof StepResultColumns, unknown>>;
  if (columns.kind !== 'step-result-columns') return false;
  if (!(columns.index instanceof Uint32Array) || !(columns.timeUs instanceof Float64Array) || !(columns.passed instanceof Uint8Array)) return false;
  const count = columns.index.length;
  if (columns.timeUs.length !== count || columns.passed.length !== count || !columns.passed.every((flag) => flag <= 1)) return false;
  const texts = (column: unknown, orNull: boolean): boolean =>
    Array.isArray(column) && column.length === count && column.every((text) => typeof text === 'string' || (orNull && text === null));
  return texts(columns.op, false) && texts(columns.description, true) && texts(columns.expected, false) && texts(columns.actual, false) && texts(columns.quirk, true) && texts(columns.value, true);
}
