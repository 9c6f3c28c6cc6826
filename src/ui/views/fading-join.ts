/**
 * Leaving and coming back in a keyed d3 join. An element that leaves fades out and is removed
 * when its transition ends; while it fades it is still in the DOM, so a join that brings its key
 * back within that time (a jump in time travel, a failover and back) matches it as an update,
 * and the pending `remove()` then takes away an element that belongs on screen: the graph lost
 * its copy-before-write filter after a jump from the end of a session back to before the
 * failover. Leaving elements carry the class `exiting`; one that comes back has its fade
 * stopped, and its opacity and hidden texts restored.
 */
import type { Selection } from 'd3-selection';
import 'd3-transition';

/** The class a leaving element carries until it is removed (views and tests skip it). */
export const EXITING = 'exiting';

/** Fades `exit` out over `durationMs` (ms), then removes it; `hide` selects what goes at once (labels that a newcomer may take the place of). */
export function fadeOut<E extends Element, D, P extends Element>(exit: Selection<E, D, P, unknown>, durationMs: number, hide: string): void {
  exit.classed(EXITING, true);
  exit.selectAll(hide).attr('display', 'none');
  exit.transition().duration(durationMs).attr('opacity', 0).remove();
}

/** Brings back the elements of `update` that were fading out (see fadeOut): `hide` as given to fadeOut. */
export function revive<E extends Element, D, P extends Element>(update: Selection<E, D, P, unknown>, hide: string): Selection<E, D, P, unknown> {
  const back = update.filter(`.${EXITING}`);
  if (back.empty()) return update;
  back.interrupt().classed(EXITING, false).attr('opacity', 1);
  back.selectAll(hide).attr('display', null);
  return update;
}
