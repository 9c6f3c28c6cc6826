/**
 * QEMU's own words for every error the replication filter and its callers report, so that a
 * scenario can expect them exactly.
 */
import { STRERROR, type Errno } from '../block/errno.js';
import type { ReplicationMode } from '../sim/events.js';

/** ReplicationMode as QEMU prints it with %d. */
export function modeNumber(mode: ReplicationMode): number {
  return mode === 'primary' ? 0 : 1;
}

export const MESSAGES = {
  // replication_open
  missingMode: 'Missing the option mode',
  primaryTopId: 'The primary side does not support option top-id',
  missingTopId: 'Missing the option top-id',
  badMode: "The option mode's value should be primary or secondary",
  // replication_start
  runningOrDone: 'Block replication is running or done',
  wrongMode: (needs: ReplicationMode, got: ReplicationMode) =>
    `The parameter mode's value is invalid, needs ${modeNumber(needs)}, but got ${modeNumber(got)}`,
  activeNoBacking: "Active disk doesn't have backing file",
  hiddenNoBacking: "Hidden disk doesn't have backing file",
  secondaryNoBackend: "The secondary disk doesn't have block backend",
  lengthsDiffer: "Active disk, hidden disk, secondary disk's length are not the same",
  noMakeEmpty: "Active disk or hidden disk doesn't support make_empty",
  invalidTop: 'No top_bs or it is invalid',
  // secondary_do_checkpoint
  backupCancelled: 'Backup job was cancelled unexpectedly',
  activeEjected: (nodeName: string) => `Active disk ${nodeName} is ejected`,
  hiddenEjected: (nodeName: string) => `Hidden disk ${nodeName} is ejected`,
  failedToEmpty: (filename: string, errno: Errno) => `Failed to empty ${filename}: ${STRERROR[errno]}`,
  // get_error / stop
  notRunning: 'Block replication is not running',
  ioErrorOccurred: 'I/O error occurred',
  // block layer (blockdev-add)
  duplicateNode: (nodeName: string) => `Duplicate nodes with node-name='${nodeName}'`,
  fileMissing: 'A block device must be specified for "file"',
  cannotFind: (reference: string) => `Cannot find device='${reference}' nor node-name='${reference}'`,
  // migration/colo-failover.c (qmp_x_colo_lost_heartbeat with QERR_FEATURE_DISABLED, failover_request_active)
  featureDisabled: (feature: string) => `The feature '${feature}' is not enabled`,
  failoverAlreadyActive: 'COLO failover is already activated',
} as const;
