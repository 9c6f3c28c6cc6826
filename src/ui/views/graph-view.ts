/**
 * The two hosts' block graphs, drawn with d3 as one SVG: nodes (quorum, replication filter with
 * its stage, mode and error, NBD client, disks, runtime filters), backends (the VMs and the NBD
 * export), edges from NodeView.children and BackendView, and the NBD link between the hosts.
 * It also plays the choreographer's animations: chips travelling between nodes, flashes,
 * captions near nodes and a feed of what the control plane did.
 *
 * A d3 view: mount(element), update(data), destroy().
 */
import { easeCubicInOut, easeCubicOut } from 'd3-ease';
import { select, type Selection } from 'd3-selection';
import 'd3-transition';
import type { HostName } from '../../engine/sim/events.js';
import type { NodeView, SimSummary } from '../../worker/protocol.js';
import { LINK_CLIENT, LINK_EXPORT, type GraphAnimator, type Tone } from '../lib/choreographer.js';
import { formatBytes } from '../lib/format.js';
import { errorQuirk } from '../lib/quirks.js';
import { ERROR_COLOUR, LAYER_COLOUR, QUIRK_COLOUR, STAGE_COLOUR, STAGE_LABEL } from '../lib/palette.js';
import {
  boxOf,
  chipCurve,
  edgeCurve,
  extraCountsOf,
  extraRowsFor,
  GraphLayout,
  layoutFor,
  linkCurve,
  overlaps,
  pathOf,
  pointOn,
  sizeOf,
  type Box,
  type Curve,
  type LayoutSpec,
  type Point,
} from './graph-layout.js';
import { analyseRoles, keyOf, type PairRoles, type Slot } from '../lib/host-roles.js';
import { placeLinkLabels } from './link-labels.js';
import { EXITING, fadeOut, revive } from './fading-join.js';

export interface GraphData {
  readonly summary: SimSummary;
  readonly filenames: ReadonlyMap<string, string>;
  readonly lostHost: HostName | null;
  readonly jobProgress: Readonly<Record<string, { offsetBytes: number; lenBytes: number }>>;
}

interface NodeDatum {
  /** keyOf(host, name): backends' names repeat across hosts. */
  readonly key: string;
  readonly name: string;
  readonly slot: Slot | undefined;
  readonly host: HostName;
  readonly kind: 'backend' | NodeView['driver'];
  readonly view: NodeView | undefined;
  readonly point: Point;
}

interface EdgeDatum {
  readonly key: string;
  readonly host: HostName;
  readonly role: string;
  readonly parent: string;
  readonly child: string;
  readonly curve: Curve;
}

/** What of a leaving edge or node goes at once, before its box fades (fading-join.ts). */
const EDGE_HIDDEN_AT_EXIT = 'text.edge-label';
const NODE_HIDDEN_AT_EXIT = 'text, g.node-badges';

/** A feed line's height and the distance between two lines (graph units). */
const FEED_LINE = 21;
/** Captions alive at once on the whole graph: more would only cover each other and the nodes. */
const MAX_LIVE_CAPTIONS = 8;
/** A caption's height (graph units). */
const CAPTION_HEIGHT = 18;

/**
 * Every live chip or flash is an SVG element restyled and repainted on every animation frame;
 * a busy clock (1,000 writes/s) asked for hundreds at once and frames missed vsync. Past these
 * budgets new ones are skipped: they would only pile up on the same few paths and outlines.
 */
const MAX_LIVE_CHIPS = 16;
const MAX_LIVE_FLASHES = 14;
/** A node's flash starting this soon after its previous one (same tone) adds nothing visible. */
const FLASH_REPEAT_MS = 260;

/** Caption backgrounds: each keeps its white text at 4.5:1 or more. */
const CAPTION_FILL: Record<Tone, string> = {
  ok: '#1a7f4b',
  info: '#475569',
  read: '#0369a1',
  write: '#0f172a',
  copy: '#8a5a12',
  error: '#b42318',
  quirk: '#6d3fd6',
  warn: '#b43c0b',
};

const TONE_COLOUR: Record<Tone, string> = {
  ok: '#22935a',
  info: '#475569',
  read: '#0284c7',
  write: '#0f172a',
  copy: '#b7791f',
  error: ERROR_COLOUR,
  quirk: QUIRK_COLOUR,
  warn: '#c2410c',
};

const KIND_COLOUR: Record<string, string> = {
  quorum: '#475569',
  nbd: '#475569',
  'copy-before-write': LAYER_COLOUR['hidden-disk']!,
  mirror_top: LAYER_COLOUR['active-disk']!,
  backend: '#1e293b',
};

/** The layer colours (the grids' accents) belong to parts, whatever the nodes are called. */
const SLOT_LAYER: Partial<Record<Slot, string>> = { local: 'primary-disk', base: 'secondary-disk', hidden: 'hidden-disk', active: 'active-disk' };

function accentOf(datum: NodeDatum): string {
  if (datum.view?.replication) return STAGE_COLOUR[datum.view.replication.stage];
  const layer = datum.slot ? SLOT_LAYER[datum.slot] : undefined;
  return (layer ? LAYER_COLOUR[layer] : undefined) ?? KIND_COLOUR[datum.kind] ?? '#64748b';
}

function roleStyle(role: string): 'main' | 'backing' | 'target' | 'extra' | 'backend' {
  if (role === 'backend') return 'backend';
  if (role === 'backing') return 'backing';
  if (role === 'target') return 'target';
  if (role === 'hidden disk' || role === 'secondary disk') return 'extra';
  return 'main';
}

export class GraphView implements GraphAnimator {
  private svg: Selection<SVGSVGElement, unknown, null, undefined> | undefined;
  private edgesLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private linkLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private nodesLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private fxLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private readonly layout = new GraphLayout();
  /** Keyed by keyOf(host, name). */
  private positions = new Map<string, Point>();
  private drivers = new Map<string, string>();
  /** The keys a node name stands for (a backend's name may be on both hosts). */
  private keysByName = new Map<string, string[]>();
  private roles: PairRoles | undefined;
  /** COLO's NBD link (the replication client's), else the first there is: forwarded writes travel on it. */
  private link: Curve | undefined;
  private linkEnds: { client: string; export: string } | undefined;
  private element: HTMLElement | undefined;
  /** Captions on screen, with their boxes: a new one goes where none of them is. */
  private captions: Array<{ node: string; text: string; box: Box }> = [];
  /**
   * What a caption or an edge label must not cover: node boxes (and their badges), the link's
   * label, the feed's area and the region titles. Edge labels add their own boxes.
   */
  private obstacles: Box[] = [];
  private regionsLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private lastData: GraphData | undefined;
  /** Told the layout whenever it changes (the stage arranges its cards after it). */
  onLayout: ((spec: LayoutSpec) => void) | undefined;
  private feedLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private feedLines: Array<{ group: Selection<SVGGElement, unknown, null, undefined>; slot: number; width: number }> = [];
  private lastSignature = '';
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private liveChips = 0;
  private liveFlashes = 0;
  /** The latest flash planned on each node: its tone and when it starts (wall ms). */
  private readonly lastFlash = new Map<string, { tone: Tone; startsAtMs: number }>();
  private readonly textWidths = new TextWidths();
  /** What a lesson step talks about, or a broken invariant: nodes (and the NBD link) drawn outlined. */
  private focus: { readonly nodes: ReadonlySet<string>; readonly link: boolean } = { nodes: new Set(), link: false };

  get spec(): LayoutSpec {
    return this.layout.spec;
  }

  mount(element: HTMLElement): void {
    this.element = element;
    this.layout.spec = layoutFor(element.clientWidth || 1000);
    const spec = this.layout.spec;
    const svg = select(element)
      .append('svg')
      .attr('class', 'graph-svg')
      .attr('data-layout', spec.mode)
      .attr('viewBox', `0 0 ${spec.width} ${spec.height}`)
      .attr('preserveAspectRatio', 'xMidYMin meet')
      .attr('role', 'img')
      .attr('aria-label', 'Block graphs of the primary and the secondary host');
    this.textWidths.fontFamily = getComputedStyle(svg.node()!).fontFamily;
    const defs = svg.append('defs');
    for (const [id, colour] of [
      ['arrow-main', '#64748b'],
      ['arrow-backing', '#8b97a8'],
      ['arrow-target', LAYER_COLOUR['hidden-disk']!],
      ['arrow-extra', '#a3adbb'],
      ['arrow-backend', '#1e293b'],
    ] as const) {
      defs
        .append('marker')
        .attr('id', id)
        .attr('viewBox', '0 0 10 10')
        .attr('refX', 9)
        .attr('refY', 5)
        .attr('markerWidth', 7)
        .attr('markerHeight', 7)
        .attr('orient', 'auto-start-reverse')
        .append('path')
        .attr('d', 'M0,1 L9,5 L0,9 z')
        .attr('fill', colour);
    }
    this.svg = svg;
    this.regionsLayer = svg.append('g').attr('class', 'regions-layer');
    this.linkLayer = svg.append('g').attr('class', 'link-layer');
    this.edgesLayer = svg.append('g').attr('class', 'edges-layer');
    this.nodesLayer = svg.append('g').attr('class', 'nodes-layer');
    this.fxLayer = svg.append('g').attr('class', 'fx-layer').attr('pointer-events', 'none');
    this.feedLayer = svg.append('g').attr('class', 'feed-layer').attr('pointer-events', 'none').attr('aria-hidden', 'true');
    this.resizeObserver = new ResizeObserver((entries) => this.resized(entries[0]?.contentRect.width ?? 0));
    this.resizeObserver.observe(element);
    this.onLayout?.(spec);
  }

  /** A new width may call for another layout (or, when wide, a wider spread). */
  private resized(width: number): void {
    if (width <= 0 || !this.svg) return;
    const current = this.layout.spec;
    const next = layoutFor(width, current.shapes, current.extras);
    if (next.mode === current.mode && Math.abs(next.width - current.width) < 12) return;
    this.relayout(next);
  }

  private relayout(next: LayoutSpec): void {
    if (!this.svg) return;
    this.layout.spec = next;
    this.svg.attr('viewBox', `0 0 ${next.width} ${next.height}`).attr('data-layout', next.mode);
    // Animations under way were placed for the old layout.
    this.reset();
    this.lastSignature = '';
    if (this.lastData) this.update(this.lastData);
    this.onLayout?.(next);
  }

  update(data: GraphData): void {
    if (!this.svg) return;
    this.lastData = data;
    const signature = signatureOf(data);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    const summary = data.summary;
    const roles = analyseRoles(summary);
    this.roles = roles;
    // The hosts' shapes pick the drawing (a survivor's chain on the primary side needs more
    // room), and nodes with no part of their own may need rows added for them.
    const shapes = { primary: roles.hosts.primary.shape, secondary: roles.hosts.secondary.shape };
    const extras = extraCountsOf(roles);
    const spec = this.layout.spec;
    if (shapes.primary !== spec.shapes.primary || shapes.secondary !== spec.shapes.secondary || extraRowsFor(spec.mode, shapes, extras) !== extraRowsFor(spec.mode, spec.shapes, spec.extras)) {
      const width = this.element?.clientWidth || spec.width;
      this.lastSignature = signature;
      this.relayout(layoutFor(width, shapes, extras));
      return;
    }

    const nodes: NodeDatum[] = [];
    const placed = this.layout.place(roles);
    this.positions = placed;
    const slotOf = new Map<string, Slot | undefined>();
    for (const host of ['primary', 'secondary'] as const) for (const member of roles.hosts[host].members) slotOf.set(keyOf(host, member.name), member.slot);
    this.drivers = new Map([
      ...summary.nodes.map((node) => [keyOf(node.host, node.name), node.driver] as const),
      ...summary.backends.map((backend) => [keyOf(backend.host, backend.name), 'backend'] as const),
    ]);
    this.keysByName = new Map();
    for (const key of placed.keys()) {
      const name = key.slice(key.indexOf(':') + 1);
      this.keysByName.set(name, [...(this.keysByName.get(name) ?? []), key]);
    }
    const size = (key: string) => sizeOf(this.drivers.get(key));
    for (const backend of summary.backends) {
      const key = keyOf(backend.host, backend.name);
      nodes.push({ key, name: backend.name, slot: slotOf.get(key), host: backend.host, kind: 'backend', view: undefined, point: placed.get(key)! });
    }
    for (const node of summary.nodes) {
      const key = keyOf(node.host, node.name);
      nodes.push({ key, name: node.name, slot: slotOf.get(key), host: node.host, kind: node.driver, view: node, point: placed.get(key)! });
    }

    const edges: EdgeDatum[] = [];
    for (const backend of summary.backends) {
      if (!backend.root) continue;
      const parent = keyOf(backend.host, backend.name);
      const child = keyOf(backend.host, backend.root);
      const from = placed.get(parent);
      const to = placed.get(child);
      if (from && to) edges.push({ key: `${parent}|backend|${child}`, host: backend.host, role: 'backend', parent, child, curve: edgeCurve(from, size(parent), to, size(child)) });
    }
    for (const node of summary.nodes) {
      const parent = keyOf(node.host, node.name);
      for (const { role, child: childName } of node.children) {
        const child = keyOf(node.host, childName);
        const from = placed.get(parent);
        const to = placed.get(child);
        if (from && to) edges.push({ key: `${parent}|${role}|${child}`, host: node.host, role, parent, child, curve: edgeCurve(from, size(parent), to, size(child)) });
      }
    }

    this.obstacles = nodes.map((node) => {
      const box = boxOf(node.point, sizeOf(node.kind));
      // A fault badge sits just above the node.
      const above = node.view && node.view.faults.length > 0 ? 20 : 3;
      return { x: box.x - 3, y: box.y - above, width: box.width + 6, height: box.height + above + 3 };
    });
    this.drawRegions();
    this.drawLink(summary.linkUp, placed, data.lostHost, retiredNodes(summary));
    this.drawEdges(edges, data.lostHost);
    this.drawNodes(nodes, data);
    this.applyFocus();
  }

  /** Outlines these nodes (by name) and, with `link`, the NBD link, until the next call. */
  setFocus(nodes: readonly string[], link: boolean): void {
    this.focus = { nodes: new Set(nodes), link };
    this.applyFocus();
  }

  private applyFocus(): void {
    const { nodes, link } = this.focus;
    // A node on its way out is not outlined: it is no longer part of the graph.
    this.nodesLayer
      ?.selectAll<SVGGElement, NodeDatum>('g.node')
      .classed('focused', function (datum) {
        return !this.classList.contains(EXITING) && (nodes.has(datum.name) || nodes.has(datum.key));
      });
    this.linkLayer?.selectAll<SVGGElement, unknown>('g.link').classed('focused', link);
  }

  /** The feed's area: edge labels and captions keep out of it. */
  private feedArea(): Box {
    const feed = this.spec.feed;
    const top = feed.bottom - (feed.lines - 1) * FEED_LINE - FEED_LINE / 2;
    return { x: feed.x - feed.maxText / 2 - 14, y: top, width: feed.maxText + 28, height: feed.bottom + FEED_LINE / 2 - top };
  }

  private drawRegions(): void {
    const layer = this.regionsLayer!;
    const regions = this.spec.regions;
    const groups = layer
      .selectAll<SVGGElement, (typeof regions)[number]>('g.region')
      .data(regions, (region) => region.host)
      .join((enter) => {
        const group = enter.append('g').attr('class', (region) => `region region-${region.host}`);
        group.append('rect').attr('class', 'region-box').attr('rx', 10);
        group.append('rect').attr('class', 'region-top').attr('height', 3).attr('rx', 1.5);
        group.append('text').attr('class', 'region-title');
        return group;
      });
    groups.each(function (region) {
      const group = select(this);
      const { x, y, width, height } = region.box;
      group.select('rect.region-box').attr('x', x).attr('y', y).attr('width', width).attr('height', height);
      group.select('rect.region-top').attr('x', x + 6).attr('y', y).attr('width', width - 12);
      const atEnd = region.titleAt === 'end';
      group
        .select('text.region-title')
        .attr('x', atEnd ? x + width - 12 : x + 12)
        .attr('y', y + 18)
        .attr('text-anchor', atEnd ? 'end' : 'start')
        .text(region.title);
    });
    // The title's measure is a canvas's; the SVG may draw the heavy weight a little wider.
    for (const region of regions) {
      const width = this.textWidths.measure(region.title, REGION_TITLE_FONT, 8.5) * 1.15 + 16;
      this.obstacles.push({ x: region.titleAt === 'end' ? region.box.x + region.box.width - 6 - width : region.box.x + 6, y: region.box.y + 4, width, height: 20 });
    }
    this.obstacles.push(this.feedArea());
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.svg?.interrupt();
    this.svg?.remove();
    this.svg = undefined;
  }

  // ---- static drawing ------------------------------------------------------------------------

  private drawLink(up: boolean, placed: Map<string, Point>, lostHost: HostName | null, retired: ReadonlySet<string>): void {
    const layer = this.linkLayer!;
    const direction = this.spec.link;
    // Every NBD client to an export of the other host: COLO's replication link, drive-mirror's resync.
    const data: Array<{ key: string; curve: Curve; up: boolean; purpose: string; client: string; export: string }> = [];
    for (const link of this.roles?.links ?? []) {
      const client = keyOf(link.clientHost, link.client);
      const exported = keyOf(link.exportHost, link.exportBackend);
      const from = placed.get(client);
      const to = placed.get(exported);
      if (from && to) data.push({ key: `${client}>${exported}`, curve: linkCurve(from, to, direction), up, purpose: link.purpose, client, export: exported });
    }
    this.link = data[0]?.curve;
    this.linkEnds = data[0] ? { client: data[0].client, export: data[0].export } : undefined;
    const obstacles = this.obstacles;
    const spec = this.spec;
    const groups = layer
      .selectAll<SVGGElement, (typeof data)[number]>('g.link')
      .data(data, (datum) => datum.key)
      .join((enter) => {
        const group = enter.append('g').attr('class', 'link').attr('data-client', (datum) => datum.client).attr('data-export', (datum) => datum.export);
        group.append('path').attr('class', 'link-casing');
        group.append('path').attr('class', 'link-line');
        const label = group.append('g').attr('class', 'link-label');
        label.append('rect').attr('rx', 9);
        label.append('text').attr('dy', '0.35em');
        group.append('text').attr('class', 'link-cross').attr('text-anchor', 'middle').attr('dy', '0.35em').text('✕');
        return group;
      });
    // A link from what a failover to the primary left (retiredNodes) fades with its client.
    groups
      .classed('down', (datum) => !datum.up)
      .classed('retired', (datum) => retired.has(datum.client))
      .attr('opacity', (datum) => (retired.has(datum.client) ? 0.4 : lostHost ? 0.65 : 1));
    groups.select('path.link-casing').attr('d', (datum) => pathOf(datum.curve));
    groups.select('path.link-line').attr('d', (datum) => pathOf(datum.curve));
    const { places, labelBoxes } = placeLinkLabels(data, { width: spec.width, height: spec.height, link: direction }, obstacles);
    obstacles.push(...labelBoxes);
    groups.each(function (datum) {
      const group = select(this);
      const { text, label, width, cross } = places.get(datum.key)!;
      group.select('g.link-label').attr('transform', `translate(${label.x},${label.y})`);
      group.select('g.link-label rect').attr('x', -width / 2).attr('y', -9).attr('width', width).attr('height', 18);
      group.select('g.link-label text').attr('text-anchor', 'middle').text(text);
      group.select('text.link-cross').attr('x', cross.x).attr('y', cross.y).attr('opacity', datum.up ? 0 : 1);
    });
  }

  private drawEdges(edges: EdgeDatum[], lostHost: HostName | null): void {
    const layer = this.edgesLayer!;
    const placeLabel = (datum: EdgeDatum) => this.placeEdgeLabel(datum);
    layer
      .selectAll<SVGGElement, EdgeDatum>('g.edge')
      .data(edges, (datum) => datum.key)
      .join(
        (enter) => {
          const group = enter.append('g').attr('class', (datum) => `edge edge-${roleStyle(datum.role)}`);
          group
            .append('path')
            .attr('class', 'edge-path')
            .attr('marker-end', (datum) => `url(#arrow-${roleStyle(datum.role)})`)
            .attr('d', (datum) => pathOf(datum.curve))
            .attr('opacity', 0)
            .transition()
            .duration(450)
            .attr('opacity', 1);
          group
            .append('text')
            .attr('class', 'edge-label')
            .attr('text-anchor', 'middle')
            .text((datum) => (datum.role === 'backend' ? '' : datum.role));
          return group;
        },
        (update) => revive(update, EDGE_HIDDEN_AT_EXIT),
        // The label goes at once: a new edge's label may already be placed where it was.
        (exit) => fadeOut(exit, 350, EDGE_HIDDEN_AT_EXIT),
      )
      .attr('opacity', (datum) => (lostHost && datum.host === lostHost ? 0.35 : 1))
      .each(function (datum) {
        const group = select(this);
        group.select('path.edge-path').attr('d', pathOf(datum.curve));
        const place = datum.role === 'backend' ? null : placeLabel(datum);
        group
          .select('text.edge-label')
          .attr('display', place ? null : 'none')
          .attr('x', place?.x ?? 0)
          .attr('y', place?.y ?? 0)
          .attr('text-anchor', place?.anchor ?? 'middle');
      });
  }

  /**
   * Where an edge's label goes: the first spot along the edge, near its middle first, where it
   * covers no node, badge, other label or the feed. With none free it is left out (a node's
   * tooltip lists its children by role).
   */
  private placeEdgeLabel(datum: EdgeDatum): { x: number; y: number; anchor: 'start' | 'middle' | 'end' } | null {
    const width = this.textWidths.measure(datum.role, EDGE_LABEL_FONT, 6);
    const horizontal = Math.abs(datum.curve.p0.y - datum.curve.p3.y) < 8;
    const spec = this.spec;
    for (const t of [0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8]) {
      const at = pointOn(datum.curve, t);
      const candidates: Array<{ x: number; y: number; anchor: 'start' | 'middle' | 'end'; box: Box }> = horizontal
        ? [
            { x: at.x, y: at.y - 5, anchor: 'middle', box: { x: at.x - width / 2, y: at.y - 15, width, height: 13 } },
            { x: at.x, y: at.y + 13, anchor: 'middle', box: { x: at.x - width / 2, y: at.y + 3, width, height: 13 } },
          ]
        : [
            { x: at.x + 5, y: at.y + 4, anchor: 'start', box: { x: at.x + 5, y: at.y - 6, width, height: 13 } },
            { x: at.x - 5, y: at.y + 4, anchor: 'end', box: { x: at.x - 5 - width, y: at.y - 6, width, height: 13 } },
          ];
      for (const candidate of candidates) {
        const box = candidate.box;
        if (box.x < 0 || box.y < 0 || box.x + box.width > spec.width || box.y + box.height > spec.height) continue;
        if (this.obstacles.some((obstacle) => overlaps(box, obstacle, 1))) continue;
        this.obstacles.push(box);
        return candidate;
      }
    }
    return null;
  }

  private drawNodes(nodes: NodeDatum[], data: GraphData): void {
    const layer = this.nodesLayer!;
    const groups = layer
      .selectAll<SVGGElement, NodeDatum>('g.node')
      .data(nodes, (datum) => datum.key)
      .join(
        (enter) => {
          const group = enter
            .append('g')
            .attr('class', (datum) => `node node-${datum.kind === 'backend' ? 'backend' : 'block'}`)
            .attr('data-node', (datum) => datum.name)
            .attr('transform', (datum) => `translate(${datum.point.x},${datum.point.y})`);
          group.append('rect').attr('class', 'node-box');
          group.append('rect').attr('class', 'node-accent');
          group.append('text').attr('class', 'node-title');
          group.append('text').attr('class', 'node-detail');
          group.append('g').attr('class', 'node-badges');
          group.append('g').attr('class', 'node-progress');
          group.append('title');
          group
            .attr('opacity', 0)
            .transition()
            .duration(450)
            .ease(easeCubicOut)
            .attr('opacity', 1);
          return group;
        },
        (update) => revive(update, NODE_HIDDEN_AT_EXIT),
        // Its texts go at once (labels may now be placed where they were); the box fades.
        (exit) => fadeOut(exit, 350, NODE_HIDDEN_AT_EXIT),
      );
    // Which host and part each node is, for tests and tooltips: it changes when roles move.
    groups
      .attr('transform', (datum) => `translate(${datum.point.x},${datum.point.y})`)
      .attr('data-host', (datum) => datum.host)
      .attr('data-slot', (datum) => datum.slot ?? null);
    groups.classed('lost', (datum) => data.lostHost === datum.host);
    const summary = data.summary;
    const retired = retiredNodes(summary);
    groups.classed('retired', (datum) => datum.kind !== 'backend' && retired.has(datum.key));
    const measureBadge = (text: string) => this.textWidths.measure(text, BADGE_FONT, 6.5);
    const quirkOf = (datum: NodeDatum) => errorQuirk(datum, summary);
    groups.each(function (datum) {
      const group = select(this);
      const { width, height } = sizeOf(datum.kind);
      const view = datum.view;
      const accent = accentOf(datum);
      const ejected = view?.ejected ?? false;
      group
        .select('rect.node-box')
        .attr('x', -width / 2)
        .attr('y', -height / 2)
        .attr('width', width)
        .attr('height', height)
        .attr('rx', datum.kind === 'backend' ? height / 2 : 7)
        .attr('stroke', datum.kind === 'backend' ? '#1e293b' : ejected ? ERROR_COLOUR : accent)
        .attr('stroke-dasharray', ejected ? '5 3' : null)
        .classed('ejected', ejected);
      group
        .select('rect.node-accent')
        .attr('x', -width / 2)
        .attr('y', -height / 2)
        .attr('width', datum.kind === 'backend' ? 0 : 5)
        .attr('height', height)
        .attr('rx', 2)
        .attr('fill', accent);
      const title = group.select('text.node-title');
      const detail = group.select('text.node-detail');
      if (datum.kind === 'backend') {
        title.attr('x', 0).attr('y', 1).attr('dy', '0.35em').attr('text-anchor', 'middle');
        fitText(title, backendLabel(datum, summary, data.lostHost), width - 14);
        detail.text('');
      } else {
        const tall = datum.kind === 'replication';
        title.attr('x', -width / 2 + 12).attr('y', tall ? -11 : -3.5).attr('text-anchor', 'start');
        fitText(title, datum.name, width - 20);
        detail
          .attr('x', -width / 2 + 12)
          .attr('y', tall ? 4 : 11)
          .attr('text-anchor', 'start')
          .classed('bad', ejected);
      }
      group.select('title').text(tooltipOf(datum, data.filenames));
      const badges = drawBadges(group.select<SVGGElement>('g.node-badges'), datum, width, height, measureBadge, quirkOf);
      if (datum.kind !== 'backend') {
        const text = ejected ? 'medium ejected' : badges.errorOnDetailLine ? `mode=${datum.view?.replication?.mode ?? ''}` : detailOf(datum, data.filenames, summary, data.jobProgress);
        // Room is left on the detail line for an error badge that moved there.
        fitText(detail, text, width - 20 - badges.detailReserve);
      }
      drawProgress(group.select<SVGGElement>('g.node-progress'), datum, summary, data.jobProgress, width, height);
    });
  }

  // ---- animations ------------------------------------------------------------------------------

  packet(options: { from: string; to: string; colour: string; delay: number; duration: number; style: 'data' | 'ack' | 'copy' | 'commit' | 'lost' }): void {
    const fx = this.fxLayer;
    if (!fx) return;
    let curve: Curve | undefined;
    const fromKey = this.resolve(options.from);
    const toKey = this.resolve(options.to);
    const ends = this.linkEnds;
    if (ends && fromKey === ends.client && toKey === ends.export) curve = this.link;
    else if (ends && fromKey === ends.export && toKey === ends.client && this.link) curve = reverse(this.link);
    else {
      const from = fromKey === undefined ? undefined : this.positions.get(fromKey);
      const to = toKey === undefined ? undefined : this.positions.get(toKey);
      if (from && to) curve = chipCurve(from, to);
    }
    if (!curve) return;
    // A lost reply or request is the point of the animation: never skipped.
    if (this.liveChips >= MAX_LIVE_CHIPS && options.style !== 'lost') return;
    this.liveChips++;
    const path = curve;
    const radius = options.style === 'ack' ? 3.5 : 6.5;
    const chip = fx
      .append('g')
      .attr('class', `chip chip-${options.style}`)
      .attr('opacity', 0)
      .attr('transform', `translate(${path.p0.x},${path.p0.y})`);
    if (options.style === 'ack') chip.append('circle').attr('r', radius).attr('fill', options.colour);
    else {
      chip
        .append('rect')
        .attr('x', -radius)
        .attr('y', -radius)
        .attr('width', radius * 2)
        .attr('height', radius * 2)
        .attr('rx', 2.5)
        .attr('fill', options.colour);
      if (options.style === 'copy' || options.style === 'commit') {
        chip
          .append('rect')
          .attr('class', 'chip-ring')
          .attr('x', -radius - 2.5)
          .attr('y', -radius - 2.5)
          .attr('width', radius * 2 + 5)
          .attr('height', radius * 2 + 5)
          .attr('rx', 4)
          .attr('stroke', options.style === 'copy' ? LAYER_COLOUR['hidden-disk']! : LAYER_COLOUR['active-disk']!);
      }
    }
    chip
      .transition()
      .delay(Math.max(0, options.delay))
      .duration(60)
      .attr('opacity', 1)
      .transition()
      .duration(Math.max(120, options.duration))
      .ease(easeCubicInOut)
      .attrTween('transform', () => (t: number) => {
        const point = pointOn(path, t);
        return `translate(${point.x},${point.y})`;
      })
      .transition()
      .duration(140)
      .attr('opacity', 0)
      .on('end', () => this.liveChips--)
      .remove();
  }

  /**
   * The key a name from the choreographer stands for: LINK_CLIENT / LINK_EXPORT are the ends of
   * COLO's link, whatever the nodes are called; a name on both hosts (an NBD export) is the one
   * of the host that runs.
   */
  private resolve(name: string): string | undefined {
    if (name === LINK_CLIENT) return this.linkEnds?.client;
    if (name === LINK_EXPORT) return this.linkEnds?.export;
    const keys = this.keysByName.get(name);
    if (!keys || keys.length === 0) return undefined;
    const lost = this.lastData?.lostHost;
    return keys.find((key) => !lost || !key.startsWith(`${lost}:`)) ?? keys[0];
  }

  flash(name: string, tone: Tone, delay: number): void {
    const node = this.resolve(name);
    if (node === undefined) return;
    const point = this.positions.get(node);
    const fx = this.fxLayer;
    if (!point || !fx) return;
    const startsAtMs = performance.now() + Math.max(0, delay);
    const previous = this.lastFlash.get(node);
    if (previous && previous.tone === tone && Math.abs(startsAtMs - previous.startsAtMs) < FLASH_REPEAT_MS) return;
    if (this.liveFlashes >= MAX_LIVE_FLASHES && tone !== 'error') return;
    this.lastFlash.set(node, { tone, startsAtMs });
    this.liveFlashes++;
    const { width, height } = sizeOf(this.drivers.get(node));
    const colour = TONE_COLOUR[tone];
    fx.append('rect')
      .attr('class', `flash flash-${tone}`)
      .attr('x', point.x - width / 2 - 2)
      .attr('y', point.y - height / 2 - 2)
      .attr('width', width + 4)
      .attr('height', height + 4)
      .attr('rx', this.drivers.get(node) === 'backend' ? (height + 4) / 2 : 9)
      .attr('fill', 'none')
      .attr('stroke', colour)
      .attr('stroke-width', tone === 'error' ? 4 : 3)
      .attr('opacity', 0)
      .transition()
      .delay(Math.max(0, delay))
      .duration(80)
      .attr('opacity', 0.95)
      .transition()
      .duration(tone === 'error' ? 900 : 550)
      .attr('opacity', 0)
      .attr('stroke-width', 1)
      .on('end', () => this.liveFlashes--)
      .remove();
  }

  caption(name: string, text: string, tone: Tone, delay: number): void {
    const fx = this.fxLayer;
    const node = this.resolve(name);
    if (node === undefined || !this.positions.has(node) || !fx) return;
    this.later(delay, () => {
      const point = this.positions.get(node);
      if (!point) return;
      // The same words on the same node are already showing; a busy graph shows only so many.
      if (this.captions.some((caption) => caption.node === node && caption.text === text)) return;
      if (this.captions.length >= MAX_LIVE_CAPTIONS) return;
      const width = this.textWidths.measure(text, CAPTION_FONT, 6) + 14;
      const box = this.captionBox(point, sizeOf(this.drivers.get(node)), width);
      // No free place near the node: the event log and the announcer still have it.
      if (!box) return;
      const entry = { node, text, box };
      this.captions.push(entry);
      const label = fx.append('g').attr('class', `caption caption-${tone}`).attr('opacity', 0).attr('data-node', name);
      label.attr('transform', `translate(${box.x + box.width / 2},${box.y + box.height / 2})`);
      label
        .append('rect')
        .attr('x', -width / 2)
        .attr('y', -CAPTION_HEIGHT / 2)
        .attr('width', width)
        .attr('height', CAPTION_HEIGHT)
        .attr('rx', CAPTION_HEIGHT / 2)
        .attr('fill', CAPTION_FILL[tone]);
      label.append('text').attr('text-anchor', 'middle').attr('dy', '0.35em').text(text);
      label
        .transition()
        .duration(140)
        .attr('opacity', 1)
        .transition()
        .delay(tone === 'error' || tone === 'quirk' ? 1700 : 1000)
        .duration(300)
        .attr('opacity', 0)
        .on('end', () => {
          this.captions = this.captions.filter((caption) => caption !== entry);
        })
        .remove();
    });
  }

  /**
   * A free place for a caption near a node: just above it, just below, a row further up or
   * down, then beside it; free means covering no node, badge, edge label, the link's label, the
   * feed or another caption, and inside the drawing. Null when there is none.
   */
  private captionBox(point: Point, size: { width: number; height: number }, width: number): Box | null {
    const spec = this.spec;
    const top = point.y - size.height / 2;
    const bottom = point.y + size.height / 2;
    const centres: Point[] = [
      { x: point.x, y: top - CAPTION_HEIGHT / 2 - 2 },
      { x: point.x, y: bottom + CAPTION_HEIGHT / 2 + 2 },
      { x: point.x, y: top - CAPTION_HEIGHT * 1.5 - 5 },
      { x: point.x, y: bottom + CAPTION_HEIGHT * 1.5 + 5 },
      { x: point.x + size.width / 2 + width / 2 + 4, y: point.y },
      { x: point.x - size.width / 2 - width / 2 - 4, y: point.y },
    ];
    for (const centre of centres) {
      const x = clamp(centre.x - width / 2, 1, spec.width - width - 1);
      const box = { x, y: centre.y - CAPTION_HEIGHT / 2, width, height: CAPTION_HEIGHT };
      if (box.y < 0 || box.y + box.height > spec.height) continue;
      if (this.obstacles.some((obstacle) => overlaps(box, obstacle, 1))) continue;
      if (this.captions.some((caption) => overlaps(box, caption.box, 2))) continue;
      return box;
    }
    return null;
  }

  /** A line in the feed: what the control plane just did. Newest at the bottom of the feed's area. */
  feed(text: string, tone: Tone, delay: number): void {
    this.later(delay, () => {
      const layer = this.feedLayer;
      if (!layer) return;
      const spec = this.spec.feed;
      for (const line of this.feedLines) line.slot++;
      // Lines step up one slot at once (no sliding): lines arriving in a burst would otherwise
      // pass over each other mid-move. The new line fades in at the bottom.
      const group = layer.append('g').attr('class', `feed feed-${tone}`).attr('opacity', 0);
      group.append('circle').attr('r', 4).attr('fill', TONE_COLOUR[tone]);
      const textNode = group.append('text').attr('x', 9).attr('dy', '0.35em');
      const natural = this.textWidths.measure(text, FEED_FONT, 6.5);
      fitText(textNode, text, spec.maxText, natural);
      const measured = Math.min(spec.maxText, natural);
      group.insert('rect', 'circle').attr('x', -10).attr('y', -10).attr('width', measured + 28).attr('height', 20).attr('rx', 10);
      const line = { group, slot: 0, width: measured + 28 };
      this.feedLines.push(line);
      for (const entry of this.feedLines) {
        const visible = entry.slot < spec.lines;
        entry.group.attr('transform', `translate(${spec.x - entry.width / 2 + 10},${spec.bottom - entry.slot * FEED_LINE})`);
        if (entry !== line) entry.group.interrupt('move').attr('opacity', visible ? 1 - entry.slot * (0.6 / spec.lines) : 0);
      }
      group.transition('move').duration(160).attr('opacity', 1);
      for (const entry of this.feedLines.filter((candidate) => candidate.slot >= spec.lines)) entry.group.remove();
      this.feedLines = this.feedLines.filter((candidate) => candidate.slot < spec.lines);
      group
        .transition('fade')
        .delay(tone === 'error' || tone === 'quirk' ? 4200 : 2800)
        .duration(400)
        .attr('opacity', 0)
        .on('end', () => {
          this.feedLines = this.feedLines.filter((candidate) => candidate !== line);
        })
        .remove();
    });
  }

  linkBurst(delay: number): void {
    const fx = this.fxLayer;
    if (!fx || !this.link) return;
    const middle = pointOn(this.link, 0.5);
    fx.append('circle')
      .attr('class', 'burst')
      .attr('cx', middle.x)
      .attr('cy', middle.y)
      .attr('r', 4)
      .attr('opacity', 0)
      .transition()
      .delay(Math.max(0, delay))
      .duration(60)
      .attr('opacity', 1)
      .transition()
      .duration(650)
      .attr('r', 22)
      .attr('opacity', 0)
      .remove();
  }

  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.fxLayer?.selectAll('*').interrupt().remove();
    this.feedLayer?.selectAll('*').interrupt().remove();
    this.feedLines = [];
    this.captions = [];
    this.liveChips = 0;
    this.liveFlashes = 0;
    this.lastFlash.clear();
  }

  private later(delay: number, callback: () => void): void {
    if (delay <= 1) {
      callback();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.svg) callback();
    }, delay);
    this.timers.add(timer);
  }
}

/** The fonts of app.css's .caption, .feed, .edge-label and .badge text, for measuring without a layout. */
const CAPTION_FONT = '600 11px';
const FEED_FONT = '600 11.5px';
const EDGE_LABEL_FONT = '400 10.5px';
const REGION_TITLE_FONT = '750 13px';
/** Badges are upper case with letter-spacing 0.04em: measured a little wide. */
const BADGE_FONT = '700 11px';

/** Badge fills that keep white text at 4.5:1. */
const ERROR_COLOUR_DARK = '#b42318';
const QUIRK_COLOUR_DARK = '#6d3fd6';


/** Captions and feed lines repeat a few texts; the odd ones (offsets, counts) must not pile up. */
const MEASURED_TEXTS_KEPT = 500;

/** Text widths (CSS px) measured on a canvas and remembered: no SVG layout is forced. */
class TextWidths {
  fontFamily = 'sans-serif';
  private context: CanvasRenderingContext2D | null | undefined;
  private readonly widths = new Map<string, number>();

  measure(text: string, font: string, fallbackPxPerChar: number): number {
    const key = `${font}|${text}`;
    const known = this.widths.get(key);
    if (known !== undefined) return known;
    if (this.context === undefined) this.context = document.createElement('canvas').getContext('2d');
    let width = text.length * fallbackPxPerChar;
    if (this.context) {
      this.context.font = `${font} ${this.fontFamily}`;
      width = this.context.measureText(text).width;
    }
    if (this.widths.size >= MEASURED_TEXTS_KEPT) this.widths.clear();
    this.widths.set(key, width);
    return width;
  }
}

function reverse(curve: Curve): Curve {
  return { p0: curve.p3, p1: curve.p2, p2: curve.p1, p3: curve.p0 };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function backendLabel(datum: NodeDatum, summary: SimSummary, lostHost: HostName | null): string {
  if (datum.slot === 'export') return 'NBD export';
  // The VM's pill says its role: hosts are roles (after a swap the primary is the old secondary machine).
  const vm = datum.slot === 'vm' ? `${datum.host} VM` : datum.name;
  if (lostHost === datum.host) return `${vm} · lost`;
  return `${summary.colo[datum.host].running ? '▶' : '❚❚'} ${vm}`;
}

/**
 * Sets a text, squeezing it into maxWidth when it is longer (measured only when it changes, and
 * not at all when the caller knows the width: measuring an SVG text forces a layout).
 */
function fitText(selection: { node(): unknown }, text: string, maxWidth: number, knownWidth?: number): void {
  const node = selection.node() as SVGTextElement | null;
  if (!node) return;
  if (node.textContent === text && node.dataset.fit === String(maxWidth)) return;
  node.textContent = text;
  node.dataset.fit = String(maxWidth);
  node.removeAttribute('textLength');
  node.removeAttribute('lengthAdjust');
  const length = knownWidth ?? node.getComputedTextLength?.() ?? 0;
  if (length > maxWidth) {
    node.setAttribute('textLength', String(maxWidth));
    node.setAttribute('lengthAdjust', 'spacingAndGlyphs');
  }
}

function detailOf(
  datum: NodeDatum,
  filenames: ReadonlyMap<string, string>,
  summary: SimSummary,
  animated: Readonly<Record<string, { offsetBytes: number; lenBytes: number }>>,
): string {
  const view = datum.view;
  switch (datum.kind) {
    case 'raw':
    case 'qcow2':
      return `${datum.kind} · ${filenames.get(datum.name) ?? ''}`;
    case 'quorum':
      return 'quorum · fifo · threshold 1';
    case 'replication':
      return `replication · mode=${view?.replication?.mode ?? ''}`;
    case 'nbd':
      return 'nbd client → export';
    case 'copy-before-write':
      return 'copy-before-write';
    case 'mirror_top': {
      // The active commit's filter, or drive-mirror's (the resync to a new secondary).
      const job = jobOfFilter(summary, datum);
      if (!job) return 'mirror_top';
      const what = job.type === 'mirror' ? (job.status === 'ready' ? 'resync ready' : 'resync') : 'commit';
      const progress = animated[job.id] ?? { offsetBytes: job.offsetBytes, lenBytes: job.lenBytes };
      if (progress.lenBytes === 0) return `mirror_top · ${what} starting`;
      return `${what} ${Math.round((100 * progress.offsetBytes) / progress.lenBytes)}% · ${formatBytes(progress.offsetBytes)} / ${formatBytes(progress.lenBytes)}`;
    }
    default:
      return datum.kind;
  }
}

function tooltipOf(datum: NodeDatum, filenames: ReadonlyMap<string, string>): string {
  const view = datum.view;
  if (!view) return `${datum.name} (BlockBackend on the ${datum.host} host)`;
  const lines = [`${view.name} — ${view.driver} on the ${view.host} host`];
  const file = filenames.get(view.name);
  if (file) lines.push(`file: ${file}`);
  for (const child of view.children) lines.push(`${child.role} → ${child.child}`);
  if (view.replication) {
    lines.push(`mode=${view.replication.mode}, stage ${view.replication.stage}${view.replication.topId ? `, top-id=${view.replication.topId}` : ''}`);
    lines.push(`error: ${view.replication.error ? `-${view.replication.error}` : '0'}`);
  }
  if (view.faults.length > 0) lines.push(`faults: ${view.faults.join(', ')}`);
  if (view.ejected) lines.push('medium ejected');
  return lines.join('\n');
}

/** The badges' height and the gap kept between two of them (graph units). */
const BADGE_HEIGHT = 15;
const BADGE_GAP = 4;

/**
 * A replication node's stage and error, and a node's injected faults, as badges that cover
 * neither each other nor the node's name: the stage on the node's last line, the error beside it
 * when both fit, else at the end of the detail line (which then says only the mode: "FAILOVER
 * FAILED" and "−EIO" do not fit one line); faults just above the node's top edge, outside it.
 * An error that is QEMU's quirk (lib/quirks.ts) is purple and its tooltip says why.
 */
function drawBadges(
  layer: Selection<SVGGElement, unknown, null, undefined>,
  datum: NodeDatum,
  width: number,
  height: number,
  measure: (text: string) => number,
  quirkOf: (datum: NodeDatum) => string | null,
): { errorOnDetailLine: boolean; detailReserve: number } {
  const badges: Array<{ key: string; text: string; fill: string; x: number; y: number; width: number; title: string | null }> = [];
  const replication = datum.view?.replication;
  const right = width / 2 - 6;
  let errorOnDetailLine = false;
  let detailReserve = 0;
  if (replication) {
    const bottom = height / 2 - 11;
    const stageText = STAGE_LABEL[replication.stage].toUpperCase();
    const stageWidth = measure(stageText) + 12;
    const left = -width / 2 + 11;
    badges.push({ key: 'stage', text: stageText, fill: STAGE_COLOUR[replication.stage], x: left, y: bottom, width: stageWidth, title: null });
    if (replication.error) {
      const text = `−${replication.error}`;
      const quirk = quirkOf(datum);
      const errorWidth = measure(text) + 12;
      const fill = quirk ? QUIRK_COLOUR_DARK : ERROR_COLOUR_DARK;
      const title = quirk ?? `s->error = -${replication.error}`;
      if (left + stageWidth + BADGE_GAP + errorWidth <= right) badges.push({ key: 'error', text, fill, x: right - errorWidth, y: bottom, width: errorWidth, title });
      else {
        errorOnDetailLine = true;
        detailReserve = errorWidth + BADGE_GAP;
        badges.push({ key: 'error', text, fill, x: right - errorWidth, y: 0, width: errorWidth, title });
      }
    }
  }
  if (datum.view && datum.view.faults.length > 0) {
    const text = `⚡ ${datum.view.faults.join(', ')}`;
    const faultWidth = measure(text) + 12;
    badges.push({ key: 'fault', text, fill: '#9f1239', x: right - faultWidth, y: -height / 2 - BADGE_HEIGHT / 2 - 2, width: faultWidth, title: null });
  }
  const groups = layer
    .selectAll<SVGGElement, (typeof badges)[number]>('g.badge')
    .data(badges, (badge) => badge.key)
    .join((enter) => {
      const group = enter.append('g').attr('class', (badge) => `badge badge-${badge.key}`);
      group.append('rect').attr('height', BADGE_HEIGHT).attr('rx', BADGE_HEIGHT / 2);
      group.append('text').attr('dy', '0.35em');
      group.append('title');
      return group;
    });
  groups.each(function (badge) {
    const group = select(this);
    group.attr('transform', `translate(${badge.x},${badge.y})`).classed('quirk', badge.fill === QUIRK_COLOUR_DARK);
    group.select('rect').attr('x', 0).attr('y', -BADGE_HEIGHT / 2).attr('width', badge.width).attr('fill', badge.fill);
    group.select('text').attr('x', badge.width / 2).attr('text-anchor', 'middle').text(badge.text);
    group.select('title').text(badge.title ?? '');
  });
  return { errorOnDetailLine, detailReserve };
}

function drawProgress(
  layer: Selection<SVGGElement, unknown, null, undefined>,
  datum: NodeDatum,
  summary: SimSummary,
  animated: Readonly<Record<string, { offsetBytes: number; lenBytes: number }>>,
  width: number,
  height: number,
): void {
  const job = datum.kind === 'mirror_top' ? jobOfFilter(summary, datum) : undefined;
  const bars = job ? [job] : [];
  const groups = layer
    .selectAll<SVGGElement, (typeof bars)[number]>('g.progress')
    .data(bars, (bar) => bar.id)
    .join((enter) => {
      const group = enter.append('g').attr('class', 'progress');
      group.append('rect').attr('class', 'progress-track');
      group.append('rect').attr('class', 'progress-fill');
      group.append('text').attr('class', 'progress-text');
      return group;
    });
  groups.each(function (bar) {
    const progress = animated[bar.id] ?? { offsetBytes: bar.offsetBytes, lenBytes: bar.lenBytes };
    const fraction = progress.lenBytes > 0 ? Math.min(1, progress.offsetBytes / progress.lenBytes) : 0;
    const group = select(this);
    const x = -width / 2 + 8;
    const full = width - 14;
    group.select('rect.progress-track').attr('x', x).attr('y', height / 2 - 5).attr('width', full).attr('height', 3).attr('rx', 1.5);
    group.select('rect.progress-fill').attr('x', x).attr('y', height / 2 - 5).attr('width', Math.max(0, full * fraction)).attr('height', 3).attr('rx', 1.5);
    group.select('text.progress-text').text('');
  });
}

/** The job whose mirror_top this node is. */
function jobOfFilter(summary: SimSummary, datum: NodeDatum): SimSummary['jobs'][number] | undefined {
  return summary.jobs.find((candidate) => candidate.filter === datum.name && candidate.host === datum.host);
}

function signatureOf(data: GraphData): string {
  const summary = data.summary;
  const progress = summary.jobs
    .filter((job) => job.filter !== undefined)
    .map((job) => [job.id, job.status, job.offsetBytes, job.lenBytes, data.jobProgress[job.id]?.offsetBytes, data.jobProgress[job.id]?.lenBytes]);
  return JSON.stringify([summary.nodes, summary.backends, summary.jobs.map((job) => [job.id, job.target]), summary.linkUp, summary.colo.primary.running, summary.colo.secondary.running, data.lostHost, progress]);
}

/**
 * A failover to the primary ends its replication node's work: replication_stop makes it DONE and
 * the quorum lets it go (x-blockdev-change, COLO-FT.txt's "Primary Failover"); it stays open,
 * with the NBD client it opened, until drive_del. Both are drawn faded, as what is left of the
 * old pair, not as a part of the new one: keys (keyOf) of a replication node in primary mode,
 * DONE, that no node holds, and of its NBD client when nothing else holds that.
 */
function retiredNodes(summary: Pick<SimSummary, 'nodes'>): Set<string> {
  const held = new Map<string, number>();
  for (const node of summary.nodes) for (const child of node.children) held.set(keyOf(node.host, child.child), (held.get(keyOf(node.host, child.child)) ?? 0) + 1);
  const out = new Set<string>();
  for (const node of summary.nodes) {
    if (node.replication?.mode !== 'primary' || node.replication.stage !== 'done' || held.has(keyOf(node.host, node.name))) continue;
    out.add(keyOf(node.host, node.name));
    const file = node.children.find((child) => child.role === 'file')?.child;
    if (file !== undefined && held.get(keyOf(node.host, file)) === 1) out.add(keyOf(node.host, file));
  }
  return out;
}
