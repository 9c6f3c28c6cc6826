/**
 * What every disk image shares: a store for its bytes, a file name, allocation queries.
 */
import type { SectorStore } from '../store.js';
import type { DataRuns } from './data-runs.js';
import { BlockNode, type BlockEnv, type IoContext } from './node.js';
import type { HostName } from '../sim/events.js';

/** bdrv_block_status, reduced to what the simulator needs. */
export interface AllocationRun {
  /** Allocated in this image's own layer (data or zero clusters). */
  readonly allocated: boolean;
  /** Length of the run from the queried offset with the same status (QEMU's pnum). */
  readonly runBytes: number;
}

export abstract class ImageNode extends BlockNode {
  abstract override readonly driver: 'raw' | 'qcow2';
  readonly isFilter = false;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    readonly filename: string,
    protected readonly store: SectorStore,
  ) {
    super(nodeName, host, env);
  }

  get sizeBytes(): number {
    return this.store.sizeBytes;
  }

  /** The store holding this image's bytes: a simulation rebuilt in place hands it to the image's new node. */
  get sectorStore(): SectorStore {
    return this.store;
  }

  protected driverLengthBytes(): number {
    return this.store.sizeBytes;
  }

  /** This layer's own bytes, for display: no request, no event, no fault. */
  peekOwnLayer(offsetBytes: number, lengthBytes: number): DataRuns {
    return this.store.read(offsetBytes, lengthBytes);
  }

  /** Allocation status at `offsetBytes`, and how far it runs (at most `lengthBytes`). */
  abstract allocationAt(offsetBytes: number, lengthBytes: number): AllocationRun;

  /** Whether the driver has bdrv_make_empty (qcow2 does, raw does not). */
  abstract readonly supportsMakeEmpty: boolean;

  protected emitLanded(offsetBytes: number, data: DataRuns, ctx: IoContext, cow: { offsetBytes: number; lengthBytes: number }[]): void {
    const fillByte = data.uniformByte();
    this.env.events.emit({
      kind: 'write-landed',
      requestId: ctx.requestId,
      node: this.nodeName,
      offsetBytes,
      lengthBytes: data.lengthBytes,
      ...(fillByte === undefined ? {} : { fillByte }),
      cow,
    });
  }

  protected emitServed(offsetBytes: number, lengthBytes: number, ctx: IoContext): void {
    this.env.events.emit({ kind: 'read-served', requestId: ctx.requestId, node: this.nodeName, offsetBytes, lengthBytes });
  }
}
