/**
 * Quorum, as COLO configures it (block/quorum.c): vote-threshold 1, read-pattern fifo.
 *
 * - A write goes to every child at once and succeeds when at least `voteThreshold` children
 *   succeed; each failing child is reported (QUORUM_REPORT_BAD).
 * - A fifo read asks children.0 and moves to the next child only when one fails.
 */
import { awaitAll, spawn, type Co } from '../sim/coroutine.js';
import type { HostName } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, WRITE_OK, type Errno, type ReadResult, type WriteResult } from './errno.js';
import { BlockNode, type BlockEnv, type ChildRole, type IoContext } from './node.js';

export class QuorumNode extends BlockNode {
  readonly driver = 'quorum' as const;
  readonly isFilter = false;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    readonly voteThreshold = 1,
  ) {
    super(nodeName, host, env);
  }

  /** The children in index order (children.0 first). */
  orderedChildren(): Array<{ role: ChildRole; node: BlockNode }> {
    return [...this.children.entries()]
      .filter(([role]) => role.startsWith('children.'))
      .map(([role, node]) => ({ role, node, index: Number(role.slice('children.'.length)) }))
      .sort((a, b) => a.index - b.index)
      .map(({ role, node }) => ({ role, node }));
  }

  /** x-blockdev-change: removes a child (the primary drops children.1 at failover). */
  removeChild(role: ChildRole): BlockNode | undefined {
    const child = this.children.get(role);
    this.children.delete(role);
    return child;
  }

  protected driverLengthBytes(): number | undefined {
    return this.orderedChildren()[0]?.node.lengthBytes();
  }

  protected *readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): Co<ReadResult> {
    let lastErrno: Errno = 'EIO';
    for (const { node } of this.orderedChildren()) {
      const result = yield* node.read(offsetBytes, lengthBytes, ctx);
      if (result.ok) return result;
      lastErrno = result.errno;
      this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: node.nodeName, io: 'read', errno: result.errno });
    }
    return failed(lastErrno);
  }

  protected *writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): Co<WriteResult> {
    const children = this.orderedChildren();
    const pending = children.map(({ node }) => spawn(this.env.scheduler, node.write(offsetBytes, data, ctx)));
    const results = yield* awaitAll(pending);
    let successes = 0;
    let lastErrno: Errno = 'EIO';
    results.forEach((result, index) => {
      if (result.ok) {
        successes++;
      } else {
        lastErrno = result.errno;
        this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: children[index]!.node.nodeName, io: 'write', errno: result.errno });
      }
    });
    return successes >= this.voteThreshold ? WRITE_OK : failed(lastErrno);
  }
}
