/**
 * What each node of a host's block graph is FOR, read from the graph's shape in the engine's
 * view model (NodeView children, replication modes, NBD targets, backend kinds), never from node
 * names: after a failover, a restart and "resume replication" the survivor keeps the names its
 * operator gave (top-disk, replication-secondary, secondary-disk...) while it is the primary, and
 * the new secondary's nodes are active-disk-2, hidden-disk-2, primary-disk (issue 8).
 *
 * Hosts are roles in the engine (after a swap "primary" is the machine that was the secondary),
 * so a host's region on screen is its name; what differs is the SHAPE of its graph:
 * - 'primary': the VM's quorum over a local disk and a replication node in primary mode
 *   (COLO-FT.txt's primary: colo-disk, primary-disk, replication-primary, nbd-client);
 * - 'secondary': the VM's quorum over a replication node in secondary mode over the
 *   active ▸ hidden ▸ secondary chain, exported over NBD. A survivor of a failover to the
 *   secondary keeps that shape when it becomes the primary of the next pair.
 */
import type { HostName } from '../../engine/sim/events.js';
import type { BackendView, NodeView, SimSummary } from '../../worker/protocol.js';

/** A node's part in its host's drawing. Each has a place in the layouts (views/graph-layout.ts). */
export type Slot =
  /** The VM's disk device (BlockBackend). */
  | 'vm'
  /** A mirror_top filter between the VM and its quorum (drive-mirror's resync). */
  | 'vm-filter'
  /** The VM's quorum (colo-disk, top-disk). */
  | 'quorum'
  /** Primary shape: the quorum's local child (the primary VM's disk). */
  | 'local'
  /** A replication node in primary mode (the quorum's child that forwards to the peer). */
  | 'out-repl'
  /** Its NBD client (the link starts there). */
  | 'out-client'
  /** drive-mirror's target: another NBD client to the peer's export. */
  | 'mirror-target'
  /** Secondary shape: the replication node in secondary mode. */
  | 'repl'
  /** The active commit's mirror_top between it and the active disk. */
  | 'filter'
  | 'active'
  | 'hidden'
  /** The disk the chain ends on (secondary-disk, or a restarted host's kept or fresh disk). */
  | 'base'
  /** copy-before-write above the base (the backup job's filter). */
  | 'cbw'
  /** The NBD export (BlockBackend) of the host's NBD server. */
  | 'export';

export type Shape = 'primary' | 'secondary';

export interface HostRoles {
  readonly host: HostName;
  readonly shape: Shape;
  /** Node or backend name per slot (a slot nothing fills is absent). */
  readonly slots: Partial<Record<Slot, string>>;
  /** Every node and backend of the host, by name, with its slot when it has one. */
  readonly members: ReadonlyArray<{ readonly name: string; readonly backend: boolean; readonly slot: Slot | undefined }>;
}

/** An NBD link: a client on one host and the export (a backend) it connects to on the other. */
export interface LinkRoles {
  readonly clientHost: HostName;
  readonly client: string;
  readonly exportHost: HostName;
  readonly exportBackend: string;
  /** The replication node's client (COLO's forwarding), or drive-mirror's target. */
  readonly purpose: 'replication' | 'mirror' | 'other';
}

export interface PairRoles {
  readonly hosts: Readonly<Record<HostName, HostRoles>>;
  readonly links: readonly LinkRoles[];
}

export const HOSTS: readonly HostName[] = ['primary', 'secondary'];

/** The key a node or backend has on screen: backends' names repeat across hosts (two NBD exports). */
export function keyOf(host: HostName, name: string): string {
  return `${host}:${name}`;
}

export function analyseRoles(summary: Pick<SimSummary, 'nodes' | 'backends' | 'jobs'>): PairRoles {
  const hosts = {
    primary: analyseHost(summary, 'primary'),
    secondary: analyseHost(summary, 'secondary'),
  };
  const links: LinkRoles[] = [];
  for (const node of summary.nodes) {
    if (!node.nbd) continue;
    const exportBackend = summary.backends.find((backend) => backend.host === node.nbd!.serverHost && backend.kind === 'export' && backend.exportName === node.nbd!.exportName);
    if (!exportBackend) continue;
    const slot = hosts[node.host].slots;
    const purpose = slot['out-client'] === node.name ? 'replication' : summary.jobs.some((job) => job.target === node.name) ? 'mirror' : 'other';
    links.push({ clientHost: node.host, client: node.name, exportHost: exportBackend.host, exportBackend: exportBackend.name, purpose });
  }
  // COLO's own link first: the choreographer's forwarded writes travel on it.
  links.sort((a, b) => rank(a.purpose) - rank(b.purpose));
  return { hosts, links };
}

function rank(purpose: LinkRoles['purpose']): number {
  return purpose === 'replication' ? 0 : purpose === 'mirror' ? 1 : 2;
}

function analyseHost(summary: Pick<SimSummary, 'nodes' | 'backends' | 'jobs'>, host: HostName): HostRoles {
  const nodes = summary.nodes.filter((node) => node.host === host);
  const backends = summary.backends.filter((backend) => backend.host === host);
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const child = (node: NodeView | undefined, role: string): NodeView | undefined => {
    const name = node?.children.find((candidate) => candidate.role === role)?.child;
    return name === undefined ? undefined : byName.get(name);
  };
  const slots: Partial<Record<Slot, string>> = {};
  const take = (slot: Slot, node: { name: string } | undefined): void => {
    if (node && slots[slot] === undefined && !Object.values(slots).includes(node.name)) slots[slot] = node.name;
  };

  const vm = backends.find((backend) => backend.kind === 'vm');
  take('vm', vm);
  // The VM's quorum, through a mirror_top drive-mirror put above it.
  let top = vm?.root ? byName.get(vm.root) : undefined;
  if (top?.driver === 'mirror_top') {
    take('vm-filter', top);
    top = child(top, 'backing');
  }
  const quorum = top?.driver === 'quorum' ? top : nodes.find((node) => node.driver === 'quorum');
  take('quorum', quorum);

  const isRepl = (node: NodeView | undefined, mode: 'primary' | 'secondary') => node?.replication?.mode === mode;
  const quorumChildren = (quorum?.children ?? []).map((entry) => byName.get(entry.child)).filter((node): node is NodeView => node !== undefined);
  const secondaryRepl = quorumChildren.find((node) => isRepl(node, 'secondary')) ?? nodes.find((node) => isRepl(node, 'secondary'));
  const shape: Shape = secondaryRepl ? 'secondary' : 'primary';

  // The replication node in primary mode: the quorum's child if one is, else any (a node
  // drive_add opened and x-blockdev-change has not added yet, or has removed).
  const outRepl = quorumChildren.find((node) => isRepl(node, 'primary')) ?? nodes.find((node) => isRepl(node, 'primary'));
  take('out-repl', outRepl);
  take('out-client', child(outRepl, 'file'));
  const mirrorTarget = summary.jobs.find((job) => job.host === host && job.target !== undefined && byName.has(job.target))?.target;
  take('mirror-target', mirrorTarget === undefined ? undefined : byName.get(mirrorTarget));

  if (shape === 'primary') {
    take('local', quorumChildren.find((node) => !isRepl(node, 'primary')));
  } else {
    take('repl', secondaryRepl);
    // repl's file: the active disk (a commit's mirror_top above it while it runs), or, once the
    // failover is done, the base itself.
    let below = child(secondaryRepl, 'file');
    if (below?.driver === 'mirror_top') {
      take('filter', below);
      below = child(below, 'backing');
    }
    let active: NodeView | undefined;
    let hidden: NodeView | undefined;
    let base: NodeView | undefined;
    if (below?.driver === 'qcow2') {
      active = below;
      hidden = child(active, 'backing');
      base = child(hidden, 'backing');
    } else if (below) {
      base = below;
      // After the failover the old active and hidden disks stay open with no parent.
      hidden = nodes.find((node) => node.driver === 'qcow2' && child(node, 'backing') === base);
      active = nodes.find((node) => node.driver === 'qcow2' && hidden !== undefined && child(node, 'backing') === hidden);
    }
    // While replication runs, its "secondary disk" child is copy-before-write above the base.
    const secondaryChild = child(secondaryRepl, 'secondary disk');
    const cbw = secondaryChild?.driver === 'copy-before-write' ? secondaryChild : nodes.find((node) => node.driver === 'copy-before-write');
    if (!base && cbw) base = child(cbw, 'file');
    take('active', active);
    take('hidden', hidden);
    take('base', base);
    take('cbw', cbw);
  }
  take('export', backends.find((backend) => backend.kind === 'export'));

  const slotOf = new Map(Object.entries(slots).map(([slot, name]) => [name, slot as Slot]));
  const members = [
    ...backends.map((backend: BackendView) => ({ name: backend.name, backend: true, slot: slotOf.get(backend.name) })),
    ...nodes.map((node) => ({ name: node.name, backend: false, slot: slotOf.get(node.name) })),
  ];
  return { host, shape, slots, members };
}

/** The images of the secondary VM's chain (its view reads active ▸ hidden ▸ base), when the secondary host has that shape. */
export function secondaryChain(roles: PairRoles): { active: string; hidden: string; base: string } | null {
  const host = roles.hosts.secondary;
  const { active, hidden, base } = host.slots;
  if (host.shape !== 'secondary' || active === undefined || hidden === undefined || base === undefined) return null;
  return { active, hidden, base };
}

/** The disk the primary VM's writes land on: the local disk, or a survivor's base (its quorum's only disk). */
export function primaryVmDisk(roles: PairRoles): string | undefined {
  const host = roles.hosts.primary;
  return host.shape === 'primary' ? host.slots.local : host.slots.base;
}

/** The parts of the COLO pair the animations name (the primary's quorum and disk, the secondary's chain). */
export interface PairParts {
  readonly primaryQuorum: string | undefined;
  readonly primaryDisk: string | undefined;
  readonly secondaryReplication: string | undefined;
  readonly active: string | undefined;
  readonly hidden: string | undefined;
  readonly base: string | undefined;
}

export function pairParts(roles: PairRoles): PairParts {
  const secondary = roles.hosts.secondary.slots;
  return {
    primaryQuorum: roles.hosts.primary.slots.quorum,
    primaryDisk: primaryVmDisk(roles),
    secondaryReplication: secondary.repl,
    active: secondary.active,
    hidden: secondary.hidden,
    base: secondary.base,
  };
}

/** The first generation's parts: what a choreographer test without a summary assumes. */
export const FIRST_GENERATION_PARTS: PairParts = {
  primaryQuorum: 'colo-disk',
  primaryDisk: 'primary-disk',
  secondaryReplication: 'replication-secondary',
  active: 'active-disk',
  hidden: 'hidden-disk',
  base: 'secondary-disk',
};
