/**
 * The copy-before-write filter (block/copy-before-write.c) with its block-copy state
 * (block/block-copy.c), as the backup job (sync=none) puts it above the secondary disk.
 *
 * Before a write lands, every cluster it touches that is still marked "not copied yet" is
 * copied whole from the source (secondary disk) to the target (hidden disk), and its bit is
 * cleared when the copy starts. Clear bits are skipped, so the target keeps the oldest data of
 * the epoch. If a copy fails, its bits are set again and the write fails
 * (on-cbw-error=break-guest-write).
 */
import type { Co } from '../sim/coroutine.js';
import type { HostName } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, type ReadResult, type WriteResult } from './errno.js';
import { BlockNode, type BlockEnv, type IoContext } from './node.js';

/** The backup job's copy bitmap; stores only copied clusters so that a reset costs what was copied. */
export class BlockCopyState {
  private readonly copiedClusters = new Set<number>();

  constructor(
    readonly clusterSizeBytes: number,
    readonly sizeBytes: number,
  ) {}

  get clusterCount(): number {
    return Math.ceil(this.sizeBytes / this.clusterSizeBytes);
  }

  /** The bit is set: the cluster has not been copied in this epoch. */
  needsCopy(clusterIndex: number): boolean {
    return !this.copiedClusters.has(clusterIndex);
  }

  markCopied(clusterIndex: number): void {
    this.copiedClusters.add(clusterIndex);
  }

  markNeedsCopy(clusterIndex: number): void {
    this.copiedClusters.delete(clusterIndex);
  }

  copiedClusterIndices(): IterableIterator<number> {
    return this.copiedClusters.values();
  }

  /** backup_do_checkpoint: every bit set again. Returns how many bits changed. */
  resetAll(): number {
    const reset = this.copiedClusters.size;
    this.copiedClusters.clear();
    return reset;
  }
}

export class CopyBeforeWriteFilter extends BlockNode {
  readonly driver = 'copy-before-write' as const;
  readonly isFilter = true;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    readonly copyState: BlockCopyState,
  ) {
    super(nodeName, host, env);
  }

  private get source(): BlockNode {
    return this.children.get('file')!;
  }

  private get target(): BlockNode {
    return this.children.get('target')!;
  }

  protected driverLengthBytes(): number | undefined {
    return this.source.lengthBytes();
  }

  protected *readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    return yield* this.source.read(offsetBytes, lengthBytes, ctx);
  }

  protected *writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult> {
    const copied = yield* this.copyBeforeWrite(offsetBytes, data.lengthBytes, ctx);
    if (!copied.ok) return copied;
    return yield* this.source.write(offsetBytes, data, ctx);
  }

  /** cbw_do_copy_before_write: copies the not-yet-copied clusters under [offset, offset+length). */
  private *copyBeforeWrite(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<WriteResult> {
    const state = this.copyState;
    const clusterBytes = state.clusterSizeBytes;
    const lastCluster = Math.floor((offsetBytes + lengthBytes - 1) / clusterBytes);
    let clusterIndex = Math.floor(offsetBytes / clusterBytes);
    while (clusterIndex <= lastCluster) {
      if (!state.needsCopy(clusterIndex)) {
        clusterIndex++;
        continue;
      }
      // One copy task: the run of clusters still to copy, bits cleared as the task is created.
      const taskFirst = clusterIndex;
      while (clusterIndex <= lastCluster && state.needsCopy(clusterIndex)) state.markCopied(clusterIndex++);
      const taskStart = taskFirst * clusterBytes;
      const taskEnd = Math.min(clusterIndex * clusterBytes, state.sizeBytes);
      const copy = yield* this.copyTask(taskStart, taskEnd, ctx);
      if (!copy.ok) {
        for (let index = taskFirst; index < clusterIndex; index++) state.markNeedsCopy(index);
        return copy;
      }
    }
    return { ok: true };
  }

  private *copyTask(startBytes: number, endBytes: number, ctx: IoContext): Co<WriteResult> {
    const copyCtx: IoContext = { requestId: ctx.requestId, origin: 'copy-before-write' };
    const lengthBytes = endBytes - startBytes;
    const read = yield* this.source.read(startBytes, lengthBytes, copyCtx);
    if (!read.ok) {
      this.emitCopy(startBytes, lengthBytes, false, ctx, read.errno);
      return failed(read.errno);
    }
    // A cluster that reads as zeros is copied with write-zeroes; it still masks the source.
    const zeroes = read.data.isAllZero();
    const written = yield* this.target.write(startBytes, read.data, copyCtx);
    this.emitCopy(startBytes, lengthBytes, zeroes, ctx, written.ok ? undefined : written.errno);
    return written;
  }

  private emitCopy(offsetBytes: number, lengthBytes: number, zeroes: boolean, ctx: IoContext, errno: import('./errno.js').Errno | undefined): void {
    this.env.events.emit({
      kind: 'cbw-copy',
      requestId: ctx.requestId,
      filter: this.nodeName,
      source: this.source.nodeName,
      target: this.target.nodeName,
      offsetBytes,
      lengthBytes,
      zeroes,
      ...(errno ? { errno } : {}),
    });
  }
}
