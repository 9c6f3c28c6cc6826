/**
 * Every QMP command of src/engine/qmp/qmp.ts (COMMANDS): its reply in the normal case and each of
 * its errors, with QEMU 7.2's exact text and error class, and the argument checks of the QAPI
 * input visitor. The expected words are written from QEMU 7.2's sources (named in each test),
 * not from the engine: migration/*.c, qapi/migration.json and include/qapi/qmp/qerror.h are in
 * the shared reference; the monitor, the visitor, blockdev.c and blockdev-nbd.c are quoted from
 * QEMU 7.2 as the test names say.
 */
import { describe, expect, it } from 'vitest';
import type { HostName } from '../../src/engine/sim/events.js';
import type { Simulation } from '../../src/engine/colo/simulation.js';
import { COMMANDS, executeQmp, type QmpReply } from '../../src/engine/qmp/qmp.js';
import { guestWritePattern, newSimulation } from './support/simulation.js';

function sim(): Simulation {
  return newSimulation();
}

function qmp(s: Simulation, host: HostName, execute: string, args?: Record<string, unknown>): QmpReply {
  return executeQmp(s, host, { execute, ...(args ? { arguments: args } : {}) });
}

/** The return value; fails the test with QEMU's error when the command failed. */
function returned(reply: QmpReply): unknown {
  if ('error' in reply) throw new Error(`expected a return, got ${reply.error.class}: ${reply.error.desc}`);
  return reply.return;
}

function generic(desc: string): QmpReply {
  return { error: { class: 'GenericError', desc } };
}

function status(s: Simulation, host: HostName): unknown {
  return returned(qmp(s, host, 'query-status'));
}

function coloStatus(s: Simulation, host: HostName): unknown {
  return returned(qmp(s, host, 'query-colo-status'));
}

/** QMP event names a host emitted, in order. */
function eventNames(s: Simulation, host: HostName): string[] {
  return s.colo.qmpEventsOf(host).map((event) => event.name);
}

function startColo(s: Simulation): void {
  const outcome = s.settle(s.coloStart());
  if (!outcome.ok) throw new Error(`COLO did not start: ${outcome.message}`);
}

const X_COLO_ON = { capabilities: [{ capability: 'x-colo', state: true }] };

// qapi/migration.json (7.2): MigrationCapability, in the enum's order.
const MIGRATION_CAPABILITIES_7_2 = [
  'xbzrle', 'rdma-pin-all', 'auto-converge', 'zero-blocks', 'compress', 'events', 'postcopy-ram', 'x-colo', 'release-ram', 'block', 'return-path',
  'pause-before-switchover', 'multifd', 'dirty-bitmaps', 'postcopy-blocktime', 'late-block-activate', 'x-ignore-shared', 'validate-uuid',
  'background-snapshot', 'zero-copy-send', 'postcopy-preempt',
];

describe('the command table', () => {
  it('holds the commands of issues 7 and 8, each with its QEMU function', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(
      [
        'block-job-cancel', 'blockdev-add', 'cont', 'migrate', 'migrate-incoming', 'migrate-set-capabilities', 'migrate-set-parameters', 'nbd-server-add',
        'nbd-server-start', 'nbd-server-stop', 'qmp_capabilities', 'query-block-jobs', 'query-colo-status', 'query-migrate', 'query-migrate-capabilities',
        'query-migrate-parameters', 'query-named-block-nodes', 'query-status', 'stop', 'x-colo-lost-heartbeat',
        // issue 8: the runbooks of COLO-FT.txt, and replication's own commands (migration/colo.c)
        'x-blockdev-change', 'blockdev-del', 'drive-mirror', 'block-job-complete', 'human-monitor-command', 'object-add', 'object-del', 'chardev-add',
        'chardev-remove', 'yank', 'query-yank', 'xen-set-replication', 'query-xen-replication-status', 'xen-colo-do-checkpoint',
      ].sort(),
    );
    for (const [name, command] of Object.entries(COMMANDS)) expect(command.qemuFunction, name).toMatch(/^qmp_/);
  });
});

describe('dispatch (qapi/qmp-dispatch.c qmp_dispatch)', () => {
  it('qmp_dispatch: an unknown command is CommandNotFound "The command X has not been found"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'query-cheese')).toEqual({ error: { class: 'CommandNotFound', desc: 'The command query-cheese has not been found' } });
    // Names are exact: QMP has no case folding and no underscore/dash aliasing for these.
    expect(qmp(s, 'secondary', 'Query-Status')).toEqual({ error: { class: 'CommandNotFound', desc: 'The command Query-Status has not been found' } });
    expect(qmp(s, 'primary', 'x_colo_lost_heartbeat')).toEqual({ error: { class: 'CommandNotFound', desc: 'The command x_colo_lost_heartbeat has not been found' } });
  });

  it('qmp_dispatch: the command table has no prototype members ("constructor" is unknown too)', () => {
    expect(qmp(sim(), 'primary', 'constructor')).toEqual({ error: { class: 'CommandNotFound', desc: 'The command constructor has not been found' } });
  });

  it('colo-sim: a lost host\'s QEMU answers no command, known or not', () => {
    const s = sim();
    startColo(s);
    expect(s.settle(s.failover('primary')).ok).toBe(true);
    for (const command of ['query-status', 'query-colo-status', 'x-colo-lost-heartbeat', 'cont', 'no-such-command']) {
      expect(qmp(s, 'secondary', command)).toEqual(generic('The secondary host is lost: its QEMU does not answer'));
    }
    expect(status(s, 'primary')).toEqual({ status: 'running', singlestep: false, running: true });
  });
});

describe('arguments (qapi/qobject-input-visitor.c, qapi/qapi-visit-core.c)', () => {
  it('qobject_input_get_object: a missing member is QERR_MISSING_PARAMETER "Parameter \'X\' is missing"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate')).toEqual(generic("Parameter 'uri' is missing"));
    expect(qmp(s, 'primary', 'migrate-set-capabilities', {})).toEqual(generic("Parameter 'capabilities' is missing"));
    expect(qmp(s, 'primary', 'block-job-cancel', { force: true })).toEqual(generic("Parameter 'device' is missing"));
    expect(qmp(s, 'secondary', 'nbd-server-add', {})).toEqual(generic("Parameter 'device' is missing"));
    expect(qmp(s, 'primary', 'nbd-server-start', {})).toEqual(generic("Parameter 'addr' is missing"));
  });

  it('qobject_input_type_str/_bool, start_list/_struct: a mistyped member is QERR_INVALID_PARAMETER_TYPE "Invalid parameter type for \'X\', expected: T"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate', { uri: 9998 })).toEqual(generic("Invalid parameter type for 'uri', expected: string"));
    expect(qmp(s, 'primary', 'migrate', { uri: null })).toEqual(generic("Invalid parameter type for 'uri', expected: string"));
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998', blk: 'yes' })).toEqual(generic("Invalid parameter type for 'blk', expected: boolean"));
    expect(qmp(s, 'primary', 'query-named-block-nodes', { flat: 1 })).toEqual(generic("Invalid parameter type for 'flat', expected: boolean"));
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: { capability: 'x-colo', state: true } })).toEqual(
      generic("Invalid parameter type for 'capabilities', expected: array"),
    );
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: ['x-colo'] })).toEqual(generic("Invalid parameter type for 'capabilities[0]', expected: object"));
    expect(qmp(s, 'primary', 'nbd-server-start', { addr: 'tcp:0:10809' })).toEqual(generic("Invalid parameter type for 'addr', expected: object"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'compress-wait-thread': 1 })).toEqual(generic("Invalid parameter type for 'compress-wait-thread', expected: boolean"));
  });

  it('qobject_input_check_struct: an unknown member is "Parameter \'X\' is unexpected", after the members are visited', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'query-status', { verbose: true })).toEqual(generic("Parameter 'verbose' is unexpected"));
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat', { force: true })).toEqual(generic("Parameter 'force' is unexpected"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-dely': 100 })).toEqual(generic("Parameter 'x-checkpoint-dely' is unexpected"));
    // Schema members first: a missing uri wins over an unknown member.
    expect(qmp(s, 'primary', 'migrate', { url: 'tcp:secondary:9998' })).toEqual(generic("Parameter 'uri' is missing"));
  });

  it('full_name: members of list elements are named capabilities[N].member', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ state: true }] })).toEqual(generic("Parameter 'capabilities[0].capability' is missing"));
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }, { capability: 'events', state: 'on' }] })).toEqual(
      generic("Invalid parameter type for 'capabilities[1].state', expected: boolean"),
    );
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true, why: 'COLO' }] })).toEqual(
      generic("Parameter 'capabilities[0].why' is unexpected"),
    );
    expect(qmp(s, 'primary', 'nbd-server-start', { addr: { type: 'inet' } })).toEqual(generic("Parameter 'addr.data' is missing"));
  });

  it('input_type_enum: a value not in the enum is "Parameter \'X\' does not accept value \'V\'" (the member\'s own name, since 6.2)', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 'colo', state: true }] })).toEqual(
      generic("Parameter 'capability' does not accept value 'colo'"),
    );
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 1, state: true }] })).toEqual(
      generic("Invalid parameter type for 'capabilities[0].capability', expected: string"),
    );
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'multifd-compression': 'lz4' })).toEqual(generic("Parameter 'multifd-compression' does not accept value 'lz4'"));
    expect(qmp(s, 'primary', 'nbd-server-start', { addr: { type: 'tcp', data: {} } })).toEqual(generic("Parameter 'type' does not accept value 'tcp'"));
  });

  it('visit_type_QMPCapabilityList: list elements are visited with no name, so an enum error says \'null\'', () => {
    expect(qmp(sim(), 'primary', 'qmp_capabilities', { enable: ['oob', 'turbo'] })).toEqual(generic("Parameter 'null' does not accept value 'turbo'"));
  });

  it('qobject_input_type_uint64 then visit_type_uintN: "expects uint64" for a non-integer, "expects uint32_t"/"uint8_t" out of range', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': '100' })).toEqual(generic("Parameter 'x-checkpoint-delay' expects uint64"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 1.5 })).toEqual(generic("Parameter 'x-checkpoint-delay' expects uint64"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 4294967296 })).toEqual(generic("Parameter 'x-checkpoint-delay' expects uint32_t"));
    // A negative number is taken as a uint64 (two's complement), then out of range.
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': -1 })).toEqual(generic("Parameter 'x-checkpoint-delay' expects uint32_t"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'compress-level': 256 })).toEqual(generic("Parameter 'compress-level' expects uint8_t"));
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'downtime-limit': 'long' })).toEqual(generic("Parameter 'downtime-limit' expects uint64"));
    expect(qmp(s, 'primary', 'nbd-server-start', { addr: { type: 'inet', data: {} }, 'max-connections': 2 ** 34 })).toEqual(
      generic("Parameter 'max-connections' expects uint32_t"),
    );
    expect(returned(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 4294967295 }))).toEqual({});
  });

  it('qmp_dispatch: a command whose arguments fail the visitor does nothing', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 5000, 'compress-level': 300 })).toEqual(generic("Parameter 'compress-level' expects uint8_t"));
    expect(returned(qmp(s, 'primary', 'query-migrate-parameters'))).toMatchObject({ 'x-checkpoint-delay': 20000 });
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998', detach: 'no' })).toEqual(generic("Invalid parameter type for 'detach', expected: boolean"));
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toEqual({});
  });
});

describe('qmp_capabilities (monitor/qmp-cmds-control.c qmp_qmp_capabilities)', () => {
  it('qmp_qmp_capabilities: {} once per monitor, then CommandNotFound "Capabilities negotiation is already complete, command ignored"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'qmp_capabilities')).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'qmp_capabilities')).toEqual({ error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' } });
    expect(qmp(s, 'primary', 'qmp_capabilities', { enable: [] })).toEqual({ error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' } });
    // Each host has its own monitor.
    expect(qmp(s, 'secondary', 'qmp_capabilities', { enable: [] })).toEqual({ return: {} });
  });
});

describe('query-colo-status (migration/colo.c qmp_query_colo_status)', () => {
  it('qmp_query_colo_status: mode from get_colo_mode, last-mode, reason none before any failover', () => {
    const s = sim();
    expect(coloStatus(s, 'primary')).toEqual({ mode: 'none', 'last-mode': 'none', reason: 'none' });
    expect(coloStatus(s, 'secondary')).toEqual({ mode: 'none', 'last-mode': 'none', reason: 'none' });
    startColo(s);
    expect(coloStatus(s, 'primary')).toEqual({ mode: 'primary', 'last-mode': 'none', reason: 'none' });
    expect(coloStatus(s, 'secondary')).toEqual({ mode: 'secondary', 'last-mode': 'none', reason: 'none' });
  });

  it('qmp_query_colo_status: a pending failover is "processing" only where the outgoing migration is in COLO (migration_in_colo_state), "error" on the secondary', () => {
    const s = sim();
    startColo(s);
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat')).toEqual({ return: {} });
    expect(qmp(s, 'secondary', 'x-colo-lost-heartbeat')).toEqual({ return: {} });
    // The failover bottom halves have not run yet (colo-sim runs a command before a bottom half
    // scheduled in the same instant; QEMU's main loop would usually have run it already).
    expect(coloStatus(s, 'primary')).toEqual({ mode: 'primary', 'last-mode': 'none', reason: 'processing' });
    expect(coloStatus(s, 'secondary')).toEqual({ mode: 'secondary', 'last-mode': 'none', reason: 'error' });
  });

  it('qmp_query_colo_status: after a completed failover, mode none, last-mode the old mode (colo_do_failover), reason request', () => {
    const s = sim();
    startColo(s);
    expect(s.settle(s.failover('secondary')).ok).toBe(true);
    expect(coloStatus(s, 'secondary')).toEqual({ mode: 'none', 'last-mode': 'secondary', reason: 'request' });
  });
});

describe('x-colo-lost-heartbeat (migration/colo-failover.c qmp_x_colo_lost_heartbeat)', () => {
  it('qmp_x_colo_lost_heartbeat: outside COLO, QERR_FEATURE_DISABLED "The feature \'colo\' is not enabled" (7.2; 8.0 says "VM is not in COLO mode")', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat')).toEqual(generic("The feature 'colo' is not enabled"));
    expect(qmp(s, 'secondary', 'x-colo-lost-heartbeat')).toEqual(generic("The feature 'colo' is not enabled"));
  });

  it('failover_request_active: {} in COLO, then "COLO failover is already activated" while it is pending or done', () => {
    const s = sim();
    startColo(s);
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat')).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat')).toEqual(generic('COLO failover is already activated'));
    s.runFor(1000);
    // primary_vm_do_failover completed the migration: the primary is in no COLO mode any more.
    expect(qmp(s, 'primary', 'x-colo-lost-heartbeat')).toEqual(generic("The feature 'colo' is not enabled"));
    expect(eventNames(s, 'primary').slice(-3)).toEqual(['STOP', 'COLO_EXIT', 'RESUME']);
    expect(s.colo.qmpEventsOf('primary').find((event) => event.name === 'COLO_EXIT')?.data).toEqual({ mode: 'primary', reason: 'request' });
  });
});

describe('query-status (softmmu/runstate.c qmp_query_status)', () => {
  it('qmp_query_status: status (RunState), singlestep, running, through COLO start', () => {
    const s = sim();
    expect(status(s, 'primary')).toEqual({ status: 'running', singlestep: false, running: true });
    // The secondary QEMU waits with -incoming.
    expect(status(s, 'secondary')).toEqual({ status: 'inmigrate', singlestep: false, running: false });
    expect(qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON)).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual({ return: {} });
    // migration_completion: vm_stop_force_state(RUN_STATE_FINISH_MIGRATE), until colo_process_checkpoint
    // gets CHECKPOINT_READY (colo-sim's RAM copy takes no time, so this is at once).
    expect(status(s, 'primary')).toEqual({ status: 'finish-migrate', singlestep: false, running: false });
    s.runFor(2000);
    expect(status(s, 'primary')).toEqual({ status: 'running', singlestep: false, running: true });
    expect(status(s, 'secondary')).toEqual({ status: 'running', singlestep: false, running: true });
  });
});

describe('stop and cont (monitor/qmp-cmds.c qmp_stop, qmp_cont)', () => {
  it('qmp_stop: vm_stop(RUN_STATE_PAUSED) with a STOP event; nothing for a VM that does not run (do_vm_stop)', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'stop')).toEqual({ return: {} });
    expect(status(s, 'primary')).toEqual({ status: 'paused', singlestep: false, running: false });
    expect(eventNames(s, 'primary')).toEqual(['STOP']);
    expect(qmp(s, 'primary', 'stop')).toEqual({ return: {} });
    expect(eventNames(s, 'primary')).toEqual(['STOP']);
  });

  it('qmp_stop: on a guest waiting with -incoming, only autostart is cleared: the run state stays inmigrate', () => {
    const s = sim();
    expect(qmp(s, 'secondary', 'stop')).toEqual({ return: {} });
    expect(status(s, 'secondary')).toEqual({ status: 'inmigrate', singlestep: false, running: false });
    expect(eventNames(s, 'secondary')).toEqual([]);
  });

  it('qmp_stop: a VM that COLO stopped stays in run state colo', () => {
    const s = sim();
    startColo(s);
    s.injectFault({ kind: 'io-error', node: 'hidden-disk', on: 'write', count: 1 });
    expect(s.settle(s.checkpoint())).toEqual({ ok: false, message: 'Failed to empty hidden_disk.qcow2: Input/output error' });
    expect(qmp(s, 'secondary', 'stop')).toEqual({ return: {} });
    expect(status(s, 'secondary')).toEqual({ status: 'colo', singlestep: false, running: false });
    // qmp_cont in 7.2 has no check for the colo run state: vm_start.
    expect(qmp(s, 'secondary', 'cont')).toEqual({ return: {} });
    expect(status(s, 'secondary')).toEqual({ status: 'running', singlestep: false, running: true });
    expect(eventNames(s, 'secondary').slice(-1)).toEqual(['RESUME']);
  });

  it('qmp_cont: vm_start with a RESUME event; {} and nothing else for a running VM or one waiting with -incoming', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'cont')).toEqual({ return: {} });
    expect(eventNames(s, 'primary')).toEqual([]);
    qmp(s, 'primary', 'stop');
    expect(qmp(s, 'primary', 'cont')).toEqual({ return: {} });
    expect(eventNames(s, 'primary')).toEqual(['STOP', 'RESUME']);
    expect(qmp(s, 'secondary', 'cont')).toEqual({ return: {} });
    expect(status(s, 'secondary')).toEqual({ status: 'inmigrate', singlestep: false, running: false });
  });

  it('qmp_cont: run state finish-migrate is refused with "Migration is not finalized yet"', () => {
    const s = sim();
    qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON);
    qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' });
    expect(qmp(s, 'primary', 'cont')).toEqual(generic('Migration is not finalized yet'));
    expect(status(s, 'primary')).toEqual({ status: 'finish-migrate', singlestep: false, running: false });
  });
});

describe('migrate-set-capabilities and query-migrate-capabilities (migration/migration.c)', () => {
  it('qmp_query_migrate_capabilities: every MigrationCapability of 7.2 in order, all off', () => {
    const reply = returned(qmp(sim(), 'primary', 'query-migrate-capabilities')) as Array<{ capability: string; state: boolean }>;
    expect(reply.map((entry) => entry.capability)).toEqual(MIGRATION_CAPABILITIES_7_2);
    expect(reply.every((entry) => entry.state === false)).toBe(true);
  });

  it('qmp_migrate_set_capabilities: {} and x-colo is on, per host', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON)).toEqual({ return: {} });
    const capabilities = (host: HostName) => returned(qmp(s, host, 'query-migrate-capabilities')) as Array<{ capability: string; state: boolean }>;
    expect(capabilities('primary').find((entry) => entry.capability === 'x-colo')).toEqual({ capability: 'x-colo', state: true });
    expect(capabilities('secondary').find((entry) => entry.capability === 'x-colo')).toEqual({ capability: 'x-colo', state: false });
    expect(qmp(s, 'primary', 'migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: false }] })).toEqual({ return: {} });
    expect(capabilities('primary').find((entry) => entry.capability === 'x-colo')).toEqual({ capability: 'x-colo', state: false });
  });

  it('qmp_migrate_set_capabilities: accepted during COLO (migration_is_running has no COLO state), refused with QERR_MIGRATION_ACTIVE in setup', () => {
    const s = sim();
    startColo(s);
    expect(qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON)).toEqual({ return: {} });
    // A migrate in COLO leaves the migration in setup (migrate_init before the yank error).
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual(generic('duplicate yank instance'));
    expect(qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON)).toEqual(generic("There's a migration process in progress"));
  });
});

describe('migrate-set-parameters and query-migrate-parameters (migration/migration.c)', () => {
  it('qmp_query_migrate_parameters: x-checkpoint-delay is DEFAULT_MIGRATE_X_CHECKPOINT_DELAY, 20000 ms', () => {
    expect(returned(qmp(sim(), 'primary', 'query-migrate-parameters'))).toMatchObject({ 'x-checkpoint-delay': 20000 });
  });

  it('migrate_params_apply: stores x-checkpoint-delay; outside COLO no checkpoint is asked for', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 3000 })).toEqual({ return: {} });
    expect(returned(qmp(s, 'primary', 'query-migrate-parameters'))).toMatchObject({ 'x-checkpoint-delay': 3000 });
    expect(returned(qmp(s, 'secondary', 'query-migrate-parameters'))).toMatchObject({ 'x-checkpoint-delay': 20000 });
    // Other members are accepted and change nothing colo-sim models.
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'downtime-limit': 300, 'multifd-compression': 'zlib', 'tls-creds': null })).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'migrate-set-parameters', {})).toEqual({ return: {} });
  });

  it('migrate_params_apply: in COLO (migration_in_colo_state) colo_checkpoint_notify runs a checkpoint at once; the new delay is the next period', () => {
    const s = sim();
    startColo(s);
    const checkpointsBefore = s.colo.primary.state.checkpointsDone;
    expect(qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 3000 })).toEqual({ return: {} });
    s.runFor(10_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(checkpointsBefore + 1);
    s.runFor(2_980_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(checkpointsBefore + 1);
    s.runFor(20_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(checkpointsBefore + 2);
  });

  it('colo_do_checkpoint_transaction resets colo_checkpoint_event only after VMSTATE_RECEIVED: a request before that adds no checkpoint, one after it adds one', () => {
    // 500 us each way: VMSTATE_RECEIVED reaches the primary 2 ms after the request is sent.
    const s = sim();
    startColo(s);
    const before = s.colo.primary.state.checkpointsDone;
    qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 60_000 });
    s.runFor(700);
    qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 60_000 });
    s.runFor(20_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(before + 1);
    qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 60_000 });
    s.runFor(2200);
    qmp(s, 'primary', 'migrate-set-parameters', { 'x-checkpoint-delay': 60_000 });
    s.runFor(20_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(before + 3);
  });

  it('migrate_params_apply: on the secondary, whose outgoing migration is not in COLO, no checkpoint is asked for', () => {
    const s = sim();
    startColo(s);
    const checkpointsBefore = s.colo.primary.state.checkpointsDone;
    expect(qmp(s, 'secondary', 'migrate-set-parameters', { 'x-checkpoint-delay': 3000 })).toEqual({ return: {} });
    s.runFor(10_000);
    expect(s.colo.primary.state.checkpointsDone).toBe(checkpointsBefore);
    expect(eventNames(s, 'secondary')).toEqual(['RESUME']);
  });
});

describe('migrate (migration/migration.c qmp_migrate, migrate_prepare)', () => {
  it('qmp_migrate: {} at once; with x-colo the stream reaches the secondary and COLO runs', () => {
    const s = sim();
    qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON);
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual({ return: {} });
    s.runFor(2000);
    expect(coloStatus(s, 'primary')).toMatchObject({ mode: 'primary' });
    expect(coloStatus(s, 'secondary')).toMatchObject({ mode: 'secondary' });
    expect(s.replicationNode('replication-primary')?.stage).toBe('running');
    expect(s.replicationNode('replication-secondary')?.stage).toBe('running');
  });

  it('migration_iteration_finish: without x-colo the migration completes, the primary in postmigrate, the secondary running', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual({ return: {} });
    s.runFor(2000);
    expect(status(s, 'primary')).toMatchObject({ status: 'postmigrate', running: false });
    expect(status(s, 'secondary')).toMatchObject({ status: 'running', running: true });
    // A completed migration also reports its times and RAM counters (populate_time_info, populate_ram_info).
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toMatchObject({ status: 'completed' });
    expect(returned(qmp(s, 'secondary', 'query-migrate'))).toMatchObject({ status: 'completed' });
    // migrate_prepare: RUN_STATE_POSTMIGRATE.
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual(generic("Can't migrate the vm that was paused due to previous migration"));
  });

  it('migrate_prepare: "Cannot resume if there is no paused migration", "Guest is waiting for an incoming migration", "No disk migration is required in COLO mode"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998', resume: true })).toEqual(generic('Cannot resume if there is no paused migration'));
    expect(qmp(s, 'secondary', 'migrate', { uri: 'tcp:primary:9998' })).toEqual(generic('Guest is waiting for an incoming migration'));
    qmp(s, 'primary', 'migrate-set-capabilities', X_COLO_ON);
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998', blk: true })).toEqual(generic('No disk migration is required in COLO mode'));
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998', inc: true })).toEqual(generic('No disk migration is required in COLO mode'));
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toEqual({});
  });

  it('qmp_migrate: an unknown transport is QERR_INVALID_PARAMETER_VALUE "Parameter \'uri\' expects a valid migration protocol"', () => {
    expect(qmp(sim(), 'primary', 'migrate', { uri: 'secondary:9998' })).toEqual(generic("Parameter 'uri' expects a valid migration protocol"));
  });

  it('migrate_fd_connect / migrate_fd_error: a refused connection still returns {}; query-migrate shows failed with error-desc', () => {
    const s = sim();
    s.injectFault({ kind: 'link-down' });
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual({ return: {} });
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toEqual({ status: 'failed', 'error-desc': "Failed to connect to 'secondary:9998': Connection refused" });
    expect(status(s, 'primary')).toMatchObject({ status: 'running' });
    // A failed migration is not running: the next one may start.
    s.injectFault({ kind: 'link-up' });
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual({ return: {} });
    s.runFor(2000);
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toMatchObject({ status: 'completed' });
  });

  it('migrate_prepare / yank_register_instance (util/yank.c): in COLO migration_is_running is false, migrate_init resets the state to setup, then "duplicate yank instance"', () => {
    const s = sim();
    startColo(s);
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual(generic('duplicate yank instance'));
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toEqual({ status: 'setup' });
    expect(coloStatus(s, 'primary')).toEqual({ mode: 'none', 'last-mode': 'none', reason: 'none' });
    // setup is running: QERR_MIGRATION_ACTIVE from now on.
    expect(qmp(s, 'primary', 'migrate', { uri: 'tcp:secondary:9998' })).toEqual(generic("There's a migration process in progress"));
    // colo_process_checkpoint leaves its loop at its next wake-up (the 20 s timer).
    s.runFor(20_000_000);
    expect(s.colo.qmpEventsOf('primary').filter((event) => event.name === 'COLO_EXIT').map((event) => event.data)).toEqual([{ mode: 'primary', reason: 'error' }]);
  });

  it('yank_register_instance: the secondary in COLO still holds its incoming migration\'s yank instance', () => {
    const s = sim();
    startColo(s);
    expect(qmp(s, 'secondary', 'migrate', { uri: 'tcp:primary:9998' })).toEqual(generic('duplicate yank instance'));
    // Its source state is reset to setup, which query-migrate shows over the destination's; it stays in COLO mode.
    expect(returned(qmp(s, 'secondary', 'query-migrate'))).toMatchObject({ status: 'setup' });
    expect(coloStatus(s, 'secondary')).toMatchObject({ mode: 'secondary' });
  });
});

describe('migrate-incoming (migration/migration.c qmp_migrate_incoming)', () => {
  it('qmp_migrate_incoming: "The incoming migration has already been started" (-incoming used it), "\'-incoming\' was not specified on the command line"', () => {
    const s = sim();
    expect(qmp(s, 'secondary', 'migrate-incoming', { uri: 'tcp:0:9998' })).toEqual(generic('The incoming migration has already been started'));
    expect(qmp(s, 'primary', 'migrate-incoming', { uri: 'tcp:0:9998' })).toEqual(generic("'-incoming' was not specified on the command line"));
    expect(qmp(s, 'primary', 'migrate-incoming', {})).toEqual(generic("Parameter 'uri' is missing"));
  });
});

describe('query-migrate (migration/migration.c qmp_query_migrate)', () => {
  it('fill_source_migration_info / fill_destination_migration_info: no status before any migration; colo on both sides in COLO; completed after a failover', () => {
    const s = sim();
    expect(returned(qmp(s, 'primary', 'query-migrate'))).not.toHaveProperty('status');
    expect(returned(qmp(s, 'secondary', 'query-migrate'))).not.toHaveProperty('status');
    startColo(s);
    // fill_source_migration_info gives COLO its status only; the destination may also list its socket address.
    expect(returned(qmp(s, 'primary', 'query-migrate'))).toEqual({ status: 'colo' });
    expect(returned(qmp(s, 'secondary', 'query-migrate'))).toMatchObject({ status: 'colo' });
    expect(s.settle(s.failover('secondary')).ok).toBe(true);
    expect(returned(qmp(s, 'secondary', 'query-migrate'))).toMatchObject({ status: 'completed' });
  });
});

describe('block jobs (blockdev.c qmp_query_block_jobs, qmp_block_job_cancel)', () => {
  it('qmp_query_block_jobs: replication\'s backup job and active commit are JOB_INTERNAL and not listed', () => {
    const s = sim();
    startColo(s);
    expect(s.secondary.jobs.ofType('backup')).toBeDefined();
    expect(qmp(s, 'secondary', 'query-block-jobs')).toEqual({ return: [] });
    guestWritePattern(s, 'secondary', 0, 256 * 1024, 0x33);
    expect(s.settle(s.failover('secondary')).ok).toBe(true);
    expect(s.secondary.jobs.ofType('commit')).toBeDefined();
    expect(qmp(s, 'secondary', 'query-block-jobs')).toEqual({ return: [] });
  });

  it('find_block_job_locked: DeviceNotActive "Block job \'X\' not found", the internal jobs included', () => {
    const s = sim();
    startColo(s);
    const backup = s.secondary.jobs.ofType('backup')!;
    expect(qmp(s, 'secondary', 'block-job-cancel', { device: backup.id })).toEqual({ error: { class: 'DeviceNotActive', desc: `Block job '${backup.id}' not found` } });
    expect(qmp(s, 'secondary', 'block-job-cancel', { device: 'top-disk', force: true })).toEqual({ error: { class: 'DeviceNotActive', desc: "Block job 'top-disk' not found" } });
    expect(s.secondary.jobs.ofType('backup')).toBe(backup);
  });
});

describe('query-named-block-nodes (blockdev.c qmp_query_named_block_nodes)', () => {
  it('bdrv_named_nodes_list: each host lists its own nodes with node-name and drv', () => {
    const s = sim();
    const nodes = (host: HostName) => (returned(qmp(s, host, 'query-named-block-nodes')) as Array<{ 'node-name': string; drv: string }>).map((node): [string, string] => [node['node-name'], node.drv]);
    expect(new Map(nodes('primary'))).toEqual(new Map([['colo-disk', 'quorum'], ['primary-disk', 'raw'], ['replication-primary', 'replication'], ['nbd-client', 'nbd']]));
    expect(new Map(nodes('secondary'))).toEqual(
      new Map([['secondary-disk', 'raw'], ['hidden-disk', 'qcow2'], ['active-disk', 'qcow2'], ['replication-secondary', 'replication'], ['top-disk', 'quorum']]),
    );
    expect(qmp(s, 'primary', 'query-named-block-nodes', { flat: true })).toEqual(qmp(s, 'primary', 'query-named-block-nodes'));
  });

  it('bdrv_block_device_info: the qcow2 chain reports its backing files and depth', () => {
    const reply = returned(qmp(sim(), 'secondary', 'query-named-block-nodes')) as Array<Record<string, unknown>>;
    const active = reply.find((node) => node['node-name'] === 'active-disk')!;
    expect(active).toMatchObject({ drv: 'qcow2', file: 'active_disk.qcow2', backing_file: 'hidden_disk.qcow2', backing_file_depth: 2 });
  });
});

describe('blockdev-add of a replication node (blockdev.c qmp_blockdev_add, block/replication.c replication_open)', () => {
  const add = (s: Simulation, host: HostName, args: Record<string, unknown>) => qmp(s, host, 'blockdev-add', { driver: 'replication', ...args });

  it('qmp_blockdev_add: {} and the node exists and joins the host\'s replication list (replication_new)', () => {
    const s = sim();
    expect(add(s, 'primary', { 'node-name': 'extra', mode: 'primary', file: 'nbd-client' })).toEqual({ return: {} });
    expect((returned(qmp(s, 'primary', 'query-named-block-nodes')) as Array<{ 'node-name': string }>).map((node) => node['node-name'])).toContain('extra');
    expect(s.replicationNode('extra')?.stage).toBe('none');
    // replication_get_error_all now stops at the new node, which is not running.
    expect(s.replication('primary', 'get-error')).toEqual({ ok: false, message: 'Block replication is not running' });
  });

  it('visit_type_BlockdevOptions: driver, then BlockdevOptionsReplication\'s file, mode, top-id, in schema order', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'blockdev-add', { 'node-name': 'extra' })).toEqual(generic("Parameter 'driver' is missing"));
    expect(add(s, 'primary', { 'node-name': 'extra' })).toEqual(generic("Parameter 'file' is missing"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client' })).toEqual(generic("Parameter 'mode' is missing"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client', mode: 'tertiary' })).toEqual(generic("Parameter 'mode' does not accept value 'tertiary'"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client', mode: 1 })).toEqual(generic("Invalid parameter type for 'mode', expected: string"));
    expect(add(s, 'secondary', { 'node-name': 'extra', file: 'active-disk', mode: 'secondary', 'top-id': 5 })).toEqual(generic("Invalid parameter type for 'top-id', expected: string"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 7, mode: 'primary' })).toEqual(generic("Invalid parameter type for 'file', expected: BlockdevRef"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client', mode: 'primary', 'read-only': 'no' })).toEqual(generic("Invalid parameter type for 'read-only', expected: boolean"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client', mode: 'primary', filename: 'x' })).toEqual(generic("Parameter 'filename' is unexpected"));
    expect(s.findNode('extra')).toBeUndefined();
  });

  it('qmp_blockdev_add: "\'node-name\' must be specified for the root node"', () => {
    expect(qmp(sim(), 'primary', 'blockdev-add', { driver: 'replication', file: 'nbd-client', mode: 'primary' })).toEqual(generic("'node-name' must be specified for the root node"));
  });

  it('bdrv_lookup_bs, bdrv_assign_node_name, replication_open: the block layer\'s and the driver\'s errors', () => {
    const s = sim();
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nowhere', mode: 'primary' })).toEqual(generic("Cannot find device='nowhere' nor node-name='nowhere'"));
    expect(add(s, 'primary', { 'node-name': 'replication-primary', file: 'nbd-client', mode: 'primary' })).toEqual(generic("Duplicate nodes with node-name='replication-primary'"));
    expect(add(s, 'primary', { 'node-name': 'extra', file: 'nbd-client', mode: 'primary', 'top-id': 'colo-disk' })).toEqual(generic('The primary side does not support option top-id'));
    expect(add(s, 'secondary', { 'node-name': 'extra', file: 'active-disk', mode: 'secondary' })).toEqual(generic('Missing the option top-id'));
    expect(s.findNode('extra')).toBeUndefined();
  });
});

describe('the NBD server (blockdev-nbd.c qmp_nbd_server_start, qmp_nbd_server_add, qmp_nbd_server_stop)', () => {
  const INET = { addr: { type: 'inet', data: { host: '0.0.0.0', port: '9999' } } };

  it('nbd_server_start: {} once, then "NBD server already running" (the secondary starts with one, COLO-FT.txt)', () => {
    const s = sim();
    expect(qmp(s, 'secondary', 'nbd-server-start', INET)).toEqual(generic('NBD server already running'));
    expect(qmp(s, 'primary', 'nbd-server-start', INET)).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'nbd-server-start', INET)).toEqual(generic('NBD server already running'));
  });

  it('qmp_nbd_server_stop: {} then "NBD server not running"', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'nbd-server-stop')).toEqual(generic('NBD server not running'));
    expect(qmp(s, 'secondary', 'nbd-server-stop')).toEqual({ return: {} });
    expect(qmp(s, 'secondary', 'nbd-server-stop')).toEqual(generic('NBD server not running'));
  });

  it('qmp_nbd_server_add: bdrv_lookup_bs first: "Cannot find device=\'X\' nor node-name=\'X\'", with or without a server', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'parent0' })).toEqual(generic("Cannot find device='parent0' nor node-name='parent0'"));
    expect(qmp(s, 'secondary', 'nbd-server-add', { device: 'parent0', writable: true })).toEqual(generic("Cannot find device='parent0' nor node-name='parent0'"));
  });

  it('blk_exp_add: the export id is the name: "Invalid block export id", "Block export id \'X\' is already in use", before the server is looked at', () => {
    const s = sim();
    expect(qmp(s, 'secondary', 'nbd-server-add', { device: 'secondary-disk', writable: true })).toEqual(generic("Block export id 'secondary-disk' is already in use"));
    expect(qmp(s, 'secondary', 'nbd-server-add', { device: 'secondary-disk', name: '9lives' })).toEqual(generic('Invalid block export id'));
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'primary-disk', name: 'has space' })).toEqual(generic('Invalid block export id'));
  });

  it('nbd_export_create: "NBD server not running"; {} once the server runs', () => {
    const s = sim();
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'primary-disk' })).toEqual(generic('NBD server not running'));
    expect(qmp(s, 'primary', 'nbd-server-start', INET)).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'primary-disk', writable: true })).toEqual({ return: {} });
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'primary-disk' })).toEqual(generic("Block export id 'primary-disk' is already in use"));
    expect(qmp(s, 'primary', 'nbd-server-add', { device: 'primary-disk', name: 'second-export' })).toEqual({ return: {} });
  });

  it('qmp_nbd_server_stop closes the exports: after a restart the name is free again', () => {
    const s = sim();
    expect(qmp(s, 'secondary', 'nbd-server-stop')).toEqual({ return: {} });
    expect(qmp(s, 'secondary', 'nbd-server-add', { device: 'secondary-disk', writable: true })).toEqual(generic('NBD server not running'));
    expect(qmp(s, 'secondary', 'nbd-server-start', INET)).toEqual({ return: {} });
    expect(qmp(s, 'secondary', 'nbd-server-add', { device: 'secondary-disk', writable: true })).toEqual({ return: {} });
  });
});
