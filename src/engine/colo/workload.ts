/**
 * A random guest workload: writes at a steady rate (in virtual time) on one or both VMs, each
 * of random aligned offset and length with a random pattern, all drawn from the simulation's
 * seeded PRNG, so a workload replays exactly. A VM that is not running (paused, stopped for a
 * checkpoint, not yet migrated) issues no write; its arrivals are drawn all the same.
 */
import { DataRuns } from '../block/data-runs.js';
import type { Simulation } from './simulation.js';

export interface WorkloadSettings {
  /** Writes per second of virtual time. */
  readonly writesPerSecond: number;
  readonly vm: 'primary' | 'secondary' | 'both';
  /** Every write is a multiple of this many bytes, and aligned to it. */
  readonly blockBytes: number;
  /** Each write covers 1 to this many blocks. */
  readonly maxBlocks: number;
}

export const DEFAULT_WORKLOAD: WorkloadSettings = { writesPerSecond: 100, vm: 'primary', blockBytes: 4096, maxBlocks: 16 };

export interface WorkloadState {
  readonly settings: WorkloadSettings;
  /** The pending arrival's scheduler entry (the entry itself is saved with the scheduler). */
  readonly timerSequence: number;
  readonly writesIssued: number;
}

export class Workload {
  private timerSequence = -1;
  private issued = 0;

  constructor(
    private readonly sim: Simulation,
    readonly settings: WorkloadSettings,
  ) {}

  get writesIssued(): number {
    return this.issued;
  }

  start(): void {
    this.scheduleNext();
  }

  /** Continues a saved workload: its next arrival is already back in the scheduler. */
  resume(state: WorkloadState): void {
    this.issued = state.writesIssued;
    this.timerSequence = state.timerSequence;
  }

  stop(): void {
    this.sim.scheduler.cancel(this.timerSequence);
    this.timerSequence = -1;
  }

  saveState(): WorkloadState {
    return { settings: this.settings, timerSequence: this.timerSequence, writesIssued: this.issued };
  }

  private intervalUs(): number {
    return Math.max(1, Math.round(1_000_000 / this.settings.writesPerSecond));
  }

  private scheduleNext(): void {
    this.timerSequence = this.sim.scheduler.schedule(this.intervalUs(), { type: 'workload-arrival' });
  }

  /** The scheduler's `workload-arrival`: one write, unless the VMs are paused, then the next arrival. */
  arrive(): void {
    const sim = this.sim;
    const { blockBytes, maxBlocks, vm } = this.settings;
    const diskBlocks = Math.floor(sim.settings.diskSizeBytes / blockBytes);
    const blocks = Math.min(diskBlocks, sim.prng.nextInt(1, maxBlocks + 1));
    const offsetBytes = sim.prng.nextInt(0, diskBlocks - blocks + 1) * blockBytes;
    const pattern = sim.prng.nextInt(1, 256);
    const target = vm === 'both' ? (sim.prng.nextFloat() < 0.5 ? 'primary' : 'secondary') : vm;
    // A VM that does not run (paused, stopped for a checkpoint, waiting for its migration) writes nothing.
    if (sim.vmRunning(target)) {
      sim.guestWrite(target, offsetBytes, DataRuns.fill(blocks * blockBytes, pattern), { watch: false });
      this.issued++;
    }
    this.scheduleNext();
  }
}
