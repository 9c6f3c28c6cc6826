/**
 * Follows the page's address (route.ts says what it means). Changes go through the browser's
 * history (the address's hash), so Back and Forward move between the simulation, the course and
 * a lesson, and a lesson's address can be shared or bookmarked.
 */
import { hrefOf, parseRoute, type Route } from './route.js';

export type { Route } from './route.js';

export class Router {
  route = $state<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash));

  constructor() {
    if (typeof window === 'undefined') return;
    window.addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash);
    });
  }

  /** Goes to `route` as a new entry of the browser's history. */
  go(route: Route): void {
    const href = hrefOf(route);
    if (location.hash === href) return;
    location.hash = href;
  }
}
