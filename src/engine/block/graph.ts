/**
 * One host's block graph: its named nodes and the BlockBackends (devices, NBD exports) at
 * its roots, with QEMU's graph edits: insert a filter above a node, drop it, and replace a
 * node in all its parents (the commit's final swap).
 */
import type { HostName } from '../sim/events.js';
import type { BlockNode, ChildRole } from './node.js';

/** A BlockBackend: what a guest device or an NBD export holds on to. */
export class BlockBackend {
  constructor(
    /** The device or export name (QEMU's blk name). */
    readonly name: string,
    public root: BlockNode | undefined,
    /** The node this backend was first attached to; scenario steps addressing it go through here. */
    readonly attachedNodeName: string,
  ) {}
}

export type ParentEdge =
  | { readonly kind: 'node'; readonly parent: BlockNode; readonly role: ChildRole }
  | { readonly kind: 'backend'; readonly backend: BlockBackend };

export class BlockGraph {
  private readonly nodesByName = new Map<string, BlockNode>();
  readonly backends: BlockBackend[] = [];

  constructor(readonly host: HostName) {}

  add(node: BlockNode): void {
    if (this.nodesByName.has(node.nodeName)) throw new Error(`node ${node.nodeName} already exists on ${this.host}`);
    this.nodesByName.set(node.nodeName, node);
  }

  remove(node: BlockNode): void {
    this.nodesByName.delete(node.nodeName);
  }

  /**
   * Puts the nodes in the order of `names` (a restore: job filters are created with their jobs,
   * after nodes saved after them, and the order nodes are walked in is part of the state).
   * Nodes not named keep their relative order, after the named ones.
   */
  reorder(names: readonly string[]): void {
    const entries = [...this.nodesByName];
    const rank = new Map(names.map((name, index) => [name, index]));
    entries.sort(([a], [b]) => (rank.get(a) ?? names.length) - (rank.get(b) ?? names.length));
    this.nodesByName.clear();
    for (const [name, node] of entries) this.nodesByName.set(name, node);
  }

  node(name: string): BlockNode | undefined {
    return this.nodesByName.get(name);
  }

  nodes(): IterableIterator<BlockNode> {
    return this.nodesByName.values();
  }

  backendNamed(name: string): BlockBackend | undefined {
    return this.backends.find((backend) => backend.name === name);
  }

  /** bdrv_lookup_bs(id, id): a device name first, then a node name. */
  lookup(id: string): BlockNode | undefined {
    return this.backendNamed(id)?.root ?? this.node(id);
  }

  parentsOf(node: BlockNode): ParentEdge[] {
    const edges: ParentEdge[] = [];
    for (const candidate of this.nodesByName.values()) {
      for (const [role, child] of candidate.children) {
        if (child === node) edges.push({ kind: 'node', parent: candidate, role });
      }
    }
    for (const backend of this.backends) {
      if (backend.root === node) edges.push({ kind: 'backend', backend });
    }
    return edges;
  }

  /** bdrv_has_blk: a BlockBackend is attached directly to this node. */
  hasBackend(node: BlockNode): boolean {
    return this.backends.some((backend) => backend.root === node);
  }

  /** bdrv_is_root_node: no parent other than BlockBackends. */
  isRoot(node: BlockNode): boolean {
    return this.parentsOf(node).every((edge) => edge.kind === 'backend');
  }

  /**
   * bdrv_replace_node: every parent of `from` points at `to` instead. Like QEMU's
   * should_update_child, an edge is kept when changing it would create a loop (its parent is
   * reachable from `to`), which is why the hidden disk's backing link stays on the secondary
   * disk when copy-before-write is inserted above it.
   */
  replaceNode(from: BlockNode, to: BlockNode): void {
    for (const edge of this.parentsOf(from)) {
      if (edge.kind === 'backend') {
        edge.backend.root = to;
      } else if (edge.parent !== to && !reaches(to, edge.parent)) {
        edge.parent.children.set(edge.role, to);
      }
    }
  }

  /** bdrv_append: `filter` (already above `below` through its own child) takes `below`'s place. */
  insertAbove(below: BlockNode, filter: BlockNode): void {
    this.add(filter);
    this.replaceNode(below, filter);
  }

  /** Drops a filter, pointing its parents at the node below it. */
  removeFilter(filter: BlockNode, below: BlockNode): void {
    this.replaceNode(filter, below);
    filter.children.clear();
    this.remove(filter);
  }
}

/** Whether `target` is `start` or lies below it. */
export function reaches(start: BlockNode, target: BlockNode): boolean {
  if (start === target) return true;
  for (const child of start.children.values()) if (reaches(child, target)) return true;
  return false;
}
