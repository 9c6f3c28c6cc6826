/**
 * The page's side of time travel (issue 9): the timeline's marks, going to a step (coalesced
 * while the user drags), stepping through one command event by event, the branches a fork left,
 * diffs between two moments and share links. The worker does the work (src/worker/protocol.ts,
 * "time travel"); this keeps what the strip (TimelineStrip.svelte) and the event log show.
 */
import type { StepEvent, StepMark } from '../../engine/timeline/timeline.js';
export { clusterRanges, diffFocus, LIFECYCLE_LABEL, lifecycleSpans, type LifecyclePhase, type LifecycleSpan } from './timeline-marks.js';
import type { DiskDiff } from '../../engine/timeline/disks.js';
import type { TimelineMarks, TimelinePosition, TimeTravelResult } from '../../worker/protocol.js';
import { decodeStepMarks } from '../../worker/step-mark-columns.js';
import type { SimState } from '../state.svelte.js';
import { diffFocus } from './timeline-marks.js';
import { eventsAnnouncement, eventsFocus } from './event-focus.js';
import { copyText } from './clipboard.js';
import { downloadBlob, svgToPng, viewToSvg } from './export-view.js';
import { formatTime } from './format.js';
import { shareLinkFor } from './share-link.js';
import { FrameWaiters } from './frame-waiters.js';

/** How long the page waits for the frame that shows a moment the worker has answered for, in ms. */

export class TimeTravel {
  /** Marks of the timeline's steps known so far (index i: step i). */
  marks = $state.raw<readonly StepMark[]>([]);
  /** What the keyframes cost, as the worker last said. */
  keyframes = $state.raw<TimelineMarks['keyframes'] | null>(null);
  /** The moment the user asked for and the views do not show yet (the strip's thumb goes there at once). */
  pending = $state<number | null>(null);
  /** The step being stepped through event by event: its events, and the scheduler entries at which they happen. */
  inside = $state.raw<{ readonly stepIndex: number; readonly events: readonly StepEvent[]; readonly entries: readonly number[] } | null>(null);
  /** Sequence numbers of the events the log highlights: those of the scheduler entry shown. */
  currentSequences = $state.raw<ReadonlySet<number>>(new Set());
  /** The last diff asked for. */
  diff = $state.raw<{ readonly a: number; readonly b: number; readonly disks: readonly DiskDiff[] } | null>(null);
  /** A fork the user has not dismissed: the moment it happened at and the branch that keeps the old future. */
  /** Why the share link the page was opened with was not used (LinkProblem.svelte shows it until dismissed). */
  linkProblem = $state.raw<{ readonly message: string; readonly tone?: 'info' } | null>(null);
  /** The last link "Copy link" made. */
  lastShareLink = $state<string | null>(null);
  forkNotice = $state.raw<{ readonly forkStep: number; readonly branchId: number; readonly label: string } | null>(null);

  /**
   * How fast "play" goes through a command's scheduler entries, in ms each; null: "wait for me"
   * (no play: the user steps with the buttons or { }).
   */
  eventPaceMs = $state<number | null>(null);
  /** Playing through a command's entries at `eventPaceMs`. */
  playingEvents = $state(false);

  /** The scheduler entry whose events the views outline (`step:entries`), '' when none. */
  private shownEntry = '';
  private wanted: number | null = null;
  private going = false;
  private marksGeneration = 0;
  private marksFetching = false;
  private marksAgain = false;
  private branchKey = '';
  private scenarioKey = '';
  private knownBranches = new Set<number>();
  private seenPosition = false;
  private switching = false;
  private readonly positionWaiters = new FrameWaiters();

  constructor(private readonly sim: SimState) {}

  /** The position the last frame carried. */
  get position(): TimelinePosition | null {
    return this.sim.timeline;
  }

  /** The moment the strip shows: where the user is going, else where the views are. */
  get shownStep(): number {
    return this.pending ?? this.position?.step ?? 0;
  }

  /** A frame brought the timeline's position: fetch marks that are new or changed, note forks. */
  onPosition(position: TimelinePosition): void {
    const branchKey = position.branches.map((branch) => `${branch.id}@${branch.forkStep}/${branch.stepCount}`).join(',');
    const scenarioKey = this.sim.scenario?.name ?? '';
    // Marks are a prefix of the timeline's steps; they change under it when the steps do: a fork
    // or a branch switched to (the branches change), a new simulation or scenario (fewer marks,
    // another scenario). Then they are fetched again from the start.
    const stale = position.markCount < this.marks.length || branchKey !== this.branchKey || scenarioKey !== this.scenarioKey;
    if (stale) {
      this.marksGeneration++;
      if (this.marks.length > 0) this.marks = [];
    }
    // After a reload the worker knows its steps but rebuilds their marks only when asked (one
    // replay): the first position asks, else the strip would show a session without marks.
    const firstPosition = !this.seenPosition;
    this.noteFork(position);
    this.branchKey = branchKey;
    this.scenarioKey = scenarioKey;
    if (position.markCount > this.marks.length || stale || (firstPosition && position.stepCount > 0)) this.fetchMarks();
    if (!position.within) {
      if (this.currentSequences.size > 0) this.currentSequences = new Set();
      // Out of the command: the views stop outlining its events.
      if (this.sim.focus.event) this.sim.focus.event = null;
      this.shownEntry = '';
    } else {
      const inside = this.inside;
      if (inside && inside.stepIndex === position.within.stepIndex) {
        const entries = position.within.entries;
        const current = inside.events.filter((event) => event.entry === entries).map((event) => event.event);
        this.currentSequences = new Set(current.map((event) => event.sequence));
        // The views outline what the log highlights; a screen reader hears it once per entry
        // (frames repeat a position; the announcer throttles a fast pace).
        const key = `${inside.stepIndex}:${entries}`;
        if (key !== this.shownEntry) {
          this.shownEntry = key;
          this.sim.focus.event = eventsFocus(current);
          this.sim.announcer.say(eventsAnnouncement(inside.stepIndex + 1, current), { supersede: true });
        }
      }
    }
    this.positionWaiters.frameApplied();
  }

  /** A branch that appeared without the user switching branches is a fork: say so. */
  private noteFork(position: TimelinePosition): void {
    const ids = new Set(position.branches.map((branch) => branch.id));
    // The first position (a reload, a restored session) brings the saved branches: not new.
    if (!this.switching && this.seenPosition) {
      for (const branch of position.branches) {
        if (this.knownBranches.has(branch.id)) continue;
        this.forkNotice = { forkStep: branch.forkStep, branchId: branch.id, label: branch.label };
        this.sim.toast({ tone: 'info', title: `New branch from step ${branch.forkStep}`, detail: `Acting in the past started a new timeline there; the old future is kept as “${branch.label}” (${branch.stepCount} steps) until you discard it.` });
      }
    }
    if (this.forkNotice && !ids.has(this.forkNotice.branchId)) this.forkNotice = null;
    this.knownBranches = ids;
    this.seenPosition = true;
  }

  private fetchMarks(): void {
    if (this.marksFetching) {
      this.marksAgain = true;
      return;
    }
    this.marksFetching = true;
    const generation = this.marksGeneration;
    const from = this.marks.length;
    this.sim.client
      .timelineMarks(from)
      .then((answer) => {
        if (generation !== this.marksGeneration) {
          this.marksAgain = true;
          return;
        }
        // The worker may have rebuilt marks (a reload): take them from where they were asked.
        this.marks = [...this.marks.slice(0, answer.from), ...decodeStepMarks(answer.marks)];
        this.keyframes = answer.keyframes;
      })
      .catch(() => {
        // The worker's own error notice says what went wrong; the strip goes on without marks.
      })
      .finally(() => {
        this.marksFetching = false;
        const position = this.position;
        if (this.marksAgain || (position && position.markCount > this.marks.length)) {
          this.marksAgain = false;
          if (position && (position.markCount > this.marks.length || generation !== this.marksGeneration)) this.fetchMarks();
        }
      });
  }

  private whenPosition(test: (position: TimelinePosition) => boolean): Promise<void> {
    return this.positionWaiters.until(() => {
      const position = this.position;
      return position !== null && test(position);
    });
  }

  /** The worker's answer; a refusal becomes a toast. Resolves once a frame shows the answer's position. */
  private async settle(answer: Promise<TimeTravelResult>, what: string): Promise<boolean> {
    let result: TimeTravelResult;
    try {
      result = await answer;
    } catch (error) {
      this.sim.toast({ tone: 'error', title: `${what}: the simulation did not answer`, detail: error instanceof Error ? error.message : String(error) });
      return false;
    }
    if (!result.ok) {
      this.sim.toast({ tone: 'error', title: `${what}: not possible`, detail: result.message });
      return false;
    }
    const target = result.position;
    await this.whenPosition((position) => position.step === target.step && position.stepCount === target.stepCount && position.within?.entries === target.within?.entries);
    return true;
  }

  /**
   * Shows moment `step`. While a request is on its way, later ones replace each other: a drag
   * sends the newest step once the worker is free, not every step it crossed.
   */
  async goTo(step: number): Promise<void> {
    const position = this.position;
    if (!position) return;
    const target = Math.max(0, Math.min(position.stepCount, Math.round(step)));
    this.wanted = target;
    this.pending = target;
    if (this.going) return;
    this.going = true;
    try {
      while (this.wanted !== null) {
        const next = this.wanted;
        this.wanted = null;
        this.inside = null;
        await this.settle(this.sim.client.goToStep(next), `Go to step ${next}`);
      }
    } finally {
      this.going = false;
      this.pending = null;
    }
  }

  stepBy(delta: number): Promise<void> {
    return this.goTo(this.shownStep + delta);
  }

  /** The events of step `stepIndex` and their scheduler entries (fetched once per visit to the step). */
  private async loadInside(stepIndex: number): Promise<NonNullable<TimeTravel['inside']>> {
    if (this.inside?.stepIndex === stepIndex) return this.inside;
    const answer = await this.sim.client.stepEvents(stepIndex);
    if (!answer.ok) throw new Error(answer.message);
    const entries = [...new Set(answer.events.map((event) => event.entry))].sort((a, b) => a - b);
    const inside = { stepIndex, events: answer.events, entries };
    this.inside = inside;
    return inside;
  }

  /**
   * One scheduler entry further (`+1`) or back (`-1`) inside a command: the events of one entry
   * happen together (they share a state). Past a step's last entry it goes to the next moment;
   * before its first, to the moment before the step.
   */
  async eventBy(delta: 1 | -1): Promise<void> {
    const position = this.position;
    if (!position || this.going) return;
    this.going = true;
    try {
      const within = position.within;
      let stepIndex: number;
      let at: number;
      if (within) {
        stepIndex = within.stepIndex;
        const inside = await this.loadInside(stepIndex);
        at = inside.entries.findIndex((entry) => entry >= within.entries);
        if (at < 0) at = inside.entries.length;
        at += delta;
      } else if (delta > 0) {
        if (position.step >= position.stepCount) return;
        stepIndex = position.step;
        at = 0;
      } else {
        if (position.step <= 0) return;
        stepIndex = position.step - 1;
        at = -1;
      }
      const inside = await this.loadInside(stepIndex);
      if (at === -1 && !within) at = inside.entries.length - 1;
      if (inside.entries.length === 0 || at >= inside.entries.length) {
        await this.settle(this.sim.client.goToStep(stepIndex + 1), `Go to step ${stepIndex + 1}`);
      } else if (at < 0) {
        await this.settle(this.sim.client.goToStep(stepIndex), `Go to step ${stepIndex}`);
      } else {
        await this.settle(this.sim.client.goToWithinStep(stepIndex, inside.entries[at]!), `Go inside step ${stepIndex + 1}`);
      }
    } catch (error) {
      this.sim.toast({ tone: 'error', title: 'Stepping inside the command failed', detail: error instanceof Error ? error.message : String(error) });
    } finally {
      this.going = false;
    }
  }

  /**
   * Plays through the command shown (or the next one) one scheduler entry every `eventPaceMs`,
   * until its end or until stopped. Every entry is a state the views show and the log highlights.
   */
  async playEvents(): Promise<void> {
    const pace = this.eventPaceMs;
    if (pace === null || this.playingEvents) return;
    this.playingEvents = true;
    try {
      do {
        await this.eventBy(1);
        await new Promise((resolve) => setTimeout(resolve, pace));
      } while (this.playingEvents && this.eventPaceMs !== null && this.position?.within);
    } finally {
      this.playingEvents = false;
    }
  }

  stopEvents(): void {
    this.playingEvents = false;
  }

  async switchBranch(id: number): Promise<void> {
    this.switching = true;
    try {
      this.inside = null;
      if (await this.settle(this.sim.client.switchBranch(id), 'Switch branch')) this.sim.announcer.say(`Switched to the branch; the timeline you left is kept as a branch`);
    } finally {
      this.switching = false;
    }
  }

  async discardBranch(id: number): Promise<void> {
    try {
      const gone = await this.sim.client.discardBranch(id);
      this.sim.toast(gone ? { tone: 'info', title: 'Branch discarded' } : { tone: 'error', title: 'Discard branch: there is no such branch' });
    } catch (error) {
      this.sim.toast({ tone: 'error', title: 'Discard branch: the simulation did not answer', detail: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Which clusters differ on each disk between moments `a` and `b`. */
  /**
   * Diffs two steps. Returns why not (for the form to say next to its fields), or null; a refusal
   * clears the previous diff, so its result and outlines never pass for the pair just asked for.
   */
  async diffSteps(a: number, b: number): Promise<string | null> {
    try {
      const answer = await this.sim.client.diffSteps(a, b);
      if (!answer.ok) {
        this.clearDiff();
        return `Diff of steps ${a} and ${b} not possible: ${answer.message}`;
      }
      this.diff = { a, b, disks: answer.disks };
      this.sim.focus.diff = diffFocus(answer.disks);
      return null;
    } catch (error) {
      this.clearDiff();
      return `Diff: the simulation did not answer: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  clearDiff(): void {
    this.diff = null;
    this.sim.focus.diff = null;
  }

  /** The self-contained link to the moment shown (`#scenario=<deflate-raw base64url>&step=N`), on this page's address. */
  async shareLink(): Promise<string> {
    const state = await this.sim.client.shareState();
    return shareLinkFor(location.href, state.scenarioText, state.step);
  }

  /** Exports the views (graph, grids, legend) as an SVG or PNG file, for slides. */
  async exportView(format: 'svg' | 'png'): Promise<void> {
    const stage = document.querySelector<HTMLElement>('section.stage');
    if (!stage) {
      this.sim.toast({ tone: 'error', title: 'Export: there is no view to export' });
      return;
    }
    const position = this.position;
    const summary = this.sim.summary;
    const parts = [this.sim.scenario ? `colo-sim · ${this.sim.scenario.title}` : 'colo-sim session'];
    if (position) parts.push(position.within ? `inside step ${position.within.stepIndex + 1} of ${position.stepCount}` : `step ${position.step} of ${position.stepCount}`);
    if (summary) parts.push(`virtual time ${formatTime(summary.nowUs)}`, `COLO ${summary.coloState}`);
    // Named as the caption names the moment: inside step N is not step N-1's end.
    const stem = position?.within ? `colo-sim-inside-step-${position.within.stepIndex + 1}-entry-${position.within.entries}` : `colo-sim-step-${position?.step ?? 0}`;
    try {
      // Pending cell changes first: the canvases must show the moment the caption names.
      this.sim.disks.flush();
      const { svg, widthPx, heightPx } = viewToSvg({ stage, legend: this.sim.legend, caption: parts.join(' · ') });
      if (format === 'svg') downloadBlob(new Blob([svg], { type: 'image/svg+xml' }), `${stem}.svg`);
      // Twice the CSS size: sharp on a projector and in slides.
      else downloadBlob(await svgToPng(svg, widthPx, heightPx, 2), `${stem}.png`);
      this.sim.toast({ tone: 'ok', title: `View exported as ${format.toUpperCase()}`, detail: `${stem}.${format}` });
    } catch (error) {
      this.sim.toast({ tone: 'error', title: `Export as ${format.toUpperCase()} failed`, detail: error instanceof Error ? error.message : String(error) });
    }
  }

  /** "Copy link": the self-contained link to the moment shown, on the clipboard. */
  async copyShareLink(): Promise<void> {
    let link: string;
    try {
      link = await this.shareLink();
    } catch (error) {
      this.sim.toast({ tone: 'error', title: 'Copy link: the link could not be made', detail: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.lastShareLink = link;
    const copied = await copyText(link);
    this.sim.toast(
      copied
        ? { tone: 'ok', title: 'Link copied', detail: `It opens this session at step ${new URLSearchParams(new URL(link).hash.slice(1)).get('step')} (${link.length.toLocaleString()} characters, the steps inside it).` }
        : { tone: 'error', title: 'Copy link: the clipboard refused it', detail: link },
    );
  }
}
