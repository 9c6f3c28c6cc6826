/**
 * The pair's shape changing, as plain-data transforms of a snapshot (the simulation restores the
 * result in place): the roles swap when the surviving secondary becomes the primary of a new
 * pair, and a lost host's QEMU is gone before it comes back as the new secondary (COLO-FT.txt,
 * "Secondary resume replication" and "Primary resume replication").
 *
 * Hosts are named by their role: after a swap, "primary" is the machine that was the secondary.
 * Everything that names a host by role moves with it: the hosts' graphs, their VMs' backends
 * (primary-vm, secondary-vm), the requests they issued, the timers and messages addressed to
 * them, their QEMU processes' COLO state and QMP events. Node names do not change: QEMU's node
 * names stay what the operator gave them.
 */
import type { SavedData } from '../block/saved-data.js';
import type { EngineAction } from '../sim/actions.js';
import type { HostName } from '../sim/events.js';
import type { ScheduledEntry } from '../sim/scheduler.js';
import { initialColoState } from './colo-process.js';
import type { ColoControlState } from './colo-control.js';
import type { HostSnapshot, RootRequest, SimulationSnapshot } from './snapshot.js';

export function otherHost(host: HostName): HostName {
  return host === 'primary' ? 'secondary' : 'primary';
}

const swapHost = otherHost;

/** A guest's backend and origin by role: primary-vm and secondary-vm trade places. */
function swapVmName(name: string): string {
  if (name === 'primary-vm') return 'secondary-vm';
  if (name === 'secondary-vm') return 'primary-vm';
  return name;
}

function swapAction(action: EngineAction): EngineAction {
  switch (action.type) {
    case 'nbd-arrive':
    case 'nbd-reply':
    case 'nbd-lost':
    case 'workload-arrival':
      return action;
    case 'colo-message':
      return { ...action, to: swapHost(action.to) };
    default:
      return { ...action, host: swapHost(action.host) };
  }
}

function swapHostRecord<T>(record: Readonly<Record<HostName, T>>): Record<HostName, T> {
  return { primary: record.secondary, secondary: record.primary };
}

function swapColo(colo: ColoControlState): ColoControlState {
  return {
    ...colo,
    processes: swapHostRecord(colo.processes),
    channel: { ...colo.channel, held: colo.channel.held.map((message) => ({ ...message, to: swapHost(message.to) })) },
    qmpEvents: swapHostRecord(colo.qmpEvents),
    eventCursor: swapHostRecord(colo.eventCursor),
    errors: { ...colo.errors, entries: colo.errors.entries.map((entry) => ({ ...entry, host: swapHost(entry.host) })) },
    operations: colo.operations.map((operation) => (operation.kind === 'failover' ? { ...operation, to: swapHost(operation.to) } : operation)),
    stopErrors: swapHostRecord(colo.stopErrors),
  };
}

function swapHostSnapshot(host: HostSnapshot): HostSnapshot {
  return {
    ...host,
    nodes: host.nodes.map((node) => (node.driver === 'nbd' ? { ...node, serverHost: swapHost(node.serverHost) } : node)),
    backends: host.backends.map((backend) => ({ ...backend, name: swapVmName(backend.name) })),
  };
}

/**
 * The same simulation with the hosts' roles exchanged. Throws when COLO runs (a pair in COLO
 * has fixed roles; colo-sim swaps only once the survivor of a failover runs alone).
 */
export function swapRoles(snapshot: SimulationSnapshot): SimulationSnapshot {
  const frames = snapshot.frames.frames.map((frame) => {
    const owner = frame.owner.kind === 'request' ? frame.owner : { ...frame.owner, host: swapHost(frame.owner.host) };
    if (frame.owner.kind !== 'request') return { ...frame, owner };
    const root = frame.state as unknown as RootRequest;
    const state = { ...root, host: swapHost(root.host), origin: swapVmName(root.origin), node: root.node } as unknown as SavedData;
    return { ...frame, owner, state };
  });
  const entries = (snapshot.scheduler.entries as ReadonlyArray<ScheduledEntry<EngineAction>>).map((entry) => ({ ...entry, action: swapAction(entry.action) }));
  const workload = snapshot.workload;
  const vm = workload?.settings.vm;
  return {
    ...snapshot,
    scheduler: { ...snapshot.scheduler, entries } as typeof snapshot.scheduler,
    frames: { ...snapshot.frames, frames },
    link: { ...snapshot.link, inTransit: snapshot.link.inTransit.map(([frameId, host]) => [frameId, swapHost(host)] as const) },
    colo: swapColo(snapshot.colo),
    hosts: { primary: swapHostSnapshot(snapshot.hosts.secondary), secondary: swapHostSnapshot(snapshot.hosts.primary) },
    workload: workload && vm !== 'both' && vm !== undefined ? { ...workload, settings: { ...workload.settings, vm: swapHost(vm) } } : workload,
  };
}

/**
 * The simulation once `host`'s QEMU process is gone, before a new one starts there: its block
 * graph is empty but for the images in `keptImages` (their files stay on the machine), its jobs,
 * its requests and whatever waits on them are dropped, timers and messages addressed to it are
 * dropped, and its COLO state is that of a QEMU that has just started as the secondary
 * (-incoming): its monitor, QEMU log and QMP events start afresh.
 */
export function dropHostProcess(snapshot: SimulationSnapshot, host: HostName, keptImages: ReadonlySet<string>): SimulationSnapshot {
  const saved = snapshot.hosts[host];
  const nodes = saved.nodes
    .filter((node) => (node.driver === 'raw' || node.driver === 'qcow2') && keptImages.has(node.name))
    .map((node) => ({ ...node, children: [], faults: [], ejected: false }));
  const emptied: HostSnapshot = { nodes, backends: [], replicationOrder: [], jobs: [], nextJobNumber: saved.nextJobNumber, nbdServer: { running: false, port: null, exports: [] }, monitorOwned: [] };

  // Frames of the host's own nodes, jobs and requests, and every frame that waits on one of them.
  const ownedHere = (frame: (typeof snapshot.frames.frames)[number]): boolean =>
    frame.owner.kind === 'request' ? (frame.state as unknown as RootRequest).host === host : frame.owner.host === host;
  const dropped = withWaitingParents(snapshot.frames.frames, new Set(snapshot.frames.frames.filter(ownedHere).map((frame) => frame.id)));
  const frames = snapshot.frames.frames.filter((frame) => !dropped.has(frame.id));
  const entries = (snapshot.scheduler.entries as ReadonlyArray<ScheduledEntry<EngineAction>>).filter((entry) => {
    const action = entry.action;
    if (action.type === 'nbd-arrive' || action.type === 'nbd-reply' || action.type === 'nbd-lost') return !dropped.has(action.frameId);
    if (action.type === 'workload-arrival') return true;
    if (action.type === 'colo-message') return action.to !== host;
    return action.host !== host;
  });
  const colo = snapshot.colo;
  const qmpEvents = { ...colo.qmpEvents, [host]: { firstIndex: colo.qmpEvents[host].firstIndex + colo.qmpEvents[host].events.length, events: [] } };
  return {
    ...snapshot,
    scheduler: { ...snapshot.scheduler, entries } as typeof snapshot.scheduler,
    frames: { ...snapshot.frames, frames },
    link: {
      ...snapshot.link,
      inTransit: snapshot.link.inTransit.filter(([frameId]) => !dropped.has(frameId)),
      held: snapshot.link.held.filter((message) => !dropped.has(message.frameId)),
    },
    colo: {
      ...colo,
      processes: { ...colo.processes, [host]: initialColoState('secondary') },
      qmpEvents,
      eventCursor: { ...colo.eventCursor, [host]: qmpEvents[host].firstIndex },
      channel: { state: 'closed', epoch: colo.channel.epoch + 1, held: [], peerDead: false },
      operations: colo.operations.filter((operation) => operation.kind !== 'failover' || operation.to !== host),
      stopErrors: { ...colo.stopErrors, [host]: null },
    },
    requestResults: snapshot.requestResults,
    hosts: { ...snapshot.hosts, [host]: emptied },
  };
}

/** Frames are linked child to parent: `ids` and the ids of every frame waiting on one of them, directly or not. */
function withWaitingParents(frames: ReadonlyArray<{ readonly id: number; readonly parent: { readonly frameId: number } | null }>, ids: ReadonlySet<number>): Set<number> {
  const result = new Set(ids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const frame of frames) {
      if (!frame.parent || !result.has(frame.id) || result.has(frame.parent.frameId)) continue;
      result.add(frame.parent.frameId);
      grew = true;
    }
  }
  return result;
}
