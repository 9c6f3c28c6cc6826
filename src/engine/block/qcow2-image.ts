/**
 * A qcow2-like image: a per-cluster allocation map over a backing file.
 *
 * - A read takes allocated clusters from this layer and the rest from the backing file
 *   (zeros without one).
 * - A write allocates every cluster it touches; a cluster only partly written is first filled
 *   from the backing file (copy-on-write), so a cluster is always whole in one layer.
 * - make_empty drops every cluster, so the image reads as its backing file again.
 */
import type { HostName } from '../sim/events.js';
import type { SectorStore } from '../store.js';
import { DataRuns } from './data-runs.js';
import { failed, WRITE_OK, type Errno, type ReadResult, type WriteResult } from './errno.js';
import { ImageNode, type AllocationRun } from './image.js';
import { isSuspended, type IoFrame, type IoOutcome, type IoResult } from './io-frames.js';
import type { BlockEnv, IoContext } from './node.js';

const READ_BACKING = 'qcow2-read-backing';
const COW_READ = 'qcow2-cow-read';

interface ReadState {
  positionBytes: number;
  readonly endBytes: number;
  readonly parts: DataRuns[];
  /** Length of the backing read being waited for. */
  pendingRunBytes: number;
  readonly ctx: IoContext;
}

interface CowPiece {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

interface WriteState {
  readonly offsetBytes: number;
  readonly data: DataRuns;
  /** The parts of the first and last clusters outside the write, to copy up from the backing file. */
  readonly pieces: CowPiece[];
  readonly copied: DataRuns[];
  readonly ctx: IoContext;
}

export class Qcow2Image extends ImageNode {
  readonly driver = 'qcow2' as const;
  readonly supportsMakeEmpty = true;
  private readonly allocatedClusters = new Set<number>();

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    filename: string,
    store: SectorStore,
    readonly clusterSizeBytes: number,
  ) {
    super(nodeName, host, env, filename, store);
  }

  get backing() {
    return this.children.get('backing');
  }

  get clusterCount(): number {
    return Math.ceil(this.sizeBytes / this.clusterSizeBytes);
  }

  isClusterAllocated(clusterIndex: number): boolean {
    return this.allocatedClusters.has(clusterIndex);
  }

  /** The allocated clusters, in no particular order; costs what is allocated, not the disk size. */
  allocatedClusterIndices(): IterableIterator<number> {
    return this.allocatedClusters.values();
  }

  get allocatedClusterCount(): number {
    return this.allocatedClusters.size;
  }

  allocationAt(offsetBytes: number, lengthBytes: number): AllocationRun {
    const end = offsetBytes + lengthBytes;
    let clusterIndex = Math.floor(offsetBytes / this.clusterSizeBytes);
    const allocated = this.allocatedClusters.has(clusterIndex);
    let runEnd = (clusterIndex + 1) * this.clusterSizeBytes;
    while (runEnd < end && this.allocatedClusters.has(clusterIndex + 1) === allocated) {
      clusterIndex++;
      runEnd += this.clusterSizeBytes;
    }
    return { allocated, runBytes: Math.min(runEnd, end) - offsetBytes };
  }

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    return this.continueRead({ positionBytes: offsetBytes, endBytes: offsetBytes + lengthBytes, parts: [], pendingRunBytes: 0, ctx });
  }

  /** Reads run by run: allocated runs from this layer, the rest from the backing file. */
  private continueRead(state: ReadState): IoOutcome<ReadResult> {
    while (state.positionBytes < state.endBytes) {
      const run = this.allocationAt(state.positionBytes, state.endBytes - state.positionBytes);
      const backing = this.backing;
      if (run.allocated || !backing) {
        state.parts.push(run.allocated ? this.store.read(state.positionBytes, run.runBytes) : DataRuns.zeros(run.runBytes));
        this.emitServed(state.positionBytes, run.runBytes, state.ctx);
        state.positionBytes += run.runBytes;
        continue;
      }
      const outcome = backing.read(state.positionBytes, run.runBytes, state.ctx);
      if (isSuspended(outcome)) return this.suspendOn(outcome, READ_BACKING, { ...state, pendingRunBytes: run.runBytes });
      if (!outcome.ok) return outcome;
      state.parts.push(outcome.data);
      state.positionBytes += run.runBytes;
    }
    return { ok: true, data: DataRuns.concat(state.parts) };
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    const end = offsetBytes + data.lengthBytes;
    const firstCluster = Math.floor(offsetBytes / this.clusterSizeBytes);
    const lastCluster = Math.floor((end - 1) / this.clusterSizeBytes);
    const headStart = firstCluster * this.clusterSizeBytes;
    const tailEnd = Math.min((lastCluster + 1) * this.clusterSizeBytes, this.sizeBytes);
    const pieces: CowPiece[] = [];
    if (headStart < offsetBytes && !this.allocatedClusters.has(firstCluster)) pieces.push({ offsetBytes: headStart, lengthBytes: offsetBytes - headStart });
    if (end < tailEnd && !this.allocatedClusters.has(lastCluster)) pieces.push({ offsetBytes: end, lengthBytes: tailEnd - end });
    return this.continueWrite({ offsetBytes, data, pieces, copied: [], ctx });
  }

  /**
   * Copy-on-write reads happen before anything changes, so a failed read leaves the image as
   * it was; then the head, the data and the tail land together.
   */
  private continueWrite(state: WriteState): IoOutcome<WriteResult> {
    while (state.copied.length < state.pieces.length) {
      const piece = state.pieces[state.copied.length]!;
      const backing = this.backing;
      if (!backing) {
        state.copied.push(DataRuns.zeros(piece.lengthBytes));
        continue;
      }
      const outcome = backing.read(piece.offsetBytes, piece.lengthBytes, state.ctx);
      if (isSuspended(outcome)) return this.suspendOn(outcome, COW_READ, state);
      if (!outcome.ok) return outcome;
      state.copied.push(outcome.data);
    }
    const { offsetBytes, data } = state;
    state.pieces.forEach((piece, index) => {
      if (piece.offsetBytes < offsetBytes) this.store.write(piece.offsetBytes, state.copied[index]!);
    });
    this.store.write(offsetBytes, data);
    state.pieces.forEach((piece, index) => {
      if (piece.offsetBytes >= offsetBytes) this.store.write(piece.offsetBytes, state.copied[index]!);
    });
    const firstCluster = Math.floor(offsetBytes / this.clusterSizeBytes);
    const lastCluster = Math.floor((offsetBytes + data.lengthBytes - 1) / this.clusterSizeBytes);
    for (let clusterIndex = firstCluster; clusterIndex <= lastCluster; clusterIndex++) this.allocatedClusters.add(clusterIndex);
    this.emitLanded(offsetBytes, data, state.ctx, state.pieces);
    return WRITE_OK;
  }

  protected override resumeDriver(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    if (frame.step === READ_BACKING) {
      const state = frame.state as ReadState;
      const read = result as ReadResult;
      if (!read.ok) return read;
      state.parts.push(read.data);
      state.positionBytes += state.pendingRunBytes;
      return this.continueRead(state);
    }
    if (frame.step === COW_READ) {
      const state = frame.state as WriteState;
      const read = result as ReadResult;
      if (!read.ok) return read;
      state.copied.push(read.data);
      return this.continueWrite(state);
    }
    return super.resumeDriver(frame, slot, result);
  }

  /**
   * bdrv_make_empty. An injected write fault makes it fail, as QEMU's would when the image's
   * file refuses the metadata writes.
   */
  makeEmpty(): { ok: true; clustersFreed: number } | { ok: false; errno: Errno } {
    if (this.ejected) return failed('ENOMEDIUM');
    if (this.faults.trigger('write')) return failed('EIO');
    const clustersFreed = this.allocatedClusters.size;
    for (const clusterIndex of this.allocatedClusters) {
      const start = clusterIndex * this.clusterSizeBytes;
      this.store.discard(start, Math.min(this.clusterSizeBytes, this.sizeBytes - start));
    }
    this.allocatedClusters.clear();
    return { ok: true, clustersFreed };
  }

  /** Restores allocation as persisted (the app reloads a saved simulation). */
  loadAllocation(clusterIndices: Iterable<number>): void {
    this.allocatedClusters.clear();
    for (const clusterIndex of clusterIndices) this.allocatedClusters.add(clusterIndex);
  }
}
