/**
 * What the views outline besides their animations, until it changes: the subject of the lesson
 * step on screen (the cells of a question's range, a node, the NBD link), and the clusters of a
 * broken invariant the user points at, the clusters two moments differ in, and the events of the
 * scheduler entry shown while stepping inside a command (event-focus.ts). The grids (DiskGrid, views/grid-view.ts) and the graph
 * (GraphPanel, views/graph-view.ts) read it.
 */
import type { GridFocus } from '../views/grid-view.js';
import type { FocusTarget } from './lesson-plan.js';

export type { FocusTarget } from './lesson-plan.js';

export class ViewFocus {
  /** The lesson step's subject. */
  lesson = $state.raw<FocusTarget | null>(null);
  /** A broken invariant's clusters. */
  broken = $state.raw<FocusTarget | null>(null);
  /** Clusters that differ between two moments (time travel's diff). */
  diff = $state.raw<FocusTarget | null>(null);
  /** The events of the scheduler entry shown while stepping inside a command. */
  event = $state.raw<FocusTarget | null>(null);

  /** The cells of one grid to outline, in cells of `cellBytes`. */
  gridFocus(grid: string, cellBytes: number): GridFocus[] {
    const out: GridFocus[] = [];
    for (const [target, tone] of [
      [this.lesson, 'lesson'],
      [this.broken, 'broken'],
      [this.diff, 'diff'],
      [this.event, 'event'],
    ] as const) {
      for (const range of target?.cells ?? []) {
        if (range.grid !== grid || range.lengthBytes <= 0) continue;
        out.push({ start: Math.floor(range.offsetBytes / cellBytes), end: Math.ceil((range.offsetBytes + range.lengthBytes) / cellBytes), tone });
      }
    }
    return out;
  }

  get nodes(): string[] {
    return [...(this.lesson?.nodes ?? []), ...(this.broken?.nodes ?? []), ...(this.event?.nodes ?? [])];
  }

  get link(): boolean {
    return (this.lesson?.link ?? false) || (this.broken?.link ?? false) || (this.event?.link ?? false);
  }
}
