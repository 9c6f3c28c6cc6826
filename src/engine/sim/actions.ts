/**
 * Everything that can wait on the virtual clock, as data (see scheduler.ts): the simulation
 * dispatches each action to its owner when its time comes.
 */
import type { ColoMessage } from '../colo/colo-protocol.js';
import type { HostName } from './events.js';

export type EngineAction =
  /** An NBD request reaches the server (the frame is the client's request). */
  | { readonly type: 'nbd-arrive'; readonly frameId: number }
  /** An NBD reply reaches the client. */
  | { readonly type: 'nbd-reply'; readonly frameId: number }
  /** The link went down with this message on the wire: the client learns it now. */
  | { readonly type: 'nbd-lost'; readonly frameId: number }
  /** A block job's coroutine runs (job_start, or after its copy time). */
  | { readonly type: 'job-run'; readonly host: HostName; readonly jobId: string }
  /** The guest workload issues its next write. */
  | { readonly type: 'workload-arrival' }
  /** A COLO message reaches `to` over the migration channel (dropped if the channel broke since `epoch`). */
  | { readonly type: 'colo-message'; readonly to: HostName; readonly message: ColoMessage; readonly value: number | null; readonly epoch: number }
  /** The migration stream reaches the destination, which loads it and (with COLO) starts its incoming thread. */
  | { readonly type: 'colo-incoming'; readonly host: HostName; readonly colo: boolean }
  /** The primary's x-checkpoint-delay timer (colo_checkpoint_notify). */
  | { readonly type: 'colo-timer'; readonly host: HostName }
  /** colo_failover_bh runs in the main loop. */
  | { readonly type: 'colo-failover-bh'; readonly host: HostName }
  /** vm_stop's drain of this host's I/O is over. */
  | { readonly type: 'colo-drained'; readonly host: HostName }
  /** The secondary has loaded a checkpoint's device state. */
  | { readonly type: 'colo-vmstate-loaded'; readonly host: HostName }
  /** A COLO thread woken by a failover (its semaphore, or its channel shut down) runs. */
  | { readonly type: 'colo-thread-wake'; readonly host: HostName }
  /** The migration channel broke: a COLO thread blocked in recv fails. */
  | { readonly type: 'colo-channel-error'; readonly host: HostName };

export type EngineActionType = EngineAction['type'];
