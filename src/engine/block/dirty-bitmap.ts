/**
 * A dirty bitmap (block/dirty-bitmap.c): one bit per granule, set by every write to the node
 * it is attached to. The active commit copies what is dirty; writes during the commit set bits
 * again.
 */
export class DirtyBitmap {
  private readonly bits: Uint8Array;
  private dirtyGranules = 0;

  constructor(
    readonly granularityBytes: number,
    readonly sizeBytes: number,
  ) {
    this.bits = new Uint8Array(Math.ceil(sizeBytes / granularityBytes));
  }

  get granuleCount(): number {
    return this.bits.length;
  }

  get dirtyCount(): number {
    return this.dirtyGranules;
  }

  /** Bytes still dirty (the last granule may be short). */
  get dirtyBytes(): number {
    let bytes = this.dirtyGranules * this.granularityBytes;
    const last = this.bits.length - 1;
    if (last >= 0 && this.bits[last]) bytes -= this.bits.length * this.granularityBytes - this.sizeBytes;
    return bytes;
  }

  granuleBytes(granuleIndex: number): number {
    return Math.min(this.granularityBytes, this.sizeBytes - granuleIndex * this.granularityBytes);
  }

  isDirty(granuleIndex: number): boolean {
    return this.bits[granuleIndex] === 1;
  }

  setGranule(granuleIndex: number): void {
    if (this.bits[granuleIndex] === 0) {
      this.bits[granuleIndex] = 1;
      this.dirtyGranules++;
    }
  }

  clearGranule(granuleIndex: number): void {
    if (this.bits[granuleIndex] === 1) {
      this.bits[granuleIndex] = 0;
      this.dirtyGranules--;
    }
  }

  markRange(offsetBytes: number, lengthBytes: number): void {
    if (lengthBytes <= 0) return;
    const first = Math.floor(offsetBytes / this.granularityBytes);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.granularityBytes);
    for (let granuleIndex = first; granuleIndex <= last; granuleIndex++) this.setGranule(granuleIndex);
  }

  /** The first dirty granule at or after `fromGranule`, wrapping around once; undefined when clean. */
  nextDirty(fromGranule: number): number | undefined {
    if (this.dirtyGranules === 0) return undefined;
    const count = this.bits.length;
    for (let step = 0; step < count; step++) {
      const granuleIndex = (fromGranule + step) % count;
      if (this.bits[granuleIndex] === 1) return granuleIndex;
    }
    return undefined;
  }
}
