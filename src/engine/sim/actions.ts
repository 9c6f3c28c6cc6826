/**
 * Everything that can wait on the virtual clock, as data (see scheduler.ts): the simulation
 * dispatches each action to its owner when its time comes.
 */
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
  /** A COLO operation (checkpoint, failover) that waited for I/O to drain goes on. */
  | { readonly type: 'colo-continue'; readonly operationId: number };

export type EngineActionType = EngineAction['type'];
