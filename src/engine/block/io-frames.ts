/**
 * Requests in flight, as data.
 *
 * QEMU runs a request as a coroutine that yields whenever it must wait (for the network, a
 * timer, another request). colo-sim keeps QEMU's shape but not its stack: a node's read or
 * write returns its result at once when nothing below it waits, which is almost always (images
 * answer at once); when something below waits, it returns `Suspended`, and every node that
 * still has work to do after its child answers leaves a frame here: which node, which step of
 * its work, and the plain-data state that step needs. When the child's answer comes, the table
 * resumes the parent's step with it, and so on up to the request's issuer.
 *
 * Because frames are data, a simulation can be saved with requests in flight and restored
 * exactly: nothing lives on a JavaScript stack between two scheduler entries.
 */
import type { ReadResult, WriteResult } from './errno.js';
import type { HostName } from '../sim/events.js';
import { decodeData, encodeData, type SavedData } from './saved-data.js';

export type IoResult = ReadResult | WriteResult;

/** The answer is not there yet: the request waits in frame `frameId` (the top of its chain of frames). */
export class Suspended {
  constructor(readonly frameId: number) {}
}

/** A node's answer to a read or write: the result, or where it waits. */
export type IoOutcome<R extends IoResult = IoResult> = R | Suspended;

export function isSuspended(outcome: IoOutcome): outcome is Suspended {
  return outcome instanceof Suspended;
}

/** Who resumes a frame: a node of a host's graph, the issuer of a request, or a block job. */
export type FrameOwner =
  | { readonly kind: 'node'; readonly host: HostName; readonly node: string }
  | { readonly kind: 'request'; readonly requestId: number }
  | { readonly kind: 'job'; readonly host: HostName; readonly jobId: string };

export interface FrameLink {
  readonly frameId: number;
  /** Which of the parent's children this is (a quorum write waits on several). */
  readonly slot: number;
}

export interface IoFrame {
  readonly id: number;
  readonly owner: FrameOwner;
  /** The owner's step that runs when the awaited answer comes. */
  readonly step: string;
  /** The step's own state: plain data, DataRuns allowed (see saved-data.ts). */
  readonly state: unknown;
  /** The frame waiting on this one; undefined for the top of a chain. */
  parent: FrameLink | undefined;
}

export interface FrameResumer {
  /**
   * Runs `frame`'s step with the answer of its child in `slot`. Returns the frame's own answer,
   * `Suspended(frame.id)` when it still waits on other children, or the `Suspended` of a new
   * chain it now waits on (that chain then takes the frame's place).
   */
  resumeFrame(frame: IoFrame, slot: number, result: IoResult): IoOutcome;
}

export interface SavedFrame {
  readonly id: number;
  readonly owner: FrameOwner;
  readonly step: string;
  readonly state: SavedData;
  readonly parent: FrameLink | null;
}

export interface FrameTableSnapshot {
  readonly nextFrameId: number;
  readonly frames: readonly SavedFrame[];
}

export class FrameTable {
  private nextFrameId = 1;
  private readonly frames = new Map<number, IoFrame>();

  /** `resumerOf` finds the live object behind an owner reference. */
  constructor(private readonly resumerOf: (owner: FrameOwner) => FrameResumer) {}

  get size(): number {
    return this.frames.size;
  }

  get(frameId: number): IoFrame | undefined {
    return this.frames.get(frameId);
  }

  all(): IterableIterator<IoFrame> {
    return this.frames.values();
  }

  /** A frame with no child linked yet (a leaf that waits on a timer, or a parent about to link children). */
  create(owner: FrameOwner, step: string, state: unknown): IoFrame {
    const frame: IoFrame = { id: this.nextFrameId++, owner, step, state, parent: undefined };
    this.frames.set(frame.id, frame);
    return frame;
  }

  /** `parent` waits on the chain topped by `child`, in `slot`. */
  link(child: Suspended, parent: IoFrame, slot: number): void {
    const top = this.frames.get(child.frameId);
    if (!top) throw new Error(`frame ${child.frameId} is not in flight`);
    if (top.parent) throw new Error(`frame ${child.frameId} already has a parent`);
    top.parent = { frameId: parent.id, slot };
  }

  /** The common case: a new frame of `owner` waits on `child` alone. */
  suspendOn(child: Suspended, owner: FrameOwner, step: string, state: unknown): Suspended {
    const frame = this.create(owner, step, state);
    this.link(child, frame, 0);
    return new Suspended(frame.id);
  }

  /**
   * The frame's answer has come: it leaves the table and its parent resumes with it, and so
   * on upwards while each parent finishes. Throws if the frame is not in flight.
   */
  complete(frameId: number, result: IoResult): void {
    let childId = frameId;
    let childResult = result;
    for (;;) {
      const child = this.frames.get(childId);
      if (!child) throw new Error(`frame ${childId} is not in flight`);
      this.frames.delete(childId);
      const link = child.parent;
      if (!link) return;
      const parent = this.frames.get(link.frameId);
      if (!parent) throw new Error(`frame ${link.frameId} (parent of ${childId}) is not in flight`);
      const outcome = this.resumerOf(parent.owner).resumeFrame(parent, link.slot, childResult);
      if (outcome instanceof Suspended) {
        if (outcome.frameId !== parent.id) {
          const top = this.frames.get(outcome.frameId)!;
          top.parent = parent.parent;
          this.frames.delete(parent.id);
        }
        return;
      }
      childId = parent.id;
      childResult = outcome;
    }
  }

  snapshot(): FrameTableSnapshot {
    const frames = [...this.frames.values()]
      .sort((a, b) => a.id - b.id)
      .map((frame): SavedFrame => ({ id: frame.id, owner: frame.owner, step: frame.step, state: encodeData(frame.state), parent: frame.parent ?? null }));
    return { nextFrameId: this.nextFrameId, frames };
  }

  /** Forgets every frame (a simulation rebuilt in place restores the table next). */
  clear(): void {
    this.frames.clear();
    this.nextFrameId = 1;
  }

  restore(saved: FrameTableSnapshot): void {
    if (this.frames.size > 0) throw new Error('FrameTable.restore needs an empty table');
    this.nextFrameId = saved.nextFrameId;
    for (const frame of saved.frames) {
      this.frames.set(frame.id, { id: frame.id, owner: frame.owner, step: frame.step, state: decodeData(frame.state), parent: frame.parent ?? undefined });
    }
  }
}
