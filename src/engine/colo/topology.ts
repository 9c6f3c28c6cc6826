/**
 * The topology of QEMU's docs/block-replication.txt, with the node names the scenario format
 * fixes. Every scenario and every simulation starts from this graph.
 *
 *   primary:   primary VM -> colo-disk (quorum) -> children.0 primary-disk (raw)
 *                                               -> children.1 replication-primary -> nbd-client
 *   secondary: NBD export -> secondary-disk (raw)
 *              secondary VM -> top-disk (quorum) -> replication-secondary -> active-disk (qcow2)
 *                                    -> backing hidden-disk (qcow2) -> backing secondary-disk
 */
import { BlockBackend } from '../block/graph.js';
import { NbdClientNode, type NbdExportResolver, type NbdLink } from '../block/nbd.js';
import type { BlockEnv } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { QuorumNode } from '../block/quorum.js';
import { RawImage } from '../block/raw-image.js';
import type { HostName } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import type { Host } from './host.js';

/** The port COLO-FT.txt's secondaries serve NBD on (nbd-server-start ... "port": "9999"). */
export const NBD_PORT = '9999';

export const NODE = {
  coloDisk: 'colo-disk',
  primaryDisk: 'primary-disk',
  replicationPrimary: 'replication-primary',
  nbdClient: 'nbd-client',
  secondaryDisk: 'secondary-disk',
  hiddenDisk: 'hidden-disk',
  activeDisk: 'active-disk',
  replicationSecondary: 'replication-secondary',
  topDisk: 'top-disk',
} as const;

export const BACKEND = {
  primaryVm: 'primary-vm',
  secondaryVm: 'secondary-vm',
  nbdExport: 'nbd-export',
} as const;

/** Every fixed node with its host and what it is, for validation and for the app. */
export const TOPOLOGY_NODES: ReadonlyArray<{ name: string; host: HostName; driver: 'raw' | 'qcow2' | 'quorum' | 'replication' | 'nbd' }> = [
  { name: NODE.coloDisk, host: 'primary', driver: 'quorum' },
  { name: NODE.primaryDisk, host: 'primary', driver: 'raw' },
  { name: NODE.replicationPrimary, host: 'primary', driver: 'replication' },
  { name: NODE.nbdClient, host: 'primary', driver: 'nbd' },
  { name: NODE.secondaryDisk, host: 'secondary', driver: 'raw' },
  { name: NODE.hiddenDisk, host: 'secondary', driver: 'qcow2' },
  { name: NODE.activeDisk, host: 'secondary', driver: 'qcow2' },
  { name: NODE.replicationSecondary, host: 'secondary', driver: 'replication' },
  { name: NODE.topDisk, host: 'secondary', driver: 'quorum' },
];

/** The image files, as QEMU's messages name them ("Failed to empty active_disk.qcow2: ..."). */
export const IMAGE_FILENAMES: Readonly<Record<string, string>> = {
  [NODE.primaryDisk]: 'primary_disk.raw',
  [NODE.secondaryDisk]: 'secondary_disk.raw',
  [NODE.hiddenDisk]: 'hidden_disk.qcow2',
  [NODE.activeDisk]: 'active_disk.qcow2',
};

export interface TopologySettings {
  readonly diskSizeBytes: number;
  readonly clusterSizeBytes: number;
}

export function buildTopology(
  env: BlockEnv,
  primary: Host,
  secondary: Host,
  link: NbdLink,
  settings: TopologySettings,
  createStore: StoreFactory,
  resolveExport: NbdExportResolver,
): void {
  const store = (imageName: string) => createStore({ imageName, sizeBytes: settings.diskSizeBytes });

  // Secondary host first: the primary's NBD client needs the export.
  const secondaryGraph = secondary.graph;
  const secondaryDisk = new RawImage(NODE.secondaryDisk, 'secondary', env, IMAGE_FILENAMES[NODE.secondaryDisk]!, store(NODE.secondaryDisk));
  const hiddenDisk = new Qcow2Image(NODE.hiddenDisk, 'secondary', env, IMAGE_FILENAMES[NODE.hiddenDisk]!, store(NODE.hiddenDisk), settings.clusterSizeBytes);
  const activeDisk = new Qcow2Image(NODE.activeDisk, 'secondary', env, IMAGE_FILENAMES[NODE.activeDisk]!, store(NODE.activeDisk), settings.clusterSizeBytes);
  hiddenDisk.children.set('backing', secondaryDisk);
  activeDisk.children.set('backing', hiddenDisk);
  for (const node of [secondaryDisk, hiddenDisk, activeDisk]) secondaryGraph.add(node);
  const replicationSecondary = secondary.addReplicationNode(NODE.replicationSecondary, 'secondary', NODE.topDisk, NODE.activeDisk);
  const topDisk = new QuorumNode(NODE.topDisk, 'secondary', env);
  topDisk.openWith([replicationSecondary]);
  secondaryGraph.add(topDisk);
  // COLO-FT.txt step 3: the secondary's QEMU starts its NBD server and exports its disk, writable.
  secondary.nbdServer.start(NBD_PORT);
  secondary.nbdServer.add(NODE.secondaryDisk, secondaryDisk, true);
  secondaryGraph.backends.push(new BlockBackend(BACKEND.secondaryVm, topDisk, NODE.topDisk));

  const primaryGraph = primary.graph;
  const primaryDisk = new RawImage(NODE.primaryDisk, 'primary', env, IMAGE_FILENAMES[NODE.primaryDisk]!, store(NODE.primaryDisk));
  const nbdClient = new NbdClientNode(NODE.nbdClient, 'primary', env, link, 'secondary', NODE.secondaryDisk, settings.diskSizeBytes, resolveExport);
  primaryGraph.add(primaryDisk);
  primaryGraph.add(nbdClient);
  const replicationPrimary = primary.addReplicationNode(NODE.replicationPrimary, 'primary', undefined, NODE.nbdClient);
  // COLO-FT.txt step 4 adds it with drive_add -n: the monitor's node, which drive_del may delete.
  primary.monitorOwned.add(NODE.replicationPrimary);
  const coloDisk = new QuorumNode(NODE.coloDisk, 'primary', env);
  coloDisk.openWith([primaryDisk, replicationPrimary]);
  primaryGraph.add(coloDisk);
  primaryGraph.backends.push(new BlockBackend(BACKEND.primaryVm, coloDisk, NODE.coloDisk));
}

/** A node name of the `generation`-th secondary (the first is the topology's own). */
export function generationName(base: string, generation: number): string {
  return generation <= 1 ? base : `${base}-${generation}`;
}

/** The image file of a generation's image: "hidden_disk-2.qcow2" beside the first "hidden_disk.qcow2". */
function generationFilename(base: string, generation: number): string {
  const filename = IMAGE_FILENAMES[base]!;
  if (generation <= 1) return filename;
  const dot = filename.lastIndexOf('.');
  return `${filename.slice(0, dot)}-${generation}${filename.slice(dot)}`;
}

/** The names of the nodes a restarted host gets as the `generation`-th secondary. */
export function restartedSecondaryNames(generation: number): { readonly dataDisk: string; readonly hiddenDisk: string; readonly activeDisk: string; readonly replication: string; readonly topDisk: string } {
  return {
    dataDisk: generationName(NODE.secondaryDisk, generation),
    hiddenDisk: generationName(NODE.hiddenDisk, generation),
    activeDisk: generationName(NODE.activeDisk, generation),
    replication: generationName(NODE.replicationSecondary, generation),
    topDisk: generationName(NODE.topDisk, generation),
  };
}

/**
 * A lost host's new QEMU, started as COLO-FT.txt's step 2 starts a secondary: its disk (the
 * image kept on the machine, or a new empty one), new empty active and hidden disks, a
 * replication node (mode=secondary, top-id its quorum) and the quorum the VM uses, waiting for
 * an incoming migration; then step 3: its NBD server started and its disk exported, writable.
 * Returns the exported disk's node name (the export's name).
 */
export function buildRestartedSecondary(
  env: BlockEnv,
  host: Host,
  settings: TopologySettings,
  createStore: StoreFactory,
  generation: number,
  keptDisk: RawImage | undefined,
): string {
  const names = restartedSecondaryNames(generation);
  const store = (imageName: string) => createStore({ imageName, sizeBytes: settings.diskSizeBytes });
  const graph = host.graph;
  const dataDisk = keptDisk ?? new RawImage(names.dataDisk, host.name, env, generationFilename(NODE.secondaryDisk, generation), store(names.dataDisk));
  if (!keptDisk) graph.add(dataDisk);
  const hiddenDisk = new Qcow2Image(names.hiddenDisk, host.name, env, generationFilename(NODE.hiddenDisk, generation), store(names.hiddenDisk), settings.clusterSizeBytes);
  const activeDisk = new Qcow2Image(names.activeDisk, host.name, env, generationFilename(NODE.activeDisk, generation), store(names.activeDisk), settings.clusterSizeBytes);
  hiddenDisk.children.set('backing', dataDisk);
  activeDisk.children.set('backing', hiddenDisk);
  graph.add(hiddenDisk);
  graph.add(activeDisk);
  const replication = host.addReplicationNode(names.replication, 'secondary', names.topDisk, names.activeDisk);
  const topDisk = new QuorumNode(names.topDisk, host.name, env);
  topDisk.openWith([replication]);
  graph.add(topDisk);
  graph.backends.push(new BlockBackend(host.vmBackendName, topDisk, names.topDisk));
  host.nbdServer.start(NBD_PORT);
  host.nbdServer.add(dataDisk.nodeName, dataDisk, true);
  return dataDisk.nodeName;
}
