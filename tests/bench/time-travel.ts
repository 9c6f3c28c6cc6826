/**
 * Time travel on a 10,000-step session (64 MiB disks; guest writes on both VMs, a checkpoint
 * every 20 steps, 1 ms of virtual time between some): the first pass (runs every step once,
 * keeping keyframes), then going to random steps (nearest keyframe + replay), with and without
 * rebuilding the event log there, and what the keyframes hold in memory. Target: < 100 ms to go
 * to any step.
 */
import { DEFAULT_SETTINGS } from '../../src/engine/colo/simulation.js';
import type { ParsedStep } from '../../src/engine/scenario/schema.js';
import { validateScenarioDocument } from '../../src/engine/scenario/validate.js';
import { Timeline } from '../../src/engine/timeline/timeline.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';

export const TIME_TRAVEL_STEPS = 10_000;
const VISITS = 40;
const EVENT_LOG_LIMIT = 1000;

export interface TimeTravelBench {
  readonly steps: number;
  readonly firstPassMs: number;
  readonly goTo: { readonly medianMs: number; readonly p95Ms: number; readonly maxMs: number };
  readonly goToWithLog: { readonly medianMs: number; readonly maxMs: number };
  readonly keyframes: number;
  readonly intervalSteps: number;
  readonly keyframeMiB: number;
  readonly heapMiB: number | undefined;
}

function sessionSteps(count: number): unknown[] {
  const steps: unknown[] = [{ op: 'colo-start' }];
  let state = 12345;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  while (steps.length < count) {
    const index = steps.length;
    if (index % 20 === 0) steps.push({ op: 'checkpoint' });
    else if (index % 7 === 0) steps.push({ op: 'run', for: '1ms' });
    else steps.push({ op: 'guest-write', vm: next() % 10 < 7 ? 'primary' : 'secondary', offset: (next() % 16384) * 4096, length: 4096, pattern: `0x${(next() % 255 + 1).toString(16)}` });
  }
  return steps;
}

function summary(times: number[]): { medianMs: number; p95Ms: number; maxMs: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, p95Ms: sorted[Math.floor(sorted.length * 0.95)]!, maxMs: sorted[sorted.length - 1]! };
}

function heapNow(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function benchTimeTravel(stepCount = TIME_TRAVEL_STEPS): TimeTravelBench {
  const settings = DEFAULT_SETTINGS;
  const validation = validateScenarioDocument({ format: 'colo-sim/1', title: 'bench', setup: { diskSize: settings.diskSizeBytes, clusterSize: settings.clusterSizeBytes }, steps: sessionSteps(stepCount) });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors.slice(0, 3)));
  const heapBefore = heapNow();
  const timeline = new Timeline({ ...validation.scenario, steps: validation.scenario.steps as ParsedStep[] });
  let started = performance.now();
  const end = timeline.materialize(stepCount, createMemoryStore);
  const firstPassMs = performance.now() - started;
  if (end.step !== stepCount) throw new Error(`the session stopped at step ${end.step}`);
  const heapAfter = heapNow();
  let state = 777;
  const randomStep = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % (stepCount + 1));
  const times: number[] = [];
  for (let visit = 0; visit < VISITS; visit++) {
    const step = randomStep();
    started = performance.now();
    timeline.materialize(step, createMemoryStore);
    times.push(performance.now() - started);
  }
  const withLog: number[] = [];
  for (let visit = 0; visit < VISITS / 4; visit++) {
    const step = randomStep();
    started = performance.now();
    timeline.materialize(step, createMemoryStore);
    timeline.eventsBefore(step, EVENT_LOG_LIMIT, createMemoryStore);
    withLog.push(performance.now() - started);
  }
  const memory = timeline.memory();
  const logSummary = summary(withLog);
  return {
    steps: stepCount,
    firstPassMs,
    goTo: summary(times),
    goToWithLog: { medianMs: logSummary.medianMs, maxMs: logSummary.maxMs },
    keyframes: memory.keyframes,
    intervalSteps: memory.intervalSteps,
    keyframeMiB: memory.approxBytes / 1024 ** 2,
    heapMiB: heapBefore === undefined || heapAfter === undefined ? undefined : (heapAfter - heapBefore) / 1024 ** 2,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(benchTimeTravel(), null, 2));
}
