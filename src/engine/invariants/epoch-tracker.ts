/**
 * What happened to each cluster since the last checkpoint, read from the simulation's events,
 * for the live invariants (live-invariants.ts): which clusters the primary overwrote, which
 * copy-before-write saved into hidden-disk, and what went wrong on the way; and, across epochs,
 * why primary-disk and secondary-disk may differ at a cluster.
 *
 * The pair's parts are resolved from the graph when an event is read (protected-pair.ts), so the
 * tracker follows whichever pair is protected: the first one's names (primary-disk,
 * replication-secondary, ...) or a later generation's after a failover and "resume replication".
 *
 * An epoch begins where a COLO checkpoint begins one on the secondary: a replication_do_checkpoint
 * of replication-secondary that reset the backup job's bitmap, or its replication_start (which
 * runs one). It ends when replication-secondary leaves stage running (a failover, a stop). The tracker only
 * listens: it issues no request and changes nothing. Its state is plain data, saved with the
 * simulation so that a reload goes on checking where it left off.
 *
 * Clusters are the backup job's: max(64 KiB, the hidden disk's cluster size) (block/block-copy.c
 * block_copy_calculate_cluster_size), the unit copy-before-write copies.
 */
import { formatByte } from '../block/data-runs.js';
import type { Simulation } from '../colo/simulation.js';
import { resolveProtectedPair, type PairNames } from '../colo/protected-pair.js';
import type { IoOrigin, SimEvent } from '../sim/events.js';

/** The smallest cluster copy-before-write copies (block_copy_calculate_cluster_size). */
const MIN_BACKUP_CLUSTER_BYTES = 64 * 1024;

export function backupClusterBytes(qcow2ClusterBytes: number): number {
  return Math.max(MIN_BACKUP_CLUSTER_BYTES, qcow2ClusterBytes);
}

/** The tracker's state as plain data (saved with the simulation). */
export interface EpochTrackerState {
  readonly epoch: EpochState | null;
  /** Why primary-disk and secondary-disk may differ at a cluster: [cluster, reason]. */
  readonly divergence: ReadonlyArray<readonly [number, string]>;
}

export interface EpochState {
  readonly startedAtUs: number;
  /** The checkpoint (or start) that began this epoch failed with this message: the buffers may hold older data. */
  readonly startError: string | null;
  /** Clusters copy-before-write copied into hidden-disk this epoch. */
  readonly copied: readonly number[];
  /** Clusters the primary overwrote this epoch: [cluster, what went wrong on the way, or '']. */
  readonly overwritten: ReadonlyArray<readonly [number, string]>;
  /** Clusters written into hidden-disk by a request addressed to it, not by copy-before-write. */
  readonly hiddenDirect: readonly number[];
}

interface Epoch {
  readonly startedAtUs: number;
  readonly startError: string | null;
  readonly copied: Set<number>;
  readonly overwritten: Map<number, string>;
  readonly hiddenDirect: Set<number>;
}

/** Where a request entered the graph, while it is in flight. */
interface RequestRoot {
  readonly origin: IoOrigin;
  readonly node: string;
}

export class EpochTracker {
  readonly clusterBytes: number;
  private epochState: Epoch | null;
  private readonly divergenceReasons: Map<number, string>;
  private readonly roots = new Map<number, RequestRoot>();
  /** Writes the primary sent over NBD, by request id, until they complete or are lost. */
  private readonly forwarded = new Set<number>();
  private readonly stopFollowing: () => void;
  /** Within a replication call on the secondary: it moved the stage from none to running (a start that started). */
  private startedInCall = false;
  /** Within a replication call on the secondary: the backup job's bitmap was reset (the checkpoint got past its job check). */
  private bitmapResetInCall = false;

  /**
   * Follows `sim`'s events from now on. `onEpochStart` is called when a checkpoint begins an
   * epoch, before the tracker forgets the epoch it ends (the checkpoint invariant is checked then).
   */
  constructor(
    private readonly sim: Simulation,
    state: EpochTrackerState | undefined,
    private readonly onEpochStart: (tracker: EpochTracker, startError: string | null) => void = () => undefined,
  ) {
    this.clusterBytes = backupClusterBytes(sim.settings.clusterSizeBytes);
    this.epochState = state?.epoch ? epochFrom(state.epoch) : null;
    this.divergenceReasons = new Map(state?.divergence ?? []);
    this.stopFollowing = sim.events.subscribe((event) => this.observe(event));
  }

  stop(): void {
    this.stopFollowing();
  }

  get epoch(): Readonly<Epoch> | null {
    return this.epochState;
  }

  /** Why primary-disk and secondary-disk may differ at `cluster`, if anything recorded says so. */
  divergenceAt(cluster: number): string | undefined {
    return this.divergenceReasons.get(cluster);
  }

  /** After the checkpoint invariant was checked: only the clusters found different keep their reason. */
  keepDivergence(differing: ReadonlySet<number>): void {
    for (const cluster of [...this.divergenceReasons.keys()]) if (!differing.has(cluster)) this.divergenceReasons.delete(cluster);
  }

  saveState(): EpochTrackerState {
    const epoch = this.epochState;
    return {
      epoch: epoch
        ? {
            startedAtUs: epoch.startedAtUs,
            startError: epoch.startError,
            copied: [...epoch.copied],
            overwritten: [...epoch.overwritten],
            hiddenDirect: [...epoch.hiddenDirect],
          }
        : null,
      divergence: [...this.divergenceReasons],
    };
  }

  clustersOf(offsetBytes: number, lengthBytes: number): number[] {
    if (lengthBytes <= 0) return [];
    const clusters: number[] = [];
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.clusterBytes);
    for (let cluster = Math.floor(offsetBytes / this.clusterBytes); cluster <= last; cluster++) clusters.push(cluster);
    return clusters;
  }

  /** The current pair's node names (looked up when an event needs them: the graph changes with failovers and resumes). */
  private names(): PairNames {
    return resolveProtectedPair(this.sim).names;
  }

  private observe(event: SimEvent): void {
    switch (event.kind) {
      case 'io-issued':
        this.roots.set(event.requestId, { origin: event.origin, node: event.node });
        // A step writing one disk of the pair alone makes them differ (the lessons write both alike).
        if (event.io === 'write' && event.origin === 'step' && this.isPairDisk(event.node)) {
          this.diverge(event.offsetBytes, event.lengthBytes, `${event.node} was written by a step, not by the primary VM`);
        }
        break;
      case 'io-completed':
        this.roots.delete(event.requestId);
        break;
      case 'forward-sent':
        if (event.io === 'write') this.forwarded.add(event.requestId);
        break;
      case 'forward-completed':
        this.forwarded.delete(event.requestId);
        break;
      case 'forward-landed':
        if (event.io !== 'write') break;
        if (event.errno) this.primaryWriteLost(event.offsetBytes, event.lengthBytes, `the forwarded write failed on the secondary (${event.errno})`);
        else this.overwrite(event.offsetBytes, event.lengthBytes, '');
        break;
      case 'forward-lost':
        this.forwarded.delete(event.requestId);
        if (event.io === 'write' && !event.landed && this.wentThroughPrimaryDisk(event.requestId)) {
          this.primaryWriteLost(event.offsetBytes, event.lengthBytes, 'the forwarded write was lost: the NBD link went down before it arrived');
        }
        break;
      case 'io-failed':
        this.onIoFailed(event);
        break;
      case 'cbw-copy':
        this.onCopy(event);
        break;
      case 'write-landed':
        this.onLanded(event);
        break;
      case 'replication-call':
        this.onReplicationCall(event);
        break;
      case 'stage-changed':
        if (event.node !== this.names().replicationSecondary) break;
        if (event.to !== 'running') this.epochState = null;
        else if (event.from === 'none') this.startedInCall = true;
        break;
      case 'bitmap-reset':
        this.bitmapResetInCall = true;
        break;
      default:
        break;
    }
  }

  private onIoFailed(event: Extract<SimEvent, { kind: 'io-failed' }>): void {
    if (event.io !== 'write') return;
    const root = this.roots.get(event.requestId);
    const byPrimaryVm = root?.origin === 'primary-vm';
    const names = this.names();
    if (event.node === names.nbdClient) {
      if (this.wentThroughPrimaryDisk(event.requestId, names)) this.primaryWriteLost(event.offsetBytes, event.lengthBytes, `the forwarded write never reached the secondary (${event.cause})`);
    } else if (event.node === names.replicationPrimary && byPrimaryVm) {
      this.primaryWriteLost(event.offsetBytes, event.lengthBytes, `${event.node} did not forward it (${event.cause})`);
    } else if (event.node === names.primaryDisk && byPrimaryVm) {
      // The quorum (vote-threshold 1) still succeeds through the replication node.
      this.diverge(event.offsetBytes, event.lengthBytes, `the primary VM's write did not reach ${event.node} (${event.errno}: ${event.cause})`);
    }
  }

  /**
   * Whether request `requestId` also wrote the primary disk: it did unless it was sent to
   * replication-primary itself (a step, as QEMU's test-replication.c does), which forwards it and
   * writes no primary disk; when such a forward fails, the pair still agrees there.
   */
  private wentThroughPrimaryDisk(requestId: number, names: PairNames = this.names()): boolean {
    return this.roots.get(requestId)?.node !== names.replicationPrimary;
  }

  /** Whether `node` is the primary's or the secondary's data disk of the current pair. */
  private isPairDisk(node: string): boolean {
    const names = this.names();
    return node === names.primaryDisk || node === names.secondaryDisk;
  }

  /** A write of the primary that the secondary did not get: the pair now differs there. */
  private primaryWriteLost(offsetBytes: number, lengthBytes: number, why: string): void {
    this.diverge(offsetBytes, lengthBytes, `the primary's write was not replicated: ${why}`);
    this.overwrite(offsetBytes, lengthBytes, why);
  }

  private diverge(offsetBytes: number, lengthBytes: number, why: string): void {
    for (const cluster of this.clustersOf(offsetBytes, lengthBytes)) this.divergenceReasons.set(cluster, why);
  }

  /** The primary overwrote these clusters this epoch; `why` says what went wrong on the way, if anything (the first cause is kept). */
  private overwrite(offsetBytes: number, lengthBytes: number, why: string): void {
    const epoch = this.epochState;
    if (!epoch) return;
    for (const cluster of this.clustersOf(offsetBytes, lengthBytes)) {
      if (!epoch.overwritten.get(cluster)) epoch.overwritten.set(cluster, why);
    }
  }

  private onCopy(event: Extract<SimEvent, { kind: 'cbw-copy' }>): void {
    const epoch = this.epochState;
    if (!epoch || event.target !== this.names().hiddenDisk) return;
    const forPrimary = this.forwarded.has(event.requestId);
    for (const cluster of this.clustersOf(event.offsetBytes, event.lengthBytes)) {
      if (event.errno) {
        if (forPrimary && !epoch.overwritten.get(cluster)) epoch.overwritten.set(cluster, `the copy into ${event.target} failed (${event.errno})`);
        continue;
      }
      epoch.copied.add(cluster);
      if (forPrimary && !epoch.overwritten.has(cluster)) epoch.overwritten.set(cluster, '');
    }
  }

  private onLanded(event: Extract<SimEvent, { kind: 'write-landed' }>): void {
    const epoch = this.epochState;
    if (!epoch) return;
    // Both cases below need the write's root on the node it landed on, or a forwarded write: most
    // landings are neither, and are passed before the pair's names are looked up (a walk of the graph).
    const rootedHere = this.roots.get(event.requestId)?.node === event.node;
    if (!rootedHere && !this.forwarded.has(event.requestId)) return;
    const clusters = this.clustersOf(event.offsetBytes, event.lengthBytes);
    const names = this.names();
    if (event.node === names.hiddenDisk && rootedHere) {
      for (const cluster of clusters) epoch.hiddenDirect.add(cluster);
      return;
    }
    if (event.node !== names.secondaryDisk || !this.forwarded.has(event.requestId)) return;
    // A forwarded write reached secondary-disk: without a copy first, the secondary VM now sees it.
    const backupJob = this.sim.secondary.jobs.ofType('backup');
    for (const cluster of clusters) {
      if (epoch.copied.has(cluster)) continue;
      epoch.overwritten.set(
        cluster,
        backupJob
          ? `it landed on ${event.node} before a copy of its old data was made`
          : `it landed on ${event.node} with no copy: the backup job is gone (cancelled or failed), so copy-before-write no longer guards ${event.node}`,
      );
    }
  }

  /**
   * A start that started, or a checkpoint that got past its job check (it reset the backup
   * job's bitmap: secondary_do_checkpoint), begins an epoch, whether or not emptying the
   * buffers then failed. A start refused ("running or done") or a checkpoint without a backup
   * job changes nothing and begins none.
   */
  private onReplicationCall(event: Extract<SimEvent, { kind: 'replication-call' }>): void {
    if (event.node !== this.names().replicationSecondary) return;
    const began = event.action === 'start' ? this.startedInCall : event.action === 'checkpoint' && this.bitmapResetInCall;
    this.startedInCall = false;
    this.bitmapResetInCall = false;
    if (!began) return;
    const node = this.sim.replicationNode(event.node);
    if (node?.mode !== 'secondary' || node.stage !== 'running') return;
    const startError = event.outcome === 'error' ? (event.message ?? 'it failed') : null;
    this.onEpochStart(this, startError);
    this.epochState = { startedAtUs: event.timeUs, startError, copied: new Set(), overwritten: new Map(), hiddenDirect: new Set() };
  }
}

function epochFrom(state: EpochState): Epoch {
  return {
    startedAtUs: state.startedAtUs,
    startError: state.startError,
    copied: new Set(state.copied),
    overwritten: new Map(state.overwritten),
    hiddenDirect: new Set(state.hiddenDirect),
  };
}

/** A cluster's bytes in words: "0x11", or "mixed bytes". */
export function describeBytes(bytes: { uniformByte(): number | undefined }): string {
  const uniform = bytes.uniformByte();
  return uniform === undefined ? 'mixed bytes' : formatByte(uniform);
}
