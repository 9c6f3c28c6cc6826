/**
 * A scenario's step results in columns: how a frame carries them to the page and how a saved
 * page of the results list holds them.
 *
 * Why columns: structured clone (postMessage, IndexedDB's put) pays per object and per property.
 * A run of 100,000 steps made 100,000 result objects of seven or eight properties each, about
 * 16 MB cloned once into frames and once into IndexedDB: a third of the worker's time in a run to
 * the end (a CPU profile of the worker in Chromium). In columns a batch is a few typed arrays
 * (copied as one block each) and one array of strings per text field. The step kind, the
 * expectation and the actual outcome repeat from step to step ("success", "every byte 0x18"), so
 * each is a table of distinct texts and a row number per result (InternedTexts): a clone
 * copies every string it meets, and these three were about 550 KB (as JSON) of a 15,000-result
 * frame. The descriptions are not interned: most are distinct (or left out, see below), and
 * hashing them cost more than copying them.
 */
import type { StepResult } from '../engine/scenario/runner.js';
import { checkedStepIndex, isInternedTexts, TextTable, type InternedTexts } from './interned-texts.js';

/** A column of texts as written: interned, or (results pages saved by an earlier release) one string per row. */
export type TextColumn = InternedTexts | readonly string[];

export interface StepResultColumns {
  readonly kind: 'step-result-columns';
  readonly index: Uint32Array;
  /** Virtual time when each step was judged, µs. */
  readonly timeUs: Float64Array;
  /** 1 passed, 0 failed. */
  readonly passed: Uint8Array;
  readonly op: TextColumn;
  /** Null where it is the scenario's own description of the step (`knownDescriptions` below). */
  readonly description: ReadonlyArray<string | null>;
  readonly expected: TextColumn;
  readonly actual: TextColumn;
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
  const opTexts = new TextTable();
  const opRows = new Uint32Array(count);
  // One table for the expectations and the outcomes: a step that passed mostly observed what it
  // expected, and then both rows point at one text without a lookup.
  const outcomeTexts = new TextTable();
  const expectedRows = new Uint32Array(count);
  const actualRows = new Uint32Array(count);
  const description: Array<string | null> = new Array(count);
  const quirk: Array<string | null> = new Array(count);
  const value: Array<string | null> = new Array(count);
  for (let row = 0; row < count; row++) {
    const result = results[row]!;
    index[row] = checkedStepIndex(result.index);
    timeUs[row] = result.timeUs;
    passed[row] = result.passed ? 1 : 0;
    opRows[row] = opTexts.numberOf(result.op);
    description[row] = knownDescriptions[result.index] === result.description ? null : result.description;
    const expected = outcomeTexts.numberOf(result.expected);
    expectedRows[row] = expected;
    actualRows[row] = result.actual === result.expected ? expected : outcomeTexts.numberOf(result.actual);
    quirk[row] = result.quirk ?? null;
    value[row] = result.value ?? null;
  }
  return {
    kind: 'step-result-columns',
    index,
    timeUs,
    passed,
    op: { table: opTexts.texts, rows: opRows },
    description,
    expected: { table: outcomeTexts.texts, rows: expectedRows },
    actual: { table: outcomeTexts.texts, rows: actualRows },
    quirk,
    value,
  };
}

/** The buffers of `columns`' typed arrays: a postMessage can move them instead of copying. */
export function stepResultBuffers(columns: StepResultColumns): ArrayBuffer[] {
  const interned = [columns.op, columns.expected, columns.actual].flatMap((column) => (isInterned(column) ? [column.rows] : []));
  return [columns.index, columns.timeUs, columns.passed, ...interned].map((array) => array.buffer as ArrayBuffer);
}

function isInterned(column: TextColumn): column is InternedTexts {
  return !Array.isArray(column);
}

/** Row `row`'s text (the column is well formed: isStepResultColumns). */
function textAt(column: TextColumn, row: number): string {
  return isInterned(column) ? column.table[column.rows[row]!]! : (column as readonly string[])[row]!;
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
      op: textAt(columns.op, row) as StepResult['op'],
      description,
      passed: columns.passed[row] === 1,
      expected: textAt(columns.expected, row),
      actual: textAt(columns.actual, row),
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
  const interned = (column: unknown): boolean => (Array.isArray(column) ? texts(column, false) : isInternedTexts(column, count));
  return interned(columns.op) && texts(columns.description, true) && interned(columns.expected) && interned(columns.actual) && texts(columns.quirk, true) && texts(columns.value, true);
}
