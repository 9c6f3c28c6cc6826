/**
 * The timeline's step marks in columns: how `timelineMarks` carries them to the page.
 *
 * Why columns: structured clone pays per object and per property. The marks of a 100,000-step
 * run went to the page as 100,000 objects with a notes array each (11 MB as JSON); cloning them
 * for postMessage took a tenth of the worker's time in a run to the end (a CPU profile of the
 * worker in Chromium). In columns a batch is a few typed arrays, moved rather than copied, and a
 * table of the few step kinds (InternedTexts). The columns are only sent, never saved: their
 * form can change with the page that reads them.
 */
import { TIMELINE_NOTES, notesOfMask, type TimelineNote } from '../engine/timeline/notes.js';
import type { StepMark } from '../engine/timeline/timeline.js';
import { checkedStepIndex, isInternedTexts, TextTable, type InternedTexts } from './interned-texts.js';

export interface StepMarkColumns {
  readonly kind: 'step-mark-columns';
  /** 0-based step index of each mark. */
  readonly index: Uint32Array;
  /** Each mark's step kind. */
  readonly op: InternedTexts;
  /** Virtual time after each step, µs. */
  readonly endUs: Float64Array;
  readonly eventEnd: Float64Array;
  readonly entriesEnd: Float64Array;
  /** 1 passed, 0 failed. */
  readonly passed: Uint8Array;
  /** Bit i set: TIMELINE_NOTES[i] is among the mark's notes. */
  readonly notes: Uint8Array;
}

/**
 * `marks` in columns; decodeStepMarks gives back marks equal to them (notes in TIMELINE_NOTES'
 * order, as the timeline lists them). Throws a RangeError on an index that is not an integer in
 * [0, 2^32) or a note that is not a TimelineNote.
 */
export function encodeStepMarks(marks: readonly StepMark[]): StepMarkColumns {
  const count = marks.length;
  const index = new Uint32Array(count);
  const opTexts = new TextTable();
  const opRows = new Uint32Array(count);
  const endUs = new Float64Array(count);
  const eventEnd = new Float64Array(count);
  const entriesEnd = new Float64Array(count);
  const passed = new Uint8Array(count);
  const notes = new Uint8Array(count);
  for (let row = 0; row < count; row++) {
    const mark = marks[row]!;
    index[row] = checkedStepIndex(mark.index);
    opRows[row] = opTexts.numberOf(mark.op);
    endUs[row] = mark.endUs;
    eventEnd[row] = mark.eventEnd;
    entriesEnd[row] = mark.entriesEnd;
    passed[row] = mark.passed ? 1 : 0;
    notes[row] = mark.notes.length === 0 ? 0 : maskOfNotes(mark.notes);
  }
  return { kind: 'step-mark-columns', index, op: { table: opTexts.texts, rows: opRows }, endUs, eventEnd, entriesEnd, passed, notes };
}

/** The buffers of `columns`' typed arrays: a postMessage can move them instead of copying. */
export function stepMarkBuffers(columns: StepMarkColumns): ArrayBuffer[] {
  return [columns.index, columns.op.rows, columns.endUs, columns.eventEnd, columns.entriesEnd, columns.passed, columns.notes].map((array) => array.buffer as ArrayBuffer);
}

/**
 * The marks `columns` holds, in order. Marks with the same notes share one frozen notes array.
 * Throws a TypeError when the columns' lengths differ or a step kind's row is outside its table.
 */
export function decodeStepMarks(columns: StepMarkColumns): StepMark[] {
  const count = columns.index.length;
  for (const column of [columns.op.rows, columns.endUs, columns.eventEnd, columns.entriesEnd, columns.passed, columns.notes]) {
    if (column.length !== count) throw new TypeError(`a column of step marks has ${column.length} rows, not ${count}`);
  }
  const tableLength = columns.op.table.length;
  if (!isInternedTexts(columns.op, count)) throw new TypeError(`the step kinds of the marks name rows outside their table of ${tableLength}`);
  const ops = columns.op.table as readonly StepMark['op'][];
  const marks: StepMark[] = new Array(count);
  for (let row = 0; row < count; row++) {
    marks[row] = {
      index: columns.index[row]!,
      op: ops[columns.op.rows[row]!]!,
      endUs: columns.endUs[row]!,
      eventEnd: columns.eventEnd[row]!,
      entriesEnd: columns.entriesEnd[row]!,
      passed: columns.passed[row] === 1,
      notes: notesOfMask(columns.notes[row]!),
    };
  }
  return marks;
}

function maskOfNotes(notes: readonly TimelineNote[]): number {
  let mask = 0;
  for (const note of notes) {
    const bit = TIMELINE_NOTES.indexOf(note);
    if (bit < 0) throw new RangeError(`${JSON.stringify(note)} is not a timeline note`);
    mask |= 1 << bit;
  }
  return mask;
}
