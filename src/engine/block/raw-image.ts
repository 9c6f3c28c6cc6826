/**
 * A raw image: bytes at their offsets, every byte its own. It has no allocation map (all of it
 * counts as allocated) and no make_empty.
 */
import type { DataRuns } from './data-runs.js';
import { WRITE_OK, type ReadResult, type WriteResult } from './errno.js';
import { ImageNode, type AllocationRun } from './image.js';
import type { IoContext } from './node.js';

export class RawImage extends ImageNode {
  readonly driver = 'raw' as const;
  readonly supportsMakeEmpty = false;

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): ReadResult {
    const data = this.store.read(offsetBytes, lengthBytes);
    this.emitServed(offsetBytes, lengthBytes, ctx);
    return { ok: true, data };
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): WriteResult {
    this.store.write(offsetBytes, data);
    this.emitLanded(offsetBytes, data, ctx, []);
    return WRITE_OK;
  }

  allocationAt(_offsetBytes: number, lengthBytes: number): AllocationRun {
    return { allocated: true, runBytes: lengthBytes };
  }
}
