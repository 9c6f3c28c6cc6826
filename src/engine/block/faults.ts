/**
 * Injected I/O errors on one node, like QEMU's blkdebug: requests of the chosen kind fail
 * with EIO, either a number of times or until the faults are cleared.
 */
import type { IoKind } from '../sim/events.js';

export type FaultTarget = IoKind | 'any';

export interface FaultRule {
  readonly on: FaultTarget;
  /** Failures left; undefined = until cleared. */
  remaining: number | undefined;
}

export class NodeFaults {
  private rules: FaultRule[] = [];

  add(on: FaultTarget, count: number | undefined): void {
    this.rules.push({ on, remaining: count });
  }

  /** Consumes one failure for a request of `io`, returning whether the request must fail. */
  trigger(io: IoKind): boolean {
    const rule = this.rules.find((candidate) => candidate.on === 'any' || candidate.on === io);
    if (!rule) return false;
    if (rule.remaining !== undefined) {
      rule.remaining--;
      if (rule.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    }
    return true;
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  describe(): string[] {
    return this.rules.map((rule) => `${rule.on}${rule.remaining === undefined ? '' : ` x${rule.remaining}`}`);
  }

  clear(): void {
    this.rules = [];
  }

  saveState(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  restoreState(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ ...rule }));
  }
}
