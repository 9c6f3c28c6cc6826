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
const FLUSH_CHILD = 'quorum-flush-child';

interface FlushState {
  readonly roles: ChildRole[];
  /** Index in `roles` of the child being flushed. */
  index: number;
  successes: number;
  /** Each failing child's errno, in the order they failed (the error votes). */
  readonly errnos: Errno[];
  readonly ctx: IoContext;
}

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
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly roles: ChildRole[];
  /** Each child's answer; null while it is still on its way. */
  readonly results: Array<WriteResult | null>;
  pending: number;
}

/** x-blockdev-change's answer: the child's name when one was added, or QEMU's message. */
export type QuorumChangeOutcome = { readonly ok: true; readonly role: ChildRole } | { readonly ok: false; readonly message: string };

export class QuorumNode extends BlockNode {
  readonly driver = 'quorum' as const;
  readonly isFilter = false;
  /**
   * s->next_child_index: the number the next child added gets (quorum_add_child names it
   * children.N). quorum_open sets it to the number of children it opened with; removing the
   * child with the highest number gives that number back (7.2's stable naming: a child re-added
   * after a failover is children.1 again, not children.2).
   */
  nextChildIndex: number;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    readonly voteThreshold = 1,
    nextChildIndex = 0,
  ) {
    super(nodeName, host, env);
    this.nextChildIndex = nextChildIndex;
  }

  /** Opens the quorum with its command-line children, children.0 first (quorum_open). */
  openWith(children: readonly BlockNode[]): void {
    children.forEach((child, index) => this.children.set(`children.${index}`, child));
    this.nextChildIndex = children.length;
  }

  /** quorum_add_child (block/quorum.c): the new child is children.<next_child_index>. */
  addChild(child: BlockNode): QuorumChangeOutcome {
    const role: ChildRole = `children.${this.nextChildIndex}`;
    this.nextChildIndex++;
    this.children.set(role, child);
    return { ok: true, role };
  }

  /**
   * quorum_del_child (block/quorum.c): refused when it would leave fewer children than the vote
   * threshold; the highest-numbered child gives its number back.
   */
  deleteChild(role: ChildRole): QuorumChangeOutcome {
    if (!this.children.has(role)) throw new Error(`${this.nodeName} has no child ${role}`);
    if (this.orderedChildren().length <= this.voteThreshold) {
      return { ok: false, message: `The number of children cannot be lower than the vote threshold ${this.voteThreshold}` };
    }
    if (role === `children.${this.nextChildIndex - 1}`) this.nextChildIndex--;
    this.children.delete(role);
    return { ok: true, role };
  }

  /** The children in index order (children.0 first). */
  orderedChildren(): Array<{ role: ChildRole; node: BlockNode }> {
    return [...this.children.entries()]
      .filter(([role]) => role.startsWith('children.'))
      .map(([role, node]) => ({ role, node, index: Number(role.slice('children.'.length)) }))
      .sort((a, b) => a.index - b.index)
      .map(({ role, node }) => ({ role, node }));
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
    this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: childName, io: 'read', offsetBytes: state.offsetBytes, lengthBytes: state.lengthBytes, errno });
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    const children = this.orderedChildren();
    const state: WriteState = { offsetBytes, lengthBytes: data.lengthBytes, roles: children.map((child) => child.role), results: [], pending: 0 };
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

  /**
   * quorum_co_flush: every child flushed in turn, each failure reported (QUORUM_REPORT_BAD);
   * success when at least vote-threshold children succeeded (since QEMU 6.1: before, one dead
   * child failed every flush of the primary), else the errno most children failed with.
   */
  protected override flushDriver(ctx: IoContext): IoOutcome<WriteResult> {
    return this.continueFlush({ roles: this.orderedChildren().map((child) => child.role), index: 0, successes: 0, errnos: [], ctx });
  }

  private continueFlush(state: FlushState): IoOutcome<WriteResult> {
    for (; state.index < state.roles.length; state.index++) {
      const child = this.children.get(state.roles[state.index]!);
      if (!child) continue;
      const outcome = child.flush(state.ctx);
      if (isSuspended(outcome)) return this.suspendOn(outcome, FLUSH_CHILD, state);
      this.countFlush(state, child.nodeName, outcome);
    }
    if (state.successes >= this.voteThreshold) return WRITE_OK;
    return failed(flushVoteWinner(state.errnos));
  }

  private countFlush(state: FlushState, childName: string, outcome: WriteResult): void {
    if (outcome.ok) state.successes++;
    else {
      state.errnos.push(outcome.errno);
      this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: childName, io: 'flush', offsetBytes: 0, lengthBytes: 0, errno: outcome.errno });
    }
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
        this.env.events.emit({ kind: 'quorum-child-failed', node: this.nodeName, child: child?.nodeName ?? state.roles[index]!, io: 'write', offsetBytes: state.offsetBytes, lengthBytes: state.lengthBytes, errno: result!.errno });
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
    if (frame.step === FLUSH_CHILD) {
      const state = frame.state as FlushState;
      const child = this.children.get(state.roles[state.index]!);
      this.countFlush(state, child?.nodeName ?? state.roles[state.index]!, result as WriteResult);
      state.index++;
      return this.continueFlush(state);
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

/**
 * quorum_get_vote_winner over the flush's error votes: the errno with the most votes; among
 * equals the one first met walking the vote list, which quorum_count_vote fills head first (so
 * the errno that appeared last wins a tie).
 */
function flushVoteWinner(errnos: readonly Errno[]): Errno {
  const versions: Array<{ errno: Errno; votes: number }> = [];
  for (const errno of errnos) {
    const version = versions.find((candidate) => candidate.errno === errno);
    if (version) version.votes++;
    else versions.unshift({ errno, votes: 1 });
  }
  let winner = versions[0]!;
  for (const candidate of versions) if (candidate.votes > winner.votes) winner = candidate;
  return winner.errno;
}
