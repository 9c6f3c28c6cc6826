/**
 * The page's copy of every disk's cells, as shown. Frames carry only the cells that changed;
 * they are applied here, either at once or at the moment the animation shows them landing
 * (so a copy-before-write visibly saves the old cluster before the new data replaces it).
 *
 * Also derives the secondary VM's view (what top-disk reads) from the three layers of the
 * secondary's chain, cell by cell, as the layers change: per-frame work is proportional to the
 * cells that changed.
 */
import { ALLOCATION, MIXED_CONTENT, type DiskCells, type DiskLayout } from '../../worker/protocol.js';

/**
 * The layers of the secondary VM's chain, top down, by ROLE: after a restart the images playing
 * them are called active-disk-2, hidden-disk-2 and primary-disk (DiskSet.setChain names them).
 */
export const CHAIN = ['active-disk', 'hidden-disk', 'secondary-disk'] as const;
export type ChainLayer = (typeof CHAIN)[number];
export type ChainImages = Readonly<Record<ChainLayer, string>>;
const FIRST_GENERATION_CHAIN: ChainImages = { 'active-disk': 'active-disk', 'hidden-disk': 'hidden-disk', 'secondary-disk': 'secondary-disk' };
export const VIEW_NAME = 'svm-view';

/** Where a cell of the secondary VM's view comes from: index into CHAIN, +4 when only partly. */
export const SOURCE_PARTIAL = 4;

interface PendingCell {
  content: number;
  allocated: number;
  at: number;
}

export class DiskImage {
  content: Uint16Array;
  allocated: Uint8Array;
  /** For the view only: the CHAIN layer that serves each cell. */
  readonly source: Uint8Array | undefined;
  private dirty = new Set<number>();
  private dirtyAll = true;
  private pendingFull: { content: Uint16Array; allocated: Uint8Array; at: number } | undefined;
  private readonly pendingCells = new Map<number, PendingCell>();
  /** Bumped on every change, so hover read-outs can refresh. */
  version = 0;

  constructor(
    readonly layout: DiskLayout,
    private readonly onCellChange: (image: DiskImage, index: number, oldContent: number, oldAllocated: number) => void,
    withSource = false,
  ) {
    this.content = new Uint16Array(layout.cellCount);
    this.allocated = new Uint8Array(layout.cellCount);
    if (layout.driver === 'raw') this.allocated.fill(ALLOCATION.all);
    this.source = withSource ? new Uint8Array(layout.cellCount) : undefined;
  }

  get name(): string {
    return this.layout.name;
  }

  get hasPending(): boolean {
    return this.pendingFull !== undefined || this.pendingCells.size > 0;
  }

  set(index: number, content: number, allocated: number): void {
    const oldContent = this.content[index]!;
    const oldAllocated = this.allocated[index]!;
    if (oldContent === content && oldAllocated === allocated) return;
    this.content[index] = content;
    this.allocated[index] = allocated;
    if (!this.dirtyAll) this.dirty.add(index);
    this.version++;
    this.onCellChange(this, index, oldContent, oldAllocated);
  }

  setAll(content: Uint16Array, allocated: Uint8Array): void {
    const count = Math.min(content.length, this.content.length);
    for (let index = 0; index < count; index++) this.set(index, content[index]!, allocated[index]!);
  }

  /** Cells to redraw since the last call: 'all', or their indices. */
  takeDirty(): 'all' | number[] {
    if (this.dirtyAll) {
      this.dirtyAll = false;
      this.dirty.clear();
      return 'all';
    }
    if (this.dirty.size === 0) return [];
    const cells = [...this.dirty];
    this.dirty.clear();
    return cells;
  }

  get isDirty(): boolean {
    return this.dirtyAll || this.dirty.size > 0;
  }

  markAllDirty(): void {
    this.dirtyAll = true;
  }

  /** Redraw a cell whose look changed without its content (the view's source layer). */
  markDirtyCell(index: number): void {
    if (!this.dirtyAll) this.dirty.add(index);
    this.version++;
  }

  /** Applies a frame's cells; `revealAt(index)` says when a cell should change (wall ms), if later. */
  apply(cells: DiskCells, revealAt: ((index: number) => number | undefined) | undefined, now: number): void {
    const { indices, content, allocated } = cells;
    if (!indices) {
      const at = revealAt?.(0);
      if (at !== undefined && at > now && !this.pendingFull && this.pendingCells.size === 0) {
        this.pendingFull = { content: content.slice(), allocated: allocated.slice(), at };
        return;
      }
      const floor = this.latestPending();
      if (floor !== undefined) {
        // Keep order: this whole update happens after what is still pending.
        this.pendingFull = undefined;
        for (let index = 0; index < content.length; index++) this.pendingCells.set(index, { content: content[index]!, allocated: allocated[index]!, at: Math.max(floor, at ?? 0) });
        return;
      }
      this.setAll(content, allocated);
      return;
    }
    const fullAt = this.pendingFull?.at;
    for (let position = 0; position < indices.length; position++) {
      const index = indices[position]!;
      let at = revealAt?.(index);
      const queued = this.pendingCells.get(index);
      const floor = Math.max(queued?.at ?? -Infinity, fullAt ?? -Infinity);
      if (floor > -Infinity) at = Math.max(at ?? 0, floor);
      if (at !== undefined && at > now) this.pendingCells.set(index, { content: content[position]!, allocated: allocated[position]!, at });
      else this.set(index, content[position]!, allocated[position]!);
    }
  }

  /** When the last pending change of this image is due (wall ms), if any. */
  pendingUntil(): number | undefined {
    return this.latestPending();
  }

  private latestPending(): number | undefined {
    let latest = this.pendingFull?.at;
    for (const cell of this.pendingCells.values()) latest = latest === undefined ? cell.at : Math.max(latest, cell.at);
    return latest;
  }

  /** Applies what is due; returns whether anything is still pending. */
  reveal(now: number): boolean {
    if (this.pendingFull && this.pendingFull.at <= now) {
      const full = this.pendingFull;
      this.pendingFull = undefined;
      this.setAll(full.content, full.allocated);
    }
    if (this.pendingCells.size > 0 && !this.pendingFull) {
      for (const [index, cell] of this.pendingCells) {
        if (cell.at <= now) {
          this.pendingCells.delete(index);
          this.set(index, cell.content, cell.allocated);
        }
      }
    }
    return this.hasPending;
  }

  /** Applies everything pending now (the tab was hidden, or a test wants the final state). */
  flush(): void {
    this.reveal(Infinity);
  }
}

/** Every disk of the simulation, the secondary VM's view, and the patterns present (legend). */
export class DiskSet {
  readonly images = new Map<string, DiskImage>();
  view: DiskImage | undefined;
  /** The image the secondary VM's chain starts at, or null when it reaches no image. */
  private viewBase: ChainLayer | null = 'active-disk';
  /** The images playing the chain's layers (the secondary host's, from its graph's shape). */
  private chainImages: ChainImages = FIRST_GENERATION_CHAIN;
  private readonly patternCounts = new Map<number, number>();
  patternsChanged = true;
  cellBytes = 65536;

  reset(layouts: readonly DiskLayout[]): void {
    this.images.clear();
    this.patternCounts.clear();
    this.patternsChanged = true;
    const onChange = (image: DiskImage, index: number, oldContent: number, oldAllocated: number) => this.cellChanged(image, index, oldContent, oldAllocated);
    for (const layout of layouts) {
      const image = new DiskImage(layout, onChange);
      this.images.set(layout.name, image);
      if (layout.driver === 'raw') this.count(0, layout.cellCount);
    }
    this.cellBytes = layouts[0]?.cellBytes ?? 65536;
    this.rebuildView();
  }

  private rebuildView(): void {
    const base = this.images.get(this.chainImages['secondary-disk'])?.layout ?? [...this.images.values()][0]?.layout;
    this.view = base ? new DiskImage({ ...base, name: VIEW_NAME, driver: 'raw', filename: 'top-disk' }, () => undefined, true) : undefined;
    this.recomputeView();
  }

  /** The images of the secondary VM's chain now (null: the first generation's names, until a summary says). */
  setChain(chain: ChainImages | null): void {
    const next = chain ?? FIRST_GENERATION_CHAIN;
    if (CHAIN.every((layer) => next[layer] === this.chainImages[layer])) return;
    this.chainImages = { ...next };
    this.rebuildView();
  }

  /** The image playing a layer of the secondary VM's chain. */
  chainImage(layer: ChainLayer): string {
    return this.chainImages[layer];
  }

  /** Whether an image is a layer of the secondary VM's chain (its cells show through the view). */
  inChain(name: string): boolean {
    return CHAIN.some((layer) => this.chainImages[layer] === name);
  }

  get(name: string): DiskImage | undefined {
    return name === VIEW_NAME ? this.view : this.images.get(name);
  }

  get base(): ChainLayer | null {
    return this.viewBase;
  }

  setViewBase(base: ChainLayer | null): void {
    if (base === this.viewBase) return;
    this.viewBase = base;
    this.recomputeView();
  }

  get hasPending(): boolean {
    for (const image of this.images.values()) if (image.hasPending) return true;
    return false;
  }

  reveal(now: number): boolean {
    let pending = false;
    for (const image of this.images.values()) pending = image.reveal(now) || pending;
    return pending;
  }

  flush(): void {
    for (const image of this.images.values()) image.flush();
  }

  /** Byte patterns present in some allocated cell, sorted. */
  patterns(): number[] {
    this.patternsChanged = false;
    return [...this.patternCounts.entries()]
      .filter(([, count]) => count > 0)
      .map(([value]) => value)
      .sort((a, b) => a - b);
  }

  private count(value: number, delta: number): void {
    const before = this.patternCounts.get(value) ?? 0;
    const after = before + delta;
    this.patternCounts.set(value, after);
    if ((before > 0) !== (after > 0)) this.patternsChanged = true;
  }

  private cellChanged(image: DiskImage, index: number, oldContent: number, oldAllocated: number): void {
    if (oldAllocated !== ALLOCATION.none) this.count(oldContent, -1);
    if (image.allocated[index] !== ALLOCATION.none) this.count(image.content[index]!, +1);
    if (this.inChain(image.name)) this.recomputeViewCell(index);
  }

  private recomputeView(): void {
    if (!this.view) return;
    for (let index = 0; index < this.view.layout.cellCount; index++) this.recomputeViewCell(index);
  }

  private recomputeViewCell(index: number): void {
    const view = this.view;
    if (!view) return;
    const start = this.viewBase === null ? -1 : CHAIN.indexOf(this.viewBase);
    const { content, source } = start < 0 ? { content: 0, source: 2 } : this.chainCell(start, index);
    if (view.source && view.source[index] !== source) {
      view.source[index] = source;
      view.markDirtyCell(index);
    }
    view.set(index, content, ALLOCATION.all);
  }

  /** What the chain from CHAIN[layer] down reads at a cell. */
  private chainCell(layer: number, index: number): { content: number; source: number } {
    const image = this.images.get(this.chainImages[CHAIN[layer]!]);
    if (!image) return { content: 0, source: layer };
    const allocated = image.allocated[index]!;
    const own = image.content[index]!;
    if (allocated === ALLOCATION.all || layer === CHAIN.length - 1) return { content: own, source: layer };
    if (allocated === ALLOCATION.none) return this.chainCell(layer + 1, index);
    const below = this.chainCell(layer + 1, index);
    return { content: own === below.content ? own : MIXED_CONTENT, source: layer + SOURCE_PARTIAL };
  }
}
