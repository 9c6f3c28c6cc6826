/** Random 4 KiB guest writes through the whole COLO topology, in writes per second of wall time. */
import { DataRuns } from '../../src/engine/block/data-runs.js';
import { Simulation, DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import { Prng } from '../../src/engine/sim/prng.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

const WRITE_BYTES = 4096;

export function benchWriteThroughput(): { writes: number; writesPerSecond: number; primaryShare: number } {
  const diskSizeBytes = 64 * 1024 * 1024;
  const sim = new Simulation({ ...DEFAULT_SETTINGS, diskSizeBytes }, createMemoryStore);
  if (!sim.settle(sim.coloStart()).ok) throw new Error('COLO start failed');
  const prng = new Prng(7);
  const writes = 20_000;
  let primaryWrites = 0;
  const started = process.hrtime.bigint();
  for (let index = 0; index < writes; index++) {
    const offsetBytes = prng.nextInt(0, diskSizeBytes / WRITE_BYTES) * WRITE_BYTES;
    const vm = prng.nextFloat() < 0.7 ? 'primary' : 'secondary';
    if (vm === 'primary') primaryWrites++;
    // Each write carries distinct bytes, as a guest's would, so nothing collapses to a pattern.
    const bytes = new Uint8Array(WRITE_BYTES);
    for (let position = 0; position < WRITE_BYTES; position += 4) bytes[position] = (index + position) & 0xff;
    const result = sim.settle(sim.guestWrite(vm, offsetBytes, DataRuns.fromBytes(bytes)));
    if (!result.ok) throw new Error('write failed');
    if (index % 2000 === 1999 && !sim.settle(sim.checkpoint()).ok) throw new Error('checkpoint failed');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { writes, writesPerSecond: writes / seconds, primaryShare: primaryWrites / writes };
}
