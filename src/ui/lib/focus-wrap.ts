/**
 * Tab and Shift+Tab kept inside an open drawer. The drawer lies over the page (the whole of it on
 * a phone, the right part with the top bar's buttons at 768 px): Tab past its last control went
 * on to controls hidden under it. At its ends the focus wraps around instead, as in a dialog;
 * Escape or its » button closes it. A click elsewhere still works (the drawer is not modal).
 */

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

/** The controls Tab visits in `container`, in document order (tabindex="-1", disabled and hidden ones left out). */
export function tabStopsIn(container: Element): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    // checkVisibility, not boxes: the content of a closed <details> still has boxes in Chromium.
    (element) => element.tabIndex >= 0 && !(element as HTMLButtonElement).disabled && !(element instanceof HTMLInputElement && element.type === 'hidden') && element.checkVisibility({ visibilityProperty: true }),
  );
}

/**
 * For a Tab keydown whose focus is in `container`: at its last tab stop (first, with Shift) the
 * focus goes to its first (last) and the event is handled (true, default prevented). Otherwise
 * nothing happens (false): the browser moves the focus within the container as usual.
 */
export function wrapTabWithin(container: Element, event: KeyboardEvent): boolean {
  if (event.key !== 'Tab' || !(document.activeElement && container.contains(document.activeElement))) return false;
  const stops = tabStopsIn(container);
  if (stops.length === 0) return false;
  const first = stops[0]!;
  const last = stops[stops.length - 1]!;
  const target = event.shiftKey ? (document.activeElement === first ? last : null) : document.activeElement === last ? first : null;
  if (!target) return false;
  event.preventDefault();
  target.focus();
  return true;
}
