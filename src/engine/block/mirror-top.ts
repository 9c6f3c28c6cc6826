/**
 * The implicit mirror_top filter the active commit puts above the active disk while it runs
 * (block/mirror.c). I/O passes straight through to the active disk, whose dirty bitmap records
 * every write for the commit to copy again.
 */
import type { DataRuns } from './data-runs.js';
import type { ReadResult, WriteResult } from './errno.js';
import type { IoOutcome } from './io-frames.js';
import { WRITE_OK } from './errno.js';
import { BlockNode, type IoContext } from './node.js';

export class MirrorTopFilter extends BlockNode {
  readonly driver = 'mirror_top' as const;
  readonly isFilter = true;

  private get below(): BlockNode {
    return this.children.get('backing')!;
  }

  protected driverLengthBytes(): number | undefined {
    return this.below.lengthBytes();
  }

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    return this.below.read(offsetBytes, lengthBytes, ctx);
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    return this.below.write(offsetBytes, data, ctx);
  }

  /** bdrv_mirror_top_flush: the node below, if there still is one. */
  protected override flushDriver(ctx: IoContext): IoOutcome<WriteResult> {
    const below = this.children.get('backing');
    return below ? below.flush(ctx) : WRITE_OK;
  }
}
