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
 * Each host is drawn in its role's region (hosts are roles in the engine) by what its nodes are
 * for (lib/host-roles.ts), never by their names: a survivor of a failover to the secondary keeps
 * its chain's names as the primary of the next pair and is drawn as such on the primary side.
 * Nodes that play no known part (a node the user opened) take free extra places of their host.
 */
import type { HostName } from '../../engine/sim/events.js';
import { HOSTS, keyOf, type PairRoles, type Shape, type Slot } from '../lib/host-roles.js';

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

/**
 * Where one host's drawing puts each part (host-roles.ts's slots) in its region. A slot may list
 * several places, the first free one is taken (drive-mirror's target takes the NBD client's place
 * when there is no replication client). Nodes with no slot, or no free place, take `extras`.
 */
export interface RegionTemplate {
  readonly slots: Partial<Record<Slot, Point | readonly Point[]>>;
  /** Where the VM's pill goes when a mirror_top sits between it and the quorum (vm-filter takes its place's neighbour). */
  readonly vmBeside?: Point;
  readonly extras: readonly Point[];
}

export interface LayoutSpec {
  readonly mode: LayoutMode;
  readonly width: number;
  readonly height: number;
  /** The shapes of the hosts' graphs this layout was made for (host-roles.ts). */
  readonly shapes: Readonly<Record<HostName, Shape>>;
  /** How many nodes of each host with no part of their own it was made for (see extraRowsFor). */
  readonly extras: ExtraCounts;
  readonly templates: Readonly<Record<HostName, RegionTemplate>>;
  /** Where the feed's lines go: newest at `bottom`, older ones above it. */
  readonly feed: { readonly x: number; readonly bottom: number; readonly lines: number; readonly maxText: number };
  /** Each host's area, drawn with its title when the hosts are not side by side on cards. */
  /** `titleAt` 'end': the title sits at the region's right end (where no NBD link comes in), else at its left. */
  readonly regions: ReadonlyArray<{ readonly host: HostName; readonly box: Box; readonly title: string; readonly titleAt?: 'start' | 'end' }>;
  /** Wide only: the widths of the primary's part, the gap and the secondary's part (the cards follow them). */
  readonly split: readonly [number, number, number] | null;
  /** The NBD link leaves the client sideways (hosts side by side) or downwards (stacked). */
  readonly link: 'horizontal' | 'vertical';
}

export const FIRST_GENERATION: Readonly<Record<HostName, Shape>> = { primary: 'primary', secondary: 'secondary' };

/** How many nodes of each host play no known part (host-roles.ts: no slot): they take extra places. */
export type ExtraCounts = Readonly<Record<HostName, number>>;
export const NO_EXTRAS: ExtraCounts = { primary: 0, secondary: 0 };

/** The nodes of each host that have no slot: what a layout needs extra places for. */
export function extraCountsOf(roles: PairRoles): ExtraCounts {
  const count = (host: HostName) => roles.hosts[host].members.filter((member) => !member.slot).length;
  return { primary: count('primary'), secondary: count('secondary') };
}

/** The row pitch of the stacked and narrow drawings, in graph units. */
const ROW_PITCH = 56;

/**
 * Rows a layout adds under a first-generation primary's drawing for its extras: it has three
 * extra places side by side, one stacked and narrow (beside the NBD client), and each added row
 * two (its outer columns). Without them, nodes past the places lay on one another like a deck of
 * cards, their names and their links' labels on top of each other (a quorum child's spares: four).
 */
export function extraRowsFor(mode: LayoutMode, shapes: Readonly<Record<HostName, Shape>>, extras: ExtraCounts): number {
  if (shapes.primary !== 'primary') return 0;
  return Math.ceil(Math.max(0, extras.primary - (mode === 'wide' ? 3 : 1)) / 2);
}

/** The places of `rows` added rows: under `lastRowY`, at the `left` and `right` columns. */
function addedRows(left: number, right: number, lastRowY: number, rows: number): Point[] {
  const places: Point[] = [];
  for (let row = 1; row <= rows; row++) places.push({ x: left, y: lastRowY + row * ROW_PITCH }, { x: right, y: lastRowY + row * ROW_PITCH });
  return places;
}

const WIDE_ROWS = [18, 70, 126, 182, 236];

/**
 * The secondary shape's drawing as docs/block-replication.txt draws the secondary: the VM's
 * column on the right (`c3`), the export and the base on the left (`c1`), the hidden disk between
 * them; `rows` top to bottom. A primary-shaped graph drawn here (never seen in a lifecycle, kept
 * for robustness) takes the places of the parts that play the same part.
 */
function secondaryTemplate(c1: number, c2: number, c3: number, rows: readonly number[], extras: readonly Point[]): RegionTemplate {
  const r = rows;
  return {
    slots: {
      vm: { x: c3, y: r[0]! },
      quorum: { x: c3, y: r[1]! },
      repl: { x: c3, y: r[2]! },
      filter: { x: c3, y: r[3]! },
      active: { x: c3, y: r[4]! },
      hidden: { x: c2, y: r[4]! },
      base: { x: c1, y: r[4]! },
      cbw: { x: c1, y: r[3]! },
      export: { x: c1, y: r[2]! },
      'out-repl': { x: c3, y: r[2]! },
      'out-client': { x: c3, y: r[3]! },
      local: { x: c1, y: r[4]! },
    },
    extras,
  };
}

/** The primary shape: the VM and its quorum in the middle, the local disk left, replication right. */
function primaryTemplate(left: number, middle: number, right: number, rows: readonly number[], extras: readonly Point[]): RegionTemplate {
  const p = rows;
  return {
    slots: {
      vm: { x: middle, y: p[0]! },
      'vm-filter': { x: right, y: p[0]! },
      quorum: { x: middle, y: p[1]! },
      local: { x: left, y: p[2]! },
      'out-repl': { x: right, y: p[2]! },
      'out-client': { x: right, y: p[3]! },
      // drive-mirror's target is an NBD client too: the replication client's place when free.
      'mirror-target': [{ x: right, y: p[3]! }, ...extras.slice(-1)],
    },
    vmBeside: { x: left, y: p[0]! },
    extras,
  };
}

/**
 * A survivor of a failover to the secondary, now the primary of a new pair: its own chain (the
 * VM, its quorum, the DONE replication node, its old active and hidden disks, its disk and export)
 * in the chain column `chain`, the parts that reach the new secondary (the replication node in
 * primary mode, its NBD client, drive-mirror's target) in the column `out` nearest the link.
 */
function survivorTemplate(columns: { chain: number; middle: number; far: number; out: number }, rows: readonly number[], extras: readonly Point[], mirrorRow: number): RegionTemplate {
  const { chain, middle, far, out } = columns;
  const r = rows;
  return {
    slots: {
      vm: { x: chain, y: r[0]! },
      'vm-filter': { x: middle, y: r[0]! },
      quorum: { x: chain, y: r[1]! },
      repl: { x: chain, y: r[2]! },
      filter: { x: chain, y: r[3]! },
      active: { x: chain, y: r[4]! },
      hidden: { x: middle, y: r[4]! },
      base: { x: far, y: r[4]! },
      export: { x: far, y: r[3]! },
      cbw: { x: middle, y: r[3]! },
      'out-repl': { x: out, y: r[1]! },
      'out-client': { x: out, y: r[2]! },
      // drive-mirror's target: the replication client's place (the runbook cancels the mirror
      // before drive_add), else another in the outgoing column.
      'mirror-target': [{ x: out, y: r[2]! }, { x: out, y: r[mirrorRow]! }],
      local: { x: far, y: r[4]! },
    },
    extras,
  };
}

/** The hosts side by side; `width` ≥ 1000 spreads the secondary's columns. */
export function wideLayout(width = 1000, shapes: Readonly<Record<HostName, Shape>> = FIRST_GENERATION, extras: ExtraCounts = NO_EXTRAS): LayoutSpec {
  const r = WIDE_ROWS;
  // The primary region: 330 wide for the primary shape; a survivor's chain needs three columns.
  const survivor = shapes.primary === 'secondary';
  const primaryWidth = survivor ? 478 : 330;
  const start = primaryWidth + 30;
  // The secondary's drawing spreads over its part; squeezed beside a survivor's chain, its outer
  // columns keep their 84-unit margins and the middle closes up (a pitch of 162 at 1000 wide).
  const spread = (width - start) / 640;
  const squeeze = (width - start - 168) / 472;
  const sx = (x: number) => (survivor ? start + 84 + (x - 444) * squeeze : start + (x - 360) * spread);
  const added = extraRowsFor('wide', shapes, extras);
  const primary = survivor
    ? survivorTemplate({ chain: 78, middle: 238, far: 398, out: 398 }, r, [{ x: 238, y: r[2]! }, { x: 238, y: r[1]! }], 0)
    : primaryTemplate(80, 162, 248, r, [
        { x: 80, y: r[3]! },
        { x: 80, y: r[4]! },
        { x: 248, y: r[4]! },
        ...addedRows(80, 248, r[4]!, added),
      ]);
  return {
    mode: 'wide',
    width,
    height: 262 + added * ROW_PITCH,
    shapes,
    extras,
    templates: {
      primary,
      secondary: secondaryTemplate(sx(444), sx(680), sx(916), r, [
        { x: sx(680), y: r[1]! },
        { x: sx(680), y: r[2]! },
        { x: sx(444), y: r[1]! },
        { x: sx(680), y: r[0]! },
        { x: sx(680), y: r[3]! },
        { x: sx(444), y: r[0]! },
      ]),
    },
    // The free area above the NBD export, clear of the secondary VM's column.
    feed: { x: sx(572), bottom: 88, lines: 4, maxText: sx(830) - sx(360) },
    regions: [],
    split: [primaryWidth, 30, width - start],
    link: 'horizontal',
  };
}

/** The hosts one above the other, each drawn as in the wide layout; 660 wide. */
export function stackedLayout(shapes: Readonly<Record<HostName, Shape>> = FIRST_GENERATION, extras: ExtraCounts = NO_EXTRAS): LayoutSpec {
  const survivor = shapes.primary === 'secondary';
  const p = [44, 96, 152, 208];
  const added = extraRowsFor('stacked', shapes, extras);
  // A survivor's chain has five rows, as the secondary's drawing.
  const primaryHeight = survivor ? 26 + 262 : 240 + added * ROW_PITCH;
  const t = WIDE_ROWS.map((row) => 2 + 26 + row);
  const top = primaryHeight + 10;
  const s = WIDE_ROWS.map((row) => top + 26 + row);
  const sx = (x: number) => x - 350;
  const primary = survivor
    ? // The outgoing column on the left, straight above the new secondary's export: the link goes down clear of the chain.
      survivorTemplate({ chain: 245, middle: 405, far: 565, out: 85 }, t, [
        { x: 405, y: t[1]! },
        { x: 405, y: t[2]! },
        { x: 565, y: t[1]! },
        { x: 565, y: t[0]! },
        { x: 565, y: t[2]! },
      ], 3)
    : primaryTemplate(90, 172, 258, p, [{ x: 90, y: p[3]! }, ...addedRows(90, 258, p[3]!, added)]);
  return {
    mode: 'stacked',
    width: 660,
    height: top + 26 + 262 + 4,
    shapes,
    extras,
    templates: {
      primary,
      secondary: secondaryTemplate(sx(444), sx(680), sx(916), s, [
        { x: sx(680), y: s[1]! },
        { x: sx(680), y: s[2]! },
        { x: sx(444), y: s[1]! },
        { x: sx(680), y: s[0]! },
        { x: sx(680), y: s[3]! },
        { x: sx(444), y: s[0]! },
      ]),
    },
    // Beside the primary's drawing; with a survivor's chain there, over the new secondary's free top-left.
    feed: survivor ? { x: 212, bottom: s[1]! + 4, lines: 3, maxText: 340 } : { x: 506, bottom: 226, lines: 7, maxText: 276 },
    regions: [
      { host: 'primary', box: { x: 4, y: 2, width: 652, height: primaryHeight }, title: 'Primary host' },
      { host: 'secondary', box: { x: 4, y: top, width: 652, height: 26 + 262 }, title: 'Secondary host' },
    ],
    split: null,
    link: 'vertical',
  };
}

/** Two columns per host, for phones; 344 wide. */
export function narrowLayout(shapes: Readonly<Record<HostName, Shape>> = FIRST_GENERATION, extras: ExtraCounts = NO_EXTRAS): LayoutSpec {
  const survivor = shapes.primary === 'secondary';
  const added = extraRowsFor('narrow', shapes, extras);
  const a = 86;
  const b = 258;
  const p = [44, 96, 152, 208];
  // A survivor's chain: its column of eight rows on the right, the outgoing parts on the left
  // above nothing, so the link goes straight down to the new secondary's export.
  const t = [0, 1, 2, 3, 4, 5, 6, 7].map((row) => 2 + 26 + 18 + row * 56);
  const primaryHeight = survivor ? 26 + 18 + 7 * 56 + 26 : 240 + added * ROW_PITCH;
  const top = primaryHeight + 10;
  const s = [18, 74, 130, 186, 242, 298].map((row) => top + 26 + row);
  const feedTop = top + 26 + 298 + 30;
  const secondary: RegionTemplate = {
    slots: {
      export: { x: a, y: s[0]! },
      vm: { x: b, y: s[0]! },
      quorum: { x: b, y: s[1]! },
      repl: { x: b, y: s[2]! },
      filter: { x: b, y: s[3]! },
      active: { x: b, y: s[4]! },
      cbw: { x: a, y: s[4]! },
      hidden: { x: b, y: s[5]! },
      base: { x: a, y: s[5]! },
      'out-repl': { x: b, y: s[2]! },
      'out-client': { x: b, y: s[3]! },
      local: { x: a, y: s[5]! },
    },
    extras: [
      { x: a, y: s[1]! },
      { x: a, y: s[2]! },
      { x: a, y: s[3]! },
    ],
  };
  const primary: RegionTemplate = survivor
    ? {
        slots: {
          vm: { x: b, y: t[0]! },
          'vm-filter': { x: a, y: t[0]! },
          quorum: { x: b, y: t[1]! },
          repl: { x: b, y: t[2]! },
          filter: { x: b, y: t[3]! },
          active: { x: b, y: t[4]! },
          hidden: { x: b, y: t[5]! },
          base: { x: b, y: t[6]! },
          export: { x: b, y: t[7]! },
          'out-repl': { x: a, y: t[1]! },
          'out-client': { x: a, y: t[2]! },
          'mirror-target': [{ x: a, y: t[2]! }, { x: a, y: t[3]! }],
          cbw: { x: a, y: t[6]! },
        },
        extras: [
          { x: a, y: t[7]! },
          { x: a, y: t[5]! },
          { x: a, y: t[4]! },
        ],
      }
    : primaryTemplate(a, 172, b, p, [{ x: a, y: p[3]! }, ...addedRows(a, b, p[3]!, added)]);
  return {
    mode: 'narrow',
    width: 344,
    height: feedTop + 3 * 21 + 8,
    shapes,
    extras,
    templates: { primary, secondary },
    feed: { x: 172, bottom: feedTop + 2 * 21 + 10, lines: 3, maxText: 300 },
    regions: [
      { host: 'primary', box: { x: 2, y: 2, width: 340, height: primaryHeight }, title: 'Primary host' },
      // The link comes down into the left column (the export's), so the title goes right.
      { host: 'secondary', box: { x: 2, y: top, width: 340, height: 26 + 298 + 26 }, title: 'Secondary host', titleAt: 'end' },
    ],
    split: null,
    link: 'vertical',
  };
}

/**
 * The layout for a graph `containerWidth` CSS px wide, for hosts of these shapes. A survivor's
 * chain on the primary side takes 148 more units: the secondary's columns close up (a pitch of
 * 181 units at 1000, still wider than a node) rather than the text shrink.
 */
export function layoutFor(containerWidth: number, shapes: Readonly<Record<HostName, Shape>> = FIRST_GENERATION, extras: ExtraCounts = NO_EXTRAS): LayoutSpec {
  if (containerWidth >= 1000 * MIN_SCALE) return wideLayout(Math.max(1000, containerWidth / WIDE_MAX_SCALE), shapes, extras);
  if (containerWidth >= 660 * MIN_SCALE) return stackedLayout(shapes, extras);
  return narrowLayout(shapes, extras);
}

const pointKey = (point: Point) => `${Math.round(point.x * 10)},${Math.round(point.y * 10)}`;

/**
 * Assigns places from the hosts' roles (host-roles.ts): each host's drawing in its own region,
 * by what each node is for. A node with no slot keeps the extra place it took for as long as it
 * exists. Positions are keyed by keyOf(host, name).
 */
export class GraphLayout {
  private readonly extras = new Map<string, number>();
  spec: LayoutSpec = wideLayout();

  place(roles: PairRoles): Map<string, Point> {
    const positions = new Map<string, Point>();
    const present = new Set<string>();
    for (const host of HOSTS) for (const member of roles.hosts[host].members) present.add(keyOf(host, member.name));
    for (const key of [...this.extras.keys()]) if (!present.has(key)) this.extras.delete(key);
    for (const host of HOSTS) {
      const template = this.spec.templates[host];
      const hostRoles = roles.hosts[host];
      const used = new Set<string>();
      const homeless: string[] = [];
      for (const member of hostRoles.members) {
        const key = keyOf(host, member.name);
        let candidates: readonly Point[] = [];
        if (member.slot) {
          const place = member.slot === 'vm' && hostRoles.slots['vm-filter'] !== undefined && template.vmBeside ? template.vmBeside : template.slots[member.slot];
          candidates = place === undefined ? [] : Array.isArray(place) ? (place as readonly Point[]) : [place as Point];
        }
        const free = candidates.find((point) => !used.has(pointKey(point)));
        if (free) {
          used.add(pointKey(free));
          positions.set(key, free);
          this.extras.delete(key);
        } else homeless.push(key);
      }
      // Remembered extras first, so a node keeps its place when another arrives.
      homeless.sort((a, b) => (this.extras.get(a) ?? Infinity) - (this.extras.get(b) ?? Infinity));
      const slots = template.extras;
      for (const key of homeless) {
        let index = this.extras.get(key);
        if (index === undefined || (slots[index] && used.has(pointKey(slots[index]!)))) {
          index = 0;
          while (index < slots.length && used.has(pointKey(slots[index]!))) index++;
          if (index >= slots.length) {
            index = slots.length;
            while ([...this.extras.entries()].some(([other, taken]) => other !== key && other.startsWith(`${host}:`) && taken === index)) index++;
          }
          this.extras.set(key, index);
        }
        const slot = slots[index];
        if (slot) used.add(pointKey(slot));
        // Out of places: stack along the host's first extra place.
        positions.set(key, slot ?? { x: slots[0]!.x, y: slots[0]!.y + (index - slots.length + 1) * 14 });
      }
    }
    return positions;
  }
}


export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A node's box by its driver ('backend' for a BlockBackend): backends are pills, replication filters are taller (they show their stage). */
export function sizeOf(driver: string | undefined): Size {
  if (driver === 'backend') return { width: BACKEND_WIDTH, height: BACKEND_HEIGHT };
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

/** The area two boxes share, in square graph units (0 when they do not meet). */
export function overlapArea(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

/** A node's box in graph units. */
export function boxOf(point: Point, size: Size): Box {
  return { x: point.x - size.width / 2, y: point.y - size.height / 2, width: size.width, height: size.height };
}
