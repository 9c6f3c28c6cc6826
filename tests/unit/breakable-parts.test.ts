import { describe, expect, it } from 'vitest';
import { breakableParts } from '../../src/ui/lib/format.js';

describe('breakableParts (where a long title may break)', () => {
  it('cuts after each slash and underscore, and the parts join back to the text', () => {
    const title = 'QEMU test secondary/continuous_replication: after failover';
    expect(breakableParts(title)).toEqual(['QEMU test secondary/', 'continuous_', 'replication: after failover']);
    expect(breakableParts(title).join('')).toBe(title);
  });

  it('leaves a text without separators whole, and keeps separators at the ends', () => {
    expect(breakableParts('plain title')).toEqual(['plain title']);
    expect(breakableParts('/a_')).toEqual(['/', 'a_']);
    expect(breakableParts('')).toEqual(['']);
  });
});
