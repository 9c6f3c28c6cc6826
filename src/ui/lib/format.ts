/**
 * Small formatting helpers for the page: virtual time, byte patterns, sizes with units, ranges.
 */
import { formatSize } from '../../engine/scenario/units.js';
import { MIXED_CONTENT } from '../../worker/protocol.js';

export { formatSize };

/** "0x22" for a byte, "mixed" for MIXED_CONTENT. */
export function hexByte(value: number): string {
  if (value === MIXED_CONTENT) return 'mixed';
  return `0x${value.toString(16).padStart(2, '0')}`;
}

/** Virtual time as people read it: "0 µs", "850 µs", "12.500 ms", "3.250 s". */
export function formatTime(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(3)} ms`;
  return `${(us / 1_000_000).toFixed(3)} s`;
}

/** Short virtual time for dense rows: "850µs", "12.5ms", "3.25s". */
export function formatTimeShort(us: number): string {
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${trim(us / 1000)}ms`;
  return `${trim(us / 1_000_000)}s`;
}

/**
 * Virtual time for an axis tick: as short as the value allows ("4ms", "2.5ms", "1.25s"), to the
 * microsecond. formatTimeShort's fixed decimals ("4.000ms") made neighbouring ticks touch.
 */
export function formatTimeTick(us: number): string {
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${Number((us / 1000).toFixed(3))}ms`;
  return `${Number((us / 1_000_000).toFixed(6))}s`;
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(1) : value >= 10 ? value.toFixed(2) : value.toFixed(3);
}

/** A byte size even when it is not a whole unit: "96 KiB", "1.5 MiB". */
export function formatBytes(bytes: number): string {
  const exact = formatSize(bytes);
  // The exact form only while its number stays below 1024: "64 KiB", "1 MiB"; a whole number of
  // KiB such as 68364 KiB reads better in the larger unit, as "66.8 MiB" (the Cost charts' axes).
  if (bytes < 1024 || Number.parseFloat(exact) < 1024) return exact;
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [unit, name] of units) if (bytes >= unit) return `${(bytes / unit).toFixed(1)} ${name}`;
  return `${bytes} B`;
}

/** "[64 KiB, 128 KiB)" */
export function formatRange(offset: number, length: number): string {
  return `[${formatBytes(offset)}, ${formatBytes(offset + length)})`;
}

/** Virtual time per wall second for a clock speed (virtual µs per wall ms). */
export function formatSpeed(speed: number): string {
  const perSecondUs = speed * 1000;
  if (perSecondUs < 1000) return `${Math.round(perSecondUs)} µs/s`;
  if (perSecondUs < 1_000_000) return `${round3(perSecondUs / 1000)} ms/s`;
  return `${round3(perSecondUs / 1_000_000)} s/s`;
}

function round3(value: number): string {
  return String(Number(value.toPrecision(3)));
}

export const SIZE_UNITS = [
  { label: 'B', bytes: 1 },
  { label: 'KiB', bytes: 1024 },
  { label: 'MiB', bytes: 1024 ** 2 },
  { label: 'GiB', bytes: 1024 ** 3 },
] as const;

/** Parses "0x2a", "2a", "42" (decimal when it has no hex letters and no 0x? no: hex is the norm here). */
export function parseByte(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  const match = /^(?:0x)?([0-9a-f]{1,2})$/.exec(trimmed);
  if (!match) return undefined;
  return Number.parseInt(match[1]!, 16);
}

/** Splits a byte count into a value and the largest unit that divides it. */
export function splitSize(bytes: number): { value: number; unit: number } {
  for (const unit of [1024 ** 3, 1024 ** 2, 1024]) if (bytes >= unit && bytes % unit === 0) return { value: bytes / unit, unit };
  return { value: bytes, unit: 1 };
}

/**
 * `text` cut after each "/" and "_", for a title to break there (with <wbr>) rather than in the
 * middle of a word: QEMU's test names ("secondary/continuous_replication") are one long word
 * that a narrow title split anywhere ("continuous_r" / "eplication"). The parts join back to `text`.
 */
export function breakableParts(text: string): string[] {
  return text.split(/(?<=[/_])/);
}
