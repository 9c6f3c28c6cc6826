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
import type { GraphAnimator, Tone } from '../lib/choreographer.js';
import { formatBytes } from '../lib/format.js';
import { ERROR_COLOUR, LAYER_COLOUR, QUIRK_COLOUR, STAGE_COLOUR, STAGE_LABEL } from '../lib/palette.js';
import {
  chipCurve,
  edgeCurve,
  GraphLayout,
  isBackend,
  linkCurve,
  pathOf,
  pointOn,
  sizeOf,
  VIEW_HEIGHT,
  VIEW_WIDTH,
  type Curve,
  type Point,
} from './graph-layout.js';

export interface GraphData {
  readonly summary: SimSummary;
  readonly filenames: ReadonlyMap<string, string>;
  readonly lostHost: HostName | null;
  readonly jobProgress: Readonly<Record<string, { offsetBytes: number; lenBytes: number }>>;
}

interface NodeDatum {
  readonly name: string;
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

/** The feed's place: the free area above the secondary's NBD export, lines growing upwards. */
const FEED_X = 572;
const FEED_BOTTOM = 88;
const FEED_LINES = 4;
/** Widest feed text: the feed stays clear of the secondary VM's pill. */
const FEED_MAX_TEXT = 470;

/**
 * Every live chip or flash is an SVG element restyled and repainted on every animation frame;
 * a busy clock (1,000 writes/s) asked for hundreds at once and frames missed vsync. Past these
 * budgets new ones are skipped: they would only pile up on the same few paths and outlines.
 */
const MAX_LIVE_CHIPS = 16;
const MAX_LIVE_FLASHES = 14;
/** A node's flash starting this soon after its previous one (same tone) adds nothing visible. */
const FLASH_REPEAT_MS = 260;

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

function accentOf(datum: NodeDatum): string {
  if (datum.view?.replication) return STAGE_COLOUR[datum.view.replication.stage];
  return LAYER_COLOUR[datum.name] ?? KIND_COLOUR[datum.kind] ?? '#64748b';
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
  private positions = new Map<string, Point>();
  private drivers = new Map<string, string>();
  private link: Curve | undefined;
  private readonly captionStacks = new Map<string, number>();
  private feedLayer: Selection<SVGGElement, unknown, null, undefined> | undefined;
  private feedLines: Array<{ group: Selection<SVGGElement, unknown, null, undefined>; slot: number; width: number }> = [];
  private lastSignature = '';
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private liveChips = 0;
  private liveFlashes = 0;
  /** The latest flash planned on each node: its tone and when it starts (wall ms). */
  private readonly lastFlash = new Map<string, { tone: Tone; startsAtMs: number }>();
  private readonly textWidths = new TextWidths();

  mount(element: HTMLElement): void {
    const svg = select(element)
      .append('svg')
      .attr('class', 'graph-svg')
      .attr('viewBox', `0 0 ${VIEW_WIDTH} ${VIEW_HEIGHT}`)
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
    this.linkLayer = svg.append('g').attr('class', 'link-layer');
    this.edgesLayer = svg.append('g').attr('class', 'edges-layer');
    this.nodesLayer = svg.append('g').attr('class', 'nodes-layer');
    this.fxLayer = svg.append('g').attr('class', 'fx-layer').attr('pointer-events', 'none');
    this.feedLayer = svg.append('g').attr('class', 'feed-layer').attr('pointer-events', 'none').attr('aria-hidden', 'true');
  }

  update(data: GraphData): void {
    if (!this.svg) return;
    const signature = signatureOf(data);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    const summary = data.summary;

    const nodes: NodeDatum[] = [];
    const placed = this.layout.place([
      ...summary.nodes.map((node) => ({ name: node.name, host: node.host, driver: node.driver })),
      ...summary.backends.map((backend) => ({ name: backend.name, host: backend.host, driver: 'backend' })),
    ]);
    this.positions = placed;
    this.drivers = new Map([...summary.nodes.map((node) => [node.name, node.driver] as const), ...summary.backends.map((backend) => [backend.name, 'backend'] as const)]);
    const size = (name: string) => sizeOf(name, this.drivers.get(name));
    for (const backend of summary.backends) nodes.push({ name: backend.name, host: backend.host, kind: 'backend', view: undefined, point: placed.get(backend.name)! });
    for (const node of summary.nodes) nodes.push({ name: node.name, host: node.host, kind: node.driver, view: node, point: placed.get(node.name)! });

    const edges: EdgeDatum[] = [];
    for (const backend of summary.backends) {
      if (!backend.root) continue;
      const from = placed.get(backend.name);
      const to = placed.get(backend.root);
      if (from && to) edges.push({ key: `${backend.name}|backend|${backend.root}`, host: backend.host, role: 'backend', parent: backend.name, child: backend.root, curve: edgeCurve(from, size(backend.name), to, size(backend.root)) });
    }
    for (const node of summary.nodes) {
      for (const { role, child } of node.children) {
        const from = placed.get(node.name);
        const to = placed.get(child);
        if (from && to) edges.push({ key: `${node.name}|${role}|${child}`, host: node.host, role, parent: node.name, child, curve: edgeCurve(from, size(node.name), to, size(child)) });
      }
    }

    this.drawLink(summary.linkUp, placed, data.lostHost);
    this.drawEdges(edges, data.lostHost);
    this.drawNodes(nodes, data);
  }

  destroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.svg?.interrupt();
    this.svg?.remove();
    this.svg = undefined;
  }

  // ---- static drawing ------------------------------------------------------------------------

  private drawLink(up: boolean, placed: Map<string, Point>, lostHost: HostName | null): void {
    const layer = this.linkLayer!;
    const client = placed.get('nbd-client');
    const exportPoint = placed.get('nbd-export');
    this.link = client && exportPoint ? linkCurve(client, exportPoint) : undefined;
    const data = this.link ? [{ curve: this.link, up }] : [];
    const groups = layer
      .selectAll<SVGGElement, { curve: Curve; up: boolean }>('g.link')
      .data(data)
      .join((enter) => {
        const group = enter.append('g').attr('class', 'link');
        group.append('path').attr('class', 'link-casing');
        group.append('path').attr('class', 'link-line');
        const label = group.append('g').attr('class', 'link-label');
        label.append('rect').attr('rx', 8).attr('height', 16);
        label.append('text').attr('dy', '0.35em');
        group.append('text').attr('class', 'link-cross').attr('text-anchor', 'middle').attr('dy', '0.35em').text('✕');
        return group;
      });
    groups.classed('down', (datum) => !datum.up).attr('opacity', lostHost ? 0.65 : 1);
    groups.select('path.link-casing').attr('d', (datum) => pathOf(datum.curve));
    groups.select('path.link-line').attr('d', (datum) => pathOf(datum.curve));
    groups.each(function (datum) {
      const middle = pointOn(datum.curve, 0.5);
      const group = select(this);
      const text = datum.up ? 'NBD · up' : 'NBD · down';
      const width = text.length * 5.6 + 14;
      group.select('g.link-label').attr('transform', `translate(${middle.x},${middle.y - 20})`);
      group.select('g.link-label rect').attr('x', -width / 2).attr('y', -8).attr('width', width);
      group.select('g.link-label text').attr('text-anchor', 'middle').text(text);
      group.select('text.link-cross').attr('x', middle.x).attr('y', middle.y).attr('opacity', datum.up ? 0 : 1);
    });
  }

  private drawEdges(edges: EdgeDatum[], lostHost: HostName | null): void {
    const layer = this.edgesLayer!;
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
        (update) => update,
        (exit) => exit.transition().duration(350).attr('opacity', 0).remove(),
      )
      .attr('opacity', (datum) => (lostHost && datum.host === lostHost ? 0.35 : 1))
      .each(function (datum) {
        const group = select(this);
        group.select('path.edge-path').attr('d', pathOf(datum.curve));
        const labelAt = pointOn(datum.curve, datum.role === 'secondary disk' || datum.role === 'hidden disk' ? 0.28 : 0.5);
        const horizontal = Math.abs(datum.curve.p0.y - datum.curve.p3.y) < 8;
        group
          .select('text.edge-label')
          .attr('x', labelAt.x + (horizontal ? 0 : 5))
          .attr('y', labelAt.y + (horizontal ? -5 : 3))
          .attr('text-anchor', horizontal ? 'middle' : 'start');
      });
  }

  private drawNodes(nodes: NodeDatum[], data: GraphData): void {
    const layer = this.nodesLayer!;
    const groups = layer
      .selectAll<SVGGElement, NodeDatum>('g.node')
      .data(nodes, (datum) => datum.name)
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
        (update) => update,
        (exit) => exit.transition().duration(350).attr('opacity', 0).remove(),
      );
    groups.attr('transform', (datum) => `translate(${datum.point.x},${datum.point.y})`);
    groups.classed('lost', (datum) => data.lostHost === datum.host);
    const summary = data.summary;
    groups.each(function (datum) {
      const group = select(this);
      const { width, height } = sizeOf(datum.name, datum.kind);
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
        title.attr('x', -width / 2 + 12).attr('y', tall ? -10 : -3.5).attr('text-anchor', 'start');
        fitText(title, datum.name, width - 20);
        detail
          .attr('x', -width / 2 + 12)
          .attr('y', tall ? 3.5 : 11)
          .attr('text-anchor', 'start')
          .classed('bad', ejected);
        fitText(detail, ejected ? 'medium ejected' : detailOf(datum, data.filenames, summary, data.jobProgress), width - 20);
      }
      group.select('title').text(tooltipOf(datum, data.filenames));
      drawBadges(group.select<SVGGElement>('g.node-badges'), datum, width, height);
      drawProgress(group.select<SVGGElement>('g.node-progress'), datum, summary, data.jobProgress, width, height);
    });
  }

  // ---- animations ------------------------------------------------------------------------------

  packet(options: { from: string; to: string; colour: string; delay: number; duration: number; style: 'data' | 'ack' | 'copy' | 'commit' | 'lost' }): void {
    const fx = this.fxLayer;
    if (!fx) return;
    let curve: Curve | undefined;
    if (options.from === 'nbd-client' && options.to === 'nbd-export') curve = this.link;
    else if (options.from === 'nbd-export' && options.to === 'nbd-client' && this.link) curve = reverse(this.link);
    else {
      const from = this.positions.get(options.from);
      const to = this.positions.get(options.to);
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

  flash(node: string, tone: Tone, delay: number): void {
    const point = this.positions.get(node);
    const fx = this.fxLayer;
    if (!point || !fx) return;
    const startsAtMs = performance.now() + Math.max(0, delay);
    const previous = this.lastFlash.get(node);
    if (previous && previous.tone === tone && Math.abs(startsAtMs - previous.startsAtMs) < FLASH_REPEAT_MS) return;
    if (this.liveFlashes >= MAX_LIVE_FLASHES && tone !== 'error') return;
    this.lastFlash.set(node, { tone, startsAtMs });
    this.liveFlashes++;
    const { width, height } = sizeOf(node, this.drivers.get(node));
    const colour = TONE_COLOUR[tone];
    fx.append('rect')
      .attr('class', `flash flash-${tone}`)
      .attr('x', point.x - width / 2 - 2)
      .attr('y', point.y - height / 2 - 2)
      .attr('width', width + 4)
      .attr('height', height + 4)
      .attr('rx', isBackend(node) ? (height + 4) / 2 : 9)
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

  caption(node: string, text: string, tone: Tone, delay: number): void {
    const point = this.positions.get(node);
    const fx = this.fxLayer;
    if (!point || !fx) return;
    const { height } = sizeOf(node, this.drivers.get(node));
    this.later(delay, () => {
      const stack = this.captionStacks.get(node) ?? 0;
      if (stack >= 3) return;
      this.captionStacks.set(node, stack + 1);
      // Captions sit in the gaps between rows: just above the node, then just below it.
      const top = point.y - height / 2 - 9;
      const bottom = point.y + height / 2 + 9;
      const roomBelow = bottom + 19 < VIEW_HEIGHT;
      const y = roomBelow ? (stack === 0 && top > 8 ? top : bottom + Math.max(0, stack - 1) * 19) : top - stack * 19;
      const label = fx.append('g').attr('class', `caption caption-${tone}`).attr('opacity', 0);
      label.append('text').attr('text-anchor', 'middle').attr('dy', '0.35em').text(text);
      const width = this.textWidths.measure(text, CAPTION_FONT, 5.5) + 14;
      const x = clamp(point.x, width / 2 + 2, VIEW_WIDTH - width / 2 - 2);
      label.attr('transform', `translate(${x},${y})`);
      label
        .insert('rect', 'text')
        .attr('x', -width / 2)
        .attr('y', -8.5)
        .attr('width', width)
        .attr('height', 17)
        .attr('rx', 8.5)
        .attr('fill', TONE_COLOUR[tone]);
      label
        .transition()
        .duration(140)
        .attr('opacity', 1)
        .transition()
        .delay(tone === 'error' || tone === 'quirk' ? 1700 : 1000)
        .duration(300)
        .attr('opacity', 0)
        .on('end', () => this.captionStacks.set(node, Math.max(0, (this.captionStacks.get(node) ?? 1) - 1)))
        .remove();
    });
  }

  /** A line in the feed at the top of the graph: what the control plane just did. */
  feed(text: string, tone: Tone, delay: number): void {
    this.later(delay, () => {
      const layer = this.feedLayer;
      if (!layer) return;
      for (const line of this.feedLines) line.slot++;
      const group = layer.append('g').attr('class', `feed feed-${tone}`).attr('opacity', 0).attr('transform', `translate(${FEED_X},${FEED_BOTTOM + 8})`);
      group.append('circle').attr('r', 4).attr('fill', TONE_COLOUR[tone]);
      const textNode = group.append('text').attr('x', 9).attr('dy', '0.35em');
      const natural = this.textWidths.measure(text, FEED_FONT, 6);
      fitText(textNode, text, FEED_MAX_TEXT, natural);
      const measured = Math.min(FEED_MAX_TEXT, natural);
      group.insert('rect', 'circle').attr('x', -10).attr('y', -10).attr('width', measured + 28).attr('height', 20).attr('rx', 10);
      const line = { group, slot: 0, width: measured + 28 };
      this.feedLines.push(line);
      for (const entry of this.feedLines) {
        const visible = entry.slot < FEED_LINES;
        entry.group
          .interrupt('move')
          .transition('move')
          .duration(220)
          .attr('transform', `translate(${FEED_X - entry.width / 2 + 10},${FEED_BOTTOM - entry.slot * 21})`)
          .attr('opacity', visible ? 1 - entry.slot * 0.18 : 0);
      }
      for (const entry of this.feedLines.filter((candidate) => candidate.slot >= FEED_LINES)) entry.group.transition('gone').delay(240).remove();
      this.feedLines = this.feedLines.filter((candidate) => candidate.slot < FEED_LINES);
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
    this.captionStacks.clear();
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

/** The fonts of app.css's .caption text and .feed text, for measuring without a layout. */
const CAPTION_FONT = '600 10.5px';
const FEED_FONT = '600 11.5px';
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
  if (datum.name === 'nbd-export') return 'NBD export';
  const vm = datum.name === 'primary-vm' ? 'primary VM' : datum.name === 'secondary-vm' ? 'secondary VM' : datum.name;
  if (lostHost === datum.host) return `${vm} · lost`;
  return `${summary.vmsRunning ? '▶' : '❚❚'} ${vm}`;
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
      const job = summary.jobs.find((candidate) => candidate.type === 'commit');
      if (!job) return 'mirror_top';
      const progress = animated[job.id] ?? { offsetBytes: job.offsetBytes, lenBytes: job.lenBytes };
      if (progress.lenBytes === 0) return 'mirror_top · commit starting';
      return `commit ${Math.round((100 * progress.offsetBytes) / progress.lenBytes)}% · ${formatBytes(progress.offsetBytes)} / ${formatBytes(progress.lenBytes)}`;
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

function drawBadges(layer: Selection<SVGGElement, unknown, null, undefined>, datum: NodeDatum, width: number, height: number): void {
  const badges: Array<{ key: string; text: string; fill: string; x: number; y: number; anchor: 'end' | 'start' }> = [];
  const replication = datum.view?.replication;
  if (replication) {
    // The stage, then the error, on the node's last line.
    badges.push({ key: 'stage', text: STAGE_LABEL[replication.stage].toUpperCase(), fill: STAGE_COLOUR[replication.stage], x: -width / 2 + 11, y: height / 2 - 10.5, anchor: 'start' });
    if (replication.error) badges.push({ key: 'error', text: `−${replication.error}`, fill: ERROR_COLOUR, x: width / 2 - 6, y: height / 2 - 10.5, anchor: 'end' });
  }
  if (datum.view && datum.view.faults.length > 0) {
    badges.push({ key: 'fault', text: `⚡ ${datum.view.faults.join(', ')}`, fill: '#9f1239', x: width / 2 - 6, y: -height / 2, anchor: 'end' });
  }
  const groups = layer
    .selectAll<SVGGElement, (typeof badges)[number]>('g.badge')
    .data(badges, (badge) => badge.key)
    .join((enter) => {
      const group = enter.append('g').attr('class', (badge) => `badge badge-${badge.key}`);
      group.append('rect').attr('height', 14).attr('rx', 7);
      group.append('text').attr('dy', '0.35em');
      return group;
    });
  groups.each(function (badge) {
    const group = select(this);
    const text = group.select('text').text(badge.text);
    const measured = (text.node() as SVGTextElement | null)?.getComputedTextLength?.() ?? badge.text.length * 5;
    const badgeWidth = measured + 12;
    const left = badge.anchor === 'end' ? badge.x - badgeWidth : badge.x;
    group.attr('transform', `translate(${left},${badge.y})`);
    group.select('rect').attr('x', 0).attr('y', -7).attr('width', badgeWidth).attr('fill', badge.fill);
    text.attr('x', badgeWidth / 2).attr('text-anchor', 'middle');
  });
}

function drawProgress(
  layer: Selection<SVGGElement, unknown, null, undefined>,
  datum: NodeDatum,
  summary: SimSummary,
  animated: Readonly<Record<string, { offsetBytes: number; lenBytes: number }>>,
  width: number,
  height: number,
): void {
  const job = datum.kind === 'mirror_top' ? summary.jobs.find((candidate) => candidate.type === 'commit') : undefined;
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

function signatureOf(data: GraphData): string {
  const summary = data.summary;
  const commit = summary.jobs.find((job) => job.type === 'commit');
  const animated = commit ? data.jobProgress[commit.id] : undefined;
  return JSON.stringify([
    summary.nodes,
    summary.backends,
    summary.linkUp,
    summary.vmsRunning,
    data.lostHost,
    commit ? [commit.id, commit.offsetBytes, commit.lenBytes, animated?.offsetBytes, animated?.lenBytes] : null,
  ]);
}

