/** Where a host's COLO thread is (ColoHostView.thread), in words: what it waits for in migration/colo.c. */
const PLACES: Readonly<Record<string, string>> = {
  'waiting-ready': 'waits for CHECKPOINT_READY',
  idle: 'waits for a checkpoint to be due',
  'awaiting-reply': 'waits for CHECKPOINT_REPLY',
  stopping: "stops its VM (vm_stop drains the VM's I/O)",
  'awaiting-received': 'waits for VMSTATE_RECEIVED',
  'awaiting-loaded': 'waits for VMSTATE_LOADED',
  'waiting-message': 'waits for CHECKPOINT_REQUEST',
  'awaiting-vmstate-send': 'waits for VMSTATE_SEND',
  'awaiting-vmstate-size': 'waits for VMSTATE_SIZE',
  loading: 'loads the device state',
  exited: 'left its loop (COLO_EXIT); waits for a failover',
  finished: 'finished',
};

export function describeThreadPlace(place: string | null): string {
  if (place === null) return 'no COLO thread';
  return PLACES[place] ?? place;
}
