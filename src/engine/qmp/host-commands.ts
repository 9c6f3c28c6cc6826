/**
 * Commands about a host rather than its disks: the network objects COLO-FT.txt's runbooks add
 * and delete (object-add, object-del), yank (util/yank.c), and replication's own commands that
 * migration/colo.c offers beside COLO (xen-set-replication, query-xen-replication-status,
 * xen-colo-do-checkpoint), the only QMP way for a manager to read replication's errors.
 */
import { NbdClientNode } from '../block/nbd.js';
import type { HostName } from '../sim/events.js';
import type { Simulation } from '../colo/simulation.js';
import { fail, ok, type QmpCommand, type QmpReply } from './command.js';
import { T } from './qapi.js';

/** The network side of COLO: accepted and listed, not simulated (colo-sim has no guest network). */
export const NETWORK_OBJECT_TYPES = ['colo-compare', 'filter-mirror', 'filter-redirector', 'filter-rewriter', 'iothread'] as const;

/** A yank instance registered on a host (query-yank): the NBD clients, and the migration while one runs. */
function yankInstances(sim: Simulation, host: HostName): Array<Record<string, unknown>> {
  const instances: Array<Record<string, unknown>> = [];
  for (const node of sim.host(host).graph.nodes()) if (node instanceof NbdClientNode) instances.push({ type: 'block-node', 'node-name': node.nodeName });
  const state = sim.colo.process(host).state;
  const migrating = (status: string): boolean => status === 'setup' || status === 'active' || status === 'colo';
  if (migrating(state.outgoing) || migrating(state.incoming)) instances.push({ type: 'migration' });
  return instances;
}

function sameInstance(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'block-node') return a['node-name'] === b['node-name'];
  if (a.type === 'chardev') return a.id === b.id;
  return true;
}

/** qmp_yank: every instance must exist before any is yanked. */
function yank(sim: Simulation, host: HostName, instances: Array<Record<string, unknown>>): QmpReply {
  const registered = yankInstances(sim, host);
  for (const instance of instances) if (!registered.some((candidate) => sameInstance(candidate, instance))) return fail('Instance not found', 'DeviceNotFound');
  for (const instance of instances) {
    if (instance.type === 'block-node') sim.yankNbdClient(host, instance['node-name'] as string);
    else if (instance.type === 'migration') sim.colo.yankMigration(host);
  }
  return ok();
}

export const HOST_COMMANDS: Readonly<Record<string, QmpCommand>> = {
  'object-add': {
    args: { 'qom-type': T.required(T.str), id: T.required(T.str) },
    qemuFunction: 'qmp_object_add',
    openArguments: true,
    run: ({ sim, host }, args) => {
      const type = args['qom-type'] as string;
      const id = args.id as string;
      if (!(NETWORK_OBJECT_TYPES as readonly string[]).includes(type)) return fail(`invalid object type: ${type}`);
      const objects = sim.colo.process(host).state.objects;
      if (objects.some((object) => object.id === id)) return fail(`attempt to add duplicate property '${id}' to object (type 'container')`);
      objects.push({ id, type, properties: Object.fromEntries(Object.entries(args).filter(([key]) => key !== 'qom-type' && key !== 'id')) });
      sim.events.emit({ kind: 'graph-changed', host, change: `object ${id} (${type}) added: network side, not simulated` });
      return ok();
    },
  },
  'object-del': {
    args: { id: T.required(T.str) },
    qemuFunction: 'qmp_object_del',
    run: ({ sim, host }, args) => {
      const objects = sim.colo.process(host).state.objects;
      const position = objects.findIndex((object) => object.id === args.id);
      if (position < 0) return fail(`object '${args.id as string}' not found`);
      const [removed] = objects.splice(position, 1);
      sim.events.emit({ kind: 'graph-changed', host, change: `object ${removed!.id} (${removed!.type}) deleted: network side, not simulated` });
      return ok();
    },
  },
  'chardev-add': {
    args: { id: T.required(T.str), backend: T.required(T.any) },
    qemuFunction: 'qmp_chardev_add',
    run: ({ sim, host }, args) => {
      const chardevs = sim.colo.process(host).state.chardevs;
      const id = args.id as string;
      if (chardevs.includes(id)) return fail(`attempt to add duplicate property '${id}' to object (type 'container')`);
      chardevs.push(id);
      return ok({});
    },
  },
  'chardev-remove': {
    args: { id: T.required(T.str) },
    qemuFunction: 'qmp_chardev_remove',
    run: ({ sim, host }, args) => {
      const state = sim.colo.process(host).state;
      const id = args.id as string;
      const position = state.chardevs.indexOf(id);
      if (position < 0) return fail(`Chardev '${id}' not found`);
      // qemu_chr_is_busy: a filter or colo-compare still has it as a frontend.
      if (state.objects.some((object) => Object.values(object.properties).includes(id))) return fail(`Chardev '${id}' is busy`);
      state.chardevs.splice(position, 1);
      return ok();
    },
  },
  yank: {
    args: { instances: T.required(T.list(T.struct({ type: T.required(T.enumOf('block-node', 'chardev', 'migration')), 'node-name': T.optional(T.str), id: T.optional(T.str) }))) },
    qemuFunction: 'qmp_yank',
    run: ({ sim, host }, args) => yank(sim, host, args.instances as Array<Record<string, unknown>>),
  },
  'query-yank': {
    args: {},
    qemuFunction: 'qmp_query_yank',
    run: ({ sim, host }) => ok(yankInstances(sim, host)),
  },
  'xen-set-replication': {
    args: { enable: T.required(T.bool), primary: T.required(T.bool), failover: T.optional(T.bool) },
    qemuFunction: 'qmp_xen_set_replication',
    run: ({ sim, host }, args) => {
      if (args.failover !== undefined && args.enable === true) return fail("Parameter 'failover' is only for stopping replication");
      if (args.enable === true) {
        const outcome = sim.replication(host, 'start', { mode: args.primary === true ? 'primary' : 'secondary' });
        return outcome.ok ? ok() : fail(outcome.message);
      }
      // replication_stop_all(failover, failover ? NULL : errp): a failover's errors are dropped (QEMU quirk).
      const failover = args.failover === true;
      const outcome = sim.replication(host, 'stop', { failover });
      return outcome.ok || failover ? ok() : fail(outcome.message);
    },
  },
  'query-xen-replication-status': {
    args: {},
    qemuFunction: 'qmp_query_xen_replication_status',
    run: ({ sim, host }) => {
      const outcome = sim.replication(host, 'get-error');
      return ok(outcome.ok ? { error: false } : { error: true, desc: outcome.message });
    },
  },
  'xen-colo-do-checkpoint': {
    args: {},
    qemuFunction: 'qmp_xen_colo_do_checkpoint',
    run: ({ sim, host }) => {
      const outcome = sim.replication(host, 'checkpoint');
      return outcome.ok ? ok() : fail(outcome.message);
    },
  },
};
