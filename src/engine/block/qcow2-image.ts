/**
 * A qcow2-like image: a per-cluster allocation map over a backing file.
 *
 * - A read takes allocated clusters from this layer and the rest from the backing file
 *   (zeros without one).
 * - A write allocates every cluster it touches; a cluster only partly written is first filled
 *   from the backing file (copy-on-write), so a cluster is always whole in one layer.
 * - make_empty drops every cluster, so the image reads as its backing file again.
 */
import type { Co } from '../sim/coroutine.js';
import type { HostName } from '../sim/events.js';
import type { SectorStore } from '../store.js';
import { DataRuns } from './data-runs.js';
import { failed, WRITE_OK, type Errno, type ReadResult, type WriteResult } from './errno.js';
import { ImageNode, type AllocationRun } from './image.js';
import type { BlockEnv, IoContext } from './node.js';

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

  protected *readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    const parts: DataRuns[] = [];
    let position = offsetBytes;
    const end = offsetBytes + lengthBytes;
    while (position < end) {
      const run = this.allocationAt(position, end - position);
      if (run.allocated) {
        parts.push(this.store.read(position, run.runBytes));
        this.emitServed(position, run.runBytes, ctx);
      } else {
        const backing = this.backing;
        if (backing) {
          const result = yield* backing.read(position, run.runBytes, ctx);
          if (!result.ok) return result;
          parts.push(result.data);
        } else {
          parts.push(DataRuns.zeros(run.runBytes));
          this.emitServed(position, run.runBytes, ctx);
        }
      }
      position += run.runBytes;
    }
    return { ok: true, data: DataRuns.concat(parts) };
  }

  protected *writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult> {
    const end = offsetBytes + data.lengthBytes;
    const firstCluster = Math.floor(offsetBytes / this.clusterSizeBytes);
    const lastCluster = Math.floor((end - 1) / this.clusterSizeBytes);
    const headStart = firstCluster * this.clusterSizeBytes;
    const tailEnd = Math.min((lastCluster + 1) * this.clusterSizeBytes, this.sizeBytes);

    // Copy-on-write reads happen before anything changes, so a failed read leaves the image as it was.
    let head = DataRuns.empty;
    let tail = DataRuns.empty;
    const cow: { offsetBytes: number; lengthBytes: number }[] = [];
    if (headStart < offsetBytes && !this.allocatedClusters.has(firstCluster)) {
      const result = yield* this.readBelow(headStart, offsetBytes - headStart, ctx);
      if (!result.ok) return result;
      head = result.data;
      cow.push({ offsetBytes: headStart, lengthBytes: head.lengthBytes });
    }
    if (end < tailEnd && !this.allocatedClusters.has(lastCluster)) {
      const result = yield* this.readBelow(end, tailEnd - end, ctx);
      if (!result.ok) return result;
      tail = result.data;
      cow.push({ offsetBytes: end, lengthBytes: tail.lengthBytes });
    }
    if (head.lengthBytes > 0) this.store.write(headStart, head);
    this.store.write(offsetBytes, data);
    if (tail.lengthBytes > 0) this.store.write(end, tail);
    for (let clusterIndex = firstCluster; clusterIndex <= lastCluster; clusterIndex++) this.allocatedClusters.add(clusterIndex);
    this.emitLanded(offsetBytes, data, ctx, cow);
    return WRITE_OK;
  }

  private *readBelow(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    const backing = this.backing;
    if (!backing) return { ok: true, data: DataRuns.zeros(lengthBytes) };
    return yield* backing.read(offsetBytes, lengthBytes, ctx);
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
