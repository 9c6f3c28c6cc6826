/**
 * bdrv_is_allocated_above, as block/io.c defines it: walk from `top` down the backing chain
 * (filters are passed through) to `base`, which is included only with `includeBase`.
 *
 * The result is allocated when some layer holds the offset. `runBytes` (QEMU's pnum) is the
 * length of the run with that status: bounded by every unallocated layer above the one that
 * answered, and by that layer's own run. It is 0 only at the end of the disk.
 */
import { ImageNode } from './image.js';
import type { BlockNode } from './node.js';

export interface AllocationAbove {
  readonly allocated: boolean;
  readonly runBytes: number;
}

export function isAllocatedAbove(
  top: BlockNode,
  base: BlockNode | undefined,
  includeBase: boolean,
  offsetBytes: number,
  lengthBytes: number,
): AllocationAbove {
  let runBytes = lengthBytes;
  for (let layer: BlockNode | undefined = top; layer; layer = layer.filterOrCowChild()) {
    if (layer === base && !includeBase) break;
    if (layer instanceof ImageNode) {
      const run = layer.allocationAt(offsetBytes, runBytes);
      if (run.allocated) return { allocated: true, runBytes: run.runBytes };
      runBytes = Math.min(runBytes, run.runBytes);
    }
    if (layer === base) break;
  }
  return { allocated: false, runBytes };
}
