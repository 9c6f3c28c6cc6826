/**
 * Converting in-flight state to plain data and back: a saved simulation may hold requests in
 * flight, whose state carries DataRuns (the bytes of a write on the wire, the result of a read
 * a quorum is still gathering). Everything else in such state is already plain data.
 *
 * The encoding is structured-clone friendly (IndexedDB stores it as is): a DataRuns becomes
 * `{ $dataRuns: [[lengthBytes, fillByte] | [lengthBytes, Uint8Array], ...] }`.
 */
import { DataRuns, DataRunsBuilder } from './data-runs.js';

export type SavedRun = readonly [lengthBytes: number, fillByteOrBytes: number | Uint8Array];

export type SavedData = null | boolean | number | string | Uint8Array | { readonly $dataRuns: readonly SavedRun[] } | readonly SavedData[] | { readonly [key: string]: SavedData };

/** Deep-copies `value` into plain data, DataRuns encoded. `undefined` members are dropped. Throws on functions and class instances other than DataRuns and Uint8Array. */
export function encodeData(value: unknown): SavedData {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (value instanceof DataRuns) return { $dataRuns: value.runs.map((run): SavedRun => (run.bytes ? [run.lengthBytes, run.bytes.slice()] : [run.lengthBytes, run.fillByte])) };
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map((item) => encodeData(item));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, SavedData> = {};
    const record = value as Record<string, unknown>;
    // for-in, not Object.entries: a plain object has no inherited enumerable keys, and the
    // entries' arrays were most of what a keyframe's snapshot allocated.
    for (const key in record) {
      const member = record[key];
      if (member !== undefined) out[key] = encodeData(member);
    }
    return out;
  }
  throw new TypeError(`cannot save a value of type ${typeof value === 'object' ? (value as object).constructor.name : typeof value}`);
}

/** The inverse of encodeData; the result shares nothing with `saved`. */
export function decodeData(saved: SavedData): unknown {
  if (saved === null || typeof saved !== 'object') return saved;
  if (saved instanceof Uint8Array) return saved.slice();
  if (Array.isArray(saved)) return saved.map((item: SavedData) => decodeData(item));
  const record = saved as { readonly [key: string]: SavedData };
  if ('$dataRuns' in record) {
    const builder = new DataRunsBuilder();
    for (const [lengthBytes, content] of record.$dataRuns as readonly SavedRun[]) {
      if (typeof content === 'number') builder.appendFill(lengthBytes, content);
      else builder.appendBytes(content.slice());
    }
    return builder.build();
  }
  const out: Record<string, unknown> = {};
  for (const key in record) out[key] = decodeData(record[key]!);
  return out;
}

/** A deep copy of plain data (objects, arrays, numbers, strings, booleans, null, DataRuns, bytes). */
export function clonePlain<T>(value: T): T {
  return decodeData(encodeData(value)) as T;
}
