/**
 * src/engine/qmp/equivalents.ts: the QMP each scenario step stands for. Beyond the shapes, each
 * equivalent with QMP is typed into the engine as `qmp` steps, from the same state as the step,
 * and must reach the step's state; where it cannot (no QMP kills a host; the step's own
 * x-blockdev-change after a failover to the primary), the test checks exactly the difference
 * the equivalent's text admits, so a change in the engine that closes or widens it fails here
 * and the text gets updated.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { commandsToType, hostsOf, qmpEquivalent, type LooseStep, type QmpCommandText } from '../../src/engine/qmp/equivalents.js';
import { formatQmpCommand, formatQmpEvent, formatQmpJson } from '../../src/engine/qmp/qmp-json.js';
import { performStep } from '../../src/engine/scenario/step-executor.js';
import type { ActionStep } from '../../src/engine/scenario/schema.js';
import type { HostName } from '../../src/engine/sim/events.js';
import { digestImages } from '../../src/worker/disk-digest.js';
import { guestWritePattern, newSimulation } from './support/simulation.js';
import { KiB } from './support/bytes.js';

/** Runs an op as a scenario step; fails the test when it fails. */
function runOp(sim: Simulation, step: LooseStep): void {
  const performed = performStep(sim, step as unknown as ActionStep);
  if (performed.kind !== 'done' || performed.observed.kind !== 'control') throw new Error(`${step.op} is not a control step`);
  const outcome = performed.observed.outcome;
  if (!outcome.ok) throw new Error(`${step.op} failed: ${outcome.message}`);
}

/** Types one QMP command as a `qmp` step; returns the reply's return value or error message. */
function typeQmp(sim: Simulation, host: HostName, command: QmpCommandText): { ok: true; value: unknown } | { ok: false; message: string } {
  const performed = performStep(sim, { op: 'qmp', host, execute: command.execute, ...(command.arguments ? { arguments: { ...command.arguments } } : {}) } as ActionStep);
  if (performed.kind !== 'done' || performed.observed.kind !== 'control') throw new Error('a qmp step is a control step');
  const outcome = performed.observed.outcome;
  return outcome.ok ? { ok: true, value: outcome.value } : { ok: false, message: outcome.message };
}

/** Types every command of a step's equivalent, each of which must succeed. */
function typeEquivalent(sim: Simulation, step: LooseStep): void {
  const equivalent = qmpEquivalent(step, { checkpointDelayMs: sim.colo.primary.state.checkpointDelayMs });
  for (const { host, command } of commandsToType(equivalent)) expect(typeQmp(sim, host, command), `${host}: ${formatQmpCommand(command)}`).toEqual({ ok: true, value: {} });
}

/** Runs the clock, one scheduler entry at a time, until `done` holds. */
function runUntil(sim: Simulation, done: () => boolean, what: string): void {
  for (let guard = 0; !done(); guard++) {
    if (guard > 100_000 || !sim.scheduler.runNext()) throw new Error(`the clock stopped before ${what}`);
  }
}

function coloOf(sim: Simulation, host: HostName) {
  const process = sim.colo.process(host);
  const state = process.state;
  return {
    mode: process.mode,
    lastMode: state.lastMode,
    failover: state.failover,
    runState: state.runState,
    outgoing: state.outgoing,
    incoming: state.incoming,
    xColo: state.xColo,
    checkpointDelayMs: state.checkpointDelayMs,
    thread: state.thread?.place ?? null,
    checkpointsDone: state.checkpointsDone,
    crashed: state.crashed,
    qmpEvents: sim.colo.qmpEventsOf(host).map((event) => ({ name: event.name, data: event.data })),
  };
}

function stagesOf(sim: Simulation): Record<string, string> {
  return Object.fromEntries([sim.primary, sim.secondary].flatMap((host) => host.replicationNodes.map((node) => [node.nodeName, node.stage])));
}

function quorumChildren(sim: Simulation, name: string): string[] {
  return [...sim.findNode(name)!.children.keys()].sort();
}

/** Everything the app shows of a simulation, besides the event log. */
function observed(sim: Simulation) {
  return {
    nowUs: sim.nowUs,
    primary: coloOf(sim, 'primary'),
    secondary: coloOf(sim, 'secondary'),
    stages: stagesOf(sim),
    disks: digestImages(sim),
    jobs: [sim.primary, sim.secondary].flatMap((host) => host.jobs.all().map((job) => `${host.name}:${job.type}`)),
    linkUp: sim.link.isUp,
    coloDisk: quorumChildren(sim, 'colo-disk'),
  };
}

/** Two simulations brought to the same state by the same steps. */
function twins(prepare: (sim: Simulation) => void = () => {}): [Simulation, Simulation] {
  const pair = [newSimulation(), newSimulation()] as [Simulation, Simulation];
  for (const sim of pair) prepare(sim);
  expect(observed(pair[1])).toEqual(observed(pair[0]));
  return pair;
}

/** COLO running, a checkpoint, then writes of both VMs the next checkpoint or failover has to handle. */
function coloWithWork(sim: Simulation): void {
  runOp(sim, { op: 'colo-start' });
  expect(guestWritePattern(sim, 'primary', 0, 64 * KiB, 0x11)).toBe('ok');
  runOp(sim, { op: 'checkpoint' });
  expect(guestWritePattern(sim, 'primary', 128 * KiB, 8 * KiB, 0x22)).toBe('ok');
  expect(guestWritePattern(sim, 'secondary', 32 * KiB, 8 * KiB, 0x33)).toBe('ok');
}

describe('qmpEquivalent: what each step stands for', () => {
  it('colo-start: x-colo and migrate tcp:secondary:9998 on the primary, after the secondary\'s preparation of COLO-FT.txt (done at boot)', () => {
    const equivalent = qmpEquivalent({ op: 'colo-start' });
    expect(commandsToType(equivalent).map(({ host, command }) => `${host} ${formatQmpCommand(command)}`)).toEqual([
      'primary {"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-colo", "state": true}]}}',
      'primary {"execute": "migrate", "arguments": {"uri": "tcp:secondary:9998"}}',
    ]);
    const atBoot = equivalent.parts.filter((part) => part.atBoot);
    expect(atBoot.map((part) => (part.kind === 'qmp' ? part.command.execute : 'command line'))).toEqual(['command line', 'nbd-server-start', 'nbd-server-add']);
    expect(atBoot.every((part) => part.host === 'secondary')).toBe(true);
    expect(hostsOf(equivalent)).toEqual(['primary', 'secondary']);
  });

  it('checkpoint: migrate-set-parameters with the primary\'s current x-checkpoint-delay, and says QEMU 7.2 has no other way', () => {
    expect(commandsToType(qmpEquivalent({ op: 'checkpoint' }))).toEqual([{ host: 'primary', command: { execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 20000 } } }]);
    const equivalent = qmpEquivalent({ op: 'checkpoint' }, { checkpointDelayMs: 250 });
    expect(commandsToType(equivalent)).toEqual([{ host: 'primary', command: { execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 250 } } }]);
    expect(equivalent.notes.join(' ')).toContain('no QMP command that asks for a checkpoint');
    expect(equivalent.notes.join(' ')).toContain('colo_checkpoint_notify');
  });

  it('failover: the other host is lost (no QMP), then x-colo-lost-heartbeat on the survivor', () => {
    for (const to of ['primary', 'secondary'] as const) {
      const lost = to === 'primary' ? 'secondary' : 'primary';
      const equivalent = qmpEquivalent({ op: 'failover', to });
      expect(equivalent.parts.map((part) => [part.kind, part.host])).toEqual([
        ['no-qmp', lost],
        ['qmp', to],
      ]);
      expect(commandsToType(equivalent)).toEqual([{ host: to, command: { execute: 'x-colo-lost-heartbeat' } }]);
      expect(equivalent.differences[0]).toContain("No QMP command kills a host (colo-sim's host-down fault does, as the step does first)");
    }
    expect(qmpEquivalent({ op: 'failover', to: 'primary' }).differences.join(' ')).toContain('x-blockdev-change');
    expect(qmpEquivalent({ op: 'failover', to: 'secondary' }).differences.join(' ')).not.toContain('x-blockdev-change');
  });

  it('a qmp step is itself, and open is blockdev-add with the options it gives', () => {
    expect(commandsToType(qmpEquivalent({ op: 'qmp', host: 'secondary', execute: 'query-status' }))).toEqual([{ host: 'secondary', command: { execute: 'query-status' } }]);
    expect(commandsToType(qmpEquivalent({ op: 'qmp', host: 'primary', execute: 'migrate', arguments: { uri: 'tcp:secondary:1' } }))).toEqual([
      { host: 'primary', command: { execute: 'migrate', arguments: { uri: 'tcp:secondary:1' } } },
    ]);
    expect(commandsToType(qmpEquivalent({ op: 'open', host: 'secondary', options: { file: 'active-disk', 'top-id': 'top-disk', 'node-name': 'r2', mode: 'secondary' } }))).toEqual([
      { host: 'secondary', command: { execute: 'blockdev-add', arguments: { driver: 'replication', 'node-name': 'r2', mode: 'secondary', 'top-id': 'top-disk', file: 'active-disk' } } },
    ]);
  });

  it('steps without QMP say what they are instead, and name no command', () => {
    const cases: Array<[LooseStep, RegExp]> = [
      [{ op: 'guest-write', vm: 'secondary', offset: 0, length: 512, pattern: 1 }, /secondary VM's own write: QMP does not do a guest's I\/O/],
      [{ op: 'guest-read', vm: 'primary', offset: 0, length: 512 }, /primary VM's own read/],
      [{ op: 'write', node: 'hidden-disk', offset: 0, length: 512, pattern: 1 }, /write through hidden-disk .*no QMP command does I\/O/],
      [{ op: 'read', node: 'active-disk', offset: 0, length: 512 }, /read through active-disk/],
      [{ op: 'workload', writesPerSecond: 10 }, /guests' own I\/O/],
      [{ op: 'replication', host: 'secondary', action: 'checkpoint' }, /^replication_do_checkpoint_all on the secondary: COLO calls it/],
      [{ op: 'replication', host: 'primary', action: 'get-error' }, /^replication_get_error_all on the primary/],
      [{ op: 'replication' }, /^replication_start_all, replication_do_checkpoint_all, replication_get_error_all, replication_stop_all: COLO calls them/],
      [{ op: 'fault', kind: 'link-down' }, /network between the hosts fails/],
      [{ op: 'fault', kind: 'link-up' }, /network between the hosts comes back/],
      [{ op: 'fault', kind: 'io-error', node: 'hidden-disk', on: 'write' }, /hidden-disk's storage fails with EIO/],
      [{ op: 'fault', kind: 'eject', node: 'active-disk' }, /bs->drv == NULL/],
      [{ op: 'fault', kind: 'clear' }, /faults are lifted/],
      [{ op: 'fault', kind: 'link-hang' }, /peer stops answering and nothing resets the connection/],
      [{ op: 'fault', kind: 'host-down', host: 'secondary' }, /^The secondary host dies: .*No QMP command does this/],
      [{ op: 'flush', vm: 'secondary' }, /^The secondary VM's own flush .*QMP does not do a guest's I\/O/],
      [{ op: 'flush', node: 'hidden-disk' }, /^A flush from hidden-disk down .*no QMP command that flushes a node/],
      [{ op: 'restart', host: 'primary', disks: 'fresh' }, /lost primary host's machine as the new secondary, with a new empty disk.*starting a QEMU is not QMP/],
      [{ op: 'restart', host: 'secondary', disks: 'kept' }, /lost secondary host's machine as the new secondary, with its old disk/],
      [{ op: 'fault', kind: 'cancel-job', host: 'secondary', type: 'backup' }, /JOB_INTERNAL in block\/replication.c.*DeviceNotActive "Block job '…' not found"/],
      [{ op: 'run', for: '1ms' }, /virtual clock/],
      [{ op: 'check', same: ['primary-disk', 'secondary-disk'] }, /colo-sim check/],
      [{ op: 'say', text: 'hello' }, /Narration/],
    ];
    for (const [step, what] of cases) {
      const equivalent = qmpEquivalent(step);
      expect(commandsToType(equivalent), step.op).toEqual([]);
      expect(equivalent.parts.length, step.op).toBe(1);
      const part = equivalent.parts[0]!;
      expect(part.kind === 'no-qmp' ? part.what : '', JSON.stringify(step)).toMatch(what);
    }
  });
});

describe('qmpEquivalent covers every step of the scenario format', () => {
  /** The ops (and fault kinds) public/scenario.schema.json allows: a new op or fault must say what it stands for. */
  function schemaSteps(): LooseStep[] {
    const schema: unknown = JSON.parse(readFileSync(new URL('../../public/scenario.schema.json', import.meta.url), 'utf8'));
    const steps: LooseStep[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (value === null || typeof value !== 'object') return;
      const properties = (value as { properties?: Record<string, { const?: unknown }> }).properties;
      const op = properties?.op?.const;
      if (typeof op === 'string') steps.push({ op, ...(typeof properties?.kind?.const === 'string' ? { kind: properties.kind.const } : {}) });
      Object.values(value).forEach(walk);
    };
    walk(schema);
    return steps;
  }

  it('no op or fault kind of the schema falls through to "colo-sim has no …"', () => {
    const steps = schemaSteps();
    expect(steps.map((step) => step.op)).toEqual(expect.arrayContaining(['flush', 'restart', 'qmp', 'colo-start']));
    expect(steps.filter((step) => step.op === 'fault').map((step) => step.kind)).toEqual(expect.arrayContaining(['host-down', 'link-hang', 'io-error']));
    for (const step of steps) {
      const texts = qmpEquivalent(step).parts.map((part) => (part.kind === 'no-qmp' ? part.what : ''));
      expect(texts.join(' '), JSON.stringify(step)).not.toMatch(/^colo-sim has no /);
    }
    // The fallback itself, so that the check above can fail.
    expect(qmpEquivalent({ op: 'teleport' }).parts).toEqual([{ kind: 'no-qmp', what: 'colo-sim has no step "teleport".' }]);
  });
});

describe('qmp-json: what QEMU\'s monitor prints', () => {
  it('separates members with ", " and keys with ": ", on one line, as qobject_to_json does', () => {
    expect(formatQmpJson({ return: {} })).toBe('{"return": {}}');
    expect(formatQmpJson({ error: { class: 'GenericError', desc: 'x "y"' } })).toBe('{"error": {"class": "GenericError", "desc": "x \\"y\\""}}');
    expect(formatQmpJson([])).toBe('[]');
    expect(formatQmpJson({ a: [1, true, null, 'b'] })).toBe('{"a": [1, true, null, "b"]}');
    expect(formatQmpCommand({ execute: 'query-status' })).toBe('{"execute": "query-status"}');
  });

  it('stamps events with the virtual time, data only when there is some', () => {
    expect(formatQmpEvent('STOP', {}, 2_500_017)).toBe('{"timestamp": {"seconds": 2, "microseconds": 500017}, "event": "STOP"}');
    expect(formatQmpEvent('COLO_EXIT', { mode: 'primary', reason: 'request' }, 17)).toBe(
      '{"timestamp": {"seconds": 0, "microseconds": 17}, "event": "COLO_EXIT", "data": {"mode": "primary", "reason": "request"}}',
    );
  });
});

describe('each equivalent typed into the engine reaches the step\'s state', () => {
  it('colo-start: the same COLO state, stages, jobs, events and instant, once the clock has run the migration', () => {
    const [byStep, byQmp] = twins();
    runOp(byStep, { op: 'colo-start' });
    typeEquivalent(byQmp, { op: 'colo-start' });
    runUntil(byQmp, () => byQmp.colo.primary.state.thread?.place === 'idle', "the primary's COLO thread runs");
    expect(observed(byQmp)).toEqual(observed(byStep));
    expect(byQmp.coloState).toBe('running');
  });

  it("colo-start: what it lists as done at boot is done in colo-sim's secondary (typing it again is refused)", () => {
    const sim = newSimulation();
    const atBoot = qmpEquivalent({ op: 'colo-start' }).parts.flatMap((part) => (part.kind === 'qmp' && part.atBoot ? [part.command] : []));
    expect(atBoot.map((command) => typeQmp(sim, 'secondary', command))).toEqual([
      { ok: false, message: 'NBD server already running' },
      { ok: false, message: "Block export id 'secondary-disk' is already in use" },
    ]);
    // -incoming on the command line: the incoming migration is started already.
    expect(typeQmp(sim, 'secondary', { execute: 'migrate-incoming', arguments: { uri: 'tcp:0.0.0.0:9998' } })).toEqual({ ok: false, message: 'The incoming migration has already been started' });
  });

  it('checkpoint: the same transaction (hidden and active disks emptied, one more checkpoint on both sides)', () => {
    const [byStep, byQmp] = twins(coloWithWork);
    const before = byStep.colo.primary.state.checkpointsDone;
    runOp(byStep, { op: 'checkpoint' });
    typeEquivalent(byQmp, { op: 'checkpoint' });
    runUntil(byQmp, () => byQmp.colo.primary.state.checkpointsDone > before && byQmp.colo.primary.state.thread?.place === 'idle', 'the checkpoint ends');
    expect(observed(byQmp)).toEqual(observed(byStep));
    expect(byQmp.colo.secondary.state.checkpointsDone).toBe(before + 1);
  });

  it('checkpoint with a changed x-checkpoint-delay keeps that delay', () => {
    const [byStep, byQmp] = twins((sim) => {
      coloWithWork(sim);
      expect(typeQmp(sim, 'primary', { execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 300 } })).toEqual({ ok: true, value: {} });
      runUntil(sim, () => sim.colo.primary.state.thread?.place === 'idle' && sim.colo.primary.state.checkpointsDone === 2, 'the checkpoint the new delay started ends');
    });
    runOp(byStep, { op: 'checkpoint' });
    typeEquivalent(byQmp, { op: 'checkpoint' });
    runUntil(byQmp, () => byQmp.colo.primary.state.checkpointsDone === 3 && byQmp.colo.primary.state.thread?.place === 'idle', 'the checkpoint ends');
    expect(observed(byQmp)).toEqual(observed(byStep));
    expect(byQmp.colo.primary.state.checkpointDelayMs).toBe(300);
  });

  it('checkpoint outside COLO: the step fails, migrate-set-parameters only sets the parameter (the difference it states)', () => {
    const [byStep, byQmp] = twins();
    const performed = performStep(byStep, { op: 'checkpoint' } as ActionStep);
    expect(performed.kind === 'done' && performed.observed.kind === 'control' && !performed.observed.outcome.ok).toBe(true);
    typeEquivalent(byQmp, { op: 'checkpoint' });
    expect(observed(byQmp)).toEqual(observed(byStep));
    expect(qmpEquivalent({ op: 'checkpoint' }).differences[0]).toContain('outside COLO it only sets the parameter');
  });

  it('failover to the secondary: the survivor fails over exactly as in the step; the primary is not lost (the difference it states)', () => {
    const [byStep, byQmp] = twins(coloWithWork);
    runOp(byStep, { op: 'failover', to: 'secondary' });
    typeEquivalent(byQmp, { op: 'failover', to: 'secondary' });
    runUntil(byQmp, () => byQmp.colo.secondary.state.failover === 'completed' && byQmp.colo.secondary.state.thread?.place === 'finished', "the secondary's failover ends");
    const step = observed(byStep);
    const typed = observed(byQmp);
    expect(typed.nowUs).toBe(step.nowUs);
    expect(typed.secondary).toEqual(step.secondary);
    expect(typed.stages['replication-secondary']).toBe(step.stages['replication-secondary']);
    expect(typed.jobs).toEqual(step.jobs);
    for (const image of ['secondary-disk', 'hidden-disk', 'active-disk']) expect(typed.disks[image], image).toBe(step.disks[image]);

    // The step's primary is lost; typed, it is up and so is the link; its idle COLO thread fails
    // on the closed channel at its next checkpoint (x-checkpoint-delay later).
    expect(step.primary.crashed).toBe(true);
    expect(step.linkUp).toBe(false);
    expect(typed.primary.crashed).toBe(false);
    expect(typed.linkUp).toBe(true);
    expect(typed.primary.thread).toBe('idle');
    const exitAtUs = byQmp.nowUs + byQmp.colo.primary.state.checkpointDelayMs * 1000;
    runUntil(byQmp, () => byQmp.colo.primary.state.thread?.place === 'exited', "the primary's COLO thread exits");
    expect(byQmp.nowUs).toBeLessThanOrEqual(exitAtUs);
    expect(coloOf(byQmp, 'primary').qmpEvents.at(-1)).toEqual({ name: 'COLO_EXIT', data: { mode: 'primary', reason: 'error' } });
    expect(byQmp.colo.primary.isRunning).toBe(true);

    // The active commit ends the same way in both.
    expect(byStep.runUntilIdle()).toBe(true);
    expect(byQmp.runUntilIdle()).toBe(true);
    for (const image of ['secondary-disk', 'hidden-disk', 'active-disk']) expect(digestImages(byQmp)[image], image).toBe(digestImages(byStep)[image]);
    expect(stagesOf(byQmp)['replication-secondary']).toBe('done');
  });

  it('failover to the primary: the same failover on the primary; replication-primary stays in colo-disk until x-blockdev-change is typed (the difference it states)', () => {
    const [byStep, byQmp] = twins(coloWithWork);
    runOp(byStep, { op: 'failover', to: 'primary' });
    typeEquivalent(byQmp, { op: 'failover', to: 'primary' });
    runUntil(byQmp, () => byQmp.colo.primary.state.failover === 'completed' && byQmp.colo.primary.state.thread?.place === 'finished', "the primary's failover ends");
    const step = observed(byStep);
    const typed = observed(byQmp);
    expect(typed.nowUs).toBe(step.nowUs);
    expect(typed.primary).toEqual(step.primary);
    expect(typed.stages['replication-primary']).toBe(step.stages['replication-primary']);
    expect(typed.disks['primary-disk']).toBe(step.disks['primary-disk']);
    expect(step.coloDisk).toEqual(['children.0']);
    expect(typed.coloDisk).toEqual(['children.0', 'children.1']);
    expect(step.secondary.crashed).toBe(true);
    expect(typed.secondary.crashed).toBe(false);
    // The x-blockdev-change the difference tells the operator to type takes it out as the step did.
    expect(typeQmp(byQmp, 'primary', { execute: 'x-blockdev-change', arguments: { parent: 'colo-disk', child: 'children.1' } })).toEqual({ ok: true, value: {} });
    expect(quorumChildren(byQmp, 'colo-disk')).toEqual(step.coloDisk);
  });

  it("failover after colo-sim's host-down fault: typed x-colo-lost-heartbeat (and the primary's x-blockdev-change) reach exactly the step's state", () => {
    for (const to of ['secondary', 'primary'] as const) {
      const lost = to === 'primary' ? 'secondary' : 'primary';
      const [byStep, byQmp] = twins(coloWithWork);
      runOp(byStep, { op: 'failover', to });
      runOp(byQmp, { op: 'fault', kind: 'host-down', host: lost });
      typeEquivalent(byQmp, { op: 'failover', to });
      runUntil(byQmp, () => byQmp.colo.process(to).state.failover === 'completed' && byQmp.colo.process(to).state.thread?.place === 'finished', `the ${to}'s failover ends`);
      if (to === 'primary') expect(typeQmp(byQmp, 'primary', { execute: 'x-blockdev-change', arguments: { parent: 'colo-disk', child: 'children.1' } })).toEqual({ ok: true, value: {} });
      expect(observed(byQmp), to).toEqual(observed(byStep));
      expect(byStep.runUntilIdle()).toBe(true);
      expect(byQmp.runUntilIdle()).toBe(true);
      expect(observed(byQmp), `${to}, idle`).toEqual(observed(byStep));
    }
  });

  it('open: blockdev-add opens the same node; a missing mode is refused with the QAPI visitor\'s words (the difference it states)', () => {
    const options = { 'node-name': 'replication-extra', mode: 'secondary', 'top-id': 'top-disk', file: 'active-disk' };
    const [byStep, byQmp] = twins();
    runOp(byStep, { op: 'open', host: 'secondary', options });
    typeEquivalent(byQmp, { op: 'open', host: 'secondary', options });
    expect(observed(byQmp)).toEqual(observed(byStep));
    expect(byQmp.replicationNode('replication-extra')?.mode).toBe('secondary');

    const missingMode = { 'node-name': 'r9', file: 'active-disk' };
    const [command] = commandsToType(qmpEquivalent({ op: 'open', host: 'secondary', options: missingMode }));
    expect(typeQmp(byQmp, 'secondary', command!.command)).toEqual({ ok: false, message: "Parameter 'mode' is missing" });
    const performed = performStep(byStep, { op: 'open', host: 'secondary', options: missingMode } as ActionStep);
    expect(performed.kind === 'done' && performed.observed.kind === 'control' ? performed.observed.outcome : undefined).toEqual({ ok: false, message: 'Missing the option mode' });
    expect(qmpEquivalent({ op: 'open', host: 'secondary', options: missingMode }).differences[0]).toContain("\"Parameter 'mode' is missing\" there and \"Missing the option mode\" in the step");
  });

  it('cancel-job has no QMP: replication\'s jobs are internal, query-block-jobs lists none and block-job-cancel cannot find them', () => {
    const sim = newSimulation();
    runOp(sim, { op: 'colo-start' });
    const backup = sim.secondary.jobs.ofType('backup');
    expect(backup).toBeDefined();
    expect(typeQmp(sim, 'secondary', { execute: 'query-block-jobs' })).toEqual({ ok: true, value: [] });
    expect(typeQmp(sim, 'secondary', { execute: 'block-job-cancel', arguments: { device: backup!.id } })).toEqual({ ok: false, message: `Block job '${backup!.id}' not found` });
    expect(sim.secondary.jobs.ofType('backup')).toBe(backup);
  });
});
