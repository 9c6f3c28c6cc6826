/**
 * The same workload at two checkpoint intervals (issue 9, "a lesson-friendly comparison"): two
 * scenario files that differ only in the primary's `x-checkpoint-delay`. Each sets the delay by
 * QMP (`migrate-set-parameters`; before COLO starts it only sets the period, migration/colo.c arms
 * the timer with it), starts COLO, starts the random guest workload (seeded: both files issue the
 * very same writes at the very same virtual times while the VMs run) and runs for a fixed span
 * of virtual time. `colo-sim run A.json B.json --stats` prints the figures the app's Cost tab
 * compares; the app's worker runs the same files with the same ReplicationCost observer.
 *
 * Input: `intervalsMs` (two whole numbers of milliseconds, 1 to 4294967294: QEMU's uint32
 * x-checkpoint-delay, whose largest value the app reserves for "no periodic checkpoint"),
 * `durationMs` (virtual time after the workload starts, whole ms, 1 to MAX_DURATION_MS), the
 * workload (writes per second of virtual time, > 0; which VM; block size in bytes; blocks per write)
 * and the simulation settings (disk and cluster size, seed, latencies: the session's).
 * Output: `{ ok: true, runs }`, one per interval, each the scenario as a document and as the JSON
 * text a user saves; or `{ ok: false, message }` naming the field and what is wrong (never thrown).
 */
import type { SimulationSettings } from '../colo/simulation.js';
import type { WorkloadSettings } from '../colo/workload.js';
import { FORMAT_VERSION } from '../scenario/schema.js';
import { setupOfSettings } from '../scenario/setup.js';
import { validateScenarioDocument, type Scenario } from '../scenario/validate.js';

/** The largest x-checkpoint-delay QEMU takes (uint32 ms), which the app uses for "no periodic checkpoint". */
const NO_PERIODIC_DELAY_MS = 4_294_967_295;
/** A bound on each run: it runs synchronously in the worker, so a comparison stays a few seconds long. */
export const MAX_DURATION_MS = 600_000;
/** At most this many workload writes per run (rate × duration), for the same reason. */
export const MAX_WRITES_PER_RUN = 50_000;

/**
 * The workload writes one run makes: rate (writes per second of virtual time) × duration (ms),
 * rounded up. The form shows it as the user types; problemOfInput refuses above MAX_WRITES_PER_RUN
 * before anything runs.
 */
export function writesPerRun(writesPerSecond: number, durationMs: number): number {
  return Math.ceil((writesPerSecond * durationMs) / 1000);
}

export interface CheckpointComparisonInput {
  readonly intervalsMs: readonly [number, number];
  readonly durationMs: number;
  readonly workload: WorkloadSettings;
  readonly settings: SimulationSettings;
}

export interface ComparisonRun {
  readonly intervalMs: number;
  /** The scenario file (colo-sim/1) as an object, its JSON text, and as the validator read it. */
  readonly document: Record<string, unknown>;
  readonly text: string;
  readonly scenario: Scenario;
}

export type CheckpointComparison = { readonly ok: true; readonly runs: readonly [ComparisonRun, ComparisonRun] } | { readonly ok: false; readonly message: string };

function problemOfInput(input: CheckpointComparisonInput): string | null {
  for (const [index, intervalMs] of input.intervalsMs.entries()) {
    const which = index === 0 ? 'The first interval' : 'The second interval';
    if (!Number.isFinite(intervalMs)) return `${which} must be a number of milliseconds`;
    if (!Number.isInteger(intervalMs)) return `${which} must be a whole number of milliseconds (QEMU's x-checkpoint-delay is an integer)`;
    if (intervalMs <= 0) return `${which} must be more than 0 ms (0 makes checkpoints run back to back)`;
    if (intervalMs >= NO_PERIODIC_DELAY_MS) return `${which} must be below ${NO_PERIODIC_DELAY_MS} ms (x-checkpoint-delay is a uint32; its largest value means no periodic checkpoint)`;
  }
  const { durationMs, workload } = input;
  if (!Number.isFinite(durationMs) || !Number.isInteger(durationMs) || durationMs <= 0) return 'The duration must be a whole number of milliseconds, more than 0';
  if (durationMs > MAX_DURATION_MS) return `The duration must be at most ${MAX_DURATION_MS} ms of virtual time`;
  if (!Number.isFinite(workload.writesPerSecond) || workload.writesPerSecond <= 0) return 'The workload needs a rate of more than 0 writes per second';
  if (workload.writesPerSecond > 100_000) return 'The workload rate must be at most 100000 writes per second';
  const writes = writesPerRun(workload.writesPerSecond, durationMs);
  if (writes > MAX_WRITES_PER_RUN) return `That is about ${writes.toLocaleString('en-US')} writes per run (rate × duration); at most ${MAX_WRITES_PER_RUN.toLocaleString('en-US')} (lower the rate or the duration)`;
  if (!Number.isInteger(workload.maxBlocks) || workload.maxBlocks < 1 || workload.maxBlocks > 1024) return 'Blocks per write must be a whole number from 1 to 1024';
  return null;
}

/** The scenario of one run: the workload under periodic checkpoints every `intervalMs`. */
function documentFor(input: CheckpointComparisonInput, intervalMs: number): Record<string, unknown> {
  const { workload, durationMs } = input;
  return {
    format: FORMAT_VERSION,
    title: `Checkpoint every ${intervalMs} ms: ${workload.writesPerSecond} writes/s for ${durationMs} ms`,
    description: `One half of a comparison of checkpoint intervals (colo-sim's Cost tab): x-checkpoint-delay ${intervalMs} ms set before COLO starts, then a random ${workload.vm === 'both' ? 'both-VM' : `${workload.vm}-VM`} workload (seeded) for ${durationMs} ms of virtual time. Run with colo-sim run --stats.`,
    setup: setupOfSettings(input.settings),
    steps: [
      { op: 'qmp', host: 'primary', execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': intervalMs }, expect: { return: {} } },
      { op: 'colo-start' },
      { op: 'workload', writesPerSecond: workload.writesPerSecond, vm: workload.vm, blockSize: workload.blockBytes, maxBlocks: workload.maxBlocks },
      { op: 'run', for: `${durationMs}ms` },
    ],
  };
}

export function checkpointComparison(input: CheckpointComparisonInput): CheckpointComparison {
  const problem = problemOfInput(input);
  if (problem) return { ok: false, message: problem };
  const runs: ComparisonRun[] = [];
  for (const intervalMs of input.intervalsMs) {
    const document = documentFor(input, intervalMs);
    const validation = validateScenarioDocument(document);
    // The settings or workload came from a session the validator refuses (a block size that is no
    // multiple of the sector): say what, as the CLI would for the file.
    if (!validation.ok) return { ok: false, message: `The comparison's scenario is not valid: ${validation.errors.map((error) => `${error.path}: ${error.message}`).join('; ')}` };
    runs.push({ intervalMs, document, text: `${JSON.stringify(document, null, 2)}\n`, scenario: validation.scenario });
  }
  return { ok: true, runs: [runs[0]!, runs[1]!] };
}
