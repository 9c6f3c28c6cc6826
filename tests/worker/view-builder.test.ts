/**
 * The page rebuilds the disks from a first full frame and then only the cells that changed. After
 * any sequence of operations, that mirror must equal a full recomputation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { DEFAULT_SETTINGS, Simulation } from '../../src/engine/colo/simulation.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import type { DiskCells } from '../../src/worker/protocol.js';
import { cellBytesFor, MAX_CELLS, ViewBuilder } from '../../src/worker/view-builder.js';

type Mirror = Map<string, { content: Uint16Array; allocated: Uint8Array }>;

function apply(mirror: Mirror, cells: readonly DiskCells[]): void {
  for (const disk of cells) {
    if (!disk.indices) {
      mirror.set(disk.name, { content: disk.content.slice(), allocated: disk.allocated.slice() });
      continue;
    }
    const target = mirror.get(disk.name)!;
    disk.indices.forEach((cell, position) => {
      target.content[cell] = disk.content[position]!;
      target.allocated[cell] = disk.allocated[position]!;
    });
  }
}

const operation = fc.oneof(
  fc.record({ kind: fc.constant('guest-write' as const), vm: fc.constantFrom('primary' as const, 'secondary' as const), sector: fc.nat(2047), sectors: fc.integer({ min: 1, max: 300 }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('export-write' as const), sector: fc.nat(2047), sectors: fc.integer({ min: 1, max: 300 }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ kind: 'checkpoint' as const }),
  fc.constant({ kind: 'failover' as const }),
  fc.constant({ kind: 'run' as const }),
);

describe('view builder', () => {
  it('sizes cells so a grid never exceeds its limit', () => {
    expect(cellBytesFor(64 * 1024 * 1024, 65536)).toBe(65536);
    expect(cellBytesFor(1024 ** 3, 65536)).toBe(65536);
    expect(cellBytesFor(1024 ** 3, 4096)).toBe(65536);
    expect(Math.ceil(4 * 1024 ** 3 / cellBytesFor(4 * 1024 ** 3, 512))).toBeLessThanOrEqual(MAX_CELLS);
  });

  it('frames of changed cells keep the page equal to the disks', () => {
    fc.assert(
      fc.property(fc.constantFrom(512, 4096, 65536), fc.array(operation, { maxLength: 25 }), (clusterSizeBytes, operations) => {
        const settings = { ...DEFAULT_SETTINGS, diskSizeBytes: 1024 * 1024, clusterSizeBytes };
        const sim = new Simulation(settings, createMemoryStore);
        const builder = new ViewBuilder(sim);
        sim.events.subscribe((event) => builder.observe(event));
        const mirror: Mirror = new Map();
        builder.takeLayouts();
        apply(mirror, builder.takeCells());
        sim.settle(sim.coloStart());
        for (const op of operations) {
          const offset = op.kind === 'guest-write' || op.kind === 'export-write' ? op.sector * 512 : 0;
          const length = op.kind === 'guest-write' || op.kind === 'export-write' ? Math.min(op.sectors * 512, settings.diskSizeBytes - offset) : 0;
          if (op.kind === 'guest-write') sim.settle(sim.guestWrite(op.vm, offset, DataRuns.fill(length, op.byte)));
          else if (op.kind === 'export-write') sim.settle(sim.write('secondary-disk', offset, DataRuns.fill(length, op.byte)));
          else if (op.kind === 'checkpoint') sim.settle(sim.checkpoint());
          else if (op.kind === 'failover') sim.settle(sim.failover('secondary'));
          else sim.runUntilIdle();
          apply(mirror, builder.takeCells());
        }
        const fresh = new ViewBuilder(sim);
        fresh.takeLayouts();
        for (const disk of fresh.takeCells()) {
          expect([...mirror.get(disk.name)!.content], disk.name).toEqual([...disk.content]);
          expect([...mirror.get(disk.name)!.allocated], disk.name).toEqual([...disk.allocated]);
        }
      }),
      { numRuns: 150 },
    );
  });
});
