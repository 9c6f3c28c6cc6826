/** formatBytes: the largest unit the size reaches, exact when whole ("64 KiB"), else one decimal. */
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/ui/lib/format.js';

describe('formatBytes', () => {
  it('keeps whole sizes below 1024 of their unit exact', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(1024 ** 2)).toBe('1 MiB');
  });
  it('writes a whole number of KiB past 1024 KiB in MiB (the Cost charts showed "68364 KiB")', () => {
    const kib = 68_364;
    expect(formatBytes(kib * 1024)).toBe(`${(kib / 1024).toFixed(1)} MiB`);
    expect(formatBytes(175_872 * 1024)).toBe(`${(175_872 / 1024).toFixed(1)} MiB`);
  });
  it('writes sizes that are no whole unit with one decimal', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });
});
