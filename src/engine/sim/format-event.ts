/**
 * Events in words, with the QEMU function each one corresponds to: for `--trace`, the app's
 * event log and anyone reading QEMU's source alongside.
 */
import { formatByte } from '../block/data-runs.js';
import { MESSAGES } from '../replication/messages.js';
import type { SimEvent, SimEventKind } from './events.js';

function range(offsetBytes: number, lengthBytes: number): string {
  return `[${offsetBytes}, +${lengthBytes})`;
}

function fill(fillByte: number | undefined): string {
  return fillByte === undefined ? '' : ` ${formatByte(fillByte)}`;
}

/** The QEMU function (or QMP command) behind an event. */
export function qemuFunctionOf(event: SimEvent): string {
  switch (event.kind) {
    case 'io-issued':
    case 'io-completed':
      return event.io === 'read' ? 'blk_co_preadv' : event.io === 'flush' ? 'blk_co_flush' : 'blk_co_pwritev';
    case 'write-landed':
      return event.node === 'secondary-disk' || event.node === 'primary-disk' ? 'raw_co_pwritev' : 'qcow2_co_pwritev_part';
    case 'read-served':
      return event.node === 'secondary-disk' || event.node === 'primary-disk' ? 'raw_co_preadv' : 'qcow2_co_preadv_part';
    case 'io-failed':
      return event.cause.startsWith('replication') || event.cause.includes('primary replication') ? `replication_co_${event.io}v` : event.cause.startsWith('NBD') ? `nbd_co_request` : 'bdrv_co_preadv/pwritev';
    case 'forward-sent':
    case 'forward-completed':
    case 'forward-lost':
      return event.io === 'flush' ? 'bdrv_co_flush → nbd_client_co_flush' : 'replication_co_writev → nbd_client_co_pwritev';
    case 'forward-landed':
      return 'nbd_handle_request';
    case 'cbw-copy':
      return 'cbw_do_copy_before_write → block_copy';
    case 'bitmap-reset':
      return 'backup_do_checkpoint';
    case 'make-empty':
      return 'bdrv_make_empty';
    case 'job-created':
      return event.jobType === 'backup' ? 'backup_job_create' : event.jobType === 'mirror' ? 'qmp_drive_mirror → mirror_start' : 'commit_active_start';
    case 'job-progress':
      return 'mirror_iteration';
    case 'job-ready':
      return 'job_transition_to_ready';
    case 'job-completed':
      return event.jobType === 'mirror' ? 'mirror_exit_common' : 'mirror_exit_common → replication_done';
    case 'job-failed':
      return event.jobType === 'backup' ? 'job_cancel_sync → backup_job_completed' : event.jobType === 'mirror' ? 'mirror_exit_common' : 'mirror_exit_common → replication_done';
    case 'stage-changed':
      return 'BDRVReplicationState.stage';
    case 'error-recorded':
      return 'BDRVReplicationState.error';
    case 'replication-call':
      switch (event.action) {
        case 'start':
          return 'replication_start';
        case 'checkpoint':
          return 'replication_do_checkpoint';
        case 'get-error':
          return 'replication_get_error';
        case 'stop':
          return 'replication_stop';
      }
      return 'replication';
    case 'graph-changed':
      return 'bdrv_replace_node';
    case 'node-opened':
      return 'replication_open';
    case 'quorum-child-failed':
      return 'quorum_report_bad';
    case 'link-changed':
      return 'nbd reconnect / socket';
    case 'fault-injected':
    case 'fault-cleared':
      return 'blkdebug';
    case 'medium-ejected':
      return 'blk_remove_bs';
    case 'colo':
      switch (event.phase) {
        case 'start':
        case 'start-end':
          return 'qmp_migrate → colo_process_checkpoint / colo_process_incoming_thread';
        case 'failover-begin':
          return 'qmp_x_colo_lost_heartbeat → colo_do_failover';
        case 'failover':
          if (event.error === MESSAGES.featureDisabled('colo') || event.error === MESSAGES.failoverAlreadyActive) return 'qmp_x_colo_lost_heartbeat';
          return event.to === 'primary' ? 'primary_vm_do_failover' : 'secondary_vm_do_failover';
        default:
          return 'colo_checkpoint_notify → colo_do_checkpoint_transaction';
      }
    case 'vm-state':
      return event.running ? 'vm_start' : 'vm_stop';
    case 'colo-change':
      return event.host === 'primary' ? 'colo_process_checkpoint' : 'colo_process_incoming_thread';
    case 'colo-message':
      return 'colo_send_message';
    case 'colo-log':
      return 'error_report';
    case 'qmp-event':
      return `qapi_event_send_${event.name.toLowerCase()}`;
    case 'qmp':
      return `qmp_${event.execute.replace(/-/g, '_')}`;
    case 'host-lifecycle':
      return 'COLO-FT.txt: resume replication';
  }
}

export function describeEvent(event: SimEvent): string {
  switch (event.kind) {
    case 'io-issued':
      if (event.io === 'flush') return `#${event.requestId} ${event.origin} flushes ${event.node}`;
      return `#${event.requestId} ${event.origin} ${event.io}s ${event.node} ${range(event.offsetBytes, event.lengthBytes)}${fill(event.fillByte)}`;
    case 'io-completed':
      return `#${event.requestId} ${event.io} of ${event.node} ${event.errno ? `failed: ${event.errno}` : 'done'}`;
    case 'write-landed':
      return `#${event.requestId} ${event.node} holds ${range(event.offsetBytes, event.lengthBytes)}${fill(event.fillByte)}${event.cow.length > 0 ? ` (copy-on-write from backing: ${event.cow.map((part) => range(part.offsetBytes, part.lengthBytes)).join(', ')})` : ''}`;
    case 'read-served':
      return `#${event.requestId} ${event.node} served ${range(event.offsetBytes, event.lengthBytes)}`;
    case 'io-failed':
      return `#${event.requestId} ${event.io} on ${event.node} failed with ${event.errno}: ${event.cause}`;
    case 'forward-sent':
      if (event.io === 'flush') return `#${event.requestId} NBD_CMD_FLUSH sent over NBD, arrives at ${event.arrivesAtUs} us`;
      return `#${event.requestId} forwarded ${event.io} ${range(event.offsetBytes, event.lengthBytes)}${fill(event.fillByte)} sent over NBD, arrives at ${event.arrivesAtUs} us`;
    case 'forward-landed':
      return `#${event.requestId} forwarded ${event.io} reached the secondary${event.errno ? ` and failed: ${event.errno}` : ''}`;
    case 'forward-completed':
      return `#${event.requestId} reply reached the primary${event.errno ? `: ${event.errno}` : ''}`;
    case 'forward-lost':
      return `#${event.requestId} NBD link down: ${event.landed ? 'the write landed but its reply is lost' : 'the request never arrived'}`;
    case 'cbw-copy':
      return `#${event.requestId} copy-before-write: ${event.source} ${range(event.offsetBytes, event.lengthBytes)} → ${event.target}${event.zeroes ? ' (write-zeroes)' : ''}${event.errno ? ` FAILED: ${event.errno}` : ''}`;
    case 'bitmap-reset':
      return `backup job ${event.jobId}: copy bitmap set again (${event.clustersReset} cluster${event.clustersReset === 1 ? ' was' : 's were'} copied this epoch)`;
    case 'make-empty':
      return event.error ? `make_empty ${event.node} failed: ${event.error}` : `make_empty ${event.node}: ${event.clustersFreed} cluster${event.clustersFreed === 1 ? '' : 's'} dropped`;
    case 'job-created':
      return `${event.jobType} job ${event.jobId} created on ${event.host} (granularity ${event.granularityBytes} bytes)`;
    case 'job-progress':
      return `${event.jobType} job ${event.jobId}: offset ${event.offsetBytes} / len ${event.lenBytes}${event.copiedLengthBytes > 0 ? `, copied ${range(event.copiedOffsetBytes, event.copiedLengthBytes)}` : ''}`;
    case 'job-ready':
      return `${event.jobType} job ${event.jobId} is ready`;
    case 'job-completed':
      return `${event.jobType} job ${event.jobId} completed`;
    case 'job-failed':
      return `${event.jobType} job ${event.jobId} ${event.cancelled ? 'cancelled' : `failed: ${event.errno}`}`;
    case 'stage-changed':
      return `${event.node}: stage ${event.from} → ${event.to}`;
    case 'error-recorded':
      return `${event.node}: error = ${event.errno ? `-${event.errno}` : '0'} (${event.cause})`;
    case 'replication-call': {
      const args = event.action === 'start' ? `(${event.mode})` : event.action === 'stop' ? `(failover=${event.failover})` : '()';
      const result = event.outcome === 'error' ? `error: ${event.message}` : event.outcome;
      return `${event.node}: ${event.action}${args} → ${result}${event.quirk ? ` [${event.quirk}]` : ''}`;
    }
    case 'graph-changed':
      return `${event.host} graph: ${event.change}`;
    case 'node-opened':
      return `${event.host}: open ${event.node}${event.error ? ` failed: ${event.error}` : ''}`;
    case 'quorum-child-failed':
      return `${event.node}: child ${event.child} failed a ${event.io} with ${event.errno} (QUORUM_REPORT_BAD)`;
    case 'link-changed':
      return `NBD link ${event.up ? 'up' : 'down'}`;
    case 'fault-injected':
      return `fault: ${event.description}`;
    case 'fault-cleared':
      return 'every fault cleared';
    case 'medium-ejected':
      return `${event.node}: medium ejected`;
    case 'colo':
      if (event.phase === 'failover-begin') return `COLO failover to ${event.to ?? 'the survivor'}: VMs stop, I/O drains`;
      return `COLO ${event.phase}${event.to ? ` to ${event.to}` : ''}${event.error ? ` failed: ${event.error}` : ''}`;
    case 'vm-state':
      return `${event.vm} VM ${event.running ? 'running' : 'stopped'}`;
    case 'colo-change':
      return `${event.host}: ${event.change}`;
    case 'colo-message':
      return `${event.from} → ${event.to}: ${event.message.toUpperCase()}${event.lost ? ' (lost: the peer is gone)' : ''}`;
    case 'colo-log':
      return `${event.host} QEMU log: ${event.message}`;
    case 'qmp-event':
      return `${event.host} QMP event ${event.name}${Object.keys(event.data).length > 0 ? ` ${JSON.stringify(event.data)}` : ''}`;
    case 'qmp':
      return `${event.host} QMP ${event.execute}${event.arguments ? ` ${JSON.stringify(event.arguments)}` : ''} → ${JSON.stringify(event.reply)}`;
    case 'host-lifecycle':
      return `${event.host}: ${event.change}`;
  }
}

/** Every event kind, for filters in the app. */
export const EVENT_KINDS: readonly SimEventKind[] = [
  'io-issued', 'io-completed', 'write-landed', 'read-served', 'io-failed', 'forward-sent', 'forward-landed',
  'forward-completed', 'forward-lost', 'cbw-copy', 'bitmap-reset', 'make-empty', 'job-created', 'job-progress',
  'job-ready', 'job-completed', 'job-failed', 'stage-changed', 'error-recorded', 'replication-call', 'graph-changed',
  'node-opened', 'quorum-child-failed', 'link-changed', 'fault-injected', 'fault-cleared', 'medium-ejected', 'colo', 'vm-state',
  'colo-change', 'colo-message', 'colo-log', 'qmp-event', 'qmp', 'host-lifecycle',
];
