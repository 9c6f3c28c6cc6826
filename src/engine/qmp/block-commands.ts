/**
 * The block commands of COLO-FT.txt's runbooks, as QEMU 7.2 answers them (blockdev.c,
 * block.c, job.c, block/monitor/block-hmp-cmds.c): x-blockdev-change, blockdev-del,
 * drive-mirror and its job (query-block-jobs, block-job-cancel, block-job-complete), and HMP's
 * drive_add -n and drive_del through human-monitor-command.
 *
 * HMP prints its errors instead of failing: human-monitor-command returns the text QEMU printed
 * (error_report_err, then its hint), lines ending in "\r\n", and succeeds as a QMP command.
 */
import { QuorumNode } from '../block/quorum.js';
import type { BlockNode } from '../block/node.js';
import { MirrorJob } from '../jobs/mirror-job.js';
import type { HostName } from '../sim/events.js';
import type { Simulation } from '../colo/simulation.js';
import { MESSAGES } from '../replication/messages.js';
import { fail, ok, type QmpCommand, type QmpReply } from './command.js';
import { connectNbd, parseNbdUri } from './nbd-connect.js';
import { T } from './qapi.js';

const ON_ERROR = T.enumOf('report', 'ignore', 'enospc', 'stop', 'auto');

/** bdrv_get_device_or_node_name: the name of the BlockBackend on the node, else its node name. */
function deviceOrNodeName(sim: Simulation, host: HostName, node: BlockNode): string {
  return sim.host(host).graph.backends.find((backend) => backend.root === node)?.name ?? node.nodeName;
}

/** id_wellformed (util/id.c): a letter, then letters, digits, '-', '.', '_'. */
function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

function mirrorJob(sim: Simulation, host: HostName, id: string): MirrorJob | undefined {
  const job = sim.host(host).jobs.get(id);
  return job instanceof MirrorJob ? job : undefined;
}

/** find_block_job_locked: replication's jobs are internal and have no id QMP could name. */
function findJob(sim: Simulation, host: HostName, id: string): MirrorJob | QmpReply {
  return mirrorJob(sim, host, id) ?? fail(`Block job '${id}' not found`, 'DeviceNotActive');
}

/** x-blockdev-change (qmp_x_blockdev_change, bdrv_del_child / bdrv_add_child). */
function blockdevChange(sim: Simulation, host: HostName, parent: string, child: string | undefined, node: string | undefined): QmpReply {
  const graph = sim.host(host).graph;
  const parentNode = graph.lookup(parent);
  if (!parentNode) return fail(MESSAGES.cannotFind(parent));
  if ((child === undefined) === (node === undefined)) return fail(child === undefined ? 'Either child or node must be specified' : 'The parameters child and node are in conflict');
  if (child !== undefined) {
    if (!parentNode.children.has(child as never)) return fail(`Node '${parent}' does not have child '${child}'`);
    if (!(parentNode instanceof QuorumNode)) return fail(`The node ${deviceOrNodeName(sim, host, parentNode)} does not support removing a child`);
    const removed = parentNode.children.get(child as never)!;
    const outcome = parentNode.deleteChild(child as never);
    if (!outcome.ok) return fail(outcome.message);
    sim.events.emit({ kind: 'graph-changed', host, change: `x-blockdev-change: ${removed.nodeName} removed from ${parentNode.nodeName} (${child})` });
    return ok();
  }
  const newChild = graph.node(node!);
  if (!newChild) return fail(`Node '${node!}' not found`);
  if (!(parentNode instanceof QuorumNode)) return fail(`The node ${deviceOrNodeName(sim, host, parentNode)} does not support adding a child`);
  if (graph.parentsOf(newChild).length > 0) return fail(`The node ${newChild.nodeName} already has a parent`);
  const outcome = parentNode.addChild(newChild);
  if (!outcome.ok) return fail(outcome.message);
  sim.events.emit({ kind: 'graph-changed', host, change: `x-blockdev-change: ${newChild.nodeName} added to ${parentNode.nodeName} as ${outcome.role}` });
  return ok();
}

/** drive-mirror (qmp_drive_mirror, blockdev_mirror_common, mirror_start). */
function driveMirror(sim: Simulation, host: HostName, args: Record<string, unknown>): QmpReply {
  const graph = sim.host(host).graph;
  const device = args.device as string;
  const source = graph.lookup(device);
  if (!source) return fail(MESSAGES.cannotFind(device));
  if (!graph.isRoot(source)) return fail('Need a root block node');
  if (source.lengthBytes() === undefined) return fail('Device has no medium');
  const busy = sim.host(host).jobs.all().find((job) => job instanceof MirrorJob && job.sourceNode === source);
  if (busy) return fail(`Node '${source.nodeName}' is busy: block device is in use by block job: mirror`);
  const sync = args.sync as string;
  if (sync === 'incremental' || sync === 'bitmap') return fail(`Sync mode '${sync}' not supported`);
  if (args.replaces !== undefined && args['node-name'] === undefined) return fail('a node-name must be provided when replacing a named node of the graph');
  const granularity = args.granularity as number | undefined;
  if (granularity !== undefined && granularity !== 0) {
    if (granularity < 512 || granularity > 64 * 1024 * 1024) return fail("Parameter 'granularity' expects a value in range [512B, 64MB]");
    if ((granularity & (granularity - 1)) !== 0) return fail("Parameter 'granularity' expects a power of 2");
  }
  const target = args.target as string;
  const address = parseNbdUri(target);
  if (!address) return fail(`colo-sim's drive-mirror writes to an NBD export only (nbd://HOST:PORT/EXPORT), not '${target}'`);
  const jobId = (args['job-id'] as string | undefined) ?? sim.host(host).graph.backends.find((backend) => backend.root === source)?.name ?? '';
  if (!idWellformed(jobId)) return fail(`Invalid job ID '${jobId}'`);
  if (sim.host(host).jobs.get(jobId)) return fail(`Job ID '${jobId}' already in use`);
  const targetName = (args['node-name'] as string | undefined) ?? `${jobId}-target`;
  if (sim.findNode(targetName)) return fail(`Duplicate nodes with node-name='${targetName}'`);
  const connection = connectNbd(sim, host, address);
  if (!connection.ok) return fail(connection.message);
  const targetNode = sim.createNbdClient(host, targetName, connection.serverHost, address.exportName);
  const job = sim.startDriveMirror(host, jobId, source, targetNode, granularity || 64 * 1024);
  // sync=none: only writes from now on are copied (mirror_dirty_init is skipped).
  if (sync === 'none') job.skipInitialCopy();
  return ok();
}

/** One member of query-block-jobs (block_job_query). */
function jobInfo(job: MirrorJob): Record<string, unknown> {
  return {
    type: 'mirror',
    device: job.id,
    len: job.lenBytes,
    offset: job.offsetBytes,
    busy: job.hasPendingWork(),
    paused: false,
    speed: 0,
    'io-status': 'ok',
    ready: job.isReady,
    status: job.qmpStatus,
    'auto-finalize': true,
    'auto-dismiss': true,
  };
}

/** The key=value,... options of drive_add (QemuOpts: ",," is a comma inside a value). */
function parseDriveOptions(text: string): Map<string, string> | string {
  const options = new Map<string, string>();
  const parts: string[] = [];
  let current = '';
  for (let position = 0; position < text.length; position++) {
    const character = text[position]!;
    if (character === ',' && text[position + 1] === ',') {
      current += ',';
      position++;
    } else if (character === ',') {
      parts.push(current);
      current = '';
    } else current += character;
  }
  parts.push(current);
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) return `Invalid parameter '${part}'`;
    options.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return options;
}

/** What HMP printed: each line ends in "\r\n" (monitor_puts). */
function hmpOutput(...lines: string[]): QmpReply {
  return ok(lines.map((line) => `${line}\r\n`).join(''));
}

/** hmp_drive_add_node: drive_add -n <pseudo-bus> <options>, for a replication node. */
function driveAddNode(sim: Simulation, host: HostName, optionText: string): QmpReply {
  const options = parseDriveOptions(optionText);
  if (typeof options === 'string') return hmpOutput(options);
  const nodeName = options.get('node-name');
  if (nodeName === undefined) return hmpOutput("'node-name' needs to be specified");
  const driver = options.get('driver');
  if (driver !== 'replication') return hmpOutput(`colo-sim's drive_add -n opens driver=replication only (got ${driver === undefined ? 'no driver' : `'${driver}'`})`);
  const hostSide = sim.host(host);
  let file = options.get('file');
  let openedClient: string | undefined;
  if (options.get('file.driver') === 'nbd') {
    // bdrv_open opens the file child first: the NBD connection is made before replication_open checks anything.
    const address = { host: options.get('file.host') ?? '', port: options.get('file.port') ?? '10809', exportName: options.get('file.export') ?? '' };
    const connection = connectNbd(sim, host, address);
    if (!connection.ok) return connection.hint ? hmpOutput(connection.message, connection.hint) : hmpOutput(connection.message);
    openedClient = `${nodeName}-nbd`;
    if (sim.findNode(openedClient) || sim.findNode(nodeName)) return hmpOutput(`Duplicate nodes with node-name='${sim.findNode(nodeName) ? nodeName : openedClient}'`);
    sim.createNbdClient(host, openedClient, connection.serverHost, address.exportName);
    file = openedClient;
  } else if (options.has('file.driver')) {
    return hmpOutput(`colo-sim's drive_add -n opens a replication node over an NBD client (file.driver=nbd) or an existing node (file=NODE), not file.driver=${options.get('file.driver')!}`);
  }
  const outcome = sim.openReplication(host, {
    nodeName,
    ...(options.has('mode') ? { mode: options.get('mode')! } : {}),
    ...(options.has('top-id') ? { topId: options.get('top-id')! } : {}),
    ...(file === undefined ? {} : { file }),
  });
  if (!outcome.ok) {
    // The half-opened file child goes away with the failed open.
    if (openedClient) hostSide.graph.remove(hostSide.graph.node(openedClient)!);
    return hmpOutput(outcome.message);
  }
  return ok('');
}

/** hmp_drive_del: a drive's BlockBackend, else a node (qmp_blockdev_del, its error printed). */
function driveDel(sim: Simulation, host: HostName, id: string): QmpReply {
  const graph = sim.host(host).graph;
  if (graph.backendNamed(id)) return hmpOutput(`colo-sim's drive_del deletes nodes (drive_add -n, blockdev-add), not the drive ${id} of a guest device`);
  if (!graph.node(id)) return hmpOutput(`Device '${id}' not found`);
  const outcome = sim.deleteBlockNode(host, id);
  return outcome.ok ? ok('') : hmpOutput(outcome.message);
}

/** human-monitor-command: the HMP commands of COLO-FT.txt's runbooks. */
function humanMonitorCommand(sim: Simulation, host: HostName, commandLine: string): QmpReply {
  const words = commandLine.trim().split(/\s+/);
  const name = words[0] ?? '';
  if (name === 'drive_add') {
    if (words[1] !== '-n') return hmpOutput("colo-sim's drive_add takes -n (a node, as COLO-FT.txt adds the replication node)");
    if (words.length < 4) return hmpOutput("Parameter 'opts' is missing");
    return driveAddNode(sim, host, words.slice(3).join(' '));
  }
  if (name === 'drive_del') {
    if (words.length < 2) return hmpOutput("Parameter 'id' is missing");
    return driveDel(sim, host, words[1]!);
  }
  return hmpOutput(`colo-sim's monitor runs drive_add -n and drive_del (COLO-FT.txt's HMP commands), not '${name}'`);
}

export const BLOCK_COMMANDS: Readonly<Record<string, QmpCommand>> = {
  'x-blockdev-change': {
    args: { parent: T.required(T.str), child: T.optional(T.str), node: T.optional(T.str) },
    qemuFunction: 'qmp_x_blockdev_change',
    run: ({ sim, host }, args) => blockdevChange(sim, host, args.parent as string, args.child as string | undefined, args.node as string | undefined),
  },
  'blockdev-del': {
    args: { 'node-name': T.required(T.str) },
    qemuFunction: 'qmp_blockdev_del',
    run: ({ sim, host }, args) => {
      const outcome = sim.deleteBlockNode(host, args['node-name'] as string);
      return outcome.ok ? ok() : fail(outcome.message);
    },
  },
  'drive-mirror': {
    args: {
      'job-id': T.optional(T.str),
      device: T.required(T.str),
      target: T.required(T.str),
      format: T.optional(T.str),
      'node-name': T.optional(T.str),
      replaces: T.optional(T.str),
      sync: T.required(T.enumOf('top', 'full', 'none', 'incremental', 'bitmap')),
      mode: T.optional(T.enumOf('existing', 'absolute-paths')),
      speed: T.optional(T.int),
      granularity: T.optional(T.uint32),
      'buf-size': T.optional(T.int),
      'on-source-error': T.optional(ON_ERROR),
      'on-target-error': T.optional(ON_ERROR),
      unmap: T.optional(T.bool),
      'copy-mode': T.optional(T.enumOf('background', 'write-blocking')),
      'auto-finalize': T.optional(T.bool),
      'auto-dismiss': T.optional(T.bool),
    },
    qemuFunction: 'qmp_drive_mirror',
    run: ({ sim, host }, args) => driveMirror(sim, host, args),
  },
  'query-block-jobs': {
    args: {},
    qemuFunction: 'qmp_query_block_jobs',
    // Replication's backup job and active commit are internal jobs (JOB_INTERNAL): QMP does not list them.
    run: ({ sim, host }) => ok(sim.host(host).jobs.all().filter((job): job is MirrorJob => job instanceof MirrorJob).map(jobInfo)),
  },
  'block-job-cancel': {
    args: { device: T.required(T.str), force: T.optional(T.bool) },
    qemuFunction: 'qmp_block_job_cancel',
    run: ({ sim, host }, args) => {
      const job = findJob(sim, host, args.device as string);
      if (!(job instanceof MirrorJob)) return job;
      if (job.qmpStatus === 'aborting') return fail(`Job '${job.id}' in state 'aborting' cannot accept command verb 'cancel'`);
      job.cancel(args.force === true);
      return ok();
    },
  },
  'block-job-complete': {
    args: { device: T.required(T.str) },
    qemuFunction: 'qmp_block_job_complete',
    run: ({ sim, host }, args) => {
      const job = findJob(sim, host, args.device as string);
      if (!(job instanceof MirrorJob)) return job;
      if (job.qmpStatus !== 'ready') return fail(`Job '${job.id}' in state '${job.qmpStatus}' cannot accept command verb 'complete'`);
      if (job.cancelRequested) return fail(`The active block job '${job.id}' cannot be completed`);
      job.complete();
      return ok();
    },
  },
  'human-monitor-command': {
    args: { 'command-line': T.required(T.str), 'cpu-index': T.optional(T.int) },
    qemuFunction: 'qmp_human_monitor_command',
    run: ({ sim, host }, args) => humanMonitorCommand(sim, host, args['command-line'] as string),
  },
};
