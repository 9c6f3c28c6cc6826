/**
 * A <details> element used as a menu (the timeline strip's Diff, Export view and branches): it
 * behaves as menus do, which a bare <details> does not. Escape closes it and puts the focus back
 * on its summary; a press outside closes it; a control marked `data-closes-menu` closes it once
 * used (switching to a branch changes the list under the pointer). Menus that must not be open
 * together share a `name` attribute (HTML's exclusive details group): opening one closes the
 * others, so one never covers the fields of another.
 */
export function detailsMenu(details: HTMLDetailsElement): { destroy(): void } {
  const close = (focusSummary: boolean): void => {
    if (!details.open) return;
    details.open = false;
    if (focusSummary) details.querySelector<HTMLElement>(':scope > summary')?.focus();
  };
  const onKeydown = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || !details.open) return;
    // The page's own Escape (closing the side drawer) must not also run.
    event.stopPropagation();
    event.preventDefault();
    close(true);
  };
  const onPointerDown = (event: PointerEvent): void => {
    if (details.open && event.target instanceof Node && !details.contains(event.target)) close(false);
  };
  const onClick = (event: MouseEvent): void => {
    if (event.target instanceof Element && event.target.closest('[data-closes-menu]')) close(true);
  };
  details.addEventListener('keydown', onKeydown);
  details.addEventListener('click', onClick);
  document.addEventListener('pointerdown', onPointerDown, true);
  return {
    destroy() {
      details.removeEventListener('keydown', onKeydown);
      details.removeEventListener('click', onClick);
      document.removeEventListener('pointerdown', onPointerDown, true);
    },
  };
}
