/**
 * Disk contents in transit: a sequence of runs, each either one byte repeated or literal bytes.
 *
 * Scenario data is mostly patterns, and a 64 MiB read of one pattern should cost one run,
 * not 64 MiB of memory. Every read, write and copy in the engine carries DataRuns.
 */

export type DataRun =
  | { readonly lengthBytes: number; readonly fillByte: number; readonly bytes?: undefined }
  | { readonly lengthBytes: number; readonly bytes: Uint8Array; readonly fillByte?: undefined };

export class DataRuns {
  /** Prefer the static constructors; runs must be non-empty and lengthBytes their sum. */
  constructor(
    readonly runs: readonly DataRun[],
    readonly lengthBytes: number,
  ) {}

  static fill(lengthBytes: number, fillByte: number): DataRuns {
    if (lengthBytes === 0) return DataRuns.empty;
    return new DataRuns([{ lengthBytes, fillByte: fillByte & 0xff }], lengthBytes);
  }

  static zeros(lengthBytes: number): DataRuns {
    return DataRuns.fill(lengthBytes, 0);
  }

  /** Wraps `bytes` (not copied: the caller hands them over). */
  static fromBytes(bytes: Uint8Array): DataRuns {
    const builder = new DataRunsBuilder();
    builder.appendBytes(bytes);
    return builder.build();
  }

  static readonly empty = new DataRuns([], 0);

  static concat(parts: readonly DataRuns[]): DataRuns {
    if (parts.length === 1) return parts[0]!;
    const builder = new DataRunsBuilder();
    for (const part of parts) builder.appendRuns(part);
    return builder.build();
  }

  /** The bytes in [startBytes, endBytes). */
  slice(startBytes: number, endBytes: number): DataRuns {
    if (startBytes < 0 || endBytes > this.lengthBytes || startBytes > endBytes) {
      throw new RangeError(`slice [${startBytes}, ${endBytes}) outside [0, ${this.lengthBytes})`);
    }
    if (startBytes === 0 && endBytes === this.lengthBytes) return this;
    const builder = new DataRunsBuilder();
    let runStart = 0;
    for (const run of this.runs) {
      const runEnd = runStart + run.lengthBytes;
      if (runEnd > startBytes && runStart < endBytes) {
        const from = Math.max(startBytes, runStart) - runStart;
        const to = Math.min(endBytes, runEnd) - runStart;
        if (run.bytes) builder.appendBytes(run.bytes.subarray(from, to));
        else builder.appendFill(to - from, run.fillByte);
      }
      if (runEnd >= endBytes) break;
      runStart = runEnd;
    }
    return builder.build();
  }

  /** The byte every position holds, or undefined when the bytes differ (or there are none). */
  uniformByte(): number | undefined {
    if (this.runs.length !== 1) return undefined;
    const run = this.runs[0]!;
    return run.bytes ? uniformByteOf(run.bytes) : run.fillByte;
  }

  isAllZero(): boolean {
    return this.runs.every((run) => (run.bytes ? uniformByteOf(run.bytes) === 0 : run.fillByte === 0));
  }

  /** The first position whose byte is not `expectedByte`, with what it holds. */
  firstDifferenceFrom(expectedByte: number): { offsetBytes: number; actualByte: number } | undefined {
    let runStart = 0;
    for (const run of this.runs) {
      if (run.bytes) {
        for (let index = 0; index < run.bytes.length; index++) {
          if (run.bytes[index] !== expectedByte) return { offsetBytes: runStart + index, actualByte: run.bytes[index]! };
        }
      } else if (run.fillByte !== expectedByte) {
        return { offsetBytes: runStart, actualByte: run.fillByte };
      }
      runStart += run.lengthBytes;
    }
    return undefined;
  }

  /**
   * The first position where this and `other` differ, or undefined when they are equal. Of
   * different lengths with equal common bytes, they differ where the shorter one ends.
   */
  firstDifference(other: DataRuns): number | undefined {
    const commonBytes = Math.min(this.lengthBytes, other.lengthBytes);
    const mine = new RunCursor(this);
    const theirs = new RunCursor(other);
    let position = 0;
    while (position < commonBytes) {
      const span = Math.min(mine.remainingInRun(), theirs.remainingInRun());
      const mineFill = mine.fillByte();
      const theirFill = theirs.fillByte();
      if (mineFill !== undefined && theirFill !== undefined) {
        if (mineFill !== theirFill) return position;
      } else {
        for (let index = 0; index < span; index++) {
          if (mine.byteAt(index) !== theirs.byteAt(index)) return position + index;
        }
      }
      mine.advance(span);
      theirs.advance(span);
      position += span;
    }
    return this.lengthBytes === other.lengthBytes ? undefined : commonBytes;
  }

  equals(other: DataRuns): boolean {
    return this.firstDifference(other) === undefined;
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.lengthBytes);
    let position = 0;
    for (const run of this.runs) {
      if (run.bytes) out.set(run.bytes, position);
      else if (run.fillByte !== 0) out.fill(run.fillByte, position, position + run.lengthBytes);
      position += run.lengthBytes;
    }
    return out;
  }

  /** A short human description: "64 KiB of 0x11" or "mixed bytes". */
  describe(): string {
    const uniform = this.uniformByte();
    if (uniform !== undefined) return `${this.lengthBytes} bytes of ${formatByte(uniform)}`;
    return `${this.lengthBytes} bytes, mixed`;
  }
}

export function formatByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

function uniformByteOf(bytes: Uint8Array): number | undefined {
  if (bytes.length === 0) return undefined;
  const first = bytes[0]!;
  for (let index = 1; index < bytes.length; index++) if (bytes[index] !== first) return undefined;
  return first;
}

class RunCursor {
  private runIndex = 0;
  private offsetInRun = 0;
  constructor(private readonly data: DataRuns) {}

  private get run(): DataRun {
    return this.data.runs[this.runIndex]!;
  }
  remainingInRun(): number {
    return this.run.lengthBytes - this.offsetInRun;
  }
  fillByte(): number | undefined {
    return this.run.fillByte;
  }
  byteAt(delta: number): number {
    const run = this.run;
    return run.bytes ? run.bytes[this.offsetInRun + delta]! : run.fillByte;
  }
  advance(span: number): void {
    this.offsetInRun += span;
    if (this.offsetInRun === this.run.lengthBytes) {
      this.runIndex++;
      this.offsetInRun = 0;
    }
  }
}

/** Builds DataRuns, merging neighbouring runs of the same repeated byte. */
export class DataRunsBuilder {
  private readonly runs: DataRun[] = [];
  private lengthBytes = 0;

  appendFill(lengthBytes: number, fillByte: number): void {
    if (lengthBytes === 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.bytes === undefined && last.fillByte === fillByte) {
      this.runs[this.runs.length - 1] = { lengthBytes: last.lengthBytes + lengthBytes, fillByte };
    } else {
      this.runs.push({ lengthBytes, fillByte });
    }
    this.lengthBytes += lengthBytes;
  }

  appendBytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const uniform = uniformByteOf(bytes);
    if (uniform !== undefined) {
      this.appendFill(bytes.length, uniform);
      return;
    }
    this.runs.push({ lengthBytes: bytes.length, bytes });
    this.lengthBytes += bytes.length;
  }

  appendRuns(data: DataRuns): void {
    for (const run of data.runs) {
      if (run.bytes) {
        this.runs.push(run);
        this.lengthBytes += run.lengthBytes;
      } else {
        this.appendFill(run.lengthBytes, run.fillByte);
      }
    }
  }

  build(): DataRuns {
    return new DataRuns(this.runs, this.lengthBytes);
  }
}
