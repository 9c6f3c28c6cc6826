/**
 * Byte helpers for exact comparisons: patterns built independently of the engine, and a
 * comparison that names the first differing offset instead of dumping megabytes.
 */
import { expect } from 'vitest';
import { DataRuns } from '../../../src/engine/block/data-runs.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** `lengthBytes` bytes of `fillByte`. */
export function filled(lengthBytes: number, fillByte: number): Uint8Array {
  return new Uint8Array(lengthBytes).fill(fillByte);
}

/** Bytes that differ from one 512-byte sector to the next and inside each sector, so a misplaced copy shows. */
export function mixedBytes(lengthBytes: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  for (let index = 0; index < lengthBytes; index++) bytes[index] = (index * 7 + Math.floor(index / 512) * 13 + seed * 31 + 1) & 0xff;
  return bytes;
}

/** A copy of `bytes` wrapped as DataRuns (the engine may keep what it is given). */
export function runsOf(bytes: Uint8Array): DataRuns {
  return DataRuns.fromBytes(bytes.slice());
}

/** The first offset where the two differ, or undefined when they are byte-for-byte equal. */
export function firstDifferentOffset(actual: Uint8Array, expected: Uint8Array): number | undefined {
  const common = Math.min(actual.length, expected.length);
  for (let index = 0; index < common; index++) if (actual[index] !== expected[index]) return index;
  return actual.length === expected.length ? undefined : common;
}

/** Asserts byte-for-byte equality; on failure the message says where and what. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const offset = firstDifferentOffset(actual, expected);
  const detail =
    offset === undefined
      ? 'equal'
      : `${what}: first difference at offset ${offset} (got ${hex(actual[offset])}, expected ${hex(expected[offset])}; lengths ${actual.length} / ${expected.length})`;
  expect(detail).toBe('equal');
}

function hex(value: number | undefined): string {
  return value === undefined ? 'nothing' : `0x${value.toString(16).padStart(2, '0')}`;
}

/** A plain byte array model of a disk, written with the same ranges as the engine. */
export class DiskModel {
  readonly bytes: Uint8Array;
  constructor(sizeBytes: number) {
    this.bytes = new Uint8Array(sizeBytes);
  }
  fill(offsetBytes: number, lengthBytes: number, fillByte: number): void {
    this.bytes.fill(fillByte, offsetBytes, offsetBytes + lengthBytes);
  }
  set(offsetBytes: number, data: Uint8Array): void {
    this.bytes.set(data, offsetBytes);
  }
  range(offsetBytes: number, lengthBytes: number): Uint8Array {
    return this.bytes.slice(offsetBytes, offsetBytes + lengthBytes);
  }
  clone(): DiskModel {
    const copy = new DiskModel(this.bytes.length);
    copy.bytes.set(this.bytes);
    return copy;
  }
}

/** Asserts that every byte is `fillByte`; on failure the message names the first other byte. */
export function expectEveryByte(actual: Uint8Array, fillByte: number, what: string): void {
  const offset = actual.findIndex((byte) => byte !== fillByte);
  const detail = offset < 0 ? 'every byte' : `${what}: byte ${hex(actual[offset])} at offset ${offset}, expected ${hex(fillByte)}`;
  expect(detail).toBe('every byte');
}
