/**
 * The replication filter (QEMU block/replication.c), modelled call for call.
 *
 * I/O by stage and mode:
 *   primary   — reads always fail; writes are forwarded to `file` (the NBD client) in RUNNING
 *               and fail otherwise; a failed forward is recorded in `error` and the write
 *               reports success.
 *   secondary — NONE fails; RUNNING, FAILOVER and DONE pass to `file`; FAILOVER_FAILED routes
 *               each write extent by is_allocated_above(active, secondary disk).
 *
 * Control calls (start, checkpoint, get-error, stop) run their checks in QEMU's order and fail
 * with QEMU's messages, quirks included: stop without failover on the secondary always fails
 * and keeps the buffers; get-error fails while the commit runs.
 */
import { isAllocatedAbove } from '../block/allocation.js';
import type { DataRuns } from '../block/data-runs.js';
import { failed, type Errno, type ReadResult, type WriteResult } from '../block/errno.js';
import { reaches, type BlockGraph } from '../block/graph.js';
import { ImageNode } from '../block/image.js';
import { isSuspended, type IoFrame, type IoOutcome, type IoResult } from '../block/io-frames.js';
import { BlockNode, type BlockEnv, type ChildRole, type IoContext } from '../block/node.js';
import { Qcow2Image } from '../block/qcow2-image.js';
import type { JobRegistry } from '../jobs/block-job.js';
import { BackupJob, backupClusterSizeBytes } from '../jobs/backup-job.js';
import { CommitJob, commitGranularityBytes } from '../jobs/commit-job.js';
import type { HostName, ReplicationAction, ReplicationMode, Stage } from '../sim/events.js';
import { MESSAGES } from './messages.js';

export interface ReplicationHostServices {
  readonly graph: BlockGraph;
  readonly jobs: JobRegistry;
  /** Virtual time the active commit takes to copy one granule. */
  readonly copyTimeUs: number;
  readonly nextRequestId: () => number;
}

/** What a control call did: succeeded, was ignored (stage DONE or FAILOVER), or failed. */
export type ControlOutcome =
  | { readonly outcome: 'ok'; readonly quirk?: string }
  | { readonly outcome: 'ignored' }
  | { readonly outcome: 'error'; readonly message: string; readonly quirk?: string };

const PRIMARY_FORWARD = 'replication-primary-forward';
const ROUTE_EXTENT = 'replication-route-extent';

interface RoutingState {
  readonly offsetBytes: number;
  readonly data: DataRuns;
  doneBytes: number;
  readonly ctx: IoContext;
}

const OK: ControlOutcome = { outcome: 'ok' };
const IGNORED: ControlOutcome = { outcome: 'ignored' };

function error(message: string, quirk?: string): ControlOutcome {
  return quirk ? { outcome: 'error', message, quirk } : { outcome: 'error', message };
}

export const QUIRKS = {
  stopWithoutFailover:
    'QEMU quirk: on the secondary, stop without failover cancels the backup job first, so its checkpoint always fails ' +
    '("Backup job was cancelled unexpectedly"); the active and hidden disks are not emptied, yet the stage becomes done.',
  getErrorDuringCommit:
    'QEMU quirk: stop on the secondary cancels the backup job, whose callback sets error=-EIO; get-error keeps failing ' +
    'until the active commit completes.',
  getErrorAfterStop:
    'QEMU quirk: stop on the secondary cancels the backup job, whose callback sets error=-EIO, and nothing clears it ' +
    'unless an active commit completes.',
  startCheckpointFailed:
    'QEMU quirk: start reports the error of its first checkpoint, but replication is running all the same.',
} as const;

export class ReplicationNode extends BlockNode {
  readonly driver = 'replication' as const;
  readonly isFilter = true;
  private currentStage: Stage = 'none';
  /** s->error: 0, or the errno of the last failure recorded. */
  private recordedError: Errno | 0 = 0;
  private backupJob: BackupJob | undefined;
  private commitJob: CommitJob | undefined;

  constructor(
    nodeName: string,
    host: HostName,
    env: BlockEnv,
    private readonly hostServices: ReplicationHostServices,
    readonly mode: ReplicationMode,
    readonly topId: string | undefined,
  ) {
    super(nodeName, host, env);
  }

  get stage(): Stage {
    return this.currentStage;
  }

  get error(): Errno | 0 {
    return this.recordedError;
  }

  get backup(): BackupJob | undefined {
    return this.backupJob;
  }

  get commit(): CommitJob | undefined {
    return this.commitJob;
  }

  get file(): BlockNode | undefined {
    return this.children.get('file');
  }

  protected driverLengthBytes(): number | undefined {
    return this.file?.lengthBytes();
  }

  // ---- I/O -------------------------------------------------------------------------------

  /** replication_get_io_status: <0 refuse, 0 pass to file, 1 route per extent. */
  private ioStatus(): -1 | 0 | 1 {
    switch (this.currentStage) {
      case 'none':
        return -1;
      case 'running':
        return 0;
      case 'failover':
      case 'done':
        return this.mode === 'primary' ? -1 : 0;
      case 'failover-failed':
        return this.mode === 'primary' ? -1 : 1;
    }
  }

  /**
   * Replication has no flush of its own: bdrv_co_flush flushes every child it holds with write
   * permission (replication_child_perm gives all of them WRITE), whatever the stage. In
   * bs->children order: the secondary disk and the hidden disk (attached by replication_start)
   * before the file.
   */
  protected override flushedChildRoles(): ChildRole[] {
    return ['secondary disk', 'hidden disk', 'file'];
  }

  protected readFromDriver(offsetBytes: number, lengthBytes: number, ctx: IoContext): IoOutcome<ReadResult> {
    if (this.mode === 'primary') {
      this.reportFailure('read', offsetBytes, lengthBytes, ctx, 'EIO', 'the primary replication node only forwards writes');
      return failed('EIO');
    }
    if (this.ioStatus() < 0) {
      this.reportFailure('read', offsetBytes, lengthBytes, ctx, 'EIO', `replication stage is ${this.currentStage}`);
      return failed('EIO');
    }
    return this.file!.read(offsetBytes, lengthBytes, ctx);
  }

  protected writeToDriver(offsetBytes: number, data: DataRuns, ctx: IoContext): IoOutcome<WriteResult> {
    const status = this.ioStatus();
    if (status < 0) {
      this.reportFailure('write', offsetBytes, data.lengthBytes, ctx, 'EIO', `replication stage is ${this.currentStage} (${this.mode})`);
      return failed('EIO');
    }
    if (status === 0) {
      const outcome = this.file!.write(offsetBytes, data, ctx);
      if (this.mode !== 'primary') return outcome;
      if (isSuspended(outcome)) return this.suspendOn(outcome, PRIMARY_FORWARD, {});
      return this.returnValue(outcome);
    }
    return this.continueRouting({ offsetBytes, data, doneBytes: 0, ctx });
  }

  /** replication_return_value: the primary swallows forwarding errors into s->error. */
  private returnValue(result: WriteResult): WriteResult {
    if (result.ok) return result;
    this.recordError(result.errno, 'a forwarded write failed');
    return { ok: true };
  }

  /** FAILOVER_FAILED: extents allocated in active or hidden go to the active disk, the rest to the secondary disk. */
  private continueRouting(state: RoutingState): IoOutcome<WriteResult> {
    const top = this.file!;
    const base = this.children.get('secondary disk')!;
    const { offsetBytes, data } = state;
    while (state.doneBytes < data.lengthBytes) {
      const run = isAllocatedAbove(top, base, false, offsetBytes + state.doneBytes, data.lengthBytes - state.doneBytes);
      const target = run.allocated ? top : base;
      const outcome = target.write(offsetBytes + state.doneBytes, data.slice(state.doneBytes, state.doneBytes + run.runBytes), state.ctx);
      if (isSuspended(outcome)) return this.suspendOn(outcome, ROUTE_EXTENT, { ...state, pendingRunBytes: run.runBytes });
      if (!outcome.ok) return outcome;
      state.doneBytes += run.runBytes;
    }
    return { ok: true };
  }

  protected override resumeDriver(frame: IoFrame, slot: number, result: IoResult): IoOutcome {
    if (frame.step === PRIMARY_FORWARD) return this.returnValue(result as WriteResult);
    if (frame.step === ROUTE_EXTENT) {
      const state = frame.state as RoutingState & { pendingRunBytes: number };
      if (!result.ok) return result;
      state.doneBytes += state.pendingRunBytes;
      return this.continueRouting(state);
    }
    return super.resumeDriver(frame, slot, result);
  }

  // ---- control ---------------------------------------------------------------------------

  /** replication_start */
  start(mode: ReplicationMode): ControlOutcome {
    return this.report('start', this.doStart(mode), { mode });
  }

  /** replication_do_checkpoint */
  checkpoint(): ControlOutcome {
    let outcome: ControlOutcome;
    if (this.currentStage === 'done' || this.currentStage === 'failover') outcome = IGNORED;
    else if (this.mode === 'secondary') outcome = this.secondaryDoCheckpoint();
    else outcome = OK;
    return this.report('checkpoint', outcome);
  }

  /** replication_get_error */
  getError(): ControlOutcome {
    let outcome: ControlOutcome;
    if (this.currentStage === 'none') outcome = error(MESSAGES.notRunning);
    else if (this.recordedError !== 0) {
      const quirk =
        this.mode !== 'secondary'
          ? undefined
          : this.currentStage === 'failover'
            ? QUIRKS.getErrorDuringCommit
            : this.currentStage === 'done'
              ? QUIRKS.getErrorAfterStop
              : undefined;
      outcome = error(MESSAGES.ioErrorOccurred, quirk);
    } else outcome = OK;
    return this.report('get-error', outcome);
  }

  /** replication_stop */
  stop(failover: boolean): ControlOutcome {
    return this.report('stop', this.doStop(failover), { failover });
  }

  private doStart(mode: ReplicationMode): ControlOutcome {
    if (this.currentStage === 'done' || this.currentStage === 'failover') return IGNORED;
    if (this.currentStage !== 'none') return error(MESSAGES.runningOrDone);
    if (this.mode !== mode) return error(MESSAGES.wrongMode(this.mode, mode));

    if (this.mode === 'secondary') {
      const active = this.file;
      const hidden = active?.child('backing');
      if (!active || !hidden) return error(MESSAGES.activeNoBacking);
      const secondary = hidden.child('backing');
      if (!secondary) return error(MESSAGES.hiddenNoBacking);
      const graph = this.hostServices.graph;
      if (!graph.hasBackend(secondary)) return error(MESSAGES.secondaryNoBackend);
      const activeLength = active.lengthBytes();
      const hiddenLength = hidden.lengthBytes();
      const secondaryLength = secondary.lengthBytes();
      if (activeLength === undefined || hiddenLength === undefined || secondaryLength === undefined || activeLength !== hiddenLength || hiddenLength !== secondaryLength) {
        return error(MESSAGES.lengthsDiffer);
      }
      if (!supportsMakeEmpty(active) || !supportsMakeEmpty(hidden)) return error(MESSAGES.noMakeEmpty);

      this.children.set('hidden disk', hidden);
      this.children.set('secondary disk', secondary);

      const top = this.topId === undefined ? undefined : graph.lookup(this.topId);
      if (!top || !graph.isRoot(top) || !reaches(top, this)) return error(MESSAGES.invalidTop);

      const job = new BackupJob(
        this.env,
        this.hostServices.jobs,
        graph,
        secondary,
        hidden,
        backupClusterSizeBytes(hidden instanceof Qcow2Image ? hidden.clusterSizeBytes : undefined),
        () => this.onBackupJobCompleted(),
      );
      this.backupJob = job;
      job.start();
    }

    this.setStage('running');
    let outcome: ControlOutcome = OK;
    if (this.mode === 'secondary') {
      const checkpoint = this.secondaryDoCheckpoint();
      if (checkpoint.outcome === 'error') outcome = error(checkpoint.message, QUIRKS.startCheckpointFailed);
    }
    this.recordError(0, 'replication started');
    return outcome;
  }

  /** secondary_do_checkpoint */
  private secondaryDoCheckpoint(): ControlOutcome {
    const job = this.backupJob;
    if (!job) return error(MESSAGES.backupCancelled);
    job.doCheckpoint();

    const active = this.file!;
    if (active.ejected) return error(MESSAGES.activeEjected(active.nodeName));
    const activeEmptied = this.makeEmpty(active);
    if (activeEmptied) return activeEmptied;

    const hidden = this.children.get('hidden disk')!;
    if (hidden.ejected) return error(MESSAGES.hiddenEjected(hidden.nodeName));
    return this.makeEmpty(hidden) ?? OK;
  }

  /** bdrv_make_empty; returns the error outcome, or undefined when the image was emptied. */
  private makeEmpty(node: BlockNode): ControlOutcome | undefined {
    if (!(node instanceof Qcow2Image)) return error(`${node.driver} does not support emptying nodes`);
    const result = node.makeEmpty();
    if (!result.ok) {
      const message = MESSAGES.failedToEmpty(node.filename, result.errno);
      this.env.events.emit({ kind: 'make-empty', node: node.nodeName, clustersFreed: 0, error: message });
      return error(message);
    }
    this.env.events.emit({ kind: 'make-empty', node: node.nodeName, clustersFreed: result.clustersFreed });
    return undefined;
  }

  /** backup_job_completed: any end of the backup job outside failover is an error. */
  onBackupJobCompleted(): void {
    if (this.currentStage !== 'failover') this.recordError('EIO', 'the backup job ended (cancelled or failed)');
    this.backupJob = undefined;
  }

  private doStop(failover: boolean): ControlOutcome {
    if (this.currentStage === 'done' || this.currentStage === 'failover') return IGNORED;
    if (this.currentStage !== 'running') return error(MESSAGES.notRunning);

    if (this.mode === 'primary') {
      this.setStage('done');
      this.recordError(0, 'replication stopped');
      return OK;
    }

    this.backupJob?.cancel();
    if (!failover) {
      const checkpoint = this.secondaryDoCheckpoint();
      this.setStage('done');
      return checkpoint.outcome === 'error' ? error(checkpoint.message, QUIRKS.stopWithoutFailover) : OK;
    }

    this.setStage('failover');
    const active = this.file!;
    const base = this.children.get('secondary disk')!;
    const job = new CommitJob(
      this.env,
      this.hostServices.jobs,
      this.hostServices.graph,
      {
        source: active,
        intermediate: this.children.get('hidden disk')!,
        base,
        granularityBytes: commitGranularityBytes(base instanceof Qcow2Image ? base.clusterSizeBytes : undefined),
        copyTimeUs: this.hostServices.copyTimeUs,
        requestId: this.hostServices.nextRequestId,
      },
      (errno) => this.onCommitDone(errno),
    );
    this.commitJob = job;
    job.start();
    return OK;
  }

  /** replication_done: the commit's completion callback. */
  onCommitDone(errno: Errno | undefined): void {
    this.commitJob = undefined;
    if (errno === undefined) {
      this.setStage('done');
      this.children.delete('secondary disk');
      this.children.delete('hidden disk');
      this.recordError(0, 'the active commit completed');
    } else {
      this.setStage('failover-failed');
      this.recordError('EIO', `the active commit failed (${errno})`);
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------

  /** Puts saved state back (a restored simulation); emits nothing. Every key is required, so none can be forgotten. */
  restoreState(state: { readonly stage: Stage; readonly error: Errno | 0; readonly backupJob: BackupJob | undefined; readonly commitJob: CommitJob | undefined }): void {
    this.currentStage = state.stage;
    this.recordedError = state.error;
    this.backupJob = state.backupJob;
    this.commitJob = state.commitJob;
  }

  private setStage(to: Stage): void {
    const from = this.currentStage;
    if (from === to) return;
    this.currentStage = to;
    this.env.events.emit({ kind: 'stage-changed', host: this.host, node: this.nodeName, from, to });
  }

  private recordError(errno: Errno | 0, cause: string): void {
    if (this.recordedError === errno) return;
    this.recordedError = errno;
    this.env.events.emit({ kind: 'error-recorded', host: this.host, node: this.nodeName, errno: errno === 0 ? null : errno, cause });
  }

  private report(action: ReplicationAction, outcome: ControlOutcome, extra: { mode?: ReplicationMode; failover?: boolean } = {}): ControlOutcome {
    this.env.events.emit({
      kind: 'replication-call',
      host: this.host,
      node: this.nodeName,
      action,
      ...extra,
      outcome: outcome.outcome,
      ...(outcome.outcome === 'error' ? { message: outcome.message } : {}),
      ...('quirk' in outcome && outcome.quirk ? { quirk: outcome.quirk } : {}),
    });
    return outcome;
  }
}

function supportsMakeEmpty(node: BlockNode): boolean {
  return node instanceof ImageNode && node.supportsMakeEmpty;
}
