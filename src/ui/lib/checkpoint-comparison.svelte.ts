/**
 * What the Cost tab's "Compare checkpoint intervals" keeps (CheckpointComparison.svelte): the
 * form's values, whether a run is under way, the refusal and the last results. It lives on the
 * page's SimState, not in the component, because a tab switch (or the phone drawer closing)
 * destroys the component: the user's values and a finished comparison must still be there when
 * the tab comes back, and a run started before the switch must still land.
 */
import { DEFAULT_WORKLOAD, type WorkloadSettings } from '../../engine/colo/workload.js';
import type { CheckpointComparisonAnswer, CheckpointComparisonRequest } from '../../worker/protocol.js';

export type ComparisonResult = Extract<CheckpointComparisonAnswer, { ok: true }>;

/** An empty number field binds null: the engine's check then names the field (NaN is "not a number"). */
const numberOf = (value: number | null): number => (value === null ? Number.NaN : value);

export class CheckpointComparisonState {
  // Defaults: a short and a five-times longer period for 20 s of virtual time; the workload is
  // set from the session's own when the tab first opens (seedFrom), then belongs to the user.
  intervalAMs = $state<number | null>(1000);
  intervalBMs = $state<number | null>(5000);
  durationMs = $state<number | null>(20_000);
  writesPerSecond = $state<number | null>(DEFAULT_WORKLOAD.writesPerSecond);
  vm = $state<WorkloadSettings['vm']>(DEFAULT_WORKLOAD.vm);
  blockBytes = $state(DEFAULT_WORKLOAD.blockBytes);
  maxBlocks = $state<number | null>(DEFAULT_WORKLOAD.maxBlocks);

  busy = $state(false);
  problem = $state<string | null>(null);
  /** The last comparison that finished; cleared when a new one starts or is refused, so no old figures pass for current. */
  result = $state.raw<ComparisonResult | null>(null);

  private seeded = false;

  /** Takes the session's running workload as the form's start, once: later openings keep what the user typed. */
  seedFrom(running: WorkloadSettings | null): void {
    if (this.seeded) return;
    this.seeded = true;
    if (!running) return;
    this.writesPerSecond = running.writesPerSecond;
    this.vm = running.vm;
    this.blockBytes = running.blockBytes;
    this.maxBlocks = running.maxBlocks;
  }

  /** The request the form stands for now. */
  request(): CheckpointComparisonRequest {
    return {
      intervalsMs: [numberOf(this.intervalAMs), numberOf(this.intervalBMs)],
      durationMs: numberOf(this.durationMs),
      workload: { writesPerSecond: numberOf(this.writesPerSecond), vm: this.vm, blockBytes: this.blockBytes, maxBlocks: numberOf(this.maxBlocks) },
    };
  }

  /**
   * Runs the comparison through `run` (the worker client) and keeps the answer here, whether or
   * not the tab is still open when it comes. Says "done" through `announce`.
   */
  async compare(run: (request: CheckpointComparisonRequest) => Promise<CheckpointComparisonAnswer>, announce: (message: string) => void): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.problem = null;
    // A new run makes the old figures stale whatever it answers.
    this.result = null;
    try {
      const answer = await run(this.request());
      if (answer.ok) {
        this.result = answer;
        announce(`Comparison done: checkpoints every ${answer.runs[0]!.intervalMs} ms and every ${answer.runs[1]!.intervalMs} ms`);
      } else this.problem = answer.message;
    } catch (error) {
      this.problem = `The simulation did not answer: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.busy = false;
    }
  }
}
