/**
 * qcow2 images and backing chains: reads fall through unallocated clusters, a partial-cluster
 * write allocates the whole cluster with the rest copied up from the backing file at write
 * time, make_empty drops every cluster, allocation runs, bdrv_is_allocated_above (block/io.c),
 * odd cluster sizes, ejected media and injected faults.
 */
import { describe, expect, it } from 'vitest';
import { isAllocatedAbove } from '../../src/engine/block/allocation.js';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import type { BlockNode } from '../../src/engine/block/node.js';
import type { Qcow2Image } from '../../src/engine/block/qcow2-image.js';
import { DiskModel, expectSameBytes, filled, KiB, MiB, mixedBytes } from './support/bytes.js';
import { newEnv, newQcow2, newRaw, readNode, readNodeBytes, writeNode, type TestEnv } from './support/block-env.js';

const C64K = 64 * KiB;

function sortedClusters(image: Qcow2Image): number[] {
  return [...image.allocatedClusterIndices()].sort((a, b) => a - b);
}

/** raw base (filled with `baseBytes`) <- qcow2 `top`, all of `sizeBytes`. */
function twoLayerChain(sizeBytes: number, clusterSizeBytes: number, baseBytes: Uint8Array) {
  const env = newEnv();
  const base = newRaw(env, 'base', sizeBytes);
  expect(writeNode(env, base, 0, baseBytes).ok).toBe(true);
  const top = newQcow2(env, 'top', sizeBytes, clusterSizeBytes, base);
  return { env, base, top };
}

describe('qcow2 reads', () => {
  it('without a backing file, an empty image reads as zeros and has nothing allocated', () => {
    const env = newEnv();
    const image = newQcow2(env, 'lonely', 1 * MiB, C64K);
    expectSameBytes(readNodeBytes(env, image, 0, 1 * MiB), new Uint8Array(1 * MiB), 'empty image');
    expect(image.allocatedClusterCount).toBe(0);
  });

  it('unallocated clusters come from the backing file, allocated ones from the image', () => {
    const size = 512 * KiB;
    const baseBytes = mixedBytes(size, 1);
    const { env, top } = twoLayerChain(size, C64K, baseBytes);
    expect(writeNode(env, top, 2 * C64K, DataRuns.fill(C64K, 0x22)).ok).toBe(true);
    const expected = baseBytes.slice();
    expected.fill(0x22, 2 * C64K, 3 * C64K);
    expectSameBytes(readNodeBytes(env, top, 0, size), expected, 'top over base');
    expect(sortedClusters(top)).toEqual([2]);
  });

  it('a three-layer chain reads each cluster from the highest layer that holds it', () => {
    const env = newEnv();
    const size = 256 * KiB;
    const base = newRaw(env, 'base', size);
    writeNode(env, base, 0, DataRuns.fill(size, 0x11));
    const mid = newQcow2(env, 'mid', size, C64K, base);
    const top = newQcow2(env, 'top', size, C64K, mid);
    writeNode(env, mid, C64K, DataRuns.fill(2 * C64K, 0x22));
    writeNode(env, top, 2 * C64K, DataRuns.fill(2 * C64K, 0x33));
    const expected = new Uint8Array(size);
    expected.fill(0x11, 0, C64K);
    expected.fill(0x22, C64K, 2 * C64K);
    expected.fill(0x33, 2 * C64K, 4 * C64K);
    expectSameBytes(readNodeBytes(env, top, 0, size), expected, 'three layers');
  });
});

describe('qcow2 copy-on-write', () => {
  it('a partial-cluster write allocates the whole cluster and copies the rest from the backing file', () => {
    const size = 256 * KiB;
    const baseBytes = mixedBytes(size, 2);
    const { env, base, top } = twoLayerChain(size, C64K, baseBytes);
    const writeOffset = C64K + 1024;
    expect(writeNode(env, top, writeOffset, DataRuns.fill(512, 0x77)).ok).toBe(true);
    expect(sortedClusters(top)).toEqual([1]);
    const expectedCluster = baseBytes.slice(C64K, 2 * C64K);
    expectedCluster.fill(0x77, 1024, 1536);
    expectSameBytes(top.peekOwnLayer(C64K, C64K).toBytes(), expectedCluster, 'own layer of cluster 1');
    // The copy happened at write time: later changes to the backing file do not show through.
    writeNode(env, base, 0, DataRuns.fill(size, 0xee));
    expectSameBytes(readNodeBytes(env, top, C64K, C64K), expectedCluster, 'cluster 1 after the backing changed');
  });

  it('reports the copied-up parts with the write', () => {
    const size = 256 * KiB;
    const { env, top } = twoLayerChain(size, C64K, filled(size, 0x11));
    env.recorded.length = 0;
    writeNode(env, top, C64K + 4096, DataRuns.fill(8192, 0x22));
    const landed = env.recorded.filter((event) => event.kind === 'write-landed' && event.node === 'top');
    expect(landed).toHaveLength(1);
    expect(landed[0]).toMatchObject({
      offsetBytes: C64K + 4096,
      lengthBytes: 8192,
      cow: [
        { offsetBytes: C64K, lengthBytes: 4096 },
        { offsetBytes: C64K + 4096 + 8192, lengthBytes: C64K - 4096 - 8192 },
      ],
    });
  });

  it('a write over several clusters copies up only the head and tail clusters', () => {
    const size = 512 * KiB;
    const baseBytes = mixedBytes(size, 3);
    const { env, top } = twoLayerChain(size, C64K, baseBytes);
    const offset = C64K + 3 * 512;
    const length = 3 * C64K;
    const data = mixedBytes(length, 4);
    writeNode(env, top, offset, data);
    expect(sortedClusters(top)).toEqual([1, 2, 3, 4]);
    const expected = baseBytes.slice(C64K, 5 * C64K);
    expected.set(data, 3 * 512);
    expectSameBytes(top.peekOwnLayer(C64K, 4 * C64K).toBytes(), expected, 'own layer of clusters 1-4');
  });

  it('without a backing file the rest of the cluster is zeros', () => {
    const env = newEnv();
    const image = newQcow2(env, 'lonely', 256 * KiB, C64K);
    writeNode(env, image, 3 * C64K - 512, DataRuns.fill(512, 0x55));
    const expected = new Uint8Array(C64K);
    expected.fill(0x55, C64K - 512);
    expectSameBytes(image.peekOwnLayer(2 * C64K, C64K).toBytes(), expected, 'cluster 2');
    expect(sortedClusters(image)).toEqual([2]);
  });

  it('a partial write to an allocated cluster keeps the image’s own data, not the backing file’s', () => {
    const size = 256 * KiB;
    const { env, base, top } = twoLayerChain(size, C64K, filled(size, 0x11));
    writeNode(env, top, 0, DataRuns.fill(C64K, 0x22));
    writeNode(env, base, 0, DataRuns.fill(size, 0x33));
    writeNode(env, top, 512, DataRuns.fill(512, 0x44));
    const expected = filled(C64K, 0x22);
    expected.fill(0x44, 512, 1024);
    expectSameBytes(readNodeBytes(env, top, 0, C64K), expected, 'cluster 0');
  });
});

describe('qcow2 make_empty', () => {
  it('drops every cluster, so the image reads as its backing file again', () => {
    const size = 512 * KiB;
    const baseBytes = mixedBytes(size, 5);
    const { env, top } = twoLayerChain(size, 4 * KiB, baseBytes);
    writeNode(env, top, 0, DataRuns.fill(8 * KiB, 0x22));
    writeNode(env, top, 300 * KiB, DataRuns.fill(512, 0x33));
    expect(top.allocatedClusterCount).toBe(3);
    const result = top.makeEmpty();
    expect(result).toEqual({ ok: true, clustersFreed: 3 });
    expect(top.allocatedClusterCount).toBe(0);
    expectSameBytes(readNodeBytes(env, top, 0, size), baseBytes, 'after make_empty');
    expectSameBytes(top.peekOwnLayer(0, size).toBytes(), new Uint8Array(size), 'own layer after make_empty');
  });

  it('on an empty image frees nothing and succeeds', () => {
    const env = newEnv();
    expect(newQcow2(env, 'lonely', 128 * KiB, C64K).makeEmpty()).toEqual({ ok: true, clustersFreed: 0 });
  });
});

describe('qcow2 allocationAt', () => {
  const size = 1 * MiB;
  function imageWith(clusters: number[], clusterSizeBytes = C64K): Qcow2Image {
    const env = newEnv();
    const image = newQcow2(env, 'img', size, clusterSizeBytes);
    for (const cluster of clusters) writeNode(env, image, cluster * clusterSizeBytes, DataRuns.fill(512, 1));
    return image;
  }

  it('gives the status at the offset and how far the same status runs', () => {
    const image = imageWith([1, 2, 4]);
    expect(image.allocationAt(0, size)).toEqual({ allocated: false, runBytes: C64K });
    expect(image.allocationAt(C64K, size - C64K)).toEqual({ allocated: true, runBytes: 2 * C64K });
    expect(image.allocationAt(C64K + 512, size - C64K - 512)).toEqual({ allocated: true, runBytes: 2 * C64K - 512 });
    expect(image.allocationAt(3 * C64K, size - 3 * C64K)).toEqual({ allocated: false, runBytes: C64K });
    expect(image.allocationAt(4 * C64K, size - 4 * C64K)).toEqual({ allocated: true, runBytes: C64K });
    expect(image.allocationAt(5 * C64K, size - 5 * C64K)).toEqual({ allocated: false, runBytes: size - 5 * C64K });
  });

  it('never runs past the queried length', () => {
    const image = imageWith([1, 2, 4]);
    expect(image.allocationAt(C64K, 4096)).toEqual({ allocated: true, runBytes: 4096 });
    expect(image.allocationAt(6 * C64K, 512)).toEqual({ allocated: false, runBytes: 512 });
    expect(image.allocationAt(C64K - 512, 512)).toEqual({ allocated: false, runBytes: 512 });
  });
});

// ---- bdrv_is_allocated_above ----------------------------------------------------------------

/** A layer of the test's own model: a qcow2 with its allocated clusters, or a raw image. */
type LayerModel = { readonly kind: 'qcow2'; readonly clusterSizeBytes: number; readonly allocated: ReadonlySet<number> } | { readonly kind: 'raw' };

/** bdrv_co_block_status of one layer: its status at `offset` and the run with that status, within `bytes`. */
function layerStatus(layer: LayerModel, offsetBytes: number, bytes: number): { allocated: boolean; pnum: number } {
  if (layer.kind === 'raw') return { allocated: true, pnum: bytes };
  const cluster = Math.floor(offsetBytes / layer.clusterSizeBytes);
  const allocated = layer.allocated.has(cluster);
  let end = (cluster + 1) * layer.clusterSizeBytes;
  while (end < offsetBytes + bytes && layer.allocated.has(end / layer.clusterSizeBytes) === allocated) end += layer.clusterSizeBytes;
  return { allocated, pnum: Math.min(end, offsetBytes + bytes) - offsetBytes };
}

/**
 * bdrv_co_common_block_status_above (block/io.c), as bdrv_is_allocated_above calls it: ask the
 * top, then each layer below with the length cut to the previous layer's pnum; stop at the first
 * allocated layer, at `base` (asked only with includeBase), or at the end of the chain.
 */
function qemuIsAllocatedAbove(chain: readonly LayerModel[], baseIndex: number | undefined, includeBase: boolean, offsetBytes: number, bytes: number) {
  if (!includeBase && baseIndex === 0) return { allocated: false, runBytes: bytes };
  let remaining = bytes;
  for (let index = 0; index < chain.length; index++) {
    if (index === baseIndex && !includeBase) break;
    const status = layerStatus(chain[index]!, offsetBytes, remaining);
    if (status.allocated) return { allocated: true, runBytes: status.pnum };
    remaining = status.pnum;
    if (index === baseIndex) break;
  }
  return { allocated: false, runBytes: remaining };
}

interface Chain {
  readonly env: TestEnv;
  readonly nodes: BlockNode[];
  readonly models: LayerModel[];
  readonly sizeBytes: number;
}

/** top (qcow2) <- mid (qcow2) <- base (raw), with the given clusters allocated by writes. */
function chainOf(sizeBytes: number, top: { clusterSizeBytes: number; clusters: number[] }, mid: { clusterSizeBytes: number; clusters: number[] }): Chain {
  const env = newEnv();
  const base = newRaw(env, 'base', sizeBytes);
  const midImage = newQcow2(env, 'mid', sizeBytes, mid.clusterSizeBytes, base);
  const topImage = newQcow2(env, 'top', sizeBytes, top.clusterSizeBytes, midImage);
  for (const cluster of mid.clusters) expect(writeNode(env, midImage, cluster * mid.clusterSizeBytes, DataRuns.fill(512, 2)).ok).toBe(true);
  for (const cluster of top.clusters) expect(writeNode(env, topImage, cluster * top.clusterSizeBytes, DataRuns.fill(512, 3)).ok).toBe(true);
  expect(sortedClusters(midImage)).toEqual([...mid.clusters].sort((a, b) => a - b));
  expect(sortedClusters(topImage)).toEqual([...top.clusters].sort((a, b) => a - b));
  return {
    env,
    nodes: [topImage, midImage, base],
    models: [
      { kind: 'qcow2', clusterSizeBytes: top.clusterSizeBytes, allocated: new Set(top.clusters) },
      { kind: 'qcow2', clusterSizeBytes: mid.clusterSizeBytes, allocated: new Set(mid.clusters) },
      { kind: 'raw' },
    ],
    sizeBytes,
  };
}

describe('isAllocatedAbove, as bdrv_is_allocated_above', () => {
  // top: clusters 0 and 3; mid: clusters 1, 2, 3 and 5; base: raw. 64 KiB clusters, 1 MiB disk.
  const chain = chainOf(1 * MiB, { clusterSizeBytes: C64K, clusters: [0, 3] }, { clusterSizeBytes: C64K, clusters: [1, 2, 3, 5] });
  const [top, mid, base] = chain.nodes as [BlockNode, BlockNode, BlockNode];
  const rest = (offset: number) => 1 * MiB - offset;

  it('allocated in the top layer: the run is the top layer’s own run', () => {
    expect(isAllocatedAbove(top, base, false, 0, rest(0))).toEqual({ allocated: true, runBytes: C64K });
    expect(isAllocatedAbove(top, base, false, 512, rest(512))).toEqual({ allocated: true, runBytes: C64K - 512 });
    expect(isAllocatedAbove(top, base, false, 3 * C64K, rest(3 * C64K))).toEqual({ allocated: true, runBytes: C64K });
  });

  it('allocated below: the run is bounded by the unallocated run of every layer above', () => {
    // top is unallocated over [64K, 192K); mid holds clusters 1-3, cut at 192K by top's run.
    expect(isAllocatedAbove(top, base, false, C64K, rest(C64K))).toEqual({ allocated: true, runBytes: 2 * C64K });
    // top is unallocated from 320K to the end; mid holds cluster 5 only.
    expect(isAllocatedAbove(top, base, false, 5 * C64K, rest(5 * C64K))).toEqual({ allocated: true, runBytes: C64K });
    // an unaligned start inside mid's run
    expect(isAllocatedAbove(top, base, false, C64K + 512, 4096)).toEqual({ allocated: true, runBytes: 4096 });
  });

  it('unallocated down to an excluded base: the run is the shortest unallocated run on the way', () => {
    // top unallocated over [256K, 1M), mid over [256K, 320K): pnum 64K.
    expect(isAllocatedAbove(top, base, false, 4 * C64K, rest(4 * C64K))).toEqual({ allocated: false, runBytes: C64K });
    // both unallocated from 384K to the end.
    expect(isAllocatedAbove(top, base, false, 6 * C64K, rest(6 * C64K))).toEqual({ allocated: false, runBytes: rest(6 * C64K) });
  });

  it('includeBase asks the base too (a raw base is allocated everywhere)', () => {
    expect(isAllocatedAbove(top, base, true, 4 * C64K, rest(4 * C64K))).toEqual({ allocated: true, runBytes: C64K });
    expect(isAllocatedAbove(top, base, true, 6 * C64K, rest(6 * C64K))).toEqual({ allocated: true, runBytes: rest(6 * C64K) });
  });

  it('with the middle layer as base, it counts only when included', () => {
    expect(isAllocatedAbove(top, mid, false, C64K, rest(C64K))).toEqual({ allocated: false, runBytes: 2 * C64K });
    expect(isAllocatedAbove(top, mid, true, C64K, rest(C64K))).toEqual({ allocated: true, runBytes: 2 * C64K });
    expect(isAllocatedAbove(top, mid, true, 4 * C64K, rest(4 * C64K))).toEqual({ allocated: false, runBytes: C64K });
  });

  it('top == base without includeBase is unallocated over the whole request', () => {
    expect(isAllocatedAbove(top, top, false, 0, rest(0))).toEqual({ allocated: false, runBytes: rest(0) });
  });

  it('without a base, the whole chain is asked', () => {
    expect(isAllocatedAbove(top, undefined, false, 6 * C64K, rest(6 * C64K))).toEqual({ allocated: true, runBytes: rest(6 * C64K) });
  });

  it('layers of different cluster sizes: a small unallocated cluster above cuts a large allocated one below', () => {
    const mixed = chainOf(1 * MiB, { clusterSizeBytes: 4 * KiB, clusters: [1] }, { clusterSizeBytes: C64K, clusters: [0] });
    const [mixedTop, , mixedBase] = mixed.nodes as [BlockNode, BlockNode, BlockNode];
    expect(isAllocatedAbove(mixedTop, mixedBase, false, 0, 1 * MiB)).toEqual({ allocated: true, runBytes: 4 * KiB });
    expect(isAllocatedAbove(mixedTop, mixedBase, false, 4 * KiB, 1 * MiB - 4 * KiB)).toEqual({ allocated: true, runBytes: 4 * KiB });
    expect(isAllocatedAbove(mixedTop, mixedBase, false, 8 * KiB, 1 * MiB - 8 * KiB)).toEqual({ allocated: true, runBytes: C64K - 8 * KiB });
    expect(isAllocatedAbove(mixedTop, mixedBase, false, C64K, 1 * MiB - C64K)).toEqual({ allocated: false, runBytes: 1 * MiB - C64K });
  });

  it('walking a request extent by extent covers it exactly, and never returns an empty run', () => {
    for (const includeBase of [false, true]) {
      let offset = 0;
      const extents: Array<[number, number, boolean]> = [];
      while (offset < 1 * MiB) {
        const run = isAllocatedAbove(top, base, includeBase, offset, rest(offset));
        expect(run.runBytes).toBeGreaterThan(0);
        extents.push([offset, run.runBytes, run.allocated]);
        offset += run.runBytes;
      }
      expect(offset).toBe(1 * MiB);
      if (!includeBase) {
        expect(extents).toEqual([
          [0, C64K, true],
          [C64K, 2 * C64K, true],
          [3 * C64K, C64K, true],
          [4 * C64K, C64K, false],
          [5 * C64K, C64K, true],
          [6 * C64K, rest(6 * C64K), false],
        ]);
      }
    }
  });
});

describe('isAllocatedAbove agrees with block/io.c for odd cluster sizes and disk sizes', () => {
  const cases = [
    { clusterSizeBytes: 512, sizeBytes: 37 * 512 },
    { clusterSizeBytes: 4 * KiB, sizeBytes: 9 * 4 * KiB + 1536 },
    { clusterSizeBytes: 128 * KiB, sizeBytes: 6 * 128 * KiB + 512 },
    { clusterSizeBytes: 2 * MiB, sizeBytes: 5 * 2 * MiB + 3 * 512 },
  ];
  for (const { clusterSizeBytes, sizeBytes } of cases) {
    it(`clusters of ${clusterSizeBytes} bytes on a disk of ${sizeBytes} bytes`, () => {
      const clusterCount = Math.ceil(sizeBytes / clusterSizeBytes);
      // top: clusters 0, 2 and the last (short) one; mid: 1, 2, 3 and 4.
      const topClusters = [0, 2, clusterCount - 1];
      const midClusters = [1, 2, 3, 4].filter((cluster) => cluster < clusterCount - 1);
      const chain = chainOf(sizeBytes, { clusterSizeBytes, clusters: topClusters }, { clusterSizeBytes, clusters: midClusters });
      const step = Math.max(512, clusterSizeBytes / 4);
      for (const baseIndex of [1, 2, undefined]) {
        for (const includeBase of baseIndex === undefined ? [false] : [false, true]) {
          for (let offset = 0; offset < sizeBytes; offset += step) {
            for (const length of [sizeBytes - offset, Math.min(512, sizeBytes - offset), Math.min(clusterSizeBytes, sizeBytes - offset)]) {
              const expected = qemuIsAllocatedAbove(chain.models, baseIndex, includeBase, offset, length);
              const base = baseIndex === undefined ? undefined : chain.nodes[baseIndex];
              const actual = isAllocatedAbove(chain.nodes[0]!, base, includeBase, offset, length);
              expect(actual, `base ${baseIndex} include ${includeBase} [${offset}, +${length})`).toEqual(expected);
            }
          }
        }
      }
    });
  }
});

describe('qcow2 with odd cluster sizes and a disk size not a multiple of the cluster size', () => {
  for (const clusterSizeBytes of [512, 4 * KiB, 128 * KiB, 2 * MiB]) {
    it(`${clusterSizeBytes}-byte clusters: partial writes copy up whole clusters, the last one cut at the end of the disk`, () => {
      const sizeBytes = 3 * clusterSizeBytes + (clusterSizeBytes > 512 ? clusterSizeBytes / 2 : 0) + 512;
      const baseBytes = mixedBytes(sizeBytes, 7);
      const { env, top } = twoLayerChain(sizeBytes, clusterSizeBytes, baseBytes);
      const model = new DiskModel(sizeBytes);
      model.set(0, baseBytes);
      // One sector in the middle of cluster 1, one straddling clusters 2 and 3, one at the very end.
      const writes: Array<[number, number, number]> = [
        [clusterSizeBytes + Math.floor(clusterSizeBytes / 1024) * 512, 512, 0x21],
        [3 * clusterSizeBytes - 512, 1024, 0x22],
        [sizeBytes - 512, 512, 0x23],
      ];
      for (const [offset, length, byte] of writes) {
        expect(writeNode(env, top, offset, DataRuns.fill(length, byte)).ok).toBe(true);
        model.fill(offset, length, byte);
      }
      const clusterCount = Math.ceil(sizeBytes / clusterSizeBytes);
      expect(top.clusterCount).toBe(clusterCount);
      expect(sortedClusters(top)).toEqual([...new Set([1, 2, 3, clusterCount - 1])].sort((a, b) => a - b));
      expectSameBytes(readNodeBytes(env, top, 0, sizeBytes), model.bytes, 'whole image');
      // Every allocated cluster holds the model's bytes in the image's own layer (copied up at write time).
      for (const cluster of sortedClusters(top)) {
        const start = cluster * clusterSizeBytes;
        const length = Math.min(clusterSizeBytes, sizeBytes - start);
        expectSameBytes(top.peekOwnLayer(start, length).toBytes(), model.range(start, length), `own layer of cluster ${cluster}`);
      }
      expect(top.allocationAt(sizeBytes - 512, 512)).toEqual({ allocated: true, runBytes: 512 });
    });
  }
});

describe('ejected images', () => {
  it('fail reads, writes and make_empty with ENOMEDIUM, and have no length', () => {
    const size = 256 * KiB;
    const { env, top } = twoLayerChain(size, C64K, filled(size, 0x11));
    writeNode(env, top, 0, DataRuns.fill(C64K, 0x22));
    top.ejected = true;
    expect(readNode(env, top, 0, 512)).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(writeNode(env, top, C64K, DataRuns.fill(512, 0x33))).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(top.makeEmpty()).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(top.lengthBytes()).toBeUndefined();
    expect(sortedClusters(top)).toEqual([0]);
    top.ejected = false;
    expect(top.lengthBytes()).toBe(size);
    expectSameBytes(readNodeBytes(env, top, 0, C64K), filled(C64K, 0x22), 'after the medium is back');
  });

  it('an ejected backing file fails reads through unallocated clusters only, and copy-on-write', () => {
    const size = 256 * KiB;
    const { env, base, top } = twoLayerChain(size, C64K, filled(size, 0x11));
    writeNode(env, top, 0, DataRuns.fill(C64K, 0x22));
    base.ejected = true;
    expectSameBytes(readNodeBytes(env, top, 0, C64K), filled(C64K, 0x22), 'allocated cluster');
    expect(readNode(env, top, C64K, 512)).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(readNode(env, top, 0, 2 * C64K)).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(writeNode(env, top, C64K + 512, DataRuns.fill(512, 0x33))).toEqual({ ok: false, errno: 'ENOMEDIUM' });
    expect(sortedClusters(top)).toEqual([0]);
    // A whole-cluster write needs nothing from the backing file.
    expect(writeNode(env, top, 2 * C64K, DataRuns.fill(C64K, 0x44)).ok).toBe(true);
  });
});

describe('injected io-error faults', () => {
  it('fail exactly `count` requests of that kind, then stop', () => {
    const env = newEnv();
    const image = newQcow2(env, 'img', 256 * KiB, C64K);
    image.faults.add('write', 2);
    expect(writeNode(env, image, 0, DataRuns.fill(512, 1))).toEqual({ ok: false, errno: 'EIO' });
    expect(readNode(env, image, 0, 512).ok).toBe(true);
    expect(writeNode(env, image, 0, DataRuns.fill(512, 1))).toEqual({ ok: false, errno: 'EIO' });
    expect(image.allocatedClusterCount).toBe(0);
    expect(writeNode(env, image, 0, DataRuns.fill(512, 1)).ok).toBe(true);
    expect(image.faults.active).toBe(false);
    expect(sortedClusters(image)).toEqual([0]);
  });

  it('"any" fails reads and writes alike, counting both', () => {
    const env = newEnv();
    const image = newQcow2(env, 'img', 256 * KiB, C64K);
    image.faults.add('any', 2);
    expect(readNode(env, image, 0, 512)).toEqual({ ok: false, errno: 'EIO' });
    expect(writeNode(env, image, 0, DataRuns.fill(512, 1))).toEqual({ ok: false, errno: 'EIO' });
    expect(readNode(env, image, 0, 512).ok).toBe(true);
  });

  it('without a count, fail until cleared', () => {
    const env = newEnv();
    const image = newQcow2(env, 'img', 256 * KiB, C64K);
    image.faults.add('read', undefined);
    for (let attempt = 0; attempt < 5; attempt++) expect(readNode(env, image, 0, 512)).toEqual({ ok: false, errno: 'EIO' });
    expect(writeNode(env, image, 0, DataRuns.fill(512, 1)).ok).toBe(true);
    image.faults.clear();
    expect(readNode(env, image, 0, 512).ok).toBe(true);
  });

  it('a read fault on the backing file fails a partial write (its copy-on-write) and leaves the image unchanged', () => {
    const size = 256 * KiB;
    const { env, base, top } = twoLayerChain(size, C64K, filled(size, 0x11));
    base.faults.add('read', 1);
    expect(writeNode(env, top, 512, DataRuns.fill(512, 0x22))).toEqual({ ok: false, errno: 'EIO' });
    expect(top.allocatedClusterCount).toBe(0);
    expectSameBytes(top.peekOwnLayer(0, C64K).toBytes(), new Uint8Array(C64K), 'own layer after the failed write');
    expect(writeNode(env, top, 512, DataRuns.fill(512, 0x22)).ok).toBe(true);
    const expected = filled(C64K, 0x11);
    expected.fill(0x22, 512, 1024);
    expectSameBytes(readNodeBytes(env, top, 0, C64K), expected, 'after the retry');
  });

  it('a write fault makes make_empty fail and keeps every cluster', () => {
    const env = newEnv();
    const image = newQcow2(env, 'img', 256 * KiB, C64K);
    writeNode(env, image, 0, DataRuns.fill(2 * C64K, 0x66));
    image.faults.add('write', 1);
    expect(image.makeEmpty()).toEqual({ ok: false, errno: 'EIO' });
    expect(sortedClusters(image)).toEqual([0, 1]);
    expect(image.makeEmpty()).toEqual({ ok: true, clustersFreed: 2 });
  });
});
