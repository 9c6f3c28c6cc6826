/**
 * DataRuns: disk contents in transit as runs of one repeated byte or of literal bytes.
 * Every expectation is checked against plain Uint8Arrays built by the test itself.
 */
import { describe, expect, it } from 'vitest';
import { DataRuns, DataRunsBuilder } from '../../src/engine/block/data-runs.js';
import { expectSameBytes, filled, mixedBytes } from './support/bytes.js';

/** Plain concatenation of byte arrays, the oracle for DataRuns. */
function joined(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let position = 0;
  for (const part of parts) {
    out.set(part, position);
    position += part.length;
  }
  return out;
}

/** A DataRuns made of a fill, literal bytes and another fill, with its plain bytes. */
function sampleData(): { data: DataRuns; bytes: Uint8Array } {
  const literal = mixedBytes(700, 3);
  const data = DataRuns.concat([DataRuns.fill(300, 0x11), DataRuns.fromBytes(literal.slice()), DataRuns.fill(500, 0x22), DataRuns.zeros(20)]);
  return { data, bytes: joined(filled(300, 0x11), literal, filled(500, 0x22), filled(20, 0)) };
}

describe('DataRuns.fill and zeros', () => {
  it('fill holds one run of the byte over the whole length', () => {
    const data = DataRuns.fill(4096, 0x5a);
    expect(data.lengthBytes).toBe(4096);
    expect(data.runs).toHaveLength(1);
    expect(data.runs[0]).toEqual({ lengthBytes: 4096, fillByte: 0x5a });
    expectSameBytes(data.toBytes(), filled(4096, 0x5a), 'fill bytes');
  });

  it('fill keeps only the low 8 bits of the byte', () => {
    expect(DataRuns.fill(8, 0x1ff).uniformByte()).toBe(0xff);
    expect(DataRuns.fill(8, 256).uniformByte()).toBe(0);
  });

  it('fill of zero bytes is empty', () => {
    const data = DataRuns.fill(0, 0x11);
    expect(data.lengthBytes).toBe(0);
    expect(data.runs).toHaveLength(0);
    expect(data.toBytes()).toHaveLength(0);
  });

  it('zeros is a fill of 0', () => {
    const data = DataRuns.zeros(1000);
    expect(data.uniformByte()).toBe(0);
    expect(data.isAllZero()).toBe(true);
    expectSameBytes(data.toBytes(), new Uint8Array(1000), 'zeros');
  });
});

describe('DataRuns.fromBytes', () => {
  it('keeps literal bytes as they are', () => {
    const bytes = mixedBytes(1024, 1);
    const data = DataRuns.fromBytes(bytes);
    expect(data.lengthBytes).toBe(1024);
    expectSameBytes(data.toBytes(), bytes, 'fromBytes');
  });

  it('turns bytes that are all equal into a run of that byte', () => {
    const data = DataRuns.fromBytes(filled(2048, 0x33));
    expect(data.runs).toEqual([{ lengthBytes: 2048, fillByte: 0x33 }]);
  });

  it('of an empty array is empty', () => {
    expect(DataRuns.fromBytes(new Uint8Array(0)).lengthBytes).toBe(0);
  });
});

describe('DataRuns.concat', () => {
  it('merges neighbouring runs of the same byte into one run', () => {
    const data = DataRuns.concat([DataRuns.fill(512, 0x11), DataRuns.fill(1024, 0x11), DataRuns.fill(512, 0x11)]);
    expect(data.runs).toEqual([{ lengthBytes: 2048, fillByte: 0x11 }]);
    expect(data.lengthBytes).toBe(2048);
  });

  it('keeps runs of different bytes apart, in order', () => {
    const data = DataRuns.concat([DataRuns.fill(512, 0x11), DataRuns.fill(512, 0x22), DataRuns.fill(512, 0x11)]);
    expect(data.runs.map((run) => [run.lengthBytes, run.fillByte])).toEqual([
      [512, 0x11],
      [512, 0x22],
      [512, 0x11],
    ]);
  });

  it('merges a fill with a following uniform byte array of the same byte', () => {
    const data = DataRuns.concat([DataRuns.fill(100, 0x44), DataRuns.fromBytes(filled(28, 0x44))]);
    expect(data.runs).toEqual([{ lengthBytes: 128, fillByte: 0x44 }]);
  });

  it('skips empty parts and keeps the total length', () => {
    const literal = mixedBytes(300, 9);
    const data = DataRuns.concat([DataRuns.empty, DataRuns.fill(10, 1), DataRuns.empty, DataRuns.fromBytes(literal.slice()), DataRuns.fill(0, 7)]);
    expect(data.lengthBytes).toBe(310);
    expectSameBytes(data.toBytes(), joined(filled(10, 1), literal), 'concat bytes');
  });

  it('of no parts is empty, and of one part is that part', () => {
    expect(DataRuns.concat([]).lengthBytes).toBe(0);
    const only = DataRuns.fill(64, 9);
    expect(DataRuns.concat([only])).toBe(only);
  });

  it('lengthBytes is the sum of the run lengths', () => {
    const { data } = sampleData();
    expect(data.runs.reduce((sum, run) => sum + run.lengthBytes, 0)).toBe(data.lengthBytes);
    expect(data.lengthBytes).toBe(1520);
  });
});

describe('DataRuns.slice', () => {
  it('matches a plain slice for every start and end on a 20-byte grid', () => {
    const { data, bytes } = sampleData();
    for (let start = 0; start <= bytes.length; start += 20) {
      for (let end = start; end <= bytes.length; end += 20) {
        const slice = data.slice(start, end);
        expect(slice.lengthBytes).toBe(end - start);
        expectSameBytes(slice.toBytes(), bytes.slice(start, end), `slice [${start}, ${end})`);
      }
    }
  });

  it('matches a plain slice at run boundaries and one byte either side', () => {
    const { data, bytes } = sampleData();
    const boundaries = [0, 300, 1000, 1500, 1520];
    const points = [...new Set(boundaries.flatMap((b) => [b - 1, b, b + 1]).filter((p) => p >= 0 && p <= bytes.length))].sort((a, b) => a - b);
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        expectSameBytes(data.slice(start, end).toBytes(), bytes.slice(start, end), `slice [${start}, ${end})`);
      }
    }
  });

  it('inside one literal run that happens to be uniform becomes a fill', () => {
    const literal = new Uint8Array([1, 2, 3, 3, 3, 3, 4]);
    const slice = DataRuns.fromBytes(literal).slice(2, 6);
    expect(slice.runs).toEqual([{ lengthBytes: 4, fillByte: 3 }]);
  });

  it('of the whole range returns the same object; an empty slice has no bytes', () => {
    const { data } = sampleData();
    expect(data.slice(0, data.lengthBytes)).toBe(data);
    expect(data.slice(700, 700).lengthBytes).toBe(0);
  });

  it('outside the data throws a RangeError', () => {
    const data = DataRuns.fill(100, 1);
    expect(() => data.slice(-1, 10)).toThrow(RangeError);
    expect(() => data.slice(0, 101)).toThrow(RangeError);
    expect(() => data.slice(60, 50)).toThrow(RangeError);
  });
});

describe('DataRuns.uniformByte and isAllZero', () => {
  it('names the byte of a single fill', () => {
    expect(DataRuns.fill(512, 0x7f).uniformByte()).toBe(0x7f);
  });

  it('is undefined for mixed bytes, for several runs and for no bytes', () => {
    expect(DataRuns.fromBytes(mixedBytes(64, 2)).uniformByte()).toBeUndefined();
    expect(DataRuns.concat([DataRuns.fill(4, 1), DataRuns.fill(4, 2)]).uniformByte()).toBeUndefined();
    expect(DataRuns.empty.uniformByte()).toBeUndefined();
  });

  it('finds a uniform literal run given straight to the constructor', () => {
    const data = new DataRuns([{ lengthBytes: 3, bytes: new Uint8Array([9, 9, 9]) }], 3);
    expect(data.uniformByte()).toBe(9);
  });

  it('isAllZero holds exactly when every byte is 0', () => {
    expect(DataRuns.concat([DataRuns.zeros(10), DataRuns.fromBytes(new Uint8Array(6))]).isAllZero()).toBe(true);
    const oneNonZero = new Uint8Array(100);
    oneNonZero[99] = 1;
    expect(DataRuns.fromBytes(oneNonZero).isAllZero()).toBe(false);
    expect(DataRuns.concat([DataRuns.zeros(10), DataRuns.fill(1, 1)]).isAllZero()).toBe(false);
  });
});

describe('DataRuns.firstDifferenceFrom', () => {
  it('is undefined when every byte is the expected one', () => {
    expect(DataRuns.fill(4096, 0x22).firstDifferenceFrom(0x22)).toBeUndefined();
    expect(DataRuns.fromBytes(filled(10, 5)).firstDifferenceFrom(5)).toBeUndefined();
  });

  it('names the first offset holding another byte, and that byte', () => {
    const { data, bytes } = sampleData();
    expect(data.firstDifferenceFrom(0x11)).toEqual({ offsetBytes: 300, actualByte: bytes[300] });
    expect(data.firstDifferenceFrom(0x99)).toEqual({ offsetBytes: 0, actualByte: 0x11 });
  });

  it('finds a difference inside a literal run', () => {
    const bytes = filled(1000, 0x66);
    bytes[777] = 0x67;
    const data = DataRuns.concat([DataRuns.fill(24, 0x66), DataRuns.fromBytes(bytes)]);
    expect(data.firstDifferenceFrom(0x66)).toEqual({ offsetBytes: 24 + 777, actualByte: 0x67 });
  });
});

describe('DataRuns.firstDifference', () => {
  /** Literal bytes, fills and mixtures with the same contents, cut into runs in different places. */
  function shapes(bytes: Uint8Array): DataRuns[] {
    const cuts = [0, 100, 333, 512, bytes.length];
    const asPieces = DataRuns.concat(cuts.slice(1).map((end, index) => DataRuns.fromBytes(bytes.slice(cuts[index]!, end))));
    return [DataRuns.fromBytes(bytes.slice()), asPieces];
  }

  it('agrees with a byte-by-byte comparison for runs cut in different places', () => {
    const base = joined(filled(200, 0x11), mixedBytes(300, 4), filled(300, 0x22));
    const variants: Array<{ bytes: Uint8Array; firstDifferent: number | undefined }> = [{ bytes: base.slice(), firstDifferent: undefined }];
    for (const position of [0, 150, 199, 200, 350, 499, 500, 650, 799]) {
      const changed = base.slice();
      changed[position] = (changed[position]! + 1) & 0xff;
      variants.push({ bytes: changed, firstDifferent: position });
    }
    for (const { bytes, firstDifferent } of variants) {
      for (const left of shapes(base)) {
        for (const right of shapes(bytes)) {
          expect(left.firstDifference(right)).toBe(firstDifferent);
          expect(right.firstDifference(left)).toBe(firstDifferent);
          expect(left.equals(right)).toBe(firstDifferent === undefined);
        }
      }
    }
  });

  it('compares two fills without expanding them', () => {
    const big = 64 * 1024 * 1024;
    expect(DataRuns.fill(big, 1).firstDifference(DataRuns.fill(big, 1))).toBeUndefined();
    const other = DataRuns.concat([DataRuns.fill(big / 2, 1), DataRuns.fill(big / 2, 2)]);
    expect(DataRuns.fill(big, 1).firstDifference(other)).toBe(big / 2);
  });

  it('of data with different lengths and equal common bytes is the shorter length', () => {
    expect(DataRuns.fill(100, 1).firstDifference(DataRuns.fill(60, 1))).toBe(60);
    expect(DataRuns.fill(60, 1).firstDifference(DataRuns.fill(100, 1))).toBe(60);
  });

  // "The first position where this and `other` differ": with different lengths, a byte that
  // already differs inside the common part comes first.
  it('of data with different lengths is the first differing byte when the common part differs', () => {
    const longer = DataRuns.fill(100, 1);
    const shorter = DataRuns.concat([DataRuns.fill(10, 1), DataRuns.fill(50, 2)]);
    expect(longer.firstDifference(shorter)).toBe(10);
  });
});

describe('DataRuns.toBytes', () => {
  it('lays every run at its offset', () => {
    const { data, bytes } = sampleData();
    expectSameBytes(data.toBytes(), bytes, 'toBytes');
  });

  it('returns a fresh array each time', () => {
    const data = DataRuns.fill(16, 3);
    const first = data.toBytes();
    first[0] = 99;
    expect(data.toBytes()[0]).toBe(3);
  });
});

describe('DataRunsBuilder', () => {
  it('merges fills appended one after another and counts the length', () => {
    const builder = new DataRunsBuilder();
    builder.appendFill(10, 4);
    builder.appendFill(0, 5);
    builder.appendFill(6, 4);
    builder.appendBytes(new Uint8Array([4, 4]));
    builder.appendBytes(new Uint8Array([1, 2]));
    const data = builder.build();
    expect(data.lengthBytes).toBe(20);
    expect(data.runs).toHaveLength(2);
    expectSameBytes(data.toBytes(), joined(filled(18, 4), new Uint8Array([1, 2])), 'builder bytes');
  });
});
