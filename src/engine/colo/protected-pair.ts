/**
 * The COLO pair the block graph protects NOW, read from the graph's shape and the replication
 * nodes' modes and stages, never from node names: after a failover and "resume replication"
 * (COLO-FT.txt) the survivor keeps the names its operator gave while it is the primary, and the
 * restarted host's nodes have a generation's names (topology.ts restartedSecondaryNames: active-disk-2,
 * hidden-disk-2, secondary-disk-2 or a kept primary-disk). The live invariants check this pair.
 *
 * Shapes (block/replication.c's two modes; docs/block-replication.txt; COLO-FT.txt's runbooks):
 *
 *   secondary host (the host named "secondary": hosts are roles):
 *     secondary VM -> [mirror_top] -> top (quorum) -> replication (mode=secondary)
 *         -> file: active (qcow2) -> backing: hidden (qcow2) -> backing: data disk
 *     (while replication_start's backup job runs, the replication node also holds "hidden disk"
 *     and "secondary disk" — copy-before-write above the data disk — but hidden's backing link
 *     stays on the data disk, so the file chain is followed.)
 *
 *   primary host:
 *     primary VM -> [mirror_top of a drive-mirror] -> quorum -> children: the replication node
 *         in mode=primary (file: the NBD client to the secondary's export), and the other
 *         child: the primary VM's data. That child is a raw image on the first pair
 *         (primary-disk), or, on a survivor of a failover to the secondary, its old chain
 *         (replication in mode=secondary, stage done, whose file is the data disk the active
 *         commit folded active and hidden into), followed down to the image.
 *
 * The pair is protected while the secondary's replication node is in stage running
 * (replication_start(REPLICATION_MODE_SECONDARY) ran, no failover or stop since) and the
 * primary's has not been stopped: an epoch of replication (a primary node still in stage none,
 * as in a trace that starts only the secondary's, leaves the secondary's epoch to check).
 * After a failover to the secondary (its stage is failover or done), after a failover to the
 * primary (replication_stop made the primary's node done and the quorum let it go: nothing is
 * forwarded any more, and the lost secondary's graph only stays as its QEMU left it, frozen, until
 * the host is restarted), and while a lost host restarts and resyncs (its new node is in stage
 * none), the pair is not protected and `unprotected` says why: the live invariants then say "not
 * protected" instead of checking a pair that no longer replicates.
 */
import { ImageNode } from '../block/image.js';
import type { BlockNode } from '../block/node.js';
import { ReplicationNode } from '../replication/replication-node.js';
import type { Simulation } from './simulation.js';
import type { Host } from './host.js';

/** The node names of the pair's parts, as the first pair's names are in topology.ts NODE. */
export interface PairNames {
  /** The primary VM's quorum (colo-disk on the first pair; a survivor's top-disk later). */
  readonly primaryQuorum: string | undefined;
  /** The primary VM's data: the primary quorum's child other than the replication node. */
  readonly primaryDisk: string | undefined;
  /** The primary's replication node (mode=primary), a child of the primary VM's quorum. */
  readonly replicationPrimary: string | undefined;
  /** Its file: the NBD client to the secondary's export. */
  readonly nbdClient: string | undefined;
  /** The secondary VM's quorum (top-id of the secondary replication node). */
  readonly topDisk: string | undefined;
  /** The secondary's replication node (mode=secondary). */
  readonly replicationSecondary: string | undefined;
  readonly activeDisk: string | undefined;
  readonly hiddenDisk: string | undefined;
  /** The disk the secondary's chain ends on: the NBD export the primary forwards to. */
  readonly secondaryDisk: string | undefined;
}

export interface ProtectedPair {
  readonly names: PairNames;
  /** The secondary's replication node, when the secondary host has one. */
  readonly secondaryReplication: ReplicationNode | undefined;
  readonly primaryImage: ImageNode | undefined;
  readonly activeImage: ImageNode | undefined;
  readonly hiddenImage: ImageNode | undefined;
  readonly secondaryImage: ImageNode | undefined;
  /** Why no pair is protected now; undefined while one is (an epoch runs). */
  readonly unprotected: string | undefined;
}

/** The pair's parts and whether it is protected, from `sim`'s graph now. Only looks. */
export function resolveProtectedPair(sim: Simulation): ProtectedPair {
  const secondary = resolveSecondary(sim.secondary);
  const primary = resolvePrimary(sim.primary);
  const names: PairNames = {
    primaryQuorum: primary.quorum?.nodeName,
    primaryDisk: primary.disk?.nodeName,
    replicationPrimary: primary.replication?.nodeName,
    nbdClient: primary.replication?.file?.nodeName,
    topDisk: secondary.top?.nodeName,
    replicationSecondary: secondary.replication?.nodeName,
    activeDisk: secondary.active?.nodeName,
    hiddenDisk: secondary.hidden?.nodeName,
    secondaryDisk: secondary.data?.nodeName,
  };
  const replication = secondary.replication;
  const unprotected = !replication
    ? 'not protected: the secondary host has no replication node in secondary mode'
    : replication.stage !== 'running'
      ? `${replication.nodeName} is in stage ${replication.stage}`
      : !primary.replication
        ? "not protected: the primary VM's quorum has no replication node in primary mode (a failover to the primary lets it go)"
        : primary.replication.stage !== 'running' && primary.replication.stage !== 'none'
          ? `${primary.replication.nodeName} is in stage ${primary.replication.stage}`
          : undefined;
  return {
    names,
    secondaryReplication: replication,
    primaryImage: primary.disk,
    activeImage: secondary.active,
    hiddenImage: secondary.hidden,
    secondaryImage: secondary.data,
    unprotected,
  };
}

/** The node the host's VM disk reads through first, below a drive-mirror's mirror_top. */
function vmQuorum(host: Host): BlockNode | undefined {
  let top = host.graph.backendNamed(host.vmBackendName)?.root;
  if (top?.driver === 'mirror_top') top = top.children.get('backing');
  return top;
}

function isReplication(node: BlockNode | undefined, mode: 'primary' | 'secondary'): node is ReplicationNode {
  return node instanceof ReplicationNode && node.mode === mode;
}

function resolveSecondary(host: Host): { top?: BlockNode; replication?: ReplicationNode; active?: ImageNode; hidden?: ImageNode; data?: ImageNode } {
  const top = vmQuorum(host);
  const underTop = top?.driver === 'quorum' ? [...top.children.values()].find((child) => isReplication(child, 'secondary')) : undefined;
  const replication = (underTop as ReplicationNode | undefined) ?? host.replicationNodes.find((node) => node.mode === 'secondary');
  if (!replication) return {};
  const topNode = underTop ? top : replication.topId === undefined ? undefined : host.graph.node(replication.topId);
  let below = replication.file;
  // The active commit's mirror_top sits between the replication node and the active disk while it runs.
  if (below?.driver === 'mirror_top') below = below.children.get('backing');
  if (!(below instanceof ImageNode)) return { top: topNode, replication };
  const backing = below.children.get('backing');
  if (backing instanceof ImageNode) {
    const base = backing.children.get('backing');
    return { top: topNode, replication, active: below, hidden: backing, data: base instanceof ImageNode ? base : undefined };
  }
  // After a failover's commit the replication node's file is the data disk itself.
  return { top: topNode, replication, data: below };
}

function resolvePrimary(host: Host): { quorum?: BlockNode; replication?: ReplicationNode; disk?: ImageNode } {
  const quorum = vmQuorum(host);
  if (quorum?.driver !== 'quorum') return {};
  const children = [...quorum.children.values()];
  const replication = children.find((child) => isReplication(child, 'primary')) as ReplicationNode | undefined;
  const other = children.find((child) => !isReplication(child, 'primary'));
  return { quorum, replication, disk: dataImageBelow(other) };
}

/** The image a node's reads end on, through filters (a survivor's replication node, mirror_top). */
function dataImageBelow(node: BlockNode | undefined): ImageNode | undefined {
  for (let current = node, depth = 0; current && depth < 8; depth++) {
    if (current instanceof ImageNode) return current;
    current = current.children.get('file') ?? current.children.get('backing');
  }
  return undefined;
}
