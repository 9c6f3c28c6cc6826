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
import type { HostName } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, type Errno, type ReadResult, type WriteResult } from './errno.js';
import { isSuspended, type IoFrame, type IoOutcome, type IoResult } from './io-frames.js';
import { BlockNode, type BlockEnv, type IoContext } from './node.js';

const CBW_COPY_READ = 'cbw-copy-read';
const CBW_COPY_WRITE = 'cbw-copy-write';

/** One copy task: clusters [firstCluster, endCluster), bytes [startBytes, endBytes) (the last cluster cut at the disk's end). */
interface CopyTask {
  readonly firstCluster: number;
  readonly endCluster: number;
  readonly startBytes: number;
  readonly endBytes: number;
  zeroes?: boolean;
}

interface CbwWriteState {
  readonly offsetBytes: number;
  readonly data: DataRuns;
  readonly ctx: IoContext;
  clusterIndex: number;
  readonly lastCluster: number;
  task?: CopyTask | undefined;
}

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

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    return this.source.read(offsetBytes, lengthBytes, ctx);
  }

  /** cbw_co_flush: the source only (the copies in the target are not flushed by the filter). */
  protected override flushDriver(ctx: IoContext): IoOutcome<WriteResult> {
    return this.source.flush(ctx);
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    const clusterBytes = this.copyState.clusterSizeBytes;
    return this.continueWrite({
      offsetBytes,
      data,
      ctx,
      clusterIndex: Math.floor(offsetBytes / clusterBytes),
      lastCluster: Math.floor((offsetBytes + data.lengthBytes - 1) / clusterBytes),
    });
  }

  /**
   * cbw_do_copy_before_write, then the write itself: each run of clusters still to copy is one
   * copy task (read from the source, write to the target), its bits cleared as the task is
   * created. Copies answer at once in every graph colo-sim builds (source and target are local
   * images), so QEMU's wait for overlapping copies in flight never has anything to wait for.
   */
  private continueWrite(state: CbwWriteState): IoOutcome<WriteResult> {
    const copyState = this.copyState;
    const clusterBytes = copyState.clusterSizeBytes;
    while (state.clusterIndex <= state.lastCluster) {
      if (!copyState.needsCopy(state.clusterIndex)) {
        state.clusterIndex++;
        continue;
      }
      const taskFirst = state.clusterIndex;
      while (state.clusterIndex <= state.lastCluster && copyState.needsCopy(state.clusterIndex)) copyState.markCopied(state.clusterIndex++);
      const task: CopyTask = { firstCluster: taskFirst, endCluster: state.clusterIndex, startBytes: taskFirst * clusterBytes, endBytes: Math.min(state.clusterIndex * clusterBytes, copyState.sizeBytes) };
      state.task = task;
      const copyCtx: IoContext = { requestId: state.ctx.requestId, origin: 'copy-before-write' };
      const read = this.source.read(task.startBytes, task.endBytes - task.startBytes, copyCtx);
      if (isSuspended(read)) return this.suspendOn(read, CBW_COPY_READ, state);
      const afterRead = this.copyRead(state, read);
      if (afterRead !== undefined) return afterRead;
    }
    return this.source.write(state.offsetBytes, state.data, state.ctx);
  }

  /** The copy task's read answered: write it to the target. Returns the write's failure or suspension, or undefined to go on. */
  private copyRead(state: CbwWriteState, read: ReadResult): IoOutcome<WriteResult> | undefined {
    const task = state.task!;
    if (!read.ok) {
      this.emitCopy(task, false, state.ctx, read.errno);
      return this.copyFailed(task, read.errno);
    }
    // A cluster that reads as zeros is copied with write-zeroes; it still masks the source.
    task.zeroes = read.data.isAllZero();
    const written = this.target.write(task.startBytes, read.data, { requestId: state.ctx.requestId, origin: 'copy-before-write' });
    if (isSuspended(written)) return this.suspendOn(written, CBW_COPY_WRITE, state);
    return this.copyWritten(state, written);
  }

  private copyWritten(state: CbwWriteState, written: WriteResult): IoOutcome<WriteResult> | undefined {
    const task = state.task!;
    this.emitCopy(task, task.zeroes ?? false, state.ctx, written.ok ? undefined : written.errno);
    if (!written.ok) return this.copyFailed(task, written.errno);
    state.task = undefined;
    return undefined;
  }

  /** on-cbw-error=break-guest-write: the task's bits are set again and the write fails. */
  private copyFailed(task: CopyTask, errno: Errno): WriteResult {
    for (let index = task.firstCluster; index < task.endCluster; index++) this.copyState.markNeedsCopy(index);
    return failed(errno);
  }

  protected override resumeDriver(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    const state = frame.state as CbwWriteState;
    if (frame.step === CBW_COPY_READ) return this.copyRead(state, result as ReadResult) ?? this.continueWrite(state);
    if (frame.step === CBW_COPY_WRITE) return this.copyWritten(state, result as WriteResult) ?? this.continueWrite(state);
    return super.resumeDriver(frame, slot, result);
  }

  private emitCopy(task: CopyTask, zeroes: boolean, ctx: IoContext, errno: Errno | undefined): void {
    this.env.events.emit({
      kind: 'cbw-copy',
      requestId: ctx.requestId,
      filter: this.nodeName,
      source: this.source.nodeName,
      target: this.target.nodeName,
      offsetBytes: task.startBytes,
      lengthBytes: task.endBytes - task.startBytes,
      zeroes,
      ...(errno ? { errno } : {}),
    });
  }
}
