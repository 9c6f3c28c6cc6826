/**
 * One QEMU process: its block graph, its block jobs and its list of replication nodes, with
 * the replication_*_all operations over that list (QEMU's replication.c). The list is newest
 * first, as QLIST_INSERT_HEAD builds it, and each operation stops at the first error.
 */
import { BlockGraph } from '../block/graph.js';
import { NbdServer } from '../block/nbd-server.js';
import type { BlockEnv } from '../block/node.js';
import { JobRegistry } from '../jobs/block-job.js';
import { MESSAGES } from '../replication/messages.js';
import { ReplicationNode, type ControlOutcome, type ReplicationHostServices } from '../replication/replication-node.js';
import type { HostName, ReplicationAction, ReplicationMode } from '../sim/events.js';

export interface ReplicationOpenOptions {
  readonly nodeName: string;
  /** Any string: QEMU checks the value, and so do we, with its message. */
  readonly mode?: string;
  readonly topId?: string;
  readonly file?: string;
}

/** The result of a `*_all` call: the first error stops the walk. */
export type AllOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly node: string; readonly quirk?: string };

export class Host {
  readonly graph: BlockGraph;
  readonly jobs: JobRegistry;
  /** The host's NBD server (nbd-server-start/add/stop) and its exports. */
  readonly nbdServer: NbdServer;
  /**
   * Nodes the monitor created (blockdev-add, drive_add -n): only these can be deleted with
   * blockdev-del; the command line's nodes belong to their drives.
   */
  readonly monitorOwned = new Set<string>();
  /** Newest first. */
  readonly replicationNodes: ReplicationNode[] = [];
  private readonly services: ReplicationHostServices;

  constructor(
    readonly name: HostName,
    private readonly env: BlockEnv,
    settings: { copyTimeUs: number; nextRequestId: () => number },
  ) {
    this.graph = new BlockGraph(name);
    this.jobs = new JobRegistry(name);
    this.nbdServer = new NbdServer(this.graph);
    this.services = { graph: this.graph, jobs: this.jobs, copyTimeUs: settings.copyTimeUs, nextRequestId: settings.nextRequestId };
  }

  /** The guest's BlockBackend: the VM of the host's role ("primary-vm", "secondary-vm"). */
  get vmBackendName(): string {
    return `${this.name}-vm`;
  }

  /** replication_open through blockdev-add, checks in QEMU's order. */
  openReplication(options: ReplicationOpenOptions): ControlOutcome {
    const outcome = this.tryOpen(options);
    this.env.events.emit({
      kind: 'node-opened',
      host: this.name,
      node: options.nodeName,
      ...(outcome.outcome === 'error' ? { error: outcome.message } : {}),
    });
    return outcome;
  }

  private tryOpen(options: ReplicationOpenOptions): ControlOutcome {
    const { nodeName, mode, topId, file } = options;
    if (this.graph.node(nodeName)) return { outcome: 'error', message: MESSAGES.duplicateNode(nodeName) };
    if (file === undefined) return { outcome: 'error', message: MESSAGES.fileMissing };
    const fileNode = this.graph.lookup(file);
    if (!fileNode) return { outcome: 'error', message: MESSAGES.cannotFind(file) };
    if (mode === undefined) return { outcome: 'error', message: MESSAGES.missingMode };
    if (mode === 'primary') {
      if (topId !== undefined) return { outcome: 'error', message: MESSAGES.primaryTopId };
    } else if (mode === 'secondary') {
      if (topId === undefined) return { outcome: 'error', message: MESSAGES.missingTopId };
    } else {
      return { outcome: 'error', message: MESSAGES.badMode };
    }
    this.addReplicationNode(nodeName, mode, topId, fileNode.nodeName);
    this.monitorOwned.add(nodeName);
    return { outcome: 'ok' };
  }

  /** Creates a replication node over an existing node and registers it (replication_new). */
  addReplicationNode(nodeName: string, mode: ReplicationMode, topId: string | undefined, fileNodeName: string): ReplicationNode {
    const node = this.createReplicationNode(nodeName, mode, topId);
    node.children.set('file', this.graph.lookup(fileNodeName)!);
    this.graph.add(node);
    this.registerReplicationNode(node);
    return node;
  }

  createReplicationNode(nodeName: string, mode: ReplicationMode, topId: string | undefined): ReplicationNode {
    return new ReplicationNode(nodeName, this.name, this.env, this.services, mode, topId);
  }

  /** replication_new puts the node at the head of the list. */
  registerReplicationNode(node: ReplicationNode): void {
    this.replicationNodes.unshift(node);
  }

  /** replication_remove: replication_*_all no longer sees the node. */
  unregisterReplicationNode(node: ReplicationNode): void {
    const position = this.replicationNodes.indexOf(node);
    if (position >= 0) this.replicationNodes.splice(position, 1);
  }

  startAll(mode: ReplicationMode): AllOutcome {
    return this.forAll((node) => node.start(mode));
  }

  checkpointAll(): AllOutcome {
    return this.forAll((node) => node.checkpoint());
  }

  getErrorAll(): AllOutcome {
    return this.forAll((node) => node.getError());
  }

  stopAll(failover: boolean): AllOutcome {
    return this.forAll((node) => node.stop(failover));
  }

  runAction(action: ReplicationAction, options: { mode?: ReplicationMode; failover?: boolean }): AllOutcome {
    switch (action) {
      case 'start':
        return this.startAll(options.mode ?? this.name);
      case 'checkpoint':
        return this.checkpointAll();
      case 'get-error':
        return this.getErrorAll();
      case 'stop':
        return this.stopAll(options.failover ?? false);
    }
  }

  private forAll(call: (node: ReplicationNode) => ControlOutcome): AllOutcome {
    // A copy: a call may not add or remove nodes, but QLIST_FOREACH_SAFE tolerates it and so do we.
    for (const node of [...this.replicationNodes]) {
      const outcome = call(node);
      if (outcome.outcome === 'error') {
        return outcome.quirk
          ? { ok: false, message: outcome.message, node: node.nodeName, quirk: outcome.quirk }
          : { ok: false, message: outcome.message, node: node.nodeName };
      }
    }
    return { ok: true };
  }
}
