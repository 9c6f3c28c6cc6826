/**
 * Step results in columns (frames and saved results pages): any batch decodes to results equal
 * to the ones encoded, key for key; a malformed record is refused, not half-read; a results list
 * saved in columns, or as arrays by an earlier release, loads back the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/engine/scenario/runner.js';
import { MemoryDatabase, MemoryPersistence } from '../../src/storage/memory-persistence.js';
import { PagedLog } from '../../src/worker/paged-log.js';
import { RESULTS_LOG, resultPagesOf, sortRecords } from '../../src/worker/saved-session.js';
import { decodeStepResults, encodeStepResults, isStepResultColumns, stepResultBuffers } from '../../src/worker/step-result-columns.js';

const OPS = ['guest-write', 'read', 'checkpoint', 'ask', 'task', 'qmp'] as const;

const stepResult: fc.Arbitrary<StepResult> = fc
  .record(
    {
      index: fc.nat({ max: 0xffff_ffff }),
      op: fc.constantFrom(...OPS),
      description: fc.string({ unit: 'grapheme' }),
      passed: fc.boolean(),
      expected: fc.constantFrom('success', 'every byte 0x80', ''),
      actual: fc.oneof(fc.constantFrom('success', 'every byte 0x80'), fc.string()),
      quirk: fc.string(),
      timeUs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e15, noNaN: true })),
      value: fc.string(),
    },
    { requiredKeys: ['index', 'op', 'description', 'passed', 'expected', 'actual', 'timeUs'] },
  )
  .map((result) => ({ ...result }) as StepResult);

describe('step results in columns', () => {
  it('decode to results equal to those encoded, with no key added or lost', () => {
    fc.assert(
      fc.property(fc.array(stepResult, { maxLength: 60 }), (results) => {
        const decoded = decodeStepResults(encodeStepResults(results));
        expect(decoded).toStrictEqual(results);
        decoded.forEach((result, row) => expect(Object.keys(result).sort()).toEqual(Object.keys(results[row]!).sort()));
      }),
      { numRuns: 300 },
    );
  });

  it('leave out the descriptions the reader knows, and only those', () => {
    fc.assert(
      fc.property(fc.array(stepResult, { maxLength: 30 }), fc.array(fc.oneof(fc.string(), fc.constant('same')), { maxLength: 40 }), (drawn, known) => {
        // Some results describe their step as the reader's list does, some do not.
        const results = drawn.map((result, row) => ({ ...result, index: row, description: row % 2 === 0 && known[row] !== undefined ? known[row]! : result.description }));
        const columns = encodeStepResults(results, known);
        results.forEach((result, row) => expect(columns.description[row]).toBe(known[row] === result.description ? null : result.description));
        expect(decodeStepResults(columns, known)).toStrictEqual(results);
      }),
      { numRuns: 200 },
    );
    const columns = encodeStepResults([{ index: 0, op: 'read', description: 'read', passed: true, expected: '', actual: '', timeUs: 0 }], ['read']);
    expect(() => decodeStepResults(columns)).toThrow('the description of step 0 is left out, and it is not known');
  });

  it('survive a structured clone that moves their buffers', () => {
    const results: StepResult[] = Array.from({ length: 500 }, (_, index) => ({
      index,
      op: 'guest-write',
      description: `primary VM writes 0x${(index % 7).toString(16)}`,
      passed: index !== 3,
      expected: 'success',
      actual: index === 3 ? 'I/O error' : 'success',
      ...(index === 9 ? { quirk: 'QEMU 7.2 does this' } : {}),
      timeUs: index * 1000,
    }));
    const columns = encodeStepResults(results);
    const moved = structuredClone(columns, { transfer: stepResultBuffers(columns) });
    expect(columns.index.length).toBe(0);
    expect(decodeStepResults(moved)).toStrictEqual(results);
  });

  it('keep each repeated text once: the step kinds, the expectations and the outcomes', () => {
    const results: StepResult[] = Array.from({ length: 300 }, (_, index) => ({
      index,
      op: index % 3 === 0 ? 'read' : 'guest-write',
      description: `step ${index}`,
      passed: index !== 7,
      expected: index % 3 === 0 ? `every byte 0x${(index % 5).toString(16).padStart(2, '0')}` : 'success',
      actual: index === 7 ? 'I/O error' : index % 3 === 0 ? `every byte 0x${(index % 5).toString(16).padStart(2, '0')}` : 'success',
      timeUs: index,
    }));
    const columns = encodeStepResults(results);
    const interned = (column: unknown) => column as { table: string[]; rows: Uint32Array };
    expect(interned(columns.op).table).toEqual(['read', 'guest-write']);
    // The expectations and the outcomes share one table.
    expect(interned(columns.expected).table).toEqual(['every byte 0x00', 'success', 'every byte 0x03', 'every byte 0x01', 'I/O error', 'every byte 0x04', 'every byte 0x02']);
    expect(interned(columns.actual).table).toBe(interned(columns.expected).table);
    expect(decodeStepResults(columns)).toStrictEqual(results);
  });

  it('read a batch saved with one string per row, as the release before interned texts saved them', () => {
    fc.assert(
      fc.property(fc.array(stepResult, { maxLength: 30 }), (results) => {
        const columns = encodeStepResults(results);
        const perRow = (column: unknown) => Array.from((column as { rows: Uint32Array }).rows, (row) => (column as { table: string[] }).table[row]!);
        const older = { ...columns, op: perRow(columns.op), expected: perRow(columns.expected), actual: perRow(columns.actual) };
        expect(isStepResultColumns(older)).toBe(true);
        expect(decodeStepResults(older)).toStrictEqual(results);
      }),
      { numRuns: 100 },
    );
  });

  it('refuse a record that is not well formed', () => {
    const good = encodeStepResults([{ index: 4, op: 'read', description: 'read', passed: true, expected: 'a', actual: 'a', quirk: 'q', timeUs: 1 }]);
    expect(isStepResultColumns(good)).toBe(true);
    const broken: Array<[string, unknown]> = [
      ['not an object', 'step-result-columns'],
      ['another kind', { ...good, kind: 'columns' }],
      ['a text that is not a string', { ...good, actual: [5] }],
      ['a missing text', { ...good, expected: [null] }],
      ['a column of another type', { ...good, index: Array.from(good.index) }],
      ['a column of another length', { ...good, timeUs: new Float64Array(2) }],
      ['a text column of another length', { ...good, description: ['read', 'read'] }],
      ['an optional text that is not a string', { ...good, quirk: [1] }],
      ['a flag other than 0 or 1', { ...good, passed: Uint8Array.of(2) }],
      ['an interned text past its table', { ...good, expected: { table: ['a'], rows: Uint32Array.of(1) } }],
      ['an interned table with a number', { ...good, actual: { table: [5], rows: Uint32Array.of(0) } }],
      ['interned rows of another length', { ...good, op: { table: ['read'], rows: new Uint32Array(2) } }],
      ['interned rows of another type', { ...good, op: { table: ['read'], rows: [0] } }],
    ];
    for (const [what, value] of broken) {
      expect(isStepResultColumns(value), what).toBe(false);
      expect(() => decodeStepResults(value as never), what).toThrow(TypeError);
    }
  });

  it('refuse to encode a step index that is not an integer in [0, 2^32)', () => {
    const result: StepResult = { index: -1, op: 'read', description: '', passed: true, expected: '', actual: '', timeUs: 0 };
    expect(() => encodeStepResults([result])).toThrow(RangeError);
    expect(() => encodeStepResults([{ ...result, index: 1.5 }])).toThrow(RangeError);
    expect(() => encodeStepResults([{ ...result, index: 2 ** 32 }])).toThrow(RangeError);
  });

  it('a results list saved in columns (leaving out the known descriptions), and one saved as arrays before, load back the same', async () => {
    const results: StepResult[] = Array.from({ length: 21 }, (_, index) => ({ index, op: 'read', description: `read ${index}`, passed: index % 5 !== 0, expected: 'every byte 0x01', actual: index % 5 === 0 ? 'every byte 0x00' : 'every byte 0x01', timeUs: index * 10 }));
    // The scenario describes every step but the seventh as its result does.
    const known = results.map((result) => (result.index === 6 ? 'read, as the file says' : result.description));
    for (const encodePage of [(items: StepResult[]) => encodeStepResults(items, known), undefined]) {
      const persistence = new MemoryPersistence(new MemoryDatabase());
      const log = new PagedLog<StepResult>(RESULTS_LOG, 8, Number.POSITIVE_INFINITY, encodePage);
      log.push(...results.slice(0, 13));
      let pending = log.takeChanges();
      await persistence.save(pending.changes);
      pending.committed();
      log.push(...results.slice(13));
      pending = log.takeChanges();
      await persistence.save(pending.changes);
      pending.committed();
      const saved = sortRecords(await persistence.loadAll());
      const pages = saved.pages.get(RESULTS_LOG)!;
      expect([...pages.keys()].sort()).toEqual([0, 1, 2]);
      if (encodePage) {
        const firstPage = pages.get(0) as unknown as { description: Array<string | null> };
        expect(firstPage.description).toStrictEqual([null, null, null, null, null, null, 'read 6', null]);
        expect(() => resultPagesOf(saved.pages, [])).toThrow('the description of step 0 is left out, and it is not known');
      }
      const loaded = PagedLog.loaded<StepResult>(RESULTS_LOG, 8, Number.POSITIVE_INFINITY, log.state, resultPagesOf(saved.pages, known), encodePage);
      expect(loaded.kept).toStrictEqual(results);
    }
  });
});
