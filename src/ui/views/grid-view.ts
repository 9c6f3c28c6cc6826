/**
 * A disk as a grid of cells on a canvas: colour is content, a filled cell is allocated in the
 * image's own layer, a hollow one is not (it reads from the backing file), a half-filled one is
 * partly allocated; mixed content is striped. A second canvas on top draws the short-lived
 * highlights (writes landing, reads served, copies) and the hover and keyboard cursors.
 *
 * Only changed cells are redrawn, in requestAnimationFrame.
 */
import { ALLOCATION, MIXED_CONTENT } from '../../worker/protocol.js';
import type { GridAnimator, HighlightKind } from '../lib/choreographer.js';
import { CHAIN, SOURCE_PARTIAL, type DiskImage } from '../lib/disks.js';
import { byteColour, COPY_COLOUR, EMPTY_COLOUR, ERROR_COLOUR, LAYER_COLOUR, MIXED_STRIPE, textOnColour, UNALLOCATED_STROKE, ZERO_CLUSTER_COLOUR } from '../lib/palette.js';

export interface GridState {
  readonly image: DiskImage | undefined;
  readonly mode: 'content' | 'source';
  /** Cells to mark with a dot (e.g. granules the commit has still to copy), or null. */
  readonly marks: Uint8Array | null;
  readonly markColour: string;
  readonly cursor: number | null;
  readonly hover: number | null;
  /** Largest height the grid may take, in CSS px. */
  readonly maxHeight: number;
  /** Largest cell pitch, shared by the grids shown together so their cells compare. */
  readonly maxPitch: number;
  /** Write each cell's byte in it (a cue that does not rely on colour), where a cell has room. */
  readonly labels: boolean;
  /**
   * Cells outlined until further notice: what a lesson step talks about (`lesson`), or where an
   * invariant is broken (`broken`). [start, end) in cells.
   */
  readonly focus: readonly GridFocus[];
}

export interface GridFocus {
  readonly start: number;
  readonly end: number;
  /**
   * `diff`: the clusters that differ between two moments (time travel's diff); `event`: the
   * clusters the events of the scheduler entry shown touch (stepping inside a command).
   */
  readonly tone: 'lesson' | 'broken' | 'diff' | 'event';
}

interface Highlight {
  start: number;
  end: number;
  kind: HighlightKind;
  t0: number;
  duration: number;
  colour: string | undefined;
}

interface Geometry {
  cols: number;
  rows: number;
  pitch: number;
  size: number;
  width: number;
  height: number;
}

/** The outline of cells a lesson step talks about (amber, as the graph's focused nodes). */
const FOCUS_COLOUR = '#b45309';
/** Clusters that differ between two moments: a colour no content byte, lesson or error outline uses. */
const DIFF_COLOUR = '#7e22ce';
/** The clusters the current event touches: the log's highlight blue, drawn with a dotted ring so the cue is not colour alone. */
const EVENT_COLOUR = '#1d4ed8';

function sameFocus(a: readonly GridFocus[], b: readonly GridFocus[]): boolean {
  return a.length === b.length && a.every((focus, index) => focus.start === b[index]!.start && focus.end === b[index]!.end && focus.tone === b[index]!.tone);
}

/** The overlay's flash colours (alpha is applied separately). */
const COMMIT_FLASH = 'rgb(112,72,200)';
const ERROR_FLASH = 'rgb(214,69,69)';

const MAX_PITCH = 28;
const MIN_PITCH = 2;
/** With labels on, cells are made at least this big (when the width allows) ... */
export const LABEL_PITCH = 18;
/** ... and a cell smaller than this has no room for its label. */
const LABEL_MIN_SIZE = 12;
/**
 * The overlay canvas reaches this far (CSS px) past the grid on every side: a write's ring is
 * drawn outside the cell it touched, so that a single cell of a small grid stands out.
 */
export const OVERLAY_MARGIN = 10;
/**
 * Highlights alive at once: the overlay redraws every one of them on every animation frame, and
 * a busy clock keeps adding more. The oldest go first.
 */
const MAX_LIVE_HIGHLIGHTS = 120;
/** A highlight of the same cells and kind starting this close to a live one would look the same. */
const HIGHLIGHT_MERGE_MS = 120;
/** How far back among the newest highlights a duplicate is looked for. */
const MERGE_LOOKBACK = 48;

export function columnsFor(cellCount: number): number {
  if (cellCount <= 8) return Math.max(1, cellCount);
  const square = 2 ** Math.ceil(Math.log2(cellCount) / 2);
  return Math.min(cellCount, Math.max(8, square));
}

/** Smallest width (CSS px) at which the grid stays legible. */
export function minimumWidth(cellCount: number, labels = false): number {
  return columnsFor(cellCount) * (labels ? LABEL_PITCH : MIN_PITCH);
}

export class GridView implements GridAnimator {
  private container: HTMLElement | undefined;
  private base: HTMLCanvasElement | undefined;
  private overlay: HTMLCanvasElement | undefined;
  private context: CanvasRenderingContext2D | null = null;
  private overlayContext: CanvasRenderingContext2D | null = null;
  private resizeObserver: ResizeObserver | undefined;
  private state: GridState | undefined;
  private geometry: Geometry | undefined;
  private availableWidth = 0;
  private needsFull = true;
  private overlayDirty = true;
  private overlayHadContent = false;
  private highlights: Highlight[] = [];
  private sweeps: Array<{ t0: number; duration: number }> = [];
  private marks: Uint8Array | null = null;
  private readonly dirtyMarks = new Set<number>();
  private drewOnce = false;
  private readonly segmentBuffer: number[] = [];

  constructor(
    private readonly requestTick: () => void,
    private readonly onFirstDraw: (() => void) | undefined = undefined,
    /** Told the pitch this grid would like, from its width. */
    private readonly reportPitch: (pitch: number) => void = () => undefined,
  ) {}

  mount(container: HTMLElement): void {
    this.container = container;
    this.base = document.createElement('canvas');
    this.overlay = document.createElement('canvas');
    this.base.className = 'grid-base';
    this.overlay.className = 'grid-overlay';
    this.base.setAttribute('aria-hidden', 'true');
    this.overlay.setAttribute('aria-hidden', 'true');
    container.append(this.base, this.overlay);
    this.context = this.base.getContext('2d', { alpha: true });
    this.overlayContext = this.overlay.getContext('2d');
    // A view mounted again (its component's effect re-ran) has new, blank canvases: lay them out and draw every cell.
    this.needsFull = true;
    this.overlayDirty = true;
    this.state?.image?.markAllDirty();
    this.resizeObserver = new ResizeObserver((entries) => {
      const width = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (width !== this.availableWidth) {
        this.availableWidth = width;
        this.needsFull = true;
        this.requestTick();
      }
    });
    this.resizeObserver.observe(container);
    this.availableWidth = Math.floor(container.clientWidth);
  }

  update(state: GridState): void {
    const previous = this.state;
    this.state = state;
    if (
      !previous ||
      previous.image !== state.image ||
      previous.mode !== state.mode ||
      previous.maxHeight !== state.maxHeight ||
      previous.maxPitch !== state.maxPitch ||
      previous.labels !== state.labels
    ) {
      this.needsFull = true;
      state.image?.markAllDirty();
    }
    if (state.marks !== this.marks) {
      const before = this.marks;
      const after = state.marks;
      const length = Math.max(before?.length ?? 0, after?.length ?? 0);
      for (let index = 0; index < length; index++) if ((before?.[index] ?? 0) !== (after?.[index] ?? 0)) this.dirtyMarks.add(index);
      this.marks = after;
    }
    if (!previous || previous.cursor !== state.cursor || previous.hover !== state.hover || !sameFocus(previous.focus, state.focus)) this.overlayDirty = true;
    this.requestTick();
  }

  /** The cell under a point (client coordinates), or null. */
  cellAt(clientX: number, clientY: number): number | null {
    const geometry = this.geometry;
    const image = this.state?.image;
    if (!geometry || !this.base || !image) return null;
    const rect = this.base.getBoundingClientRect();
    const x = clientX - rect.left;
    const y = clientY - rect.top;
    if (x < 0 || y < 0 || x >= geometry.width || y >= geometry.height) return null;
    const index = Math.floor(y / geometry.pitch) * geometry.cols + Math.floor(x / geometry.pitch);
    return index < image.layout.cellCount ? index : null;
  }

  get columns(): number {
    return this.geometry?.cols ?? 1;
  }

  highlight(startCell: number, endCell: number, kind: HighlightKind, delay: number, duration: number, colour?: string): void {
    const count = this.state?.image?.layout.cellCount ?? 0;
    const start = Math.max(0, startCell);
    const end = Math.min(count, endCell);
    if (end <= start) return;
    const t0 = performance.now() + delay;
    const highlights = this.highlights;
    for (let position = highlights.length - 1; position >= Math.max(0, highlights.length - MERGE_LOOKBACK); position--) {
      const live = highlights[position]!;
      if (live.start === start && live.end === end && live.kind === kind && live.colour === colour && Math.abs(live.t0 - t0) < HIGHLIGHT_MERGE_MS) return;
    }
    if (highlights.length >= MAX_LIVE_HIGHLIGHTS) highlights.splice(0, highlights.length - MAX_LIVE_HIGHLIGHTS + 1);
    highlights.push({ start, end, kind, t0, duration, colour });
    this.requestTick();
  }

  reset(): void {
    this.highlights = [];
    this.sweeps = [];
    this.overlayDirty = true;
    this.requestTick();
  }

  sweep(delay: number, duration: number): void {
    this.sweeps.push({ t0: performance.now() + delay, duration });
    this.requestTick();
  }

  /** Draws what changed; returns whether it wants another frame. */
  tick(now: number): boolean {
    const state = this.state;
    const image = state?.image;
    if (!state || !image || !this.base || !this.context) return false;
    if (this.needsFull) this.layout(image.layout.cellCount, state.labels ? Number.POSITIVE_INFINITY : state.maxHeight, state.maxPitch);
    const geometry = this.geometry;
    if (!geometry) return false;
    const context = this.context;
    const dirty = image.takeDirty();
    if (dirty === 'all' || this.needsFull) {
      this.needsFull = false;
      this.dirtyMarks.clear();
      context.clearRect(0, 0, geometry.width, geometry.height);
      for (let index = 0; index < image.layout.cellCount; index++) this.drawCell(context, image, index, geometry, state.mode);
      if (!this.drewOnce && image.layout.cellCount > 0) {
        this.drewOnce = true;
        this.onFirstDraw?.();
      }
      this.overlayDirty = true;
    } else {
      for (const index of dirty) this.drawCell(context, image, index, geometry, state.mode);
      for (const index of this.dirtyMarks) if (index < image.layout.cellCount) this.drawCell(context, image, index, geometry, state.mode);
      this.dirtyMarks.clear();
    }
    return this.drawOverlay(performance.now(), geometry, image.layout.cellCount);
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.base?.remove();
    this.overlay?.remove();
    this.container = undefined;
  }

  // ---- drawing ------------------------------------------------------------------------------

  private layout(cellCount: number, maxHeight: number, maxPitch: number): void {
    if (!this.base || !this.overlay) return;
    const cols = columnsFor(cellCount);
    const rows = Math.ceil(cellCount / cols);
    const width = Math.max(this.availableWidth, cols * MIN_PITCH);
    let preferred = Math.min(MAX_PITCH, Math.max(MIN_PITCH, Math.floor(width / cols)));
    if (rows * preferred > maxHeight) preferred = Math.max(MIN_PITCH, Math.floor(maxHeight / rows));
    this.reportPitch(preferred);
    const pitch = Math.max(MIN_PITCH, Math.min(preferred, maxPitch));
    const size = pitch >= 4 ? pitch - 1 : pitch;
    const geometry = { cols, rows, pitch, size, width: cols * pitch, height: rows * pitch };
    this.geometry = geometry;
    const ratio = window.devicePixelRatio || 1;
    this.base.width = Math.round(geometry.width * ratio);
    this.base.height = Math.round(geometry.height * ratio);
    this.base.style.width = `${geometry.width}px`;
    this.base.style.height = `${geometry.height}px`;
    const margin = OVERLAY_MARGIN;
    this.overlay.width = Math.round((geometry.width + 2 * margin) * ratio);
    this.overlay.height = Math.round((geometry.height + 2 * margin) * ratio);
    this.overlay.style.width = `${geometry.width + 2 * margin}px`;
    this.overlay.style.height = `${geometry.height + 2 * margin}px`;
    this.overlay.style.left = `${-margin}px`;
    this.overlay.style.top = `${-margin}px`;
    this.context?.setTransform(ratio, 0, 0, ratio, 0, 0);
    // The overlay's origin is the grid's corner, as for the base.
    this.overlayContext?.setTransform(ratio, 0, 0, ratio, margin * ratio, margin * ratio);
    if (this.container) this.container.style.height = `${geometry.height}px`;
  }

  private drawCell(context: CanvasRenderingContext2D, image: DiskImage, index: number, geometry: Geometry, mode: 'content' | 'source'): void {
    const x = (index % geometry.cols) * geometry.pitch;
    const y = Math.floor(index / geometry.cols) * geometry.pitch;
    const size = geometry.size;
    context.clearRect(x, y, geometry.pitch, geometry.pitch);
    const allocated = image.allocated[index]!;
    const content = image.content[index]!;
    let colour: string;
    let striped = content === MIXED_CONTENT;
    let label: string;
    if (mode === 'source' && image.source) {
      const source = image.source[index]!;
      const layer = CHAIN[source % SOURCE_PARTIAL];
      colour = LAYER_COLOUR[layer!] ?? EMPTY_COLOUR;
      striped = source >= SOURCE_PARTIAL;
      // The layer's initial: active, hidden, secondary.
      label = layer ? layer[0]!.toUpperCase() : '';
    } else {
      colour = content === 0 && image.layout.driver === 'qcow2' ? ZERO_CLUSTER_COLOUR : byteColour(content);
      // An empty cell of a raw disk stays blank; a zero cluster says 00; mixed bytes say so.
      label = content === MIXED_CONTENT ? '≠' : content === 0 && image.layout.driver === 'raw' ? '' : content.toString(16).padStart(2, '0');
    }

    if (allocated === ALLOCATION.all) {
      context.fillStyle = colour;
      context.fillRect(x, y, size, size);
      if (striped && size >= 6) this.stripes(context, x, y, size);
    } else if (allocated === ALLOCATION.none) {
      if (size >= 5) {
        context.strokeStyle = UNALLOCATED_STROKE;
        context.lineWidth = 1;
        context.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
      } else {
        context.fillStyle = '#f1f4f8';
        context.fillRect(x, y, size, size);
      }
    } else {
      if (size >= 5) {
        context.fillStyle = colour;
        context.beginPath();
        context.moveTo(x, y);
        context.lineTo(x, y + size);
        context.lineTo(x + size, y + size);
        context.closePath();
        context.fill();
        context.strokeStyle = colour;
        context.lineWidth = 1;
        context.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
      } else {
        context.globalAlpha = 0.45;
        context.fillStyle = colour;
        context.fillRect(x, y, size, size);
        context.globalAlpha = 1;
      }
    }
    if (this.state?.labels && size >= LABEL_MIN_SIZE && label && allocated !== ALLOCATION.none) {
      context.fillStyle = allocated === ALLOCATION.all ? textOnColour(colour) : '#111827';
      context.font = `700 ${Math.min(13, Math.floor(size * 0.56))}px ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace`;
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      context.fillText(label, x + size / 2, y + size / 2 + 0.5);
    }
    if (this.marks?.[index]) {
      const dot = Math.max(2, Math.floor(size / 3));
      const offset = Math.floor((size - dot) / 2);
      context.fillStyle = '#ffffff';
      context.fillRect(x + offset - 1, y + offset - 1, dot + 2, dot + 2);
      context.fillStyle = this.state?.markColour ?? '#111827';
      context.fillRect(x + offset, y + offset, dot, dot);
    }
  }

  private stripes(context: CanvasRenderingContext2D, x: number, y: number, size: number): void {
    context.save();
    context.beginPath();
    context.rect(x, y, size, size);
    context.clip();
    context.strokeStyle = MIXED_STRIPE;
    context.lineWidth = 1;
    context.beginPath();
    for (let offset = -size; offset < size; offset += 4) {
      context.moveTo(x + offset, y + size);
      context.lineTo(x + offset + size, y);
    }
    context.stroke();
    context.restore();
  }

  /**
   * Row segments covering cells [start, end), as x, y, width, height in `this.segmentBuffer`;
   * returns how many. The buffer is reused: the overlay draws every highlight on every frame.
   */
  private segments(start: number, end: number, geometry: Geometry): number {
    const out = this.segmentBuffer;
    let count = 0;
    let index = start;
    while (index < end) {
      const row = Math.floor(index / geometry.cols);
      const column = index % geometry.cols;
      const rowEnd = Math.min(end, (row + 1) * geometry.cols);
      const span = rowEnd - index;
      let x = column * geometry.pitch;
      let width = span * geometry.pitch;
      let height = geometry.pitch;
      // Whole rows in one rectangle.
      if (column === 0 && span === geometry.cols) {
        const fullRows = Math.floor((end - index) / geometry.cols);
        x = 0;
        width = geometry.cols * geometry.pitch;
        height = fullRows * geometry.pitch;
        index += fullRows * geometry.cols;
      } else index = rowEnd;
      out[count * 4] = x;
      out[count * 4 + 1] = row * geometry.pitch;
      out[count * 4 + 2] = width;
      out[count * 4 + 3] = height;
      count++;
    }
    return count;
  }

  private drawOverlay(now: number, geometry: Geometry, cellCount: number): boolean {
    const context = this.overlayContext;
    if (!context) return false;
    this.highlights = this.highlights.filter((highlight) => now < highlight.t0 + highlight.duration);
    this.sweeps = this.sweeps.filter((sweep) => now < sweep.t0 + sweep.duration);
    const active = this.highlights.some((highlight) => now >= highlight.t0) || this.sweeps.some((sweep) => now >= sweep.t0);
    const waiting = this.highlights.length > 0 || this.sweeps.length > 0;
    if (!active && !this.overlayDirty && !this.overlayHadContent) return waiting;
    this.overlayDirty = false;
    context.clearRect(-OVERLAY_MARGIN, -OVERLAY_MARGIN, geometry.width + 2 * OVERLAY_MARGIN, geometry.height + 2 * OVERLAY_MARGIN);
    let drew = false;
    for (const highlight of this.highlights) {
      if (now < highlight.t0) continue;
      const progress = Math.min(1, (now - highlight.t0) / highlight.duration);
      this.drawHighlight(context, highlight, progress, geometry);
      drew = true;
    }
    for (const sweep of this.sweeps) {
      if (now < sweep.t0) continue;
      const progress = Math.min(1, (now - sweep.t0) / sweep.duration);
      const x = progress * geometry.width;
      context.fillStyle = `rgba(255,255,255,${0.55 * (1 - progress)})`;
      context.fillRect(0, 0, x, geometry.height);
      context.fillStyle = 'rgba(15,23,42,0.55)';
      context.fillRect(Math.max(0, x - 2), 0, 3, geometry.height);
      drew = true;
    }
    const state = this.state;
    for (const focus of state?.focus ?? []) {
      const count = this.segments(Math.max(0, focus.start), Math.min(cellCount, focus.end), geometry);
      if (count === 0) continue;
      const ring = Math.min(OVERLAY_MARGIN - 3, Math.max(2, geometry.pitch * 0.25));
      if (focus.tone === 'lesson') {
        this.fillSegments(context, count, FOCUS_COLOUR, 0.14);
        this.strokeSegments(context, count, '#ffffff', 1, 5, -ring, 2 * ring);
        this.strokeSegments(context, count, FOCUS_COLOUR, 1, 2.5, -ring, 2 * ring);
      } else if (focus.tone === 'event') {
        // A light fill and a dotted ring: reads as "this event" next to a lesson's solid ring.
        this.fillSegments(context, count, EVENT_COLOUR, 0.12);
        this.strokeSegments(context, count, '#ffffff', 1, 5, -ring, 2 * ring);
        context.setLineDash([2, 2]);
        this.strokeSegments(context, count, EVENT_COLOUR, 1, 3, -ring, 2 * ring);
        context.setLineDash([]);
      } else if (focus.tone === 'diff') {
        this.strokeSegments(context, count, '#ffffff', 1, 4.5, -ring, 2 * ring);
        this.strokeSegments(context, count, DIFF_COLOUR, 1, 2.5, -ring, 2 * ring);
      } else {
        context.setLineDash([4, 3]);
        this.strokeSegments(context, count, '#ffffff', 1, 4.5, -ring, 2 * ring);
        this.strokeSegments(context, count, ERROR_COLOUR, 1, 2.5, -ring, 2 * ring);
        context.setLineDash([]);
      }
      context.globalAlpha = 1;
      drew = true;
    }
    for (const [index, colour, width] of [
      [state?.hover ?? null, '#0f172a', 1.5],
      [state?.cursor ?? null, '#2563eb', 2.5],
    ] as Array<[number | null, string, number]>) {
      if (index === null || index >= cellCount) continue;
      const x = (index % geometry.cols) * geometry.pitch;
      const y = Math.floor(index / geometry.cols) * geometry.pitch;
      const pad = geometry.pitch < 6 ? 2 : 1;
      context.strokeStyle = colour;
      context.lineWidth = width;
      context.strokeRect(x - pad + 0.5, y - pad + 0.5, geometry.size + 2 * pad - 1, geometry.size + 2 * pad - 1);
      drew = true;
    }
    this.overlayHadContent = drew;
    return waiting;
  }

  private drawHighlight(context: CanvasRenderingContext2D, highlight: Highlight, progress: number, geometry: Geometry): void {
    const fade = 1 - progress;
    const count = this.segments(highlight.start, highlight.end, geometry);
    const inset = geometry.pitch >= 4 ? 0.5 : 0;
    switch (highlight.kind) {
      case 'write': {
        // A ring that closes in on the cells the write touched, then outlines them while it fades:
        // outside the cells (on the overlay's margin too), so even a 4-px cell is easy to spot.
        const ring = Math.max(3, Math.min(OVERLAY_MARGIN - 2, geometry.pitch * 0.6)) * (1 + 1.5 * Math.max(0, 1 - progress * 3));
        this.fillSegments(context, count, '#ffffff', 0.6 * fade * fade);
        this.strokeSegments(context, count, '#ffffff', Math.min(1, fade * 1.5), 5, -ring, 2 * ring);
        this.strokeSegments(context, count, '#0f172a', Math.min(1, fade * 1.5), 2.5, -ring, 2 * ring);
        this.strokeSegments(context, count, '#0f172a', 0.9 * fade, 1.5, inset, -2 * inset);
        break;
      }
      case 'commit':
        this.fillSegments(context, count, COMMIT_FLASH, 0.45 * fade);
        this.strokeSegments(context, count, COMMIT_FLASH, fade, 1.5, inset, -2 * inset);
        break;
      case 'read': {
        const colour = highlight.colour ?? '#0ea5e9';
        this.strokeSegments(context, count, colour, Math.min(1, fade * 1.6), 2.5, -1, 1);
        this.fillSegments(context, count, colour, 0.22 * fade);
        break;
      }
      case 'copy-src': {
        const colour = highlight.colour ?? COPY_COLOUR;
        context.setLineDash([4, 3]);
        this.strokeSegments(context, count, colour, Math.min(1, fade * 1.5), 2.5, -1, 1);
        context.setLineDash([]);
        this.fillSegments(context, count, colour, 0.25 * fade);
        break;
      }
      case 'cow':
        context.setLineDash([2, 2]);
        this.strokeSegments(context, count, LAYER_COLOUR['active-disk']!, fade, 1.5, 0.5, -1);
        context.setLineDash([]);
        break;
      case 'error':
        this.fillSegments(context, count, ERROR_FLASH, 0.65 * fade);
        this.strokeSegments(context, count, ERROR_COLOUR, fade, 2, -1, 1);
        break;
    }
    context.globalAlpha = 1;
  }

  // Alpha goes through globalAlpha with fixed colours: a new rgba() string per highlight and
  // frame would have to be parsed each time.
  private fillSegments(context: CanvasRenderingContext2D, count: number, colour: string, alpha: number): void {
    const box = this.segmentBuffer;
    context.globalAlpha = alpha;
    context.fillStyle = colour;
    for (let segment = 0; segment < count; segment++) context.fillRect(box[segment * 4]!, box[segment * 4 + 1]!, box[segment * 4 + 2]!, box[segment * 4 + 3]!);
  }

  /** Strokes each segment moved by `offset` and resized by `grow` (CSS px). */
  private strokeSegments(context: CanvasRenderingContext2D, count: number, colour: string, alpha: number, lineWidth: number, offset: number, grow: number): void {
    const box = this.segmentBuffer;
    context.globalAlpha = alpha;
    context.strokeStyle = colour;
    context.lineWidth = lineWidth;
    for (let segment = 0; segment < count; segment++)
      context.strokeRect(box[segment * 4]! + offset, box[segment * 4 + 1]! + offset, box[segment * 4 + 2]! + grow, box[segment * 4 + 3]! + grow);
  }
}
