/**
 * Disk contents at sector granularity, for the property tests' reference model.
 *
 * Every write in the random traces is 512-byte aligned and fills each 512-byte sector with one
 * byte (a pattern byte, or a pattern that steps by a fixed amount from one sector to the next).
 * Copy-before-write, qcow2 copy-on-write, make_empty and the active commit all move whole
 * clusters or granules, which are whole sectors. So every sector of every disk always holds one
 * repeated byte, and a plain Uint8Array with one byte per sector describes a disk exactly.
 *
 * `sectorsOf` turns what the engine returns into that form and fails if a sector is not
 * uniform, so comparing sector arrays still compares every byte exactly.
 */
import type { DataRuns } from '../../../src/engine/block/data-runs.js';

export const SECTOR_BYTES = 512;

export class NonUniformSectorError extends Error {}

/** One byte per sector of `data`, which must be a whole number of uniform sectors. */
export function sectorsOf(data: DataRuns, what: string): Uint8Array {
  if (data.lengthBytes % SECTOR_BYTES !== 0) {
    throw new NonUniformSectorError(`${what}: ${data.lengthBytes} bytes is not a whole number of sectors`);
  }
  const sectors = new Uint8Array(data.lengthBytes / SECTOR_BYTES);
  let positionBytes = 0;
  for (const run of data.runs) {
    const startBytes = positionBytes;
    const endBytes = startBytes + run.lengthBytes;
    positionBytes = endBytes;
    if (run.bytes === undefined) {
      // A run of one repeated byte; its ends must fall on sector boundaries unless the
      // neighbouring run continues the sector with the same byte (the builder merges equal
      // neighbours, so a boundary inside a sector always means two different bytes).
      if (startBytes % SECTOR_BYTES !== 0 || endBytes % SECTOR_BYTES !== 0) {
        throw new NonUniformSectorError(`${what}: a run of byte ${run.fillByte} spans [${startBytes}, ${endBytes}), not whole sectors`);
      }
      sectors.fill(run.fillByte, startBytes / SECTOR_BYTES, endBytes / SECTOR_BYTES);
      continue;
    }
    if (startBytes % SECTOR_BYTES !== 0 || endBytes % SECTOR_BYTES !== 0) {
      throw new NonUniformSectorError(`${what}: literal bytes span [${startBytes}, ${endBytes}), not whole sectors`);
    }
    const bytes = run.bytes;
    // Compare 32-bit words when the bytes are aligned (they are when the store hands out a
    // copy of a chunk): a sector is uniform iff all its words equal the first byte repeated.
    const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : undefined;
    for (let sectorStart = 0; sectorStart < bytes.length; sectorStart += SECTOR_BYTES) {
      const value = bytes[sectorStart]!;
      if (!(words ? wordsAreUniform(words, sectorStart / 4, value) : bytesAreUniform(bytes, sectorStart, value))) {
        throw new NonUniformSectorError(`${what}: sector ${(startBytes + sectorStart) / SECTOR_BYTES} is not one repeated byte`);
      }
      sectors[(startBytes + sectorStart) / SECTOR_BYTES] = value;
    }
  }
  return sectors;
}

function wordsAreUniform(words: Uint32Array, firstWord: number, byte: number): boolean {
  const expected = (byte * 0x01010101) >>> 0;
  for (let index = firstWord; index < firstWord + SECTOR_BYTES / 4; index++) if (words[index] !== expected) return false;
  return true;
}

function bytesAreUniform(bytes: Uint8Array, sectorStart: number, byte: number): boolean {
  for (let index = sectorStart; index < sectorStart + SECTOR_BYTES; index++) if (bytes[index] !== byte) return false;
  return true;
}

/** The first sector where `actual` and `expected` differ, skipping sectors marked in `skip`. */
export function firstDifferentSector(actual: Uint8Array, expected: Uint8Array, skip?: Uint8Array): number | undefined {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let sector = 0; sector < actual.length; sector++) {
    if (skip && skip[sector]) continue;
    if (actual[sector] !== expected[sector]) return sector;
  }
  return undefined;
}

export function hex(value: number | undefined): string {
  return value === undefined ? 'none' : `0x${value.toString(16).padStart(2, '0')}`;
}

/** "sector 12 (byte 6144): got 0x33, expected 0x11" */
export function describeDifference(sector: number, actual: Uint8Array, expected: Uint8Array): string {
  return `sector ${sector} (byte offset ${sector * SECTOR_BYTES}): got ${hex(actual[sector])}, expected ${hex(expected[sector])}`;
}

/**
 * `top` over `below`: sectors of clusters allocated in `top` come from it, the rest from below.
 * This is how a qcow2 layer reads (block/qcow2.c), written here independently of the engine.
 */
export function overlay(top: Uint8Array, topAllocatedClusters: Uint8Array, clusterSectors: number, below: Uint8Array): Uint8Array {
  const out = below.slice();
  for (let cluster = 0; cluster < topAllocatedClusters.length; cluster++) {
    if (!topAllocatedClusters[cluster]) continue;
    const start = cluster * clusterSectors;
    const end = Math.min(start + clusterSectors, out.length);
    out.set(top.subarray(start, end), start);
  }
  return out;
}

/** 1 for every sector of a cluster allocated in `allocatedClusters`. */
export function allocatedSectorMask(allocatedClusters: Uint8Array, clusterSectors: number, totalSectors: number): Uint8Array {
  const mask = new Uint8Array(totalSectors);
  for (let cluster = 0; cluster < allocatedClusters.length; cluster++) {
    if (!allocatedClusters[cluster]) continue;
    mask.fill(1, cluster * clusterSectors, Math.min((cluster + 1) * clusterSectors, totalSectors));
  }
  return mask;
}
