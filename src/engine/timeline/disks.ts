/**
 * Images' bytes as plain, frozen data: what a timeline keyframe keeps besides the engine
 * snapshot (which holds no disk bytes), and what "diff two moments" compares.
 *
 * Units: offsets, lengths and sizes in bytes; clusters are numbered from 0 at offset 0, of
 * `clusterSizeBytes` each (the last one may be short).
 */
import type { DataRuns } from '../block/data-runs.js';
import { ImageNode } from '../block/image.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import type { Simulation } from '../colo/simulation.js';
import type { HostName } from '../sim/events.js';
import { isCapturableStore, type SectorStore, type StoreFactory } from '../store.js';

/** One image at one moment. `data` never changes after capture (the store was read, not shared). */
export interface DiskImageState {
  readonly host: HostName;
  readonly sizeBytes: number;
  /** Every byte of the image's own layer (its store). */
  readonly data: DataRuns;
  /** qcow2: clusters allocated in the image's own layer, ascending; raw: null (everything is allocated). */
  readonly allocatedClusters: readonly number[] | null;
  /** qcow2: its cluster size; raw: the simulation's cluster size (the grid the views use). */
  readonly clusterSizeBytes: number;
}

/** Images by node name. */
export type DiskStates = ReadonlyMap<string, DiskImageState>;

/** Every image of both hosts, read from its store now. Costs one pass over each store's chunks. */
export function captureDisks(sim: Simulation): Map<string, DiskImageState> {
  const disks = new Map<string, DiskImageState>();
  for (const host of [sim.primary, sim.secondary]) {
    for (const node of host.graph.nodes()) {
      if (!(node instanceof ImageNode)) continue;
      const store = node.sectorStore;
      disks.set(node.nodeName, {
        host: host.name,
        sizeBytes: store.sizeBytes,
        data: store.read(0, store.sizeBytes),
        allocatedClusters: node instanceof Qcow2Image ? [...node.allocatedClusterIndices()].sort((a, b) => a - b) : null,
        clusterSizeBytes: node instanceof Qcow2Image ? node.clusterSizeBytes : sim.settings.clusterSizeBytes,
      });
    }
  }
  return disks;
}

/** An image's bytes as a keyframe keeps them: the store's own frozen capture when it has one (no bytes copied), else its bytes as runs. */
export interface KeyframeDisk {
  readonly sizeBytes: number;
  readonly contents?: unknown;
  readonly data?: DataRuns;
  /** Upper bound of the memory it holds, in bytes. */
  readonly approxBytes: number;
}

/** Every image's bytes, for a keyframe. */
export function captureKeyframeDisks(sim: Simulation): Map<string, KeyframeDisk> {
  const disks = new Map<string, KeyframeDisk>();
  for (const host of [sim.primary, sim.secondary]) {
    for (const node of host.graph.nodes()) {
      if (!(node instanceof ImageNode)) continue;
      const store = node.sectorStore;
      if (isCapturableStore(store)) {
        const contents = store.captureContents();
        disks.set(node.nodeName, { sizeBytes: store.sizeBytes, contents, approxBytes: 64 + store.contentsBytes(contents) });
      } else {
        const data = store.read(0, store.sizeBytes);
        disks.set(node.nodeName, { sizeBytes: store.sizeBytes, data, approxBytes: 64 + data.runs.reduce((sum, run) => sum + 32 + (run.bytes ? run.bytes.length : 0), 0) });
      }
    }
  }
  return disks;
}

/**
 * A store factory for rebuilding a simulation from a snapshot: while `filling()` is true, a store
 * asked for an image of `disks` starts with that image's bytes; afterwards (images created later
 * by the run itself) stores come empty from `createStore`. Throws when a capture cannot be put
 * into the new store (another store implementation, another size).
 */
export function factoryWithDisks(createStore: StoreFactory, disks: ReadonlyMap<string, KeyframeDisk>, filling: () => boolean): StoreFactory {
  return (request) => {
    const store: SectorStore = createStore(request);
    const saved = filling() ? disks.get(request.imageName) : undefined;
    if (!saved) return store;
    if (saved.sizeBytes !== store.sizeBytes) throw new Error(`image ${request.imageName} was ${saved.sizeBytes} bytes, its new store is ${store.sizeBytes}`);
    if (saved.data) store.write(0, saved.data);
    else if (isCapturableStore(store)) store.restoreContents(saved.contents);
    else throw new Error(`image ${request.imageName} was captured by a store this factory's stores cannot restore from`);
    return store;
  };
}

/** One image's differences between two moments. */
export interface DiskDiff {
  readonly name: string;
  readonly host: HostName;
  readonly clusterSizeBytes: number;
  /** Clusters in the image at either moment. */
  readonly clusterCount: number;
  /** `both`: the image exists at both moments; otherwise only at `a` or only at `b` (every cluster then counts as differing). */
  readonly presence: 'both' | 'only-a' | 'only-b';
  /** Clusters whose bytes differ, ascending. */
  readonly bytesDiffer: readonly number[];
  /** qcow2: clusters allocated at one moment and not at the other, ascending. */
  readonly allocationDiffers: readonly number[];
  /** The union of the two lists above, ascending. */
  readonly differing: readonly number[];
}

/**
 * Which clusters differ, image by image, between two captures (`a` earlier or later than `b`,
 * it does not matter). Images are listed by name; an image present at one moment only is listed
 * with every cluster differing. Throws nothing.
 */
export function diffDisks(a: DiskStates, b: DiskStates): DiskDiff[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names.map((name) => {
    const left = a.get(name);
    const right = b.get(name);
    const either = (left ?? right)!;
    const clusterSizeBytes = either.clusterSizeBytes;
    const clusterCount = Math.ceil(Math.max(left?.sizeBytes ?? 0, right?.sizeBytes ?? 0) / clusterSizeBytes);
    if (!left || !right) {
      const all = Array.from({ length: clusterCount }, (_, index) => index);
      return { name, host: either.host, clusterSizeBytes, clusterCount, presence: left ? 'only-a' : 'only-b', bytesDiffer: all, allocationDiffers: [], differing: all };
    }
    const bytesDiffer = differingClusters(left.data, right.data, clusterSizeBytes);
    const allocationDiffers = symmetricDifference(left.allocatedClusters ?? [], right.allocatedClusters ?? []);
    const differing = [...new Set([...bytesDiffer, ...allocationDiffers])].sort((x, y) => x - y);
    return { name, host: right.host, clusterSizeBytes, clusterCount, presence: 'both', bytesDiffer, allocationDiffers, differing };
  });
}

/** Clusters (of `clusterSizeBytes`) where two byte sequences differ, ascending; a length difference makes the tail differ. */
export function differingClusters(a: DataRuns, b: DataRuns, clusterSizeBytes: number): number[] {
  if (!(clusterSizeBytes > 0)) throw new RangeError(`clusterSizeBytes must be positive, got ${clusterSizeBytes}`);
  const out: number[] = [];
  const lengthBytes = Math.max(a.lengthBytes, b.lengthBytes);
  const common = Math.min(a.lengthBytes, b.lengthBytes);
  let position = 0;
  while (position < common) {
    // Skip equal stretches a run at a time; on a difference, note its cluster and jump past it.
    const rest = a.slice(position, common);
    const difference = rest.firstDifference(b.slice(position, common));
    if (difference === undefined) break;
    const cluster = Math.floor((position + difference) / clusterSizeBytes);
    out.push(cluster);
    position = (cluster + 1) * clusterSizeBytes;
  }
  for (let cluster = Math.floor(common / clusterSizeBytes) + (common % clusterSizeBytes === 0 ? 0 : 1); cluster * clusterSizeBytes < lengthBytes; cluster++) {
    if (out[out.length - 1] !== cluster) out.push(cluster);
  }
  if (common % clusterSizeBytes !== 0 && a.lengthBytes !== b.lengthBytes) {
    const partial = Math.floor(common / clusterSizeBytes);
    if (!out.includes(partial)) out.push(partial);
    out.sort((x, y) => x - y);
  }
  return out;
}

function symmetricDifference(a: readonly number[], b: readonly number[]): number[] {
  const left = new Set(a);
  const right = new Set(b);
  const out: number[] = [];
  for (const value of left) if (!right.has(value)) out.push(value);
  for (const value of right) if (!left.has(value)) out.push(value);
  return out.sort((x, y) => x - y);
}
