/**
 * The probes of a lesson's `ask` steps (docs/lesson-format.md): what the engine computes at that
 * point of the run, as the string the keyed answer is compared with. Pure engine code: the
 * runner, the CLI, the tests and the app's lesson player all compute answers here.
 *
 * A probe looks and does not act:
 * - `read` and `served-by` go through the I/O path as a read would (so errors, a stage that
 *   refuses I/O and the quorum's fallback are real), with origin `check`; fault counts are put
 *   back afterwards, so the look does not use up an injected error. Such a read only takes
 *   virtual time when it must cross the NBD link (a read of `replication-primary` or
 *   `nbd-client`).
 * - `get-error` calls replication_get_error_all, which changes nothing.
 * - `count` reads the lesson's event counter; events emitted while a probe or a `check` runs are
 *   not counted (they are observation, not the model).
 */
import { ERRNO_NAMES } from '../block/errno.js';
import { formatByte } from '../block/data-runs.js';
import type { FaultRule } from '../block/faults.js';
import type { Simulation } from '../colo/simulation.js';
import { NODE } from '../colo/topology.js';
import type { Probe } from '../scenario/schema.js';
import type { HostName, ReplicationMode, SimEvent, SimEventKind } from '../sim/events.js';

export type ProbeOutcome = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

export type CountSince = 'lesson-start' | 'last-checkpoint';

/** The counter's state: plain data, saved with a lesson in progress. */
export interface LessonCounterState {
  readonly sinceStart: Partial<Record<SimEventKind, number>>;
  readonly sinceCheckpoint: Partial<Record<SimEventKind, number>>;
}

/**
 * Counts the simulation's events for `count` probes: since the lesson started, and since the last
 * checkpoint. The last checkpoint is the last replication_do_checkpoint that succeeded on a
 * replication node in secondary mode (in a COLO checkpoint, the moment the secondary empties its
 * active and hidden disks and resets the backup job's bitmap, which starts a new epoch; a
 * `replication` step's checkpoint on the secondary counts too). A primary's checkpoint does
 * nothing to the data and does not count. Before the first checkpoint both counts are the same.
 */
export class LessonCounter {
  private sinceStart: Partial<Record<SimEventKind, number>>;
  private sinceCheckpoint: Partial<Record<SimEventKind, number>>;
  private pausedDepth = 0;

  /** `modeOf` tells the mode of a replication node by name (undefined: no such node). */
  constructor(
    private readonly modeOf: (node: string) => ReplicationMode | undefined,
    state?: LessonCounterState,
  ) {
    this.sinceStart = { ...(state?.sinceStart ?? {}) };
    this.sinceCheckpoint = { ...(state?.sinceCheckpoint ?? {}) };
  }

  /** A counter that follows `sim`'s events from now on; returns it and the way to stop following. */
  static follow(sim: Simulation, state?: LessonCounterState): { counter: LessonCounter; stop: () => void } {
    const counter = new LessonCounter((node) => sim.replicationNode(node)?.mode, state);
    const stop = sim.events.subscribe((event) => counter.observe(event));
    return { counter, stop };
  }

  observe(event: SimEvent): void {
    if (this.pausedDepth > 0) return;
    if (event.kind === 'replication-call' && event.action === 'checkpoint' && event.outcome === 'ok' && this.modeOf(event.node) === 'secondary') {
      this.sinceStart['replication-call'] = (this.sinceStart['replication-call'] ?? 0) + 1;
      this.sinceCheckpoint = {};
      return;
    }
    this.sinceStart[event.kind] = (this.sinceStart[event.kind] ?? 0) + 1;
    this.sinceCheckpoint[event.kind] = (this.sinceCheckpoint[event.kind] ?? 0) + 1;
  }

  count(kind: SimEventKind, since: CountSince): number {
    return (since === 'lesson-start' ? this.sinceStart : this.sinceCheckpoint)[kind] ?? 0;
  }

  /** Runs `look` without counting the events it causes. */
  unobserved<T>(look: () => T): T {
    this.pausedDepth++;
    try {
      return look();
    } finally {
      this.pausedDepth--;
    }
  }

  saveState(): LessonCounterState {
    return { sinceStart: { ...this.sinceStart }, sinceCheckpoint: { ...this.sinceCheckpoint } };
  }
}

/** The probe's kind: the one key it has. */
export function probeKind(probe: Probe): keyof Probe {
  return (Object.keys(probe) as Array<keyof Probe>).find((key) => probe[key] !== undefined)!;
}

/**
 * The probe's value now, as a string, or why it could not be computed (a node that does not
 * exist any more, a count probe outside a lesson run). `counter` is needed by `count` probes only.
 */
export function evaluateProbe(sim: Simulation, probe: Probe, counter?: LessonCounter): ProbeOutcome {
  const look = (): ProbeOutcome => evaluate(sim, probe, counter);
  return counter ? counter.unobserved(look) : look();
}

/** The node a VM's disk is attached to: hosts are roles, so after a restart it is e.g. top-disk-2. Undefined when that host has no VM disk. */
function vmDisk(sim: Simulation, vm: HostName): string | undefined {
  try {
    return sim.vmDiskNode(vm);
  } catch {
    return undefined;
  }
}

function evaluate(sim: Simulation, probe: Probe, counter: LessonCounter | undefined): ProbeOutcome {
  if (probe.read) {
    const node = probe.read.node ?? vmDisk(sim, probe.read.vm ?? 'secondary');
    if (node === undefined || !sim.findNode(node)) return { ok: false, message: `${node ?? `the ${probe.read.vm} VM's disk`} does not exist` };
    const read = readLooking(sim, node, probe.read.offset, probe.read.length);
    if (!read.result.ok) return { ok: true, value: read.result.errno };
    const byte = read.result.data.uniformByte();
    return { ok: true, value: byte === undefined ? 'mixed' : formatByte(byte) };
  }
  if (probe['served-by']) {
    const { offset, length } = probe['served-by'];
    const topDisk = vmDisk(sim, 'secondary');
    if (topDisk === undefined) return { ok: false, message: "the secondary VM's disk does not exist" };
    const read = readLooking(sim, topDisk, offset, length);
    if (!read.result.ok) return { ok: true, value: read.result.errno };
    if (read.servedBy.size === 0) return { ok: true, value: 'none' };
    return { ok: true, value: read.servedBy.size === 1 ? [...read.servedBy][0]! : 'mixed' };
  }
  if (probe.stage) {
    const node = sim.replicationNode(probe.stage.node);
    return node ? { ok: true, value: node.stage } : { ok: false, message: `${probe.stage.node} does not exist` };
  }
  if (probe['get-error']) {
    const outcome = sim.replication(probe['get-error'].host, 'get-error');
    return { ok: true, value: outcome.ok ? 'ok' : outcome.message };
  }
  if (probe.allocated) {
    const { node, offset, length } = probe.allocated;
    if (!sim.image(node)) return { ok: false, message: `${node} is not an image here` };
    return { ok: true, value: sim.allocationOf(node, offset, length) };
  }
  if (probe.job) {
    return { ok: true, value: sim.host(probe.job.host).jobs.ofType(probe.job.type) ? 'running' : 'absent' };
  }
  const count = probe.count!;
  if (!counter) return { ok: false, message: 'a count probe needs a lesson run (the runner counts the events)' };
  return { ok: true, value: String(counter.count(count.event as SimEventKind, count.since)) };
}

/**
 * A read through the I/O path that leaves every fault as it found it; with the images whose own
 * layer served parts of it (their read-served events).
 */
function readLooking(sim: Simulation, node: string, offsetBytes: number, lengthBytes: number): { result: ReturnType<Simulation['readNow']>; servedBy: Set<string> } {
  const faults: Array<{ restore: (rules: readonly FaultRule[]) => void; rules: FaultRule[] }> = [];
  for (const host of [sim.primary, sim.secondary]) {
    for (const graphNode of host.graph.nodes()) faults.push({ restore: (rules) => graphNode.faults.restoreState(rules), rules: graphNode.faults.saveState() });
  }
  const served: Array<{ requestId: number; node: string }> = [];
  const stop = sim.events.subscribe((event) => {
    if (event.kind === 'read-served' && event.lengthBytes > 0) served.push({ requestId: event.requestId, node: event.node });
  });
  try {
    // A local read completes inside sim.read, before its id is known here: keep every image that
    // served something, and pick this request's afterwards.
    const pending = sim.read(node, offsetBytes, lengthBytes, 'check');
    const result = sim.settle(pending);
    const servedBy = new Set(served.filter((entry) => entry.requestId === pending.id).map((entry) => entry.node));
    return { result, servedBy };
  } finally {
    stop();
    for (const fault of faults) fault.restore(fault.rules);
  }
}

// ---- what a probe can answer, for validation ----

const BYTE_VALUE = /^0x[0-9a-f]{2}$/;
const DIGITS = /^(?:0|[1-9][0-9]*)$/;
const STAGES = ['none', 'running', 'failover', 'failover-failed', 'done'];
const IMAGES = [NODE.activeDisk, NODE.hiddenDisk, NODE.secondaryDisk, NODE.primaryDisk];
/** An image of the topology, or of a restarted host's generation (hidden-disk-2, topology.generationName). */
const isImageName = (value: string): boolean => IMAGES.some((image) => value === image || new RegExp(`^${image}-[1-9][0-9]*$`).test(value));

/** Undefined when `value` is one the probe can give; else what it can give, in words. */
export function impossibleValue(probe: Probe, value: string): string | undefined {
  switch (probeKind(probe)) {
    case 'read':
      return BYTE_VALUE.test(value) || value === 'mixed' || (ERRNO_NAMES as readonly string[]).includes(value)
        ? undefined
        : `a read probe gives a byte ("0x00" to "0xff", two lower-case hex digits), "mixed", or an errno name (${ERRNO_NAMES.join(', ')})`;
    case 'served-by':
      return isImageName(value) || value === 'mixed' || (ERRNO_NAMES as readonly string[]).includes(value)
        ? undefined
        : `a served-by probe gives an image (${IMAGES.slice(0, 3).join(', ')}), "mixed", or an errno name`;
    case 'stage':
      return STAGES.includes(value) ? undefined : `a stage probe gives a stage (${STAGES.join(', ')})`;
    case 'get-error':
      return undefined;
    case 'allocated':
      return ['all', 'none', 'some'].includes(value) ? undefined : 'an allocated probe gives "all", "none" or "some"';
    case 'job':
      return ['running', 'absent'].includes(value) ? undefined : 'a job probe gives "running" or "absent"';
    case 'count':
      return DIGITS.test(value) ? undefined : 'a count probe gives a number written in digits ("0", "3")';
  }
}

/** The probe in words, for reports. */
export function describeProbe(probe: Probe): string {
  const range = (offset: number, length: number) => `[${offset}, +${length})`;
  if (probe.read) return `what ${probe.read.node ?? `the ${probe.read.vm} VM`} reads at ${range(probe.read.offset, probe.read.length)}`;
  if (probe['served-by']) return `which layer serves the secondary VM's read of ${range(probe['served-by'].offset, probe['served-by'].length)}`;
  if (probe.stage) return `the stage of ${probe.stage.node}`;
  if (probe['get-error']) return `replication_get_error_all on the ${probe['get-error'].host}`;
  if (probe.allocated) return `whether ${probe.allocated.node} ${range(probe.allocated.offset, probe.allocated.length)} is allocated`;
  if (probe.job) return `whether a ${probe.job.type} job runs on the ${probe.job.host}`;
  return `how many ${probe.count!.event} events since ${probe.count!.since === 'lesson-start' ? 'the lesson started' : 'the last checkpoint'}`;
}
