/**
 * Where each node of the two block graphs sits, in the graph's own coordinates (a 1000 × 272
 * viewBox: the primary host on [0, 330], the link in the gap, the secondary host on [360, 1000]).
 * The fixed topology has fixed places, laid out as docs/block-replication.txt draws it; nodes
 * added at runtime (copy-before-write, mirror_top, replication nodes the user opens) take free
 * slots of their host.
 */
import type { HostName } from '../../engine/sim/events.js';

export const VIEW_WIDTH = 1000;
export const VIEW_HEIGHT = 258;

export const NODE_WIDTH = 146;
export const NODE_HEIGHT = 36;
export const REPLICATION_HEIGHT = 48;
export const BACKEND_WIDTH = 118;
export const BACKEND_HEIGHT = 24;

const ROWS = [18, 70, 126, 182, 236];

export interface Point {
  readonly x: number;
  readonly y: number;
}

const FIXED: Record<string, Point> = {
  'primary-vm': { x: 162, y: ROWS[0]! },
  'colo-disk': { x: 162, y: ROWS[1]! },
  'primary-disk': { x: 80, y: ROWS[2]! },
  'replication-primary': { x: 248, y: ROWS[2]! },
  'nbd-client': { x: 248, y: ROWS[3]! },

  'secondary-vm': { x: 916, y: ROWS[0]! },
  'top-disk': { x: 916, y: ROWS[1]! },
  'replication-secondary': { x: 916, y: ROWS[2]! },
  'active-disk-mirror-top': { x: 916, y: ROWS[3]! },
  'active-disk': { x: 916, y: ROWS[4]! },
  'hidden-disk': { x: 680, y: ROWS[4]! },
  'secondary-disk': { x: 444, y: ROWS[4]! },
  'secondary-disk-cbw': { x: 444, y: ROWS[3]! },
  'nbd-export': { x: 444, y: ROWS[2]! },
};

const EXTRA_SLOTS: Record<HostName, Point[]> = {
  primary: [
    { x: 80, y: ROWS[3]! },
    { x: 80, y: ROWS[4]! },
    { x: 248, y: ROWS[4]! },
  ],
  secondary: [
    { x: 680, y: ROWS[1]! },
    { x: 680, y: ROWS[2]! },
    { x: 444, y: ROWS[1]! },
    { x: 680, y: ROWS[0]! },
    { x: 680, y: ROWS[3]! },
    { x: 444, y: ROWS[0]! },
  ],
};

/** Assigns places, keeping each runtime node in its slot for as long as it exists. */
export class GraphLayout {
  private readonly extras = new Map<string, Point>();

  place(nodes: ReadonlyArray<{ name: string; host: HostName; driver: string }>): Map<string, Point> {
    const positions = new Map<string, Point>();
    const present = new Set(nodes.map((node) => node.name));
    for (const name of [...this.extras.keys()]) if (!present.has(name)) this.extras.delete(name);
    const used = new Set<string>();
    for (const point of this.extras.values()) used.add(`${point.x},${point.y}`);
    for (const node of nodes) {
      const fixed = FIXED[node.name];
      if (fixed) {
        positions.set(node.name, fixed);
        continue;
      }
      let point = this.extras.get(node.name);
      if (!point) {
        const slots = EXTRA_SLOTS[node.host];
        point = slots.find((slot) => !used.has(`${slot.x},${slot.y}`));
        if (!point) {
          // Out of slots: stack along the host's edge.
          const count = [...this.extras.values()].length;
          point = { x: node.host === 'primary' ? 80 : 680, y: ROWS[count % ROWS.length]! };
        }
        used.add(`${point.x},${point.y}`);
        this.extras.set(node.name, point);
      }
      positions.set(node.name, point);
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
export function linkCurve(client: Point, exportPoint: Point): Curve {
  const p0 = { x: client.x + NODE_WIDTH / 2, y: client.y };
  const p3 = { x: exportPoint.x - BACKEND_WIDTH / 2, y: exportPoint.y };
  const mid = (p3.x - p0.x) / 2;
  return { p0, p1: { x: p0.x + mid, y: p0.y }, p2: { x: p3.x - mid, y: p3.y }, p3 };
}
