/**
 * QMP on each host, as QEMU 7.2 answers it: a table of commands, each with its QAPI arguments
 * (checked by qapi.ts with the input visitor's messages) and a handler that acts on the
 * simulation and returns QEMU's reply, `{"return": ...}` or `{"error": {"class", "desc"}}`.
 * Adding a command is adding one entry to COMMANDS.
 *
 * colo-sim's monitor has negotiated capabilities for you: commands work before
 * `qmp_capabilities`, which returns {} once and then QEMU's "already complete" error. A lost
 * host's QEMU answers nothing.
 */
import type { HostName } from '../sim/events.js';
import type { Simulation } from '../colo/simulation.js';
import { DEFAULT_MIGRATION_URI, migrationIsRunning, parseTcpUri } from '../colo/colo-control.js';
import { ImageNode } from '../block/image.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import { MESSAGES } from '../replication/messages.js';
import { checkArguments, T, type QapiMember } from './qapi.js';

import { fail, ok, type QmpCommand, type QmpCommandInput, type QmpReply } from './command.js';
import { BLOCK_COMMANDS } from './block-commands.js';
import { HOST_COMMANDS } from './host-commands.js';

export type { QmpCommandInput, QmpErrorClass, QmpReply } from './command.js';

const MIGRATION_CAPABILITIES = [
  'xbzrle', 'rdma-pin-all', 'auto-converge', 'zero-blocks', 'compress', 'events', 'postcopy-ram', 'x-colo', 'release-ram', 'block', 'return-path',
  'pause-before-switchover', 'multifd', 'dirty-bitmaps', 'postcopy-blocktime', 'late-block-activate', 'x-ignore-shared', 'validate-uuid',
  'background-snapshot', 'zero-copy-send', 'postcopy-preempt',
];

/** MigrateSetParameters, as QEMU 7.2 types its members; only x-checkpoint-delay changes anything. */
const MIGRATION_PARAMETERS: Record<string, QapiMember> = {
  'announce-initial': T.optional(T.uint64),
  'announce-max': T.optional(T.uint64),
  'announce-rounds': T.optional(T.uint64),
  'announce-step': T.optional(T.uint64),
  'compress-level': T.optional(T.uint8),
  'compress-threads': T.optional(T.uint8),
  'compress-wait-thread': T.optional(T.bool),
  'decompress-threads': T.optional(T.uint8),
  'throttle-trigger-threshold': T.optional(T.uint8),
  'cpu-throttle-initial': T.optional(T.uint8),
  'cpu-throttle-increment': T.optional(T.uint8),
  'cpu-throttle-tailslow': T.optional(T.bool),
  'tls-creds': T.optional(T.any),
  'tls-hostname': T.optional(T.any),
  'tls-authz': T.optional(T.any),
  'max-bandwidth': T.optional(T.uint64),
  'downtime-limit': T.optional(T.uint64),
  'x-checkpoint-delay': T.optional(T.uint32),
  'block-incremental': T.optional(T.bool),
  'multifd-channels': T.optional(T.uint8),
  'xbzrle-cache-size': T.optional(T.uint64),
  'max-postcopy-bandwidth': T.optional(T.uint64),
  'max-cpu-throttle': T.optional(T.uint8),
  'multifd-compression': T.optional(T.enumOf('none', 'zlib', 'zstd')),
  'multifd-zlib-level': T.optional(T.uint8),
  'multifd-zstd-level': T.optional(T.uint8),
  'block-bitmap-mapping': T.optional(T.any),
};

export const COMMANDS: Readonly<Record<string, QmpCommand>> = {
  qmp_capabilities: {
    args: { enable: T.optional(T.list(T.enumOf('oob'))) },
    qemuFunction: 'qmp_qmp_capabilities',
    run: ({ sim, host }) => {
      const state = sim.colo.process(host).state;
      if (state.qmpNegotiated) return fail('Capabilities negotiation is already complete, command ignored', 'CommandNotFound');
      state.qmpNegotiated = true;
      return ok();
    },
  },
  'query-colo-status': {
    args: {},
    qemuFunction: 'qmp_query_colo_status',
    run: ({ sim, host }) => ok(sim.colo.process(host).coloStatus()),
  },
  'x-colo-lost-heartbeat': {
    args: {},
    qemuFunction: 'qmp_x_colo_lost_heartbeat',
    run: ({ sim, host }) => {
      const refused = sim.colo.process(host).lostHeartbeat();
      return refused ? fail(refused) : ok();
    },
  },
  'query-status': {
    args: {},
    qemuFunction: 'qmp_query_status',
    run: ({ sim, host }) => {
      const process = sim.colo.process(host);
      return ok({ status: process.state.runState, singlestep: false, running: process.isRunning });
    },
  },
  stop: {
    args: {},
    qemuFunction: 'qmp_stop',
    run: ({ sim, host }) => {
      const process = sim.colo.process(host);
      // -incoming: the VM is not started yet; stop only clears autostart. Otherwise vm_stop, which
      // changes nothing unless the VM runs (do_vm_stop): a VM stopped by COLO stays in state colo.
      if (process.state.runState === 'running') process.vmStop('paused');
      return ok();
    },
  },
  cont: {
    args: {},
    qemuFunction: 'qmp_cont',
    run: ({ sim, host }) => {
      const process = sim.colo.process(host);
      if (process.state.runState === 'shutdown') return fail('Resetting the Virtual Machine is required');
      if (process.state.runState === 'finish-migrate') return fail('Migration is not finalized yet');
      if (process.state.runState !== 'inmigrate') process.vmStart();
      return ok();
    },
  },
  'migrate-set-capabilities': {
    args: { capabilities: T.required(T.list(T.struct({ capability: T.required(T.enumOf(...MIGRATION_CAPABILITIES)), state: T.required(T.bool) }))) },
    qemuFunction: 'qmp_migrate_set_capabilities',
    run: ({ sim, host }, args) => {
      const process = sim.colo.process(host);
      if (migrationIsRunning(process.state.outgoing)) return fail("There's a migration process in progress");
      for (const entry of args.capabilities as Array<{ capability: string; state: boolean }>) {
        if (entry.capability === 'x-colo') process.state.xColo = entry.state;
      }
      return ok();
    },
  },
  'migrate-set-parameters': {
    args: MIGRATION_PARAMETERS,
    qemuFunction: 'qmp_migrate_set_parameters',
    run: ({ sim, host }, args) => {
      const delay = args['x-checkpoint-delay'];
      if (typeof delay === 'number') sim.colo.process(host).setCheckpointDelay(delay);
      return ok();
    },
  },
  'query-migrate-parameters': {
    args: {},
    qemuFunction: 'qmp_query_migrate_parameters',
    run: ({ sim, host }) => ok({ 'x-checkpoint-delay': sim.colo.process(host).state.checkpointDelayMs }),
  },
  'query-migrate-capabilities': {
    args: {},
    qemuFunction: 'qmp_query_migrate_capabilities',
    run: ({ sim, host }) => ok(MIGRATION_CAPABILITIES.map((capability) => ({ capability, state: capability === 'x-colo' ? sim.colo.process(host).state.xColo : false }))),
  },
  migrate: {
    args: { uri: T.required(T.str), blk: T.optional(T.bool), inc: T.optional(T.bool), detach: T.optional(T.bool), resume: T.optional(T.bool) },
    qemuFunction: 'qmp_migrate',
    run: ({ sim, host }, args) => {
      const process = sim.colo.process(host);
      if (args.resume === true) return fail('Cannot resume if there is no paused migration');
      const refusal = sim.colo.migratePrepare(process, args.blk === true || args.inc === true);
      if (refusal) return fail(refusal);
      const uri = args.uri as string;
      if (parseTcpUri(uri) === undefined) return fail("Parameter 'uri' expects a valid migration protocol");
      sim.colo.connectAndMigrate(process, uri);
      return ok();
    },
  },
  'migrate-incoming': {
    args: { uri: T.required(T.str) },
    qemuFunction: 'qmp_migrate_incoming',
    run: ({ sim, host }) => {
      const process = sim.colo.process(host);
      if (!process.state.incomingOnce) return fail('The incoming migration has already been started');
      if (process.state.runState !== 'inmigrate') return fail("'-incoming' was not specified on the command line");
      return ok();
    },
  },
  'query-migrate': {
    args: {},
    qemuFunction: 'qmp_query_migrate',
    run: ({ sim, host }) => {
      const state = sim.colo.process(host).state;
      // The destination shows its incoming state; a host that never migrated shows nothing.
      const status = state.outgoing !== 'none' ? state.outgoing : state.incoming;
      if (status === 'none') return ok({});
      return ok({ status, ...(state.migrationError ? { 'error-desc': state.migrationError } : {}) });
    },
  },
  'query-named-block-nodes': {
    args: { flat: T.optional(T.bool) },
    qemuFunction: 'qmp_query_named_block_nodes',
    run: ({ sim, host }) => ok([...sim.host(host).graph.nodes()].map((node) => blockDeviceInfo(node))),
  },
  'blockdev-add': {
    args: {
      driver: T.required(T.str),
      'node-name': T.optional(T.str),
      discard: T.optional(T.any),
      cache: T.optional(T.any),
      'read-only': T.optional(T.bool),
      'auto-read-only': T.optional(T.bool),
      'force-share': T.optional(T.bool),
      'detect-zeroes': T.optional(T.any),
      mode: T.optional(T.str),
      'top-id': T.optional(T.str),
      file: T.optional(T.any),
    },
    qemuFunction: 'qmp_blockdev_add',
    run: ({ sim, host }, args) => {
      if (args.driver !== 'replication') return fail(`colo-sim models blockdev-add of driver 'replication' only (got '${String(args.driver)}')`);
      // BlockdevOptionsReplication's members, visited after the union's base: file (from
      // BlockdevOptionsGenericFormat, a BlockdevRef), then mode (ReplicationMode), then top-id.
      const variant: Record<string, unknown> = {};
      for (const key of ['file', 'mode', 'top-id']) if (Object.hasOwn(args, key)) variant[key] = args[key];
      const checked = checkArguments({ file: T.required(T.any), mode: T.required(T.enumOf('primary', 'secondary')), 'top-id': T.optional(T.str) }, variant);
      if (!checked.ok) return fail(checked.message);
      // The alternate BlockdevRef is an object (BlockdevOptions) or a string (a node's name).
      if (typeof args.file !== 'string' && (args.file === null || typeof args.file !== 'object' || Array.isArray(args.file))) return fail("Invalid parameter type for 'file', expected: BlockdevRef");
      // qmp_blockdev_add
      if (args['node-name'] === undefined) return fail("'node-name' must be specified for the root node");
      const file = typeof args.file === 'string' ? args.file : undefined;
      if (file === undefined) return fail("colo-sim's blockdev-add takes 'file' as the name of an existing node");
      const outcome = sim.openReplication(host, { nodeName: args['node-name'] as string, mode: args.mode as string, ...(args['top-id'] === undefined ? {} : { topId: args['top-id'] as string }), file });
      return outcome.ok ? ok() : fail(outcome.message);
    },
  },
  'nbd-server-start': {
    args: { addr: T.required(T.struct({ type: T.required(T.enumOf('inet', 'unix', 'vsock', 'fd')), data: T.required(T.any) })), 'tls-creds': T.optional(T.str), 'tls-authz': T.optional(T.str), 'max-connections': T.optional(T.uint32) },
    qemuFunction: 'qmp_nbd_server_start',
    run: ({ sim, host }, args) => {
      const server = sim.host(host).nbdServer;
      if (server.running) return fail('NBD server already running');
      const address = args.addr as { type: string; data: { port?: unknown } };
      server.start(address.type === 'inet' && typeof address.data.port === 'string' ? address.data.port : 'unix');
      return ok();
    },
  },
  'nbd-server-add': {
    args: { device: T.required(T.str), name: T.optional(T.str), description: T.optional(T.str), writable: T.optional(T.bool), bitmap: T.optional(T.str) },
    qemuFunction: 'qmp_nbd_server_add',
    run: ({ sim, host }, args) => {
      // qmp_nbd_server_add looks the device up, then blk_exp_add checks the export id (the name),
      // then nbd_export_create checks the server.
      const server = sim.host(host).nbdServer;
      const device = args.device as string;
      const node = sim.host(host).graph.lookup(device);
      if (!node) return fail(MESSAGES.cannotFind(device));
      const name = (args.name as string | undefined) ?? device;
      if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(name)) return fail('Invalid block export id');
      if (server.has(name)) return fail(`Block export id '${name}' is already in use`);
      if (!server.running) return fail('NBD server not running');
      server.add(name, node, args.writable === true);
      sim.events.emit({ kind: 'graph-changed', host, change: `NBD export ${name} of ${node.nodeName} added` });
      return ok();
    },
  },
  'nbd-server-stop': {
    args: {},
    qemuFunction: 'qmp_nbd_server_stop',
    run: ({ sim, host }) => {
      const server = sim.host(host).nbdServer;
      if (!server.running) return fail('NBD server not running');
      server.stop();
      // The clients' connections close: what is on the wire to this server is lost.
      sim.link.closeConnectionsTo(host);
      sim.events.emit({ kind: 'graph-changed', host, change: 'NBD server stopped: its exports are gone' });
      return ok();
    },
  },
  ...BLOCK_COMMANDS,
  ...HOST_COMMANDS,
};

function blockDeviceInfo(node: import('../block/node.js').BlockNode): Record<string, unknown> {
  const length = node.lengthBytes();
  let backingDepth = 0;
  for (let below = node.child('backing'); below; below = below.child('backing')) backingDepth++;
  const image: Record<string, unknown> = { filename: node instanceof ImageNode ? node.filename : node.nodeName, format: node.driver, 'virtual-size': length ?? 0 };
  if (node instanceof Qcow2Image) image['cluster-size'] = node.clusterSizeBytes;
  const backing = node.child('backing');
  return {
    'node-name': node.nodeName,
    drv: node.driver,
    file: node instanceof ImageNode ? node.filename : node.nodeName,
    ro: false,
    encrypted: false,
    detect_zeroes: 'off',
    bps: 0,
    bps_rd: 0,
    bps_wr: 0,
    iops: 0,
    iops_rd: 0,
    iops_wr: 0,
    backing_file_depth: backingDepth,
    ...(backing ? { backing_file: backing instanceof ImageNode ? backing.filename : backing.nodeName } : {}),
    image,
    write_threshold: 0,
    cache: { writeback: true, direct: false, 'no-flush': false },
  };
}

/**
 * Runs one QMP command on a host, as QEMU's dispatcher does: unknown commands, then the
 * arguments, then the command. Throws nothing; every problem is a QMP error reply.
 */
export function executeQmp(sim: Simulation, host: HostName, input: QmpCommandInput): QmpReply {
  const reply = dispatch(sim, host, input);
  sim.events.emit({ kind: 'qmp', host, execute: input.execute, ...(input.arguments ? { arguments: input.arguments } : {}), reply });
  sim.colo.checkOperations();
  return reply;
}

function dispatch(sim: Simulation, host: HostName, input: QmpCommandInput): QmpReply {
  if (sim.colo.process(host).state.crashed) return fail(`The ${host} host is lost: its QEMU does not answer`);
  const command = Object.hasOwn(COMMANDS, input.execute) ? COMMANDS[input.execute] : undefined;
  if (!command) return fail(`The command ${input.execute} has not been found`, 'CommandNotFound');
  const checked = checkArguments(command.args, input.arguments ?? {}, command.openArguments === true);
  if (!checked.ok) return fail(checked.message);
  return command.run({ sim, host }, input.arguments ?? {});
}

export const QMP_COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS).sort();

export { DEFAULT_MIGRATION_URI };
