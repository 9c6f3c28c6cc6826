/**
 * Keeps a popover (absolutely placed under its button) inside the viewport. The timeline strip's
 * popovers hang right-aligned under their button; on a phone the button is not at the right edge,
 * so a popover as wide as the screen started left of it (x = −80 px at 390 px) and cut off its
 * fields. This slides it sideways, as little as needed, with a margin of `marginPx` each side.
 */
export function fitInViewport(element: HTMLElement, marginPx = 8): void {
  element.style.translate = '';
  const box = element.getBoundingClientRect();
  // clientWidth: the viewport without a vertical scrollbar, which would cover the popover's edge.
  const viewportWidthPx = document.documentElement.clientWidth;
  let shiftPx = 0;
  if (box.right > viewportWidthPx - marginPx) shiftPx = viewportWidthPx - marginPx - box.right;
  // The left edge wins when the popover is wider than the room: its fields start there.
  if (box.left + shiftPx < marginPx) shiftPx = marginPx - box.left;
  if (shiftPx !== 0) element.style.translate = `${Math.round(shiftPx)}px 0`;
}

/**
 * A Svelte attachment-like action for a <details> menu: fits its popover each time it opens and
 * when the window is resized while it is open.
 */
export function fitPopoverOnOpen(details: HTMLDetailsElement): { destroy(): void } {
  const fit = (): void => {
    const popover = details.querySelector<HTMLElement>(':scope > .popover');
    if (details.open && popover) fitInViewport(popover);
  };
  details.addEventListener('toggle', fit);
  window.addEventListener('resize', fit);
  return {
    destroy() {
      details.removeEventListener('toggle', fit);
      window.removeEventListener('resize', fit);
    },
  };
}
