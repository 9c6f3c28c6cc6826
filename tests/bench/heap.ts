/** Heap held by the four disks of a simulation (64 MiB each) once they are filled with patterns. */
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { Simulation, DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

const MIB = 1024 * 1024;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
}

export function benchHeap(): { diskSizeMiB: number; heapMiB: number } {
  const diskSizeBytes = 64 * MIB;
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes }, createMemoryStore);
  // Each disk gets a pattern per 64 KiB cluster (a different byte every cluster), written
  // through the nodes themselves so qcow2 allocation maps are filled as well.
  for (const [index, name] of ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk'].entries()) {
    for (let offsetBytes = 0; offsetBytes < diskSizeBytes; offsetBytes += 64 * 1024) {
      const result = sim.settle(sim.write(name, offsetBytes, DataRuns.fill(64 * 1024, (offsetBytes / 65536 + index * 7 + 1) & 0xff)));
      if (!result.ok) throw new Error(`fill of ${name} failed`);
    }
  }
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  // Keep the simulation alive until after the measurement.
  if (sim.nowUs < 0) throw new Error('unreachable');
  return { diskSizeMiB: diskSizeBytes / MIB, heapMiB: (after - before) / MIB };
}
