/** The timeline strip's derivations (src/ui/lib/timeline-marks.ts): the lifecycle band, cluster ranges, diff outlines. */
import { describe, expect, it } from 'vitest';
import type { StepMark, TimelineNote } from '../../src/engine/timeline/timeline.js';
import type { DiskDiff } from '../../src/engine/timeline/disks.js';
import { readFileSync } from 'node:fs';
import { Timeline } from '../../src/engine/timeline/timeline.js';
import { validateScenarioText } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { clusterRanges, diffFocus, lifecycleSpans } from '../../src/ui/lib/timeline-marks.js';

function mark(index: number, notes: TimelineNote[] = []): StepMark {
  return { index, op: 'checkpoint', endUs: index * 1000, eventEnd: 0, entriesEnd: 0, passed: true, notes };
}

describe('lifecycleSpans', () => {
  it('goes not protected → protected → failed over → resyncing → protected again, each from the moment after its step', () => {
    const marks = [mark(0), mark(1, ['colo-start']), mark(2, ['checkpoint']), mark(3, ['failover', 'error']), mark(4, ['restart']), mark(5), mark(6, ['colo-start'])];
    expect(lifecycleSpans(marks, 9)).toEqual([
      { phase: 'unprotected', fromStep: 0, toStep: 2 },
      { phase: 'protected', fromStep: 2, toStep: 4 },
      { phase: 'failed-over', fromStep: 4, toStep: 5 },
      { phase: 'resyncing', fromStep: 5, toStep: 7 },
      { phase: 'protected-again', fromStep: 7, toStep: 9 },
    ]);
  });

  it("COLO-FT.txt's runbook typed as QMP: the migrate with x-colo that resumes protection marks a COLO start", () => {
    for (const file of ['01-secondary-resume-replication.json', '02-primary-resume-replication.json']) {
      const validation = validateScenarioText(readFileSync(`public/scenarios/lifecycle/${file}`, 'utf8'));
      if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
      const timeline = new Timeline(validation.scenario);
      timeline.materialize(timeline.stepCount, createMemoryStore);
      const phases = lifecycleSpans(timeline.marks, timeline.stepCount).map((span) => span.phase);
      expect(phases.slice(0, 5), file).toEqual(['unprotected', 'protected', 'failed-over', 'resyncing', 'protected-again']);
      // The second COLO start is the runbook's QMP migrate: no colo-start step on the timeline.
      const secondStart = timeline.marks.filter((mark) => mark.notes.includes('colo-start'))[1]!;
      expect(timeline.steps[secondStart.index]!.op, file).not.toBe('colo-start');
    }
  });

  it('a failover at the last step: the end is failed over (an empty last stretch), not the phase before', () => {
    expect(lifecycleSpans([mark(0, ['colo-start']), mark(1, ['failover'])], 2)).toEqual([
      { phase: 'unprotected', fromStep: 0, toStep: 1 },
      { phase: 'protected', fromStep: 1, toStep: 2 },
      { phase: 'failed-over', fromStep: 2, toStep: 2 },
    ]);
  });

  it('an empty timeline is one stretch, not protected', () => {
    expect(lifecycleSpans([], 0)).toEqual([{ phase: 'unprotected', fromStep: 0, toStep: 0 }]);
  });

  it('steps not run yet (a scenario) keep the last phase', () => {
    expect(lifecycleSpans([mark(0, ['colo-start'])], 5)).toEqual([
      { phase: 'unprotected', fromStep: 0, toStep: 1 },
      { phase: 'protected', fromStep: 1, toStep: 5 },
    ]);
  });
});

describe('clusterRanges', () => {
  it('merges runs and clips long lists', () => {
    expect(clusterRanges([0, 1, 2, 5, 7, 8])).toBe('0–2, 5, 7–8');
    expect(clusterRanges([])).toBe('');
    expect(clusterRanges([0, 2, 4, 6], 2)).toBe('0, 2, … (2 more ranges)');
  });
});

describe('diffFocus', () => {
  it('turns differing clusters into byte ranges of each grid, runs merged', () => {
    const disk = (name: string, differing: number[]): DiskDiff => ({ name, host: 'secondary', clusterSizeBytes: 65536, clusterCount: 16, presence: 'both', bytesDiffer: differing, allocationDiffers: [], differing });
    expect(diffFocus([disk('hidden-disk', [0, 1, 3]), disk('active-disk', [])])).toEqual({
      cells: [
        { grid: 'hidden-disk', offsetBytes: 0, lengthBytes: 131072 },
        { grid: 'hidden-disk', offsetBytes: 196608, lengthBytes: 65536 },
      ],
      nodes: [],
      link: false,
    });
  });
});
