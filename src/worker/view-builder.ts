/**
 * Builds what the page draws from a Simulation: disk layouts, cell contents (all, or only the
 * cells that changed, found from the engine's events), the graph, the jobs and their bitmaps.
 */
import { ImageNode } from '../engine/block/image.js';
import { Qcow2Image } from '../engine/block/qcow2-image.js';
import { resolveProtectedPair } from '../engine/colo/protected-pair.js';
import type { Simulation } from '../engine/colo/simulation.js';
import { BackupJob } from '../engine/jobs/backup-job.js';
import { CommitJob } from '../engine/jobs/commit-job.js';
import { MirrorJob } from '../engine/jobs/mirror-job.js';
import { NbdClientNode } from '../engine/block/nbd.js';
import { ReplicationNode } from '../engine/replication/replication-node.js';
import type { SimEvent } from '../engine/sim/events.js';
import type { HostName } from '../engine/sim/events.js';
import { ALLOCATION, MIXED_CONTENT, type BackendView, type ColoHostView, type DiskCells, type DiskLayout, type JobBitmap, type JobView, type NodeView, type SimSummary } from './protocol.js';

/** The grid never has more cells than this; larger disks group clusters into one cell. */
export const MAX_CELLS = 16_384;

export function cellBytesFor(diskSizeBytes: number, clusterSizeBytes: number): number {
  let cellBytes = clusterSizeBytes;
  while (Math.ceil(diskSizeBytes / cellBytes) > MAX_CELLS) cellBytes *= 2;
  return cellBytes;
}

export class ViewBuilder {
  private readonly dirtyCells = new Map<string, Set<number>>();
  private readonly fullRefresh = new Set<string>();
  /** Disks emptied by make_empty: every cell is zeros and unallocated, no need to read them. */
  private readonly emptied = new Set<string>();
  private layoutsSent = false;
  /** The images (host and name) the last layouts described: a change sends them again. */
  private imagesSent = '';
  private bitmapsChanged = true;

  constructor(private readonly sim: Simulation) {}

  private images(): ImageNode[] {
    const images: ImageNode[] = [];
    for (const host of [this.sim.primary, this.sim.secondary]) {
      for (const node of host.graph.nodes()) if (node instanceof ImageNode) images.push(node);
    }
    return images;
  }

  layouts(): DiskLayout[] {
    const { diskSizeBytes, clusterSizeBytes } = this.sim.settings;
    const cellBytes = cellBytesFor(diskSizeBytes, clusterSizeBytes);
    return this.images().map((image) => ({
      name: image.nodeName,
      host: image.host,
      driver: image.driver,
      filename: image.filename,
      cellBytes,
      cellCount: Math.ceil(image.sizeBytes / cellBytes),
      clusterSizeBytes: image instanceof Qcow2Image ? image.clusterSizeBytes : cellBytes,
    }));
  }

  /** Records which cells the events touched. */
  observe(event: SimEvent): void {
    switch (event.kind) {
      case 'write-landed':
        this.markRange(event.node, event.offsetBytes, event.lengthBytes);
        for (const part of event.cow) this.markRange(event.node, part.offsetBytes, part.lengthBytes);
        break;
      case 'make-empty':
        if (event.error === undefined) {
          this.emptied.add(event.node);
          this.dirtyCells.get(event.node)?.clear();
        } else this.fullRefresh.add(event.node);
        break;
      case 'cbw-copy':
      case 'bitmap-reset':
      case 'job-progress':
      case 'job-created':
      case 'job-completed':
      case 'job-failed':
        this.bitmapsChanged = true;
        break;
      default:
        break;
    }
  }

  private markRange(imageName: string, offsetBytes: number, lengthBytes: number): void {
    if (lengthBytes <= 0) return;
    const cellBytes = cellBytesFor(this.sim.settings.diskSizeBytes, this.sim.settings.clusterSizeBytes);
    let cells = this.dirtyCells.get(imageName);
    if (!cells) this.dirtyCells.set(imageName, (cells = new Set()));
    const last = Math.floor((offsetBytes + lengthBytes - 1) / cellBytes);
    for (let cell = Math.floor(offsetBytes / cellBytes); cell <= last; cell++) cells.add(cell);
  }

  /**
   * Layouts when they have not been sent yet (or were reset), or when the set of images changed
   * since (`changed`: a restart brought new active and hidden disks, a swap of roles moved
   * images to the other host name, blockdev-add opened one): every cell is then sent again.
   */
  takeLayouts(): { layouts: DiskLayout[]; changed: boolean } | undefined {
    const images = this.images();
    const key = images.map((image) => `${image.host}:${image.nodeName}:${image.sizeBytes}`).join('|');
    if (this.layoutsSent && key === this.imagesSent) return undefined;
    const changed = this.layoutsSent;
    this.layoutsSent = true;
    this.imagesSent = key;
    for (const image of images) this.fullRefresh.add(image.nodeName);
    return { layouts: this.layouts(), changed };
  }

  /** The cells changed since the last call (every cell of a disk that needs a full refresh). */
  takeCells(): DiskCells[] {
    const cellBytes = cellBytesFor(this.sim.settings.diskSizeBytes, this.sim.settings.clusterSizeBytes);
    const out: DiskCells[] = [];
    for (const image of this.images()) {
      const cellCount = Math.ceil(image.sizeBytes / cellBytes);
      if (this.fullRefresh.has(image.nodeName)) {
        const content = new Uint16Array(cellCount);
        const allocated = new Uint8Array(cellCount);
        for (let cell = 0; cell < cellCount; cell++) {
          content[cell] = cellContent(image, cell, cellBytes);
          allocated[cell] = cellAllocation(image, cell, cellBytes);
        }
        out.push({ name: image.nodeName, content, allocated });
        continue;
      }
      const dirty = this.dirtyCells.get(image.nodeName);
      if (this.emptied.has(image.nodeName)) {
        const content = new Uint16Array(cellCount);
        const allocated = new Uint8Array(cellCount);
        for (const cell of dirty ?? []) {
          if (cell >= cellCount) continue;
          content[cell] = cellContent(image, cell, cellBytes);
          allocated[cell] = cellAllocation(image, cell, cellBytes);
        }
        out.push({ name: image.nodeName, content, allocated });
        continue;
      }
      if (!dirty || dirty.size === 0) continue;
      const indices = Uint32Array.from([...dirty].filter((cell) => cell < cellCount).sort((a, b) => a - b));
      const content = new Uint16Array(indices.length);
      const allocated = new Uint8Array(indices.length);
      indices.forEach((cell, position) => {
        content[position] = cellContent(image, cell, cellBytes);
        allocated[position] = cellAllocation(image, cell, cellBytes);
      });
      out.push({ name: image.nodeName, indices, content, allocated });
    }
    this.fullRefresh.clear();
    this.emptied.clear();
    this.dirtyCells.clear();
    return out;
  }

  takeBitmaps(): JobBitmap[] {
    if (!this.bitmapsChanged) return [];
    this.bitmapsChanged = false;
    const bitmaps: JobBitmap[] = [];
    for (const host of [this.sim.primary, this.sim.secondary]) {
      for (const job of host.jobs.all()) {
        if (job instanceof BackupJob) {
          const state = job.copyState;
          const bits = new Uint8Array(state.clusterCount);
          for (const cluster of state.copiedClusterIndices()) bits[cluster] = 1;
          bitmaps.push({ jobId: job.id, granularityBytes: state.clusterSizeBytes, bits });
        } else if (job instanceof CommitJob) {
          const bits = new Uint8Array(job.dirty.granuleCount);
          for (let granule = 0; granule < bits.length; granule++) bits[granule] = job.dirty.isDirty(granule) ? 1 : 0;
          bitmaps.push({ jobId: job.id, granularityBytes: job.granularityBytes, bits });
        }
      }
    }
    return bitmaps;
  }

  summary(): SimSummary {
    const sim = this.sim;
    const nodes: NodeView[] = [];
    const backends: BackendView[] = [];
    const jobs: JobView[] = [];
    for (const host of [sim.primary, sim.secondary]) {
      for (const node of host.graph.nodes()) {
        nodes.push({
          name: node.nodeName,
          host: host.name,
          driver: node.driver,
          children: [...node.children.entries()].map(([role, child]) => ({ role, child: child.nodeName })),
          ejected: node.ejected,
          faults: node.faults.describe(),
          ...(node instanceof ReplicationNode
            ? { replication: { mode: node.mode, stage: node.stage, error: node.error === 0 ? null : node.error, ...(node.topId === undefined ? {} : { topId: node.topId }) } }
            : {}),
          ...(node instanceof NbdClientNode ? { nbd: { serverHost: node.serverHost, exportName: node.exportName } } : {}),
        });
      }
      const exported = new Map(host.nbdServer.state.exports.map((entry) => [entry.backendName, entry.name]));
      for (const backend of host.graph.backends) {
        const exportName = exported.get(backend.name);
        backends.push({
          name: backend.name,
          host: host.name,
          root: backend.root?.nodeName ?? null,
          kind: backend.name === host.vmBackendName ? 'vm' : exportName !== undefined ? 'export' : 'other',
          ...(exportName === undefined ? {} : { exportName }),
        });
      }
      for (const job of host.jobs.all()) {
        jobs.push({
          id: job.id,
          host: host.name,
          type: job.type,
          status: job.status,
          offsetBytes: job.offsetBytes,
          lenBytes: job.lenBytes,
          granularityBytes: job instanceof BackupJob ? job.copyState.clusterSizeBytes : job instanceof CommitJob || job instanceof MirrorJob ? job.granularityBytes : 0,
          ...(job instanceof CommitJob || job instanceof MirrorJob ? { filter: job.mirrorTop.nodeName } : {}),
          ...(job instanceof MirrorJob ? { target: job.targetNode.nodeName } : {}),
        });
      }
    }
    const workload = sim.workload;
    const pair = resolveProtectedPair(sim);
    return {
      settings: sim.settings,
      nowUs: sim.nowUs,
      coloState: sim.coloState,
      vmsRunning: sim.vmRunning('primary') && sim.vmRunning('secondary'),
      colo: { primary: coloHostView(sim, 'primary'), secondary: coloHostView(sim, 'secondary') },
      linkUp: sim.link.isUp,
      idle: sim.isIdle(),
      requestsInFlight: sim.inFlightRequests,
      workload: workload ? { ...workload.settings, writesIssued: workload.writesIssued } : null,
      nodes,
      backends,
      jobs,
      pair: { names: pair.names, protected: pair.unprotected === undefined },
    };
  }
}

function coloHostView(sim: Simulation, host: HostName): ColoHostView {
  const process = sim.colo.process(host);
  const state = process.state;
  return {
    mode: process.mode,
    lastMode: state.lastMode,
    failover: state.failover,
    runState: state.runState,
    running: process.isRunning,
    migration: state.outgoing,
    incoming: state.incoming,
    thread: state.thread ? state.thread.place : null,
    checkpointDelayMs: state.checkpointDelayMs,
    checkpointsDone: state.checkpointsDone,
    lost: state.crashed,
  };
}

function cellContent(image: ImageNode, cell: number, cellBytes: number): number {
  const start = cell * cellBytes;
  const data = image.peekOwnLayer(start, Math.min(cellBytes, image.sizeBytes - start));
  return data.uniformByte() ?? MIXED_CONTENT;
}

function cellAllocation(image: ImageNode, cell: number, cellBytes: number): number {
  if (!(image instanceof Qcow2Image)) return ALLOCATION.all;
  const start = cell * cellBytes;
  const length = Math.min(cellBytes, image.sizeBytes - start);
  const run = image.allocationAt(start, length);
  if (run.runBytes >= length) return run.allocated ? ALLOCATION.all : ALLOCATION.none;
  return ALLOCATION.partial;
}

/** Every buffer in a set of cells and bitmaps, to transfer rather than copy them. */
export function transferablesOf(cells: readonly DiskCells[], bitmaps: readonly JobBitmap[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const disk of cells) {
    buffers.push(disk.content.buffer as ArrayBuffer, disk.allocated.buffer as ArrayBuffer);
    if (disk.indices) buffers.push(disk.indices.buffer as ArrayBuffer);
  }
  for (const bitmap of bitmaps) buffers.push(bitmap.bits.buffer as ArrayBuffer);
  return buffers;
}
