/**
 * What the reference model expects a disk (or the secondary VM's view) to hold, one byte per
 * sector, with a mask of sectors it cannot predict (see checked-run.ts for when that happens).
 */
import { describeDifference, SECTOR_BYTES } from './sectors.js';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

export class ExpectedDisk {
  readonly values: Uint8Array;
  /** 1 where the model cannot say what the sector holds. */
  readonly unknown: Uint8Array;

  constructor(
    readonly name: string,
    sectorCount: number,
  ) {
    this.values = new Uint8Array(sectorCount);
    this.unknown = new Uint8Array(sectorCount);
  }

  get sectorCount(): number {
    return this.values.length;
  }

  write(offsetSectors: number, sectors: Uint8Array): void {
    this.values.set(sectors, offsetSectors);
    this.unknown.fill(0, offsetSectors, offsetSectors + sectors.length);
  }

  /** Writes only the sectors whose `absoluteMask` entry is 1. */
  writeMasked(offsetSectors: number, sectors: Uint8Array, absoluteMask: Uint8Array): void {
    for (let index = 0; index < sectors.length; index++) {
      const sector = offsetSectors + index;
      if (!absoluteMask[sector]) continue;
      this.values[sector] = sectors[index]!;
      this.unknown[sector] = 0;
    }
  }

  markUnknown(offsetSectors: number, lengthSectors: number, absoluteMask?: Uint8Array): void {
    for (let sector = offsetSectors; sector < offsetSectors + lengthSectors; sector++) {
      if (!absoluteMask || absoluteMask[sector]) this.unknown[sector] = 1;
    }
  }

  markAllUnknown(): void {
    this.unknown.fill(1);
  }

  /** Takes every sector from `observed` (after the caller has checked what must be checked). */
  adopt(observed: Uint8Array): void {
    this.values.set(observed);
    this.unknown.fill(0);
  }

  /** Takes the unknown sectors from `observed`, keeping the known ones. */
  adoptUnknown(observed: Uint8Array): void {
    for (let sector = 0; sector < this.values.length; sector++) {
      if (!this.unknown[sector]) continue;
      this.values[sector] = observed[sector]!;
      this.unknown[sector] = 0;
    }
  }

  /** Takes the unknown sectors of [offset, offset+length) from `observed`. */
  adoptUnknownIn(offsetSectors: number, lengthSectors: number, observed: Uint8Array): void {
    for (let sector = offsetSectors; sector < offsetSectors + lengthSectors; sector++) {
      if (!this.unknown[sector]) continue;
      this.values[sector] = observed[sector]!;
      this.unknown[sector] = 0;
    }
  }

  setFrom(other: ExpectedDisk): void {
    this.values.set(other.values);
    this.unknown.set(other.unknown);
  }

  hasUnknown(): boolean {
    return this.unknown.includes(1);
  }

  /** Every known sector of `observed` must be what the model expects. */
  check(observed: Uint8Array, invariant: string, what: string): void {
    for (let sector = 0; sector < this.values.length; sector++) {
      if (this.unknown[sector]) continue;
      if (observed[sector] !== this.values[sector]) {
        throw new InvariantViolation(invariant, `${what}: ${describeDifference(sector, observed, this.values)}`);
      }
    }
  }

  /** The known sectors of [offset, offset+length) must equal `observedRange` (a read's data). */
  checkRange(offsetSectors: number, observedRange: Uint8Array, invariant: string, what: string): void {
    for (let index = 0; index < observedRange.length; index++) {
      const sector = offsetSectors + index;
      if (this.unknown[sector]) continue;
      if (observedRange[index] !== this.values[sector]) {
        throw new InvariantViolation(
          invariant,
          `${what}: sector ${sector} (byte offset ${sector * SECTOR_BYTES}) read 0x${observedRange[index]!.toString(16)}, expected 0x${this.values[sector]!.toString(16)}`,
        );
      }
    }
  }
}

/**
 * A write whose outcome the model cannot predict (a fault may have hit it). Afterwards every
 * sector it covered must hold either what it held before or the written byte; QEMU gives no
 * stronger promise for a failed write. The model then takes what is there.
 */
export class OldOrNewWrite<Observation> {
  private readonly oldValues: Uint8Array;
  private readonly oldUnknown: Uint8Array;

  constructor(
    private readonly disk: ExpectedDisk,
    private readonly offsetSectors: number,
    private readonly newSectors: Uint8Array,
    private readonly observedOf: (observation: Observation) => Uint8Array,
    private readonly absoluteMask?: Uint8Array,
  ) {
    this.oldValues = disk.values.slice(offsetSectors, offsetSectors + newSectors.length);
    this.oldUnknown = disk.unknown.slice(offsetSectors, offsetSectors + newSectors.length);
  }

  resolve(observation: Observation, invariant: string): void {
    const observed = this.observedOf(observation);
    for (let index = 0; index < this.newSectors.length; index++) {
      const sector = this.offsetSectors + index;
      if (this.absoluteMask && !this.absoluteMask[sector]) continue;
      const actual = observed[sector]!;
      if (!this.oldUnknown[index] && actual !== this.oldValues[index] && actual !== this.newSectors[index]) {
        throw new InvariantViolation(
          invariant,
          `${this.disk.name}: sector ${sector} holds 0x${actual.toString(16)} after a write that may have failed; it must hold the old 0x${this.oldValues[index]!.toString(16)} or the new 0x${this.newSectors[index]!.toString(16)}`,
        );
      }
      this.disk.values[sector] = actual;
      this.disk.unknown[sector] = 0;
    }
  }
}
