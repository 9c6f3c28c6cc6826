/**
 * The page's address: `#/learn` is the course, `#/learn/<lesson id>` a lesson, anything else the
 * simulation. Pure (no DOM), so the unit tests read it; route.svelte.ts follows the address.
 */
import { LESSON_ID_PATTERN } from '../../engine/lesson/topics.js';

export type Route = { readonly page: 'simulation' } | { readonly page: 'course' } | { readonly page: 'lesson'; readonly lessonId: string };

export function parseRoute(hash: string): Route {
  let path: string;
  try {
    path = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    // A malformed escape (a hand-typed `%`) is no page of the course: the simulation.
    return { page: 'simulation' };
  }
  path = path.replace(/\/+$/, '');
  if (path === '/learn') return { page: 'course' };
  const match = /^\/learn\/([^/]+)$/.exec(path);
  if (match && LESSON_ID_PATTERN.test(match[1]!)) return { page: 'lesson', lessonId: match[1]! };
  return { page: 'simulation' };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'course':
      return '#/learn';
    case 'lesson':
      return `#/learn/${route.lessonId}`;
    default:
      return '#/';
  }
}
