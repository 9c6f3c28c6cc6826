/**
 * Checkpoint cost with the same 100 dirty clusters on a 1 GiB and a 64 MiB disk: the cost must
 * follow the dirty clusters, not the disk size.
 */
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { Simulation, DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

const CLUSTER_BYTES = 64 * 1024;
const DIRTY_CLUSTERS = 100;
const ROUNDS = 40;

function checkpointMicroseconds(diskSizeBytes: number): number {
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes }, createMemoryStore);
  if (!sim.settle(sim.coloStart()).ok) throw new Error('COLO start failed');
  const clusterCount = diskSizeBytes / CLUSTER_BYTES;
  const strideClusters = Math.floor(clusterCount / DIRTY_CLUSTERS);
  let totalNs = 0n;
  for (let round = 0; round < ROUNDS; round++) {
    // Dirty 100 clusters: half by the secondary VM (active disk), half by forwarded primary
    // writes (copy-before-write into the hidden disk).
    for (let index = 0; index < DIRTY_CLUSTERS; index++) {
      const offsetBytes = index * strideClusters * CLUSTER_BYTES;
      const data = DataRuns.fill(4096, (round + index) & 0xff);
      const write = index % 2 === 0 ? sim.guestWrite('secondary', offsetBytes, data) : sim.guestWrite('primary', offsetBytes, data);
      if (!sim.settle(write).ok) throw new Error('write failed');
    }
    const started = process.hrtime.bigint();
    const outcome = sim.settle(sim.checkpoint());
    totalNs += process.hrtime.bigint() - started;
    if (!outcome.ok) throw new Error(`checkpoint failed: ${outcome.message}`);
  }
  return Number(totalNs) / 1000 / ROUNDS;
}

export function benchCheckpointCost(): { smallUs: number; largeUs: number; ratio: number } {
  checkpointMicroseconds(64 * 1024 * 1024); // warm up the JIT
  const smallUs = checkpointMicroseconds(64 * 1024 * 1024);
  const largeUs = checkpointMicroseconds(1024 * 1024 * 1024);
  return { smallUs, largeUs, ratio: largeUs / smallUs };
}
