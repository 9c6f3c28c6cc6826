/**
 * The vocabulary of migration/colo.c and qapi/migration.json (QEMU 7.2): COLO's messages, modes,
 * failover states, exit reasons, migration states and run states, as QMP spells them.
 */

/** COLOMessage, in the order QEMU numbers them ("Unexpected COLO message %d, expected %d"). */
export const COLO_MESSAGES = ['checkpoint-ready', 'checkpoint-request', 'checkpoint-reply', 'vmstate-send', 'vmstate-size', 'vmstate-received', 'vmstate-loaded'] as const;
export type ColoMessage = (typeof COLO_MESSAGES)[number];

export function coloMessageNumber(message: ColoMessage): number {
  return COLO_MESSAGES.indexOf(message);
}

export type ColoMode = 'none' | 'primary' | 'secondary';
export type FailoverStatus = 'none' | 'require' | 'active' | 'completed' | 'relaunch';
export type ColoExitReason = 'none' | 'request' | 'error' | 'processing';

/** MigrationStatus members colo-sim reaches. */
export type MigrationStatus = 'none' | 'setup' | 'active' | 'completed' | 'failed' | 'colo';

/** RunState members colo-sim reaches (query-status's "status"). */
export type RunState = 'running' | 'paused' | 'prelaunch' | 'inmigrate' | 'postmigrate' | 'finish-migrate' | 'colo' | 'shutdown';

/**
 * Where a host's COLO thread is. The primary's is colo_process_checkpoint with
 * colo_do_checkpoint_transaction; the secondary's is colo_process_incoming_thread with
 * colo_incoming_process_checkpoint. `exited`: it left its loop and waits on its semaphore for a
 * failover; `finished`: the failover posted it and the thread ended.
 */
export type PrimaryThreadPlace = 'waiting-ready' | 'idle' | 'awaiting-reply' | 'stopping' | 'awaiting-received' | 'awaiting-loaded' | 'exited' | 'finished';
export type SecondaryThreadPlace = 'waiting-message' | 'awaiting-vmstate-send' | 'awaiting-vmstate-size' | 'loading' | 'exited' | 'finished';

export type ColoThread = { readonly role: 'primary'; place: PrimaryThreadPlace } | { readonly role: 'secondary'; place: SecondaryThreadPlace };

/** What each waiting place of a thread waits to receive. */
export const AWAITED_MESSAGE: Partial<Record<PrimaryThreadPlace | SecondaryThreadPlace, ColoMessage>> = {
  'waiting-ready': 'checkpoint-ready',
  'awaiting-reply': 'checkpoint-reply',
  'awaiting-received': 'vmstate-received',
  'awaiting-loaded': 'vmstate-loaded',
  'awaiting-vmstate-send': 'vmstate-send',
  'awaiting-vmstate-size': 'vmstate-size',
};

/** QEMU 7.2's default x-checkpoint-delay (DEFAULT_MIGRATE_X_CHECKPOINT_DELAY), in milliseconds. */
export const DEFAULT_CHECKPOINT_DELAY_MS = 20_000;

/** error_setg_errno(..., -EIO, ...) as error_report prints it. */
export const CHANNEL_ERRORS = {
  receive: "Can't receive COLO message: Input/output error",
  send: "Can't send COLO message: Input/output error",
} as const;
