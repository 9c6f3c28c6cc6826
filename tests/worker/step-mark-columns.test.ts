/**
 * The timeline's marks in columns (what `timelineMarks` sends the page): any batch decodes to
 * marks equal to the ones encoded; the columns survive a postMessage that moves their buffers;
 * malformed columns are refused, not half-read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notesOfMask, TIMELINE_NOTES } from '../../src/engine/timeline/notes.js';
import type { StepMark } from '../../src/engine/timeline/timeline.js';
import { decodeStepMarks, encodeStepMarks, stepMarkBuffers } from '../../src/worker/step-mark-columns.js';

const OPS = ['colo-start', 'guest-write', 'read', 'checkpoint', 'failover', 'run', 'qmp'] as const;

// fc.record may make objects without a prototype; marks are plain objects.
const stepMark: fc.Arbitrary<StepMark> = fc
  .record({
  index: fc.nat({ max: 0xffff_ffff }),
  op: fc.constantFrom(...OPS),
  endUs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e15, noNaN: true })),
  eventEnd: fc.nat(),
  entriesEnd: fc.nat(),
  passed: fc.boolean(),
  notes: fc.subarray([...TIMELINE_NOTES]),
  })
  .map((mark) => ({ ...mark }));

describe('step marks in columns', () => {
  it('decode to marks equal to those encoded', () => {
    fc.assert(
      fc.property(fc.array(stepMark, { maxLength: 60 }), (marks) => {
        expect(decodeStepMarks(encodeStepMarks(marks))).toStrictEqual(marks);
      }),
    );
  });

  it('keep a table of the step kinds, not one string per mark', () => {
    const marks: StepMark[] = Array.from({ length: 1000 }, (_, index) => ({ index, op: index % 2 ? 'guest-write' : 'read', endUs: index, eventEnd: index, entriesEnd: index, passed: true, notes: [] }));
    const { op } = encodeStepMarks(marks);
    expect(op.table).toEqual(['read', 'guest-write']);
    expect(Array.from(op.rows.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });

  it('arrive whole after a postMessage that moves their buffers', () => {
    const marks = fc.sample(stepMark, { numRuns: 50, seed: 7 });
    const columns = encodeStepMarks(marks);
    const arrived = structuredClone(columns, { transfer: stepMarkBuffers(columns) });
    expect(columns.endUs.length, 'the sender no longer has the buffers').toBe(0);
    expect(decodeStepMarks(arrived)).toStrictEqual(marks);
  });

  it('give marks with the same notes one shared notes array', () => {
    const mark = (index: number): StepMark => ({ index, op: 'checkpoint', endUs: 0, eventEnd: 0, entriesEnd: 0, passed: true, notes: ['checkpoint', 'error'] });
    const [first, second] = decodeStepMarks(encodeStepMarks([mark(0), mark(1)]));
    expect(first!.notes).toBe(second!.notes);
    expect(Object.isFrozen(first!.notes)).toBe(true);
    expect(notesOfMask(0b101)).toEqual(['checkpoint', 'error']);
    expect(() => notesOfMask(64)).toThrow(RangeError);
  });

  it('refuse what they cannot carry, and columns that do not agree', () => {
    const mark: StepMark = { index: 0, op: 'read', endUs: 0, eventEnd: 0, entriesEnd: 0, passed: true, notes: [] };
    expect(() => encodeStepMarks([{ ...mark, index: -1 }])).toThrow(RangeError);
    expect(() => encodeStepMarks([{ ...mark, notes: ['lunch' as never] }])).toThrow('"lunch" is not a timeline note');
    const columns = encodeStepMarks([mark, { ...mark, index: 1 }]);
    expect(() => decodeStepMarks({ ...columns, passed: new Uint8Array(1) })).toThrow('a column of step marks has 1 rows, not 2');
    expect(() => decodeStepMarks({ ...columns, op: { table: [], rows: columns.op.rows } })).toThrow('the step kinds of the marks name rows outside their table of 0');
    expect(() => decodeStepMarks({ ...columns, op: { table: ['read'], rows: new Uint32Array(1) } })).toThrow('a column of step marks has 1 rows, not 2');
  });
});
