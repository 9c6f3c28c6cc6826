/**
 * Three invariants of COLO block replication, checked live on a running simulation (the app's
 * invariants panel), each held, broken (with the clusters and why) or not applicable now:
 *
 * (a) checkpoint-equal: after a checkpoint, primary-disk, secondary-disk and the secondary VM's
 *     view are equal (QEMU's docs/block-replication.txt: a checkpoint makes the secondary's state
 *     the primary's; secondary_do_checkpoint empties active-disk and hidden-disk; reference §4
 *     "What holds afterwards", §8.8). Checked at the instant each checkpoint (or the secondary's
 *     replication_start, which runs one) returns, and shown until the next.
 * (b) svm-view-layers: during an epoch (replication-secondary in stage running), the secondary
 *     VM's view is secondary-disk overlaid by hidden-disk, then active-disk: its read of each
 *     cluster is served by the first of active-disk, hidden-disk, secondary-disk that holds it
 *     (qcow2 backing files, and hidden-disk's backing link that copy-before-write does not
 *     re-point, reference §1), and it succeeds. It breaks where that read fails: an injected read
 *     error or an ejected medium on a node the read passes through there.
 * (c) hidden-holds-overwritten: during an epoch, hidden-disk holds exactly the clusters the
 *     primary overwrote since the checkpoint, each copied whole by copy-before-write before the
 *     forwarded write landed (workflow rule 2; reference §3, §8.4), and nothing else.
 *
 * The disks are those of the pair protected now, resolved from the graph's shape
 * (colo/protected-pair.ts): the first pair's, named as above, or after a failover and "resume
 * replication" (COLO-FT.txt) the new pair's (the survivor's disk as the primary's, the restarted
 * host's active-disk-2 ▸ hidden-disk-2 ▸ its data disk as the secondary's), whose names the
 * notes and reasons then give. While no pair is protected none of the three applies.
 *
 * Only looks: images' own layers and allocation, stages, jobs, the faults in force, and the facts
 * the EpochTracker gathered from events. No request is issued, so a check changes nothing (no
 * fault used up, no event, no request id) and costs what is allocated or broken, not the disk.
 */
import { DataRuns } from '../block/data-runs.js';
import type { ImageNode } from '../block/image.js';
import type { BlockNode } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import type { Simulation } from '../colo/simulation.js';
import { resolveProtectedPair, type ProtectedPair } from '../colo/protected-pair.js';
import { describeBytes, EpochTracker, type EpochTrackerState } from './epoch-tracker.js';

export type InvariantId = 'checkpoint-equal' | 'svm-view-layers' | 'hidden-holds-overwritten';
export type InvariantStatus = 'held' | 'broken' | 'not-applicable';

/** Adjacent clusters broken for one reason. */
export interface BrokenRange {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  /** The nodes to look at there (images, or top-disk for the secondary VM's view). */
  readonly nodes: readonly string[];
  readonly why: string;
}

export interface InvariantCheck {
  readonly id: InvariantId;
  readonly status: InvariantStatus;
  /** What was checked and when; or why the invariant does not apply now. */
  readonly note: string;
  /** Where it is broken (the first MAX_RANGES ranges). */
  readonly broken: readonly BrokenRange[];
  /** Clusters broken in all (more than `broken` lists when it was cut). */
  readonly brokenClusters: number;
  /** Virtual time of the check: now for (b) and (c), the checkpoint's for (a). */
  readonly checkedAtUs: number;
}

export interface InvariantReport {
  /** The unit of every check: the backup job's cluster. */
  readonly clusterBytes: number;
  /** (a), (b), (c), in that order. */
  readonly checks: readonly InvariantCheck[];
}

export interface LiveInvariantsState {
  readonly tracker: EpochTrackerState;
  readonly lastCheckpoint: CheckpointCheck | null;
}

interface CheckpointCheck {
  readonly atUs: number;
  readonly broken: readonly BrokenRange[];
  readonly brokenClusters: number;
}

/** Why a protected pair's invariants cannot be checked: its secondary chain is not whole. */
const NOT_A_CHAIN = "the secondary replication node's file is not an active disk over a hidden disk over a data disk";

/** At most this many ranges per invariant travel to the page. */
export const MAX_RANGES = 16;

/** A protected pair: every part of the secondary's chain and the primary's disk resolved. */
interface Pair {
  /** Absent when the primary VM's quorum has no local data child: (a) is not checked then. */
  readonly primaryDisk: string | undefined;
  readonly secondaryDisk: string;
  readonly activeDisk: string;
  readonly hiddenDisk: string;
  readonly topDisk: string;
  readonly replicationSecondary: string;
  readonly primary: ImageNode | undefined;
  readonly secondary: ImageNode;
  readonly active: ImageNode;
  readonly hidden: ImageNode;
}

/** The pair's parts when all of them are there (the chain's images and the primary's disk). */
function completePair(resolved: ProtectedPair): Pair | undefined {
  const { names, primaryImage, secondaryImage, activeImage, hiddenImage } = resolved;
  if (!secondaryImage || !activeImage || !hiddenImage || names.topDisk === undefined || names.replicationSecondary === undefined) return undefined;
  return {
    primaryDisk: primaryImage?.nodeName,
    secondaryDisk: secondaryImage.nodeName,
    activeDisk: activeImage.nodeName,
    hiddenDisk: hiddenImage.nodeName,
    topDisk: names.topDisk,
    replicationSecondary: names.replicationSecondary,
    primary: primaryImage,
    secondary: secondaryImage,
    active: activeImage,
    hidden: hiddenImage,
  };
}

export class LiveInvariants {
  private readonly tracker: EpochTracker;
  private lastCheckpoint: CheckpointCheck | null;

  /** Follows `sim` from now on; `state` is what saveState() gave before a reload. */
  constructor(
    private readonly sim: Simulation,
    state?: LiveInvariantsState,
  ) {
    this.lastCheckpoint = state?.lastCheckpoint ?? null;
    this.tracker = new EpochTracker(sim, state?.tracker, (tracker, startError) => this.checkAtCheckpoint(tracker, startError));
  }

  stop(): void {
    this.tracker.stop();
  }

  saveState(): LiveInvariantsState {
    return { tracker: this.tracker.saveState(), lastCheckpoint: this.lastCheckpoint };
  }

  /** The three invariants now. */
  report(): InvariantReport {
    return { clusterBytes: this.tracker.clusterBytes, checks: [this.checkpointEqual(), this.svmViewLayers(), this.hiddenHoldsOverwritten()] };
  }

  // ---- (a) ------------------------------------------------------------------------------------

  private checkpointEqual(): InvariantCheck {
    const id = 'checkpoint-equal';
    const current = this.current();
    if (current.notRunning) return notApplicable(id, `${current.notRunning}: no checkpoint to check`, this.sim.nowUs);
    const last = this.lastCheckpoint;
    if (!last) return notApplicable(id, 'no checkpoint yet', this.sim.nowUs);
    const pair = current.pair;
    return {
      id,
      status: last.brokenClusters === 0 ? 'held' : 'broken',
      note: last.brokenClusters === 0 ? `${pair?.primaryDisk ?? 'the primary disk'}, ${pair?.secondaryDisk ?? 'the secondary disk'} and the secondary VM's view were equal after the last checkpoint` : 'after the last checkpoint they differed',
      broken: last.broken,
      brokenClusters: last.brokenClusters,
      checkedAtUs: last.atUs,
    };
  }

  /** Called by the tracker as a checkpoint returns on the secondary, before the new epoch begins. */
  private checkAtCheckpoint(tracker: EpochTracker, startError: string | null): void {
    const pair = completePair(resolveProtectedPair(this.sim));
    if (!pair?.primary || pair.primaryDisk === undefined) {
      // Nothing to compare (no pair's disks): no stale verdict of an earlier pair is kept either.
      this.lastCheckpoint = null;
      return;
    }
    const { primary, secondary, active, hidden } = pair;
    const size = this.sim.settings.diskSizeBytes;
    const clusterBytes = tracker.clusterBytes;
    const reasons = new Map<number, { nodes: string[]; why: string }>();
    const primaryBytes = primary.peekOwnLayer(0, size);
    const secondaryBytes = secondary.peekOwnLayer(0, size);

    const differing = new Set<number>();
    for (const [start, end] of differingRanges(primaryBytes, secondaryBytes)) for (const cluster of tracker.clustersOf(start, end - start)) differing.add(cluster);
    for (const cluster of differing) {
      const [start, end] = bounds(cluster, clusterBytes, size);
      const said = `${pair.primaryDisk} holds ${describeBytes(primaryBytes.slice(start, end))}, ${pair.secondaryDisk} ${describeBytes(secondaryBytes.slice(start, end))}`;
      const why = tracker.divergenceAt(cluster);
      reasons.set(cluster, { nodes: [pair.primaryDisk, pair.secondaryDisk], why: why ? `${said}: ${why}` : said });
    }
    tracker.keepDivergence(differing);

    // The secondary VM's view differs from secondary-disk only where a buffer holds something.
    const buffered = new Set<number>([...clustersAllocated(active, clusterBytes), ...clustersAllocated(hidden, clusterBytes)]);
    for (const cluster of [...buffered].sort((a, b) => a - b)) {
      if (reasons.has(cluster)) continue;
      const [start, end] = bounds(cluster, clusterBytes, size);
      const view = overlay([active, hidden], secondary, start, end);
      if (view.data.equals(secondaryBytes.slice(start, end))) continue;
      const layer = view.topLayer ?? pair.hiddenDisk;
      reasons.set(cluster, {
        nodes: [layer, pair.secondaryDisk, pair.topDisk],
        why: `the secondary VM reads ${describeBytes(view.data)} from ${layer}, ${pair.secondaryDisk} holds ${describeBytes(secondaryBytes.slice(start, end))}: the checkpoint did not empty ${layer}${startError ? ` (${startError})` : ''}`,
      });
    }

    for (const [cluster, failure] of this.unreadableClusters(pair)) if (!reasons.has(cluster)) reasons.set(cluster, failure);
    const ranges = rangesOf(reasons, clusterBytes, size);
    this.lastCheckpoint = { atUs: this.sim.nowUs, broken: ranges.slice(0, MAX_RANGES), brokenClusters: reasons.size };
  }

  // ---- (b) ------------------------------------------------------------------------------------

  private svmViewLayers(): InvariantCheck {
    const id = 'svm-view-layers';
    const { notRunning, pair } = this.current();
    if (notRunning) return notApplicable(id, `${notRunning}: no epoch`, this.sim.nowUs);
    if (!pair) return notApplicable(id, `${NOT_A_CHAIN}: no epoch`, this.sim.nowUs);
    const broken = this.unreadableClusters(pair);
    return result(id, broken, this.tracker.clusterBytes, this.sim, `the secondary VM reads each cluster from the first of ${pair.activeDisk}, ${pair.hiddenDisk} and ${pair.secondaryDisk} that holds it`);
  }

  /**
   * Clusters the secondary VM cannot read now, and why: the first node on the read's way there
   * that would fail it (an ejected medium: ENOMEDIUM; an injected read error: EIO). The read goes
   * top-disk, replication-secondary, active-disk; on to hidden-disk where active-disk does not
   * hold the whole cluster; on to secondary-disk where neither buffer does.
   */
  private unreadableClusters(pair: Pair): Map<number, { nodes: string[]; why: string }> {
    // The secondary VM's read path, from its disk down (reference §1).
    const path = [pair.topDisk, pair.replicationSecondary, pair.activeDisk, pair.hiddenDisk, pair.secondaryDisk];
    const failing = path.map((name) => ({ name, failure: readFailure(this.sim.findNode(name)) }));
    const out = new Map<number, { nodes: string[]; why: string }>();
    if (failing.every((entry) => entry.failure === undefined)) return out;
    const { active, hidden } = pair;
    const size = this.sim.settings.diskSizeBytes;
    const clusterBytes = this.tracker.clusterBytes;
    const clusterCount = Math.ceil(size / clusterBytes);
    for (let cluster = 0; cluster < clusterCount; cluster++) {
      const [start, end] = bounds(cluster, clusterBytes, size);
      const activeHoldsAll = wholeRangeAllocated(active, start, end);
      const buffersHoldAll = activeHoldsAll || coveredByEither(active, hidden, start, end);
      for (const { name, failure } of failing) {
        if (name === pair.hiddenDisk && activeHoldsAll) break;
        if (name === pair.secondaryDisk && buffersHoldAll) break;
        if (!failure) continue;
        const reach = name === pair.hiddenDisk ? `, which the read reaches there (${pair.activeDisk} does not hold it all)` : name === pair.secondaryDisk ? ', which the read reaches there (neither buffer holds it all)' : '';
        out.set(cluster, { nodes: [name, pair.topDisk], why: `the secondary VM's read fails with ${failure.errno}: ${failure.what}${reach}` });
        break;
      }
    }
    return out;
  }

  // ---- (c) ------------------------------------------------------------------------------------

  private hiddenHoldsOverwritten(): InvariantCheck {
    const id = 'hidden-holds-overwritten';
    const { notRunning, pair } = this.current();
    const epoch = this.tracker.epoch;
    if (notRunning || !epoch) return notApplicable(id, `${notRunning ?? 'no checkpoint yet'}: no epoch`, this.sim.nowUs);
    if (!pair) return notApplicable(id, `${NOT_A_CHAIN}: no epoch`, this.sim.nowUs);
    const { hidden, hiddenDisk } = pair;
    const size = this.sim.settings.diskSizeBytes;
    const clusterBytes = this.tracker.clusterBytes;
    const held = clustersAllocated(hidden, clusterBytes);
    const broken = new Map<number, { nodes: string[]; why: string }>();
    const clusters = new Set<number>([...held, ...epoch.overwritten.keys(), ...epoch.copied]);
    for (const cluster of clusters) {
      const [start, end] = bounds(cluster, clusterBytes, size);
      const allocation = this.sim.allocationOf(hiddenDisk, start, end - start);
      const nodes = pair.primaryDisk === undefined ? [hiddenDisk, pair.secondaryDisk] : [hiddenDisk, pair.primaryDisk, pair.secondaryDisk];
      if (epoch.overwritten.has(cluster)) {
        if (allocation === 'all' && epoch.copied.has(cluster)) continue;
        const what = epoch.overwritten.get(cluster);
        const holds = allocation === 'none' ? 'has no copy of its old data' : allocation === 'some' ? 'holds only part of its old data' : 'holds data from before the checkpoint there, not a copy made for this write';
        broken.set(cluster, { nodes, why: `the primary overwrote it since the checkpoint, but ${hiddenDisk} ${holds}${what ? `: ${what}` : ''}` });
        continue;
      }
      if (allocation === 'none') continue;
      const why = epoch.copied.has(cluster)
        ? `copy-before-write saved it into ${hiddenDisk} for a write that did not come from the primary`
        : epoch.startError
          ? `${hiddenDisk} still holds it from before the checkpoint: the checkpoint that began this epoch failed (${epoch.startError})`
          : epoch.hiddenDirect.has(cluster)
            ? `it was written into ${hiddenDisk} directly, not by copy-before-write`
            : `${hiddenDisk} holds it, but the primary did not overwrite it since the checkpoint`;
      broken.set(cluster, { nodes: [hiddenDisk], why });
    }
    const overwritten = epoch.overwritten.size;
    const heldNote =
      overwritten === 0
        ? `the primary overwrote nothing since the checkpoint, and ${hiddenDisk} holds nothing`
        : `${hiddenDisk} holds the old data of the ${overwritten} cluster${overwritten === 1 ? '' : 's'} the primary overwrote since the checkpoint, and nothing else`;
    return result(id, broken, clusterBytes, this.sim, heldNote);
  }

  /**
   * The pair protected now (protected-pair.ts, from the graph's shape: any generation, either
   * direction), and why there is no epoch now (its secondary replication node not in stage
   * running, the secondary host lost, no pair), or undefined.
   */
  private current(): { notRunning: string | undefined; pair: Pair | undefined } {
    const resolved = resolveProtectedPair(this.sim);
    return { notRunning: resolved.unprotected, pair: completePair(resolved) };
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function notApplicable(id: InvariantId, note: string, nowUs: number): InvariantCheck {
  return { id, status: 'not-applicable', note, broken: [], brokenClusters: 0, checkedAtUs: nowUs };
}

function result(id: InvariantId, broken: Map<number, { nodes: string[]; why: string }>, clusterBytes: number, sim: Simulation, heldNote: string): InvariantCheck {
  const ranges = rangesOf(broken, clusterBytes, sim.settings.diskSizeBytes);
  return {
    id,
    status: broken.size === 0 ? 'held' : 'broken',
    note: broken.size === 0 ? heldNote : `broken at ${broken.size} cluster${broken.size === 1 ? '' : 's'}`,
    broken: ranges.slice(0, MAX_RANGES),
    brokenClusters: broken.size,
    checkedAtUs: sim.nowUs,
  };
}

/** [start, end) of a cluster, the last one cut at the disk's end. */
function bounds(cluster: number, clusterBytes: number, sizeBytes: number): [number, number] {
  return [cluster * clusterBytes, Math.min(sizeBytes, (cluster + 1) * clusterBytes)];
}

/** Adjacent clusters with the same reason and nodes, as ranges, in disk order. */
function rangesOf(broken: Map<number, { nodes: string[]; why: string }>, clusterBytes: number, sizeBytes: number): BrokenRange[] {
  const ranges: BrokenRange[] = [];
  let current: { first: number; last: number; nodes: string[]; why: string } | undefined;
  const flush = () => {
    if (!current) return;
    const start = current.first * clusterBytes;
    ranges.push({ offsetBytes: start, lengthBytes: Math.min(sizeBytes, (current.last + 1) * clusterBytes) - start, nodes: current.nodes, why: current.why });
  };
  for (const cluster of [...broken.keys()].sort((a, b) => a - b)) {
    const entry = broken.get(cluster)!;
    if (current && cluster === current.last + 1 && current.why === entry.why && current.nodes.join() === entry.nodes.join()) {
      current.last = cluster;
      continue;
    }
    flush();
    current = { first: cluster, last: cluster, nodes: entry.nodes, why: entry.why };
  }
  flush();
  return ranges;
}

/** Byte ranges [start, end) where two equally long contents differ, walking their runs. */
export function differingRanges(a: DataRuns, b: DataRuns): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start: number | undefined;
  const mark = (position: number, differs: boolean) => {
    if (differs && start === undefined) start = position;
    else if (!differs && start !== undefined) {
      ranges.push([start, position]);
      start = undefined;
    }
  };
  let indexA = 0;
  let indexB = 0;
  let offsetA = 0;
  let offsetB = 0;
  let position = 0;
  const length = Math.min(a.lengthBytes, b.lengthBytes);
  while (position < length) {
    const runA = a.runs[indexA]!;
    const runB = b.runs[indexB]!;
    const span = Math.min(runA.lengthBytes - offsetA, runB.lengthBytes - offsetB);
    if (runA.bytes === undefined && runB.bytes === undefined) mark(position, runA.fillByte !== runB.fillByte);
    else {
      for (let index = 0; index < span; index++) {
        const byteA = runA.bytes ? runA.bytes[offsetA + index]! : runA.fillByte!;
        const byteB = runB.bytes ? runB.bytes[offsetB + index]! : runB.fillByte!;
        mark(position + index, byteA !== byteB);
      }
    }
    position += span;
    offsetA += span;
    offsetB += span;
    if (offsetA === runA.lengthBytes) {
      indexA++;
      offsetA = 0;
    }
    if (offsetB === runB.lengthBytes) {
      indexB++;
      offsetB = 0;
    }
  }
  mark(length, false);
  return ranges;
}

/** Clusters (of `clusterBytes`) where an image's own layer holds anything. */
function clustersAllocated(image: ImageNode, clusterBytes: number): Set<number> {
  const clusters = new Set<number>();
  if (image instanceof Qcow2Image) {
    for (const index of image.allocatedClusterIndices()) clusters.add(Math.floor((index * image.clusterSizeBytes) / clusterBytes));
  }
  return clusters;
}

function wholeRangeAllocated(image: ImageNode, start: number, end: number): boolean {
  const run = image.allocationAt(start, end - start);
  return run.allocated && run.runBytes >= end - start;
}

/** Whether every byte of [start, end) is allocated in `upper` or `lower`. */
function coveredByEither(upper: ImageNode, lower: ImageNode, start: number, end: number): boolean {
  for (let position = start; position < end; ) {
    const run = upper.allocationAt(position, end - position);
    if (!run.allocated && !wholeRangeAllocated(lower, position, position + run.runBytes)) return false;
    position += run.runBytes;
  }
  return true;
}

/**
 * The bytes [start, end) of a chain of images, each layer's own data where it is allocated, else
 * the next layer's, else `base`: what a read through the chain returns when nothing fails. With
 * the upper-most layer that served any of it.
 */
function overlay(layers: readonly ImageNode[], base: ImageNode, start: number, end: number): { data: DataRuns; topLayer: string | undefined } {
  let topLayer: string | undefined;
  const read = (depth: number, from: number, to: number): DataRuns => {
    const layer = layers[depth];
    if (!layer) return base.peekOwnLayer(from, to - from);
    const parts: DataRuns[] = [];
    for (let position = from; position < to; ) {
      const run = layer.allocationAt(position, to - position);
      if (run.allocated) {
        parts.push(layer.peekOwnLayer(position, run.runBytes));
        topLayer ??= layer.nodeName;
      } else parts.push(read(depth + 1, position, position + run.runBytes));
      position += run.runBytes;
    }
    return DataRuns.concat(parts);
  };
  const data = read(0, start, end);
  return { data, topLayer };
}

/** How a read of this node would fail now, if it would: an ejected medium, or an injected read error. */
function readFailure(node: BlockNode | undefined): { errno: 'EIO' | 'ENOMEDIUM'; what: string } | undefined {
  if (!node) return undefined;
  if (node.ejected) return { errno: 'ENOMEDIUM', what: `${node.nodeName}'s medium is ejected` };
  const rule = node.faults.saveState().find((candidate) => candidate.on === 'read' || candidate.on === 'any');
  if (!rule) return undefined;
  return { errno: 'EIO', what: `an I/O error is injected on ${node.nodeName} (${rule.on}${rule.remaining === undefined ? '' : ` x${rule.remaining}`})` };
}
