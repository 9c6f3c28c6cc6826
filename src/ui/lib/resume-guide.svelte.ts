/**
 * The guided "resume replication" action's state: which runbook step (lib/resume-runbook.ts) is
 * next, the disk the lost host comes back with, and what went wrong. It lives beside SimState
 * (not in the control panel) so that closing the phone's drawer does not lose the place.
 */
import type { CommandResult, SimSummary } from '../../worker/protocol.js';
import { RESUME_STEPS, resumeStart, type GuideStep } from './resume-runbook.js';

export interface GuideHost {
  readonly summary: SimSummary | null;
  readonly frameNumber: number;
  run(step: GuideStep): Promise<CommandResult | undefined>;
}

export class ResumeGuide {
  /** The guide is open. */
  active = $state(false);
  /** The runbook step to run next (an index into RESUME_STEPS); RESUME_STEPS.length once done. */
  index = $state(0);
  /** Where this run of the guide started (steps before it were already done). */
  first = $state(0);
  disks = $state<'kept' | 'fresh'>('kept');
  running = $state(false);
  /** Why the last step did not pass (QEMU's message), until the next try. */
  problem = $state<string | null>(null);
  /**
   * The frame number a step's command was sent after: the next step is built from a later frame
   * (the state the command left), never from the summary the page had before it.
   */
  private sentAfterFrame = -1;

  constructor(private readonly host: GuideHost) {}

  get finished(): boolean {
    return this.active && this.index >= RESUME_STEPS.length;
  }

  /** Whether the state the page shows is the one the last step left. */
  get fresh(): boolean {
    return this.host.frameNumber > this.sentAfterFrame;
  }

  /** The next step built from the state now, or why it cannot be (a string); null when done. */
  nextStep(): { id: string; title: string; why: string; step: GuideStep | string } | null {
    const definition = RESUME_STEPS[this.index];
    const summary = this.host.summary;
    if (!definition || !summary) return null;
    return { id: definition.id, title: definition.title, why: definition.why, step: definition.build(summary, this.disks) };
  }

  open(): boolean {
    const start = resumeStart(this.host.summary);
    if (start === null) return false;
    this.first = start;
    this.index = start;
    this.problem = null;
    this.active = true;
    return true;
  }

  /** Closes the guide; the steps already run stay done (QEMU has no undo). */
  close(): void {
    this.active = false;
    this.problem = null;
  }

  async next(): Promise<void> {
    const built = this.nextStep();
    if (!built || this.running || !this.fresh) return;
    if (typeof built.step === 'string') {
      this.problem = built.step;
      return;
    }
    this.running = true;
    this.problem = null;
    this.sentAfterFrame = this.host.frameNumber;
    try {
      const result = await this.host.run(built.step);
      if (!result) this.problem = 'The command was not sent.';
      else if (!result.ok) this.problem = result.errors.map((error) => error.message).join('; ');
      else if (!result.result.passed) this.problem = result.result.actual;
      else this.index++;
    } finally {
      this.running = false;
    }
  }
}
