/**
 * Where each node of the two block graphs sits, in the graph's own coordinates. Three layouts,
 * chosen by the width the graph has on screen so that its text is never drawn too small:
 *
 * - wide: the hosts side by side (primary on [0, 330], the link in the gap, the secondary from
 *   360), as docs/block-replication.txt draws it. On a wide screen the secondary's columns
 *   spread out instead of the whole drawing growing: the text stays at most WIDE_MAX_SCALE
 *   times its size and the graph leaves height for the grids and the event log.
 * - stacked (tablets): the same two drawings one above the other, the feed beside the primary.
 * - narrow (phones): two columns per host, the primary above the secondary, the feed below.
 *
 * The fixed topology has fixed places; nodes added at runtime (copy-before-write, mirror_top,
 * replication nodes the user opens) take free slots of their host.
 */
import type { HostName } from '../../engine/sim/events.js';

export const NODE_WIDTH = 150;
export const NODE_HEIGHT = 36;
export const REPLICATION_HEIGHT = 52;
export const BACKEND_WIDTH = 118;
export const BACKEND_HEIGHT = 24;

/** The smallest font in the graph (edge labels, details, badges), in graph units. */
export const SMALLEST_FONT = 10.5;
/** Below this scale the smallest text would be drawn under 9 CSS px: the next layout down is used. */
export const MIN_SCALE = 0.86;
/** Past this scale a wide graph spreads out rather than grow. */
export const WIDE_MAX_SCALE = 1.1;

export type LayoutMode = 'wide' | 'stacked' | 'narrow';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LayoutSpec {
  readonly mode: LayoutMode;
  readonly width: number;
  readonly height: number;
  readonly fixed: Readonly<Record<string, Point>>;
  readonly extraSlots: Readonly<Record<HostName, readonly Point[]>>;
  /** Where the feed's lines go: newest at `bottom`, older ones above it. */
  readonly feed: { readonly x: number; readonly bottom: number; readonly lines: number; readonly maxText: number };
  /** Each host's area, drawn with its title when the hosts are not side by side on cards. */
  readonly regions: ReadonlyArray<{ readonly host: HostName; readonly box: Box; readonly title: string }>;
  /** Wide only: the widths of the primary's part, the gap and the secondary's part (the cards follow them). */
  readonly split: readonly [number, number, number] | null;
  /** The NBD link leaves the client sideways (hosts side by side) or downwards (stacked). */
  readonly link: 'horizontal' | 'vertical';
}

const WIDE_ROWS = [18, 70, 126, 182, 236];

/** The hosts side by side; `width` ≥ 1000 spreads the secondary's columns. */
export function wideLayout(width = 1000): LayoutSpec {
  const spread = (width - 360) / 640;
  const sx = (x: number) => 360 + (x - 360) * spread;
  const r = WIDE_ROWS;
  return {
    mode: 'wide',
    width,
    height: 262,
    fixed: {
      'primary-vm': { x: 162, y: r[0]! },
      'colo-disk': { x: 162, y: r[1]! },
      'primary-disk': { x: 80, y: r[2]! },
      'replication-primary': { x: 248, y: r[2]! },
      'nbd-client': { x: 248, y: r[3]! },
      'secondary-vm': { x: sx(916), y: r[0]! },
      'top-disk': { x: sx(916), y: r[1]! },
      'replication-secondary': { x: sx(916), y: r[2]! },
      'active-disk-mirror-top': { x: sx(916), y: r[3]! },
      'active-disk': { x: sx(916), y: r[4]! },
      'hidden-disk': { x: sx(680), y: r[4]! },
      'secondary-disk': { x: sx(444), y: r[4]! },
      'secondary-disk-cbw': { x: sx(444), y: r[3]! },
      'nbd-export': { x: sx(444), y: r[2]! },
    },
    extraSlots: {
      primary: [
        { x: 80, y: r[3]! },
        { x: 80, y: r[4]! },
        { x: 248, y: r[4]! },
      ],
      secondary: [
        { x: sx(680), y: r[1]! },
        { x: sx(680), y: r[2]! },
        { x: sx(444), y: r[1]! },
        { x: sx(680), y: r[0]! },
        { x: sx(680), y: r[3]! },
        { x: sx(444), y: r[0]! },
      ],
    },
    // The free area above the NBD export, clear of the secondary VM's column.
    feed: { x: sx(572), bottom: 88, lines: 4, maxText: sx(830) - sx(360) },
    regions: [],
    split: [330, 30, width - 360],
    link: 'horizontal',
  };
}

/** The hosts one above the other, each drawn as in the wide layout; 660 wide. */
export function stackedLayout(): LayoutSpec {
  const p = [44, 96, 152, 208];
  const top = 250;
  const s = WIDE_ROWS.map((row) => top + 26 + row);
  const sx = (x: number) => x - 350;
  return {
    mode: 'stacked',
    width: 660,
    height: top + 26 + 262 + 4,
    fixed: {
      'primary-vm': { x: 172, y: p[0]! },
      'colo-disk': { x: 172, y: p[1]! },
      'primary-disk': { x: 90, y: p[2]! },
      'replication-primary': { x: 258, y: p[2]! },
      'nbd-client': { x: 258, y: p[3]! },
      'secondary-vm': { x: sx(916), y: s[0]! },
      'top-disk': { x: sx(916), y: s[1]! },
      'replication-secondary': { x: sx(916), y: s[2]! },
      'active-disk-mirror-top': { x: sx(916), y: s[3]! },
      'active-disk': { x: sx(916), y: s[4]! },
      'hidden-disk': { x: sx(680), y: s[4]! },
      'secondary-disk': { x: sx(444), y: s[4]! },
      'secondary-disk-cbw': { x: sx(444), y: s[3]! },
      'nbd-export': { x: sx(444), y: s[2]! },
    },
    extraSlots: {
      primary: [{ x: 90, y: p[3]! }],
      secondary: [
        { x: sx(680), y: s[1]! },
        { x: sx(680), y: s[2]! },
        { x: sx(444), y: s[1]! },
        { x: sx(680), y: s[0]! },
        { x: sx(680), y: s[3]! },
        { x: sx(444), y: s[0]! },
      ],
    },
    feed: { x: 506, bottom: 226, lines: 7, maxText: 276 },
    regions: [
      { host: 'primary', box: { x: 4, y: 2, width: 652, height: 240 }, title: 'Primary host' },
      { host: 'secondary', box: { x: 4, y: top, width: 652, height: 26 + 262 }, title: 'Secondary host' },
    ],
    split: null,
    link: 'vertical',
  };
}

/** Two columns per host, for phones; 344 wide. */
export function narrowLayout(): LayoutSpec {
  const a = 86;
  const b = 258;
  const p = [44, 96, 152, 208];
  const top = 250;
  const s = [18, 74, 130, 186, 242, 298].map((row) => top + 26 + row);
  const feedTop = top + 26 + 298 + 30;
  return {
    mode: 'narrow',
    width: 344,
    height: feedTop + 3 * 21 + 8,
    fixed: {
      'primary-vm': { x: 172, y: p[0]! },
      'colo-disk': { x: 172, y: p[1]! },
      'primary-disk': { x: a, y: p[2]! },
      'replication-primary': { x: b, y: p[2]! },
      'nbd-client': { x: b, y: p[3]! },
      'nbd-export': { x: a, y: s[0]! },
      'secondary-vm': { x: b, y: s[0]! },
      'top-disk': { x: b, y: s[1]! },
      'replication-secondary': { x: b, y: s[2]! },
      'active-disk-mirror-top': { x: b, y: s[3]! },
      'active-disk': { x: b, y: s[4]! },
      'secondary-disk-cbw': { x: a, y: s[4]! },
      'hidden-disk': { x: b, y: s[5]! },
      'secondary-disk': { x: a, y: s[5]! },
    },
    extraSlots: {
      primary: [{ x: a, y: p[3]! }],
      secondary: [
        { x: a, y: s[1]! },
        { x: a, y: s[2]! },
        { x: a, y: s[3]! },
      ],
    },
    feed: { x: 172, bottom: feedTop + 2 * 21 + 10, lines: 3, maxText: 300 },
    regions: [
      { host: 'primary', box: { x: 2, y: 2, width: 340, height: 240 }, title: 'Primary host' },
      { host: 'secondary', box: { x: 2, y: top, width: 340, height: 26 + 298 + 26 }, title: 'Secondary host' },
    ],
    split: null,
    link: 'vertical',
  };
}

/** The layout for a graph `containerWidth` CSS px wide. */
export function layoutFor(containerWidth: number): LayoutSpec {
  if (containerWidth >= 1000 * MIN_SCALE) return wideLayout(Math.max(1000, containerWidth / WIDE_MAX_SCALE));
  if (containerWidth >= 660 * MIN_SCALE) return stackedLayout();
  return narrowLayout();
}

/** Assigns places, keeping each runtime node in its slot for as long as it exists. */
export class GraphLayout {
  private readonly extras = new Map<string, number>();
  spec: LayoutSpec = wideLayout();

  place(nodes: ReadonlyArray<{ name: string; host: HostName; driver: string }>): Map<string, Point> {
    const spec = this.spec;
    const positions = new Map<string, Point>();
    const present = new Set(nodes.map((node) => node.name));
    for (const name of [...this.extras.keys()]) if (!present.has(name)) this.extras.delete(name);
    // Slots are remembered by index, so a runtime node keeps its place when the layout changes.
    const used = new Set<string>([...this.extras.entries()].map(([name, index]) => `${nodes.find((node) => node.name === name)?.host}:${index}`));
    for (const node of nodes) {
      const fixed = spec.fixed[node.name];
      if (fixed) {
        positions.set(node.name, fixed);
        continue;
      }
      let index = this.extras.get(node.name);
      if (index === undefined) {
        index = 0;
        while (used.has(`${node.host}:${index}`)) index++;
        used.add(`${node.host}:${index}`);
        this.extras.set(node.name, index);
      }
      const slots = spec.extraSlots[node.host];
      const slot = slots[index];
      // Out of slots: stack along the host's first extra column.
      positions.set(node.name, slot ?? { x: slots[0]!.x, y: slots[0]!.y + (index - slots.length + 1) * 14 });
    }
    return positions;
  }
}

export function isBackend(name: string): boolean {
  return name === 'primary-vm' || name === 'secondary-vm' || name === 'nbd-export';
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A node's box: backends are pills, replication filters are taller (they show their stage). */
export function sizeOf(name: string, driver?: string): Size {
  if (isBackend(name) || driver === 'backend') return { width: BACKEND_WIDTH, height: BACKEND_HEIGHT };
  if (driver === 'replication') return { width: NODE_WIDTH, height: REPLICATION_HEIGHT };
  return { width: NODE_WIDTH, height: NODE_HEIGHT };
}

/** A cubic Bézier curve, for edges, the link and travelling chips. */
export interface Curve {
  readonly p0: Point;
  readonly p1: Point;
  readonly p2: Point;
  readonly p3: Point;
}

export function pointOn(curve: Curve, t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return {
    x: a * curve.p0.x + b * curve.p1.x + c * curve.p2.x + d * curve.p3.x,
    y: a * curve.p0.y + b * curve.p1.y + c * curve.p2.y + d * curve.p3.y,
  };
}

export function pathOf(curve: Curve): string {
  const f = (value: number) => Math.round(value * 10) / 10;
  return `M${f(curve.p0.x)},${f(curve.p0.y)}C${f(curve.p1.x)},${f(curve.p1.y)} ${f(curve.p2.x)},${f(curve.p2.y)} ${f(curve.p3.x)},${f(curve.p3.y)}`;
}

/** The edge from a parent to a child: out of the parent's side facing the child. */
export function edgeCurve(parent: Point, from: Size, child: Point, to: Size): Curve {
  const dy = child.y - parent.y;
  if (Math.abs(dy) < 8) {
    const direction = child.x > parent.x ? 1 : -1;
    const p0 = { x: parent.x + (direction * from.width) / 2, y: parent.y };
    const p3 = { x: child.x - (direction * to.width) / 2, y: child.y };
    const mid = (p3.x - p0.x) / 2;
    return { p0, p1: { x: p0.x + mid, y: p0.y }, p2: { x: p3.x - mid, y: p3.y }, p3 };
  }
  const direction = dy > 0 ? 1 : -1;
  const p0 = { x: parent.x, y: parent.y + (direction * from.height) / 2 };
  const p3 = { x: child.x, y: child.y - (direction * to.height) / 2 };
  const bend = (p3.y - p0.y) / 2;
  return { p0, p1: { x: p0.x, y: p0.y + bend }, p2: { x: p3.x, y: p3.y - bend }, p3 };
}

/** A chip's path between two nodes: a gentle arc between their centres. */
export function chipCurve(from: Point, to: Point): Curve {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const lift = Math.abs(dy) < 8 ? -42 : 0;
  const side = Math.abs(dy) < 8 ? 0 : dx === 0 ? 30 : 0;
  return {
    p0: from,
    p1: { x: from.x + dx * 0.25 + side, y: from.y + dy * 0.25 + lift },
    p2: { x: from.x + dx * 0.75 + side, y: from.y + dy * 0.75 + lift },
    p3: to,
  };
}

/** The NBD link: from the primary's NBD client to the secondary's export. */
export function linkCurve(client: Point, exportPoint: Point, direction: 'horizontal' | 'vertical' = 'horizontal'): Curve {
  if (direction === 'vertical') {
    const p0 = { x: client.x, y: client.y + NODE_HEIGHT / 2 };
    const p3 = { x: exportPoint.x, y: exportPoint.y - BACKEND_HEIGHT / 2 };
    const mid = (p3.y - p0.y) / 2;
    return { p0, p1: { x: p0.x, y: p0.y + mid }, p2: { x: p3.x, y: p3.y - mid }, p3 };
  }
  const p0 = { x: client.x + NODE_WIDTH / 2, y: client.y };
  const p3 = { x: exportPoint.x - BACKEND_WIDTH / 2, y: exportPoint.y };
  const mid = (p3.x - p0.x) / 2;
  return { p0, p1: { x: p0.x + mid, y: p0.y }, p2: { x: p3.x - mid, y: p3.y }, p3 };
}

/** Whether two boxes overlap (touching edges do not count). */
export function overlaps(a: Box, b: Box, margin = 0): boolean {
  return a.x < b.x + b.width + margin && b.x < a.x + a.width + margin && a.y < b.y + b.height + margin && b.y < a.y + a.height + margin;
}

/** A node's box in graph units. */
export function boxOf(point: Point, size: Size): Box {
  return { x: point.x - size.width / 2, y: point.y - size.height / 2, width: size.width, height: size.height };
}
