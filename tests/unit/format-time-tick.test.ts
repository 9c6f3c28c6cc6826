import { describe, expect, it } from 'vitest';
import { formatTimeTick } from '../../src/ui/lib/format.js';

describe('formatTimeTick (the Cost charts\' time axis)', () => {
  it('drops the zeros a round tick does not need', () => {
    expect(formatTimeTick(0)).toBe('0µs');
    expect(formatTimeTick(4000)).toBe('4ms');
    expect(formatTimeTick(2500)).toBe('2.5ms');
    expect(formatTimeTick(1_250_000)).toBe('1.25s');
    expect(formatTimeTick(20_000_000)).toBe('20s');
  });

  it('keeps every microsecond a tick has', () => {
    expect(formatTimeTick(850)).toBe('850µs');
    expect(formatTimeTick(1001)).toBe('1.001ms');
    expect(formatTimeTick(1_000_001)).toBe('1.000001s');
  });
});
