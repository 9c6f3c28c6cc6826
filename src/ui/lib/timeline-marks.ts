/**
 * What the timeline strip derives from the worker's answers, pure (no DOM, no runes): the
 * lifecycle band from the marks, cluster lists in words, a diff as outlines for the grids.
 */
import type { StepMark } from '../../engine/timeline/timeline.js';
import type { DiskDiff } from '../../engine/timeline/disks.js';
import type { FocusTarget } from './lesson-plan.js';

/** What the lifecycle band shows for a stretch of steps, derived from the marks' notes. */
export type LifecyclePhase = 'unprotected' | 'protected' | 'failed-over' | 'resyncing' | 'protected-again';

export const LIFECYCLE_LABEL: Record<LifecyclePhase, string> = {
  unprotected: 'not protected',
  protected: 'protected',
  'failed-over': 'failed over',
  resyncing: 'resyncing',
  'protected-again': 'protected again',
};

/** One stretch of the band: steps [fromStep, toStep) in moments (moment k = after k steps). */
export interface LifecycleSpan {
  readonly phase: LifecyclePhase;
  readonly fromStep: number;
  readonly toStep: number;
}

/**
 * The lifecycle stretches of a timeline of `stepCount` steps: before COLO starts, not protected;
 * COLO started, protected; a failover, failed over; a host restarted (the lost one back as the
 * new secondary), resyncing; COLO started again, protected again. A phase begins at the moment
 * after the step that noted it. Steps past the last mark (not run yet) keep the last phase, and
 * the last stretch is the phase of the end (empty when its step is the last).
 */
export function lifecycleSpans(marks: readonly StepMark[], stepCount: number): LifecycleSpan[] {
  const spans: LifecycleSpan[] = [];
  let phase: LifecyclePhase = 'unprotected';
  let from = 0;
  let failedOverOnce = false;
  const change = (next: LifecyclePhase, at: number) => {
    if (next === phase) return;
    if (at > from) spans.push({ phase, fromStep: from, toStep: at });
    phase = next;
    from = at;
  };
  for (const mark of marks) {
    const at = mark.index + 1;
    // A step may note more than one thing (a scenario's step that fails over and restarts): the
    // order below is the order in which COLO's lifecycle goes through them.
    if (mark.notes.includes('colo-start')) change(failedOverOnce ? 'protected-again' : 'protected', at);
    if (mark.notes.includes('failover')) {
      failedOverOnce = true;
      change('failed-over', at);
    }
    if (mark.notes.includes('restart')) change('resyncing', at);
  }
  // The phase of the last moment always has its stretch, even an empty one (a failover at the
  // last step): the strip reads the end's phase from it.
  spans.push({ phase, fromStep: from, toStep: Math.max(stepCount, from) });
  return spans;
}

/** Cluster numbers as short ranges: [0,1,2,5,7,8] → "0–2, 5, 7–8". */
export function clusterRanges(clusters: readonly number[], limit = 12): string {
  const parts: string[] = [];
  let index = 0;
  while (index < clusters.length) {
    let end = index;
    while (end + 1 < clusters.length && clusters[end + 1] === clusters[end]! + 1) end++;
    parts.push(end === index ? `${clusters[index]}` : `${clusters[index]}–${clusters[end]}`);
    index = end + 1;
  }
  return parts.length > limit ? `${parts.slice(0, limit).join(', ')}, … (${parts.length - limit} more ranges)` : parts.join(', ');
}

/** The differing clusters as byte ranges of each disk's grid (runs of clusters merged), for the grids to outline. */
export function diffFocus(disks: readonly DiskDiff[]): FocusTarget {
  const cells: Array<{ grid: string; offsetBytes: number; lengthBytes: number }> = [];
  for (const disk of disks) {
    const clusters = disk.differing;
    for (let index = 0; index < clusters.length; ) {
      let end = index;
      while (end + 1 < clusters.length && clusters[end + 1] === clusters[end]! + 1) end++;
      cells.push({ grid: disk.name, offsetBytes: clusters[index]! * disk.clusterSizeBytes, lengthBytes: (end - index + 1) * disk.clusterSizeBytes });
      index = end + 1;
    }
  }
  return { cells, nodes: [], link: false };
}

