/**
 * A column of texts that repeat, as the worker sends it to the page (and saves it, for step
 * results): a table of the distinct texts and one row number per row. Structured clone copies
 * every string it meets, so "success" said 100,000 times costs 100,000 copies as strings and one
 * as a table. Also the one check both column encoders make of a step index.
 */

/** Row i's text is `table[rows[i]]`. */
export interface InternedTexts {
  readonly table: readonly string[];
  readonly rows: Uint32Array;
}

/** Distinct texts, numbered in the order first seen. */
export class TextTable {
  readonly texts: string[] = [];
  private readonly numbers = new Map<string, number>();
  private lastText: string | undefined;
  private lastNumber = 0;

  numberOf(text: string): number {
    // A text often repeats the one before (steps of one kind come in runs): no lookup then.
    if (text !== this.lastText) {
      let number = this.numbers.get(text);
      if (number === undefined) {
        number = this.texts.push(text) - 1;
        this.numbers.set(text, number);
      }
      this.lastText = text;
      this.lastNumber = number;
    }
    return this.lastNumber;
  }
}

/**
 * Whether `value` is InternedTexts of `count` rows, each naming a text of its table: what a column
 * read back from IndexedDB or a message must be before it is read.
 */
export function isInternedTexts(value: unknown, count: number): value is InternedTexts {
  if (typeof value !== 'object' || value === null) return false;
  const { table, rows } = value as Partial<Record<keyof InternedTexts, unknown>>;
  return Array.isArray(table) && table.every((text) => typeof text === 'string') && rows instanceof Uint32Array && rows.length === count && rows.every((row) => row < table.length);
}

/** `index`, checked to fit a Uint32Array's row: a RangeError for anything but an integer in [0, 2^32). */
export function checkedStepIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new RangeError(`step index ${index} is not an integer in [0, 2^32)`);
  return index;
}
