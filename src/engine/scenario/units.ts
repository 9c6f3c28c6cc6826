/**
 * The scenario format's units: sizes ("64K", 1048576), durations ("500us", "2ms", "1s") and
 * byte patterns (17, "0x11").
 */

export const SIZE_PATTERN = /^(\d+)([KMG]?)$/;
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(us|ms|s)$/;
export const HEX_BYTE_PATTERN = /^0x[0-9a-fA-F]{1,2}$/;

const SIZE_MULTIPLIERS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const DURATION_MULTIPLIERS_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000 };

/** Bytes of a size, or undefined when it is not one. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = SIZE_PATTERN.exec(value);
  if (!match) return undefined;
  const bytes = Number(match[1]) * SIZE_MULTIPLIERS[match[2]!]!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Microseconds of a duration, or undefined when it is not a whole number of microseconds. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION_PATTERN.exec(value);
  if (!match) return undefined;
  const microseconds = Number(match[1]) * DURATION_MULTIPLIERS_US[match[2]!]!;
  const rounded = Math.round(microseconds);
  return Math.abs(rounded - microseconds) < 1e-6 && Number.isSafeInteger(rounded) ? rounded : undefined;
}

export function parsePattern(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 255 ? value : undefined;
  return HEX_BYTE_PATTERN.test(value) ? Number.parseInt(value.slice(2), 16) : undefined;
}

/** "64 KiB", "1 MiB", "512 B": sizes as people read them. */
export function formatSize(bytes: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [unit, name] of units) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  }
  return `${bytes} B`;
}

/** The shortest scenario duration string for a number of microseconds. */
export function formatDuration(microseconds: number): string {
  if (microseconds !== 0 && microseconds % 1_000_000 === 0) return `${microseconds / 1_000_000}s`;
  if (microseconds !== 0 && microseconds % 1000 === 0) return `${microseconds / 1000}ms`;
  return `${microseconds}us`;
}
