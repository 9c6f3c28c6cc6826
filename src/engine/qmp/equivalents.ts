/**
 * The QMP a scenario step stands for, host by host, as an operator of QEMU 7.2 would type it
 * (docs/COLO-FT.txt), or, for a step no QMP command does, what it stands for instead: guest
 * I/O is the guest's, a link fault is the network, a lost host is a host dying.
 *
 * Steps are read as written (the app's commands, a scenario file's steps), so sizes may still
 * be strings. Nothing here runs anything: tests/unit/qmp-equivalents.test.ts types each
 * equivalent into the engine and compares the state it reaches with the step's, and every
 * difference it finds is one of the `differences` below.
 */
import { DEFAULT_MIGRATION_URI } from '../colo/colo-control.js';
import { DEFAULT_CHECKPOINT_DELAY_MS } from '../colo/colo-protocol.js';
import type { HostName } from '../sim/events.js';

export interface QmpCommandText {
  readonly execute: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export type EquivalentPart =
  /**
   * A QMP command on a host. `atBoot`: colo-sim's hosts start with it done (COLO-FT.txt's
   * preparation), so it is shown for a real QEMU and not typed again here.
   */
  | { readonly kind: 'qmp'; readonly host: HostName; readonly command: QmpCommandText; readonly atBoot?: true }
  /** Something the step does that no QMP command does. */
  | { readonly kind: 'no-qmp'; readonly host?: HostName; readonly what: string; readonly atBoot?: true };

export interface QmpEquivalent {
  /** In the order they happen. */
  readonly parts: readonly EquivalentPart[];
  /** Why these commands: QEMU's sources and COLO-FT.txt. */
  readonly notes: readonly string[];
  /** Where typing the commands into colo-sim does not do all the step does, and why. */
  readonly differences: readonly string[];
}

/** What an equivalent depends on besides the step: the primary's x-checkpoint-delay now. */
export interface EquivalentContext {
  readonly checkpointDelayMs?: number;
}

/** A step as written: an object with an op (other members unchecked). */
export type LooseStep = { readonly op: string } & Readonly<Record<string, unknown>>;

const HOSTS: readonly HostName[] = ['primary', 'secondary'];

/** The x-colo capability on, as COLO-FT.txt sets it. */
export const X_COLO_ON: QmpCommandText = { execute: 'migrate-set-capabilities', arguments: { capabilities: [{ capability: 'x-colo', state: true }] } };

/** COLO-FT.txt's NBD server on the secondary (port 9999); colo-sim exports secondary-disk, its parent0. */
const NBD_SERVER_START: QmpCommandText = { execute: 'nbd-server-start', arguments: { addr: { type: 'inet', data: { host: '0.0.0.0', port: '9999' } } } };
const NBD_SERVER_ADD: QmpCommandText = { execute: 'nbd-server-add', arguments: { device: 'secondary-disk', writable: true } };

const REPLICATION_FUNCTIONS: Readonly<Record<string, string>> = {
  start: 'replication_start_all',
  checkpoint: 'replication_do_checkpoint_all',
  'get-error': 'replication_get_error_all',
  stop: 'replication_stop_all',
};

const qmp = (host: HostName, command: QmpCommandText): EquivalentPart => ({ kind: 'qmp', host, command });
const noQmp = (what: string, host?: HostName): EquivalentPart => ({ kind: 'no-qmp', what, ...(host ? { host } : {}) });
const only = (part: EquivalentPart, notes: string[] = [], differences: string[] = []): QmpEquivalent => ({ parts: [part], notes, differences });

function hostOf(value: unknown): HostName {
  return value === 'secondary' ? 'secondary' : 'primary';
}

function otherHost(host: HostName): HostName {
  return host === 'primary' ? 'secondary' : 'primary';
}

export function qmpEquivalent(step: LooseStep, context: EquivalentContext = {}): QmpEquivalent {
  switch (step.op) {
    case 'colo-start':
      return coloStart();
    case 'checkpoint':
      return checkpoint(context.checkpointDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS);
    case 'failover':
      return failover(hostOf(step.to));
    case 'qmp': {
      const command: QmpCommandText = { execute: String(step.execute), ...(isObject(step.arguments) ? { arguments: step.arguments } : {}) };
      return only(qmp(hostOf(step.host), command));
    }
    case 'open':
      return open(hostOf(step.host), isObject(step.options) ? step.options : {});
    case 'guest-write':
    case 'guest-read':
      return only(noQmp(`The ${hostOf(step.vm)} VM's own ${step.op === 'guest-write' ? 'write' : 'read'}: QMP does not do a guest's I/O.`, hostOf(step.vm)));
    case 'write':
    case 'read':
      return only(noQmp(`A ${step.op} through ${String(step.node)} from outside the guests, as QEMU's tests/unit/test-replication.c does it: no QMP command does I/O.`));
    case 'flush':
      return only(
        step.vm !== undefined
          ? noQmp(`The ${hostOf(step.vm)} VM's own flush (its disk's FLUSH, bdrv_co_flush down the graph): QMP does not do a guest's I/O.`, hostOf(step.vm))
          : noQmp(`A flush from ${String(step.node)} down (bdrv_co_flush), from outside the guests as QEMU's tests/unit/test-replication.c does I/O: QEMU 7.2 has no QMP command that flushes a node.`),
      );
    case 'restart':
      return restart(hostOf(step.host), step.disks === 'fresh' ? 'fresh' : 'kept');
    case 'workload':
      return only(noQmp("The guests' random writes: the guests' own I/O, not QMP."));
    case 'replication': {
      // Without an action: what every replication action stands for.
      if (step.action === undefined) {
        return only(noQmp(`${Object.values(REPLICATION_FUNCTIONS).join(', ')}: COLO calls them (migration/colo.c), no QMP command does; QEMU's tests/unit/test-replication.c calls them directly, as these actions do.`));
      }
      const action = String(step.action);
      return only(
        noQmp(`${REPLICATION_FUNCTIONS[action] ?? action} on the ${hostOf(step.host)}: COLO calls it (migration/colo.c), no QMP command does; QEMU's tests/unit/test-replication.c calls it directly, as this action does.`, hostOf(step.host)),
      );
    }
    case 'fault':
      return fault(step);
    case 'run':
      return only(noQmp("colo-sim's virtual clock runs: a real QEMU's clock runs by itself."));
    case 'check':
      return only(noQmp("A colo-sim check of the state: nothing is sent to QEMU."));
    case 'say':
      return only(noQmp('Narration: nothing is sent to QEMU.'));
    case 'ask':
    case 'task':
      return only(noQmp(`A lesson's ${step.op}: nothing is sent to QEMU.`));
    default:
      return only(noQmp(`colo-sim has no step "${step.op}".`));
  }
}

function coloStart(): QmpEquivalent {
  return {
    parts: [
      { kind: 'no-qmp', host: 'secondary', what: 'Started with -incoming tcp:0.0.0.0:9998 on its command line: it waits for the migration.', atBoot: true },
      { kind: 'qmp', host: 'secondary', command: NBD_SERVER_START, atBoot: true },
      { kind: 'qmp', host: 'secondary', command: NBD_SERVER_ADD, atBoot: true },
      qmp('primary', X_COLO_ON),
      qmp('primary', { execute: 'migrate', arguments: { uri: DEFAULT_MIGRATION_URI } }),
    ],
    notes: [
      "COLO-FT.txt (QEMU 7.2): the secondary runs nbd-server-start and nbd-server-add before the primary's migrate; colo-sim's secondary boots with both done (a second nbd-server-start answers \"NBD server already running\").",
      "The secondary needs no x-colo capability in 7.2: the primary's migration stream turns COLO on there (migration_incoming_enable_colo).",
      "COLO-FT.txt's drive_add of the primary's replication node and its x-blockdev-change into colo-disk0 are done too: colo-sim's colo-disk has replication-primary as children.1 from the start.",
    ],
    differences: [
      "The step waits until COLO runs on both hosts. migrate answers {} at once; the migration, CHECKPOINT_READY and replication_start_all on both sides follow as the virtual clock runs (query-colo-status answers mode primary once they are done).",
    ],
  };
}

function checkpoint(delayMs: number): QmpEquivalent {
  return {
    parts: [qmp('primary', { execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': delayMs } })],
    notes: [
      'QEMU 7.2 has no QMP command that asks for a checkpoint: colo-compare asks for one when the two VMs send different packets, and the x-checkpoint-delay timer asks every period (colo_checkpoint_notify).',
      `Setting x-checkpoint-delay while COLO runs calls colo_checkpoint_notify (migrate_params_apply in migration/migration.c): a checkpoint starts now and the timer starts again. Set to its current value (${delayMs} ms), the period stays as it was.`,
    ],
    differences: [
      'The step waits for the checkpoint transaction to end, and fails when no checkpoint can run. migrate-set-parameters answers {} at once; the transaction follows as the virtual clock runs; outside COLO it only sets the parameter.',
    ],
  };
}

function failover(survivor: HostName): QmpEquivalent {
  const lost = otherHost(survivor);
  const differences = [
    `No QMP command kills a host (colo-sim's host-down fault does, as the step does first): typed here alone, x-colo-lost-heartbeat runs with the ${lost} still up. The ${survivor} fails over as in the step; the ${lost}'s VM and the NBD link stay up, and its COLO thread fails on the closed migration channel (COLO_EXIT, reason error) as soon as it waits for or sends a COLO message: at once in a checkpoint, else at its next one.`,
  ];
  if (survivor === 'primary') {
    differences.push(
      "The step also takes replication-primary out of colo-disk once the failover is done (COLO-FT.txt's x-blockdev-change, which it types before x-colo-lost-heartbeat): typed here, replication-primary stays in colo-disk until you type x-blockdev-change with parent colo-disk and the replication child's name (children.1 in the first pair; after a restart, the name the quorum gave it when x-blockdev-change added it).",
    );
  }
  return {
    parts: [
      noQmp(`The ${lost} host is lost: its QEMU stops for good, with the NBD link and the migration channel. No QMP command does this; a heartbeat monitor notices it.`, lost),
      qmp(survivor, { execute: 'x-colo-lost-heartbeat' }),
    ],
    notes: [
      survivor === 'secondary'
        ? "COLO-FT.txt's Secondary Failover also runs nbd-server-stop first and then rebuilds the network filters (object-del, chardev-add): colo-sim's step does neither (it models no network filters), and a dead primary sends no more NBD requests."
        : "COLO-FT.txt's Primary Failover first takes the replication node out of the quorum (x-blockdev-change, drive_del) and deletes colo-compare and the network filters (object-del): colo-sim's step does the x-blockdev-change after the failover and models no network filters.",
      'x-colo-lost-heartbeat is QEMU 7.2\'s failover request (qmp_x_colo_lost_heartbeat): without COLO it answers "The feature \'colo\' is not enabled".',
    ],
    differences,
  };
}

function restart(lost: HostName, disks: 'kept' | 'fresh'): QmpEquivalent {
  const notes = [
    "The survivor's side of COLO-FT.txt's \"Start the new Secondary\" is QMP and typed separately: drive-mirror of its disk to the new secondary's NBD export, drive_add of a replication node and x-blockdev-change into its quorum, then migrate-set-capabilities x-colo and migrate.",
  ];
  if (lost === 'primary') notes.push("colo-sim names hosts by their role: the surviving secondary is called the primary from now on, and the restarted host the secondary. A real QEMU keeps its machine's name.");
  return {
    parts: [
      noQmp(
        `A new QEMU starts on the lost ${lost} host's machine as the new secondary, with ${disks === 'kept' ? 'its old disk' : 'a new empty disk'}, new empty active and hidden disks and -incoming on its command line: starting a QEMU is not QMP. colo-sim's new secondary boots with COLO-FT.txt's nbd-server-start and nbd-server-add of its disk done.`,
        'secondary',
      ),
    ],
    notes,
    differences: [],
  };
}

function open(host: HostName, options: Readonly<Record<string, unknown>>): QmpEquivalent {
  const args: Record<string, unknown> = { driver: 'replication' };
  // BlockdevOptionsReplication's members in schema order, only those the step gives.
  for (const key of ['node-name', 'mode', 'top-id', 'file']) if (options[key] !== undefined) args[key] = options[key];
  return only(
    qmp(host, { execute: 'blockdev-add', arguments: args }),
    ['The step opens the node as -drive or drive_add do (COLO-FT.txt), with their option checks; blockdev-add opens the same node.'],
    ["blockdev-add checks its arguments with the QAPI visitor before the driver sees them: a missing mode is \"Parameter 'mode' is missing\" there and \"Missing the option mode\" in the step, and blockdev-add needs 'file'."],
  );
}

function fault(step: LooseStep): QmpEquivalent {
  switch (step.kind) {
    case 'link-down':
      return only(noQmp('The network between the hosts fails: no QMP command does this.'));
    case 'link-up':
      return only(noQmp('The network between the hosts comes back: no QMP command does this.'));
    case 'io-error':
      return only(noQmp(`${String(step.node)}'s storage fails with EIO: no QMP command makes a disk fail.`));
    case 'eject':
      return only(noQmp(`${String(step.node)}'s image is gone from under its node (QEMU's bs->drv == NULL): no QMP command does this to a node in use.`));
    case 'link-hang':
      return only(
        noQmp('The peer stops answering and nothing resets the connection (a hung network or host): no QMP command does this.'),
        ["QMP's way out of a hung NBD connection is yank (qmp_yank): the NBD client's requests then fail at once, as after a reset."],
      );
    case 'host-down':
      return only(noQmp(`The ${hostOf(step.host)} host dies: its QEMU stops, with the NBD link and the migration channel. No QMP command does this; a heartbeat monitor notices it and the survivor's operator runs the failover runbook.`, hostOf(step.host)));
    case 'clear':
      return only(noQmp("colo-sim's faults are lifted: the disks and the network work again. No QMP command does this."));
    case 'cancel-job':
      return only(
        noQmp(
          `Replication's ${String(step.type)} job on the ${hostOf(step.host)} ends as if it failed: no QMP command can cancel it. Replication's backup job and active commit are internal jobs (JOB_INTERNAL in block/replication.c): query-block-jobs does not list them, and block-job-cancel answers DeviceNotActive "Block job '…' not found".`,
          hostOf(step.host),
        ),
      );
    default:
      return only(noQmp(`colo-sim has no fault "${String(step.kind)}".`));
  }
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The parts to type into colo-sim's consoles: the QMP commands the hosts have not done at boot. */
export function commandsToType(equivalent: QmpEquivalent): Array<{ host: HostName; command: QmpCommandText }> {
  return equivalent.parts.flatMap((part) => (part.kind === 'qmp' && !part.atBoot ? [{ host: part.host, command: part.command }] : []));
}

/** The hosts an equivalent names, primary first. */
export function hostsOf(equivalent: QmpEquivalent): HostName[] {
  return HOSTS.filter((host) => equivalent.parts.some((part) => part.host === host));
}
