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
import { byteColour, COPY_COLOUR, EMPTY_COLOUR, ERROR_COLOUR, LAYER_COLOUR, MIXED_STRIPE, UNALLOCATED_STROKE, ZERO_CLUSTER_COLOUR } from '../lib/palette.js';

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

const MAX_PITCH = 28;
const MIN_PITCH = 2;

export function columnsFor(cellCount: number): number {
  if (cellCount <= 8) return Math.max(1, cellCount);
  const square = 2 ** Math.ceil(Math.log2(cellCount) / 2);
  return Math.min(cellCount, Math.max(8, square));
}

/** Smallest width (CSS px) at which the grid stays legible. */
export function minimumWidth(cellCount: number): number {
  return columnsFor(cellCount) * MIN_PITCH;
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
    if (!previous || previous.image !== state.image || previous.mode !== state.mode || previous.maxHeight !== state.maxHeight || previous.maxPitch !== state.maxPitch) {
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
    if (!previous || previous.cursor !== state.cursor || previous.hover !== state.hover) this.overlayDirty = true;
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
    if (this.highlights.length > 200) this.highlights.splice(0, this.highlights.length - 200);
    this.highlights.push({ start, end, kind, t0: performance.now() + delay, duration, colour });
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
    if (this.needsFull) this.layout(image.layout.cellCount, state.maxHeight, state.maxPitch);
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
    for (const canvas of [this.base, this.overlay]) {
      canvas.width = Math.round(geometry.width * ratio);
      canvas.height = Math.round(geometry.height * ratio);
      canvas.style.width = `${geometry.width}px`;
      canvas.style.height = `${geometry.height}px`;
    }
    this.context?.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.overlayContext?.setTransform(ratio, 0, 0, ratio, 0, 0);
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
    if (mode === 'source' && image.source) {
      const source = image.source[index]!;
      colour = LAYER_COLOUR[CHAIN[source % SOURCE_PARTIAL]!] ?? EMPTY_COLOUR;
      striped = source >= SOURCE_PARTIAL;
    } else colour = content === 0 && image.layout.driver === 'qcow2' ? ZERO_CLUSTER_COLOUR : byteColour(content);

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

  /** Row segments covering cells [start, end). */
  private segments(start: number, end: number, geometry: Geometry): Array<[number, number, number, number]> {
    const out: Array<[number, number, number, number]> = [];
    let index = start;
    while (index < end) {
      const row = Math.floor(index / geometry.cols);
      const column = index % geometry.cols;
      const rowEnd = Math.min(end, (row + 1) * geometry.cols);
      const span = rowEnd - index;
      // Whole rows in one rectangle.
      if (column === 0 && span === geometry.cols) {
        const fullRows = Math.floor((end - index) / geometry.cols);
        out.push([0, row * geometry.pitch, geometry.cols * geometry.pitch, fullRows * geometry.pitch]);
        index += fullRows * geometry.cols;
        continue;
      }
      out.push([column * geometry.pitch, row * geometry.pitch, span * geometry.pitch, geometry.pitch]);
      index = rowEnd;
    }
    return out;
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
    context.clearRect(0, 0, geometry.width, geometry.height);
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
    const segments = this.segments(highlight.start, highlight.end, geometry);
    const inset = geometry.pitch >= 4 ? 0.5 : 0;
    context.setLineDash([]);
    switch (highlight.kind) {
      case 'write':
      case 'commit': {
        const flash = highlight.kind === 'commit' ? `rgba(112,72,200,${0.45 * fade})` : `rgba(255,255,255,${0.6 * fade * fade})`;
        context.fillStyle = flash;
        for (const [x, y, w, h] of segments) context.fillRect(x, y, w, h);
        context.strokeStyle = highlight.kind === 'commit' ? `rgba(112,72,200,${fade})` : `rgba(15,23,42,${0.9 * fade})`;
        context.lineWidth = 1.5;
        for (const [x, y, w, h] of segments) context.strokeRect(x + inset, y + inset, w - 2 * inset, h - 2 * inset);
        break;
      }
      case 'read': {
        const colour = highlight.colour ?? '#0ea5e9';
        context.globalAlpha = Math.min(1, fade * 1.6);
        context.strokeStyle = colour;
        context.lineWidth = 2.5;
        for (const [x, y, w, h] of segments) context.strokeRect(x - 1, y - 1, w + 1, h + 1);
        context.globalAlpha = 0.22 * fade;
        context.fillStyle = colour;
        for (const [x, y, w, h] of segments) context.fillRect(x, y, w, h);
        context.globalAlpha = 1;
        break;
      }
      case 'copy-src': {
        context.globalAlpha = Math.min(1, fade * 1.5);
        context.strokeStyle = highlight.colour ?? COPY_COLOUR;
        context.lineWidth = 2.5;
        context.setLineDash([4, 3]);
        for (const [x, y, w, h] of segments) context.strokeRect(x - 1, y - 1, w + 1, h + 1);
        context.setLineDash([]);
        context.globalAlpha = 0.25 * fade;
        context.fillStyle = highlight.colour ?? COPY_COLOUR;
        for (const [x, y, w, h] of segments) context.fillRect(x, y, w, h);
        context.globalAlpha = 1;
        break;
      }
      case 'cow': {
        context.globalAlpha = fade;
        context.strokeStyle = LAYER_COLOUR['active-disk']!;
        context.lineWidth = 1.5;
        context.setLineDash([2, 2]);
        for (const [x, y, w, h] of segments) context.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
        context.setLineDash([]);
        context.globalAlpha = 1;
        break;
      }
      case 'error': {
        context.fillStyle = `rgba(214,69,69,${0.65 * fade})`;
        for (const [x, y, w, h] of segments) context.fillRect(x, y, w, h);
        context.strokeStyle = ERROR_COLOUR;
        context.globalAlpha = fade;
        context.lineWidth = 2;
        for (const [x, y, w, h] of segments) context.strokeRect(x - 1, y - 1, w + 1, h + 1);
        context.globalAlpha = 1;
        break;
      }
    }
  }
}
