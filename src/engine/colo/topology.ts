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
import { NbdClientNode, type NbdLink } from '../block/nbd.js';
import type { BlockEnv } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { QuorumNode } from '../block/quorum.js';
import { RawImage } from '../block/raw-image.js';
import type { HostName } from '../sim/events.js';
import type { StoreFactory } from '../store.js';
import type { Host } from './host.js';

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
  const nbdExport = new BlockBackend(BACKEND.nbdExport, secondaryDisk, NODE.secondaryDisk);
  secondaryGraph.backends.push(nbdExport, new BlockBackend(BACKEND.secondaryVm, topDisk, NODE.topDisk));

  const primaryGraph = primary.graph;
  const primaryDisk = new RawImage(NODE.primaryDisk, 'primary', env, IMAGE_FILENAMES[NODE.primaryDisk]!, store(NODE.primaryDisk));
  const nbdClient = new NbdClientNode(NODE.nbdClient, 'primary', env, link, nbdExport, settings.diskSizeBytes);
  primaryGraph.add(primaryDisk);
  primaryGraph.add(nbdClient);
  const replicationPrimary = primary.addReplicationNode(NODE.replicationPrimary, 'primary', undefined, NODE.nbdClient);
  const coloDisk = new QuorumNode(NODE.coloDisk, 'primary', env);
  coloDisk.openWith([primaryDisk, replicationPrimary]);
  primaryGraph.add(coloDisk);
  primaryGraph.backends.push(new BlockBackend(BACKEND.primaryVm, coloDisk, NODE.coloDisk));
}
