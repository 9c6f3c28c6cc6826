/**
 * Quorum, as COLO configures it (block/quorum.c): vote-threshold 1, read-pattern fifo.
 *
 * - A write goes to every child at once and succeeds when at least `voteThreshold` children
 *   succeed; each failing child is reported (QUORUM_REPORT_BAD).
 * - A fifo read asks children.0 and moves to the next child only when one fails.
 */
import type { HostName } from '../sim/events.js';
import type { DataRuns } from './data-runs.js';
import { failed, WRITE_OK, type Errno, type ReadResult, type WriteResult } from './errno.js';
import { isSuspended, Suspended, type IoFrame, type IoOutcome, type IoResult } from './io-frames.js';
import { BlockNode, type BlockEnv, type ChildRole, type IoContext } from './node.js';

const READ_CHILD = 'quorum-read-child';
const WRITE_CHILDREN = 'quorum-write-children';

interface ReadState {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  /** The children as they were when the read began, by role. */
  readonly roles: ChildRole[];
  /** Index in `roles` of the child being asked. */
  index: number;
  lastErrno: Errno;
  readonly ctx: IoContext;
}

interface WriteState {
  readonly roles: ChildRole[];
  /** Each child's answer; null while it is still on its way. */
  readonly results: Array<WriteResult | null>;
  pending: number;
}

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

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    const roles = this.orderedChildren().map((child) => child.role);
    return this.continueRead({ offsetBytes, lengthBytes, roles, index: 0, lastErrno: 'EIO', ctx });
  }

  /** read_fifo: the next child is asked only when the one before failed. */
  private continueRead(state: ReadState): IoOutcome<ReadResult> {
    for (; state.index < state.roles.length; state.index++) {
      const child = this.children.get(state.roles[state.index]!);
      if (!child) continue;
      const outcome = child.read(state.offsetBytes, state.lengthBytes, state.ctx);
      if (isSuspended(outcome)) return this.suspendOn(outcome, READ_CHILD, state);
      if (outcome.ok) return outcome;
      this.childFailed(state, child.nodeName, outcome.errno);
    }
    return failed(state.lastErrno);
  }

  private childFailed(state: ReadState, childName: string, errno: Errno): void {
    state.lastErrno = errno;
    this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: childName, io: 'read', errno });
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    const children = this.orderedChildren();
    const state: WriteState = { roles: children.map((child) => child.role), results: [], pending: 0 };
    let frame: IoFrame | undefined;
    children.forEach(({ node }, slot) => {
      const outcome = node.write(offsetBytes, data, ctx);
      if (isSuspended(outcome)) {
        frame ??= this.env.frames.create(this.frameOwner, WRITE_CHILDREN, state);
        this.env.frames.link(outcome, frame, slot);
        state.pending++;
        state.results.push(null);
      } else state.results.push(outcome);
    });
    return frame ? new Suspended(frame.id) : this.tally(state);
  }

  /** quorum_vote for writes: enough children succeeded, else the last error. */
  private tally(state: WriteState): WriteResult {
    let successes = 0;
    let lastErrno: Errno = 'EIO';
    state.results.forEach((result, index) => {
      if (result!.ok) successes++;
      else {
        lastErrno = result!.errno;
        const child = this.children.get(state.roles[index]!);
        this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: child?.nodeName ?? state.roles[index]!, io: 'write', errno: result!.errno });
      }
    });
    return successes >= this.voteThreshold ? WRITE_OK : failed(lastErrno);
  }

  protected override resumeDriver(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    if (frame.step === READ_CHILD) {
      const state = frame.state as ReadState;
      const read = result as ReadResult;
      if (read.ok) return read;
      const child = this.children.get(state.roles[state.index]!);
      this.childFailed(state, child?.nodeName ?? state.roles[state.index]!, read.errno);
      state.index++;
      return this.continueRead(state);
    }
    if (frame.step === WRITE_CHILDREN) {
      const state = frame.state as WriteState;
      state.results[slot] = result as WriteResult;
      state.pending--;
      return state.pending > 0 ? new Suspended(frame.id) : this.tally(state);
    }
    return super.resumeDriver(frame, slot, result);
  }
}
