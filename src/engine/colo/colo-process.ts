/**
 * One host's QEMU process as migration/colo.c and colo-failover.c (QEMU 7.2) run COLO on it:
 * its run state, its outgoing and incoming migration states, the failover state, the last COLO
 * mode, and its COLO thread: the primary's checkpoint thread (colo_process_checkpoint and
 * colo_do_checkpoint_transaction) or the secondary's incoming thread
 * (colo_process_incoming_thread and colo_incoming_process_checkpoint).
 *
 * QEMU runs these as OS threads that block in recv() and on semaphores; here each thread is a
 * place (where it waits) in plain data, and each wake-up is a scheduler action: a COLO message
 * arriving after the link's latency, the x-checkpoint-delay timer, vm_stop's drain ending, the
 * failover bottom half, the secondary's device state finishing to load. Everything is saved with
 * the simulation.
 *
 * Where QEMU's threads race, colo-sim picks one order and keeps it: a thread woken by the
 * failover runs after the failover's bottom half has finished (so COLO_EXIT says "request", as
 * QEMU's documentation shows).
 */
import type { AllOutcome } from './host.js';
import {
  AWAITED_MESSAGE,
  CHANNEL_ERRORS,
  coloMessageNumber,
  DEFAULT_CHECKPOINT_DELAY_MS,
  type ColoExitReason,
  type ColoMessage,
  type ColoMode,
  type ColoThread,
  type FailoverStatus,
  type MigrationStatus,
  type PrimaryThreadPlace,
  type RunState,
  type SecondaryThreadPlace,
} from './colo-protocol.js';
import type { HostName } from '../sim/events.js';

/**
 * The outgoing (primary-role) thread's colo-change words around colo_do_checkpoint_transaction:
 * every checkpoint, asked by a step or by the x-checkpoint-delay timer, is one begins…done pair
 * (a failed one has no done). ReplicationCost counts checkpoints by them.
 */
export const TRANSACTION_BEGINS = 'checkpoint transaction begins';
export const TRANSACTION_DONE = 'checkpoint transaction done';
/**
 * The primary's colo-change word once COLO runs (CHECKPOINT_READY received, the VM started):
 * however COLO was started — the colo-start op or QMP's migrate with x-colo, as COLO-FT.txt's
 * resume runbooks do — so the timeline marks a COLO start by it.
 */
export const COLO_RUNNING = 'COLO running: replication started, checkpoints every x-checkpoint-delay';

/** The colo-change word of a failover state transition (colo-failover.c's failover_set_state). */
export function failoverStateChange(from: FailoverStatus, to: FailoverStatus): string {
  return `failover state ${from} → ${to}`;
}
/** A failover done, however it was asked for (the failover op, x-colo-lost-heartbeat, a lost peer): the timeline marks it by this. */
export const FAILOVER_COMPLETED = failoverStateChange('active', 'completed');

export interface ColoProcessState {
  runState: RunState;
  /** s->state: this host as the source of a migration. */
  outgoing: MigrationStatus;
  /** mis->state: this host as the destination. */
  incoming: MigrationStatus;
  /** The URI this QEMU listens on for an incoming migration (-incoming), or null. */
  incomingUri: string | null;
  /** QEMU's `once` in qmp_migrate_incoming: false once an incoming migration was started. */
  incomingOnce: boolean;
  /** The x-colo migration capability. */
  xColo: boolean;
  /** x-checkpoint-delay, in milliseconds. */
  checkpointDelayMs: number;
  failover: FailoverStatus;
  lastMode: ColoMode;
  thread: ColoThread | null;
  vmstateLoading: boolean;
  /** colo_checkpoint_event is set: a checkpoint is due. */
  checkpointEventSet: boolean;
  /** The x-checkpoint-delay timer's scheduler entry. */
  delayTimerSequence: number | null;
  /** Messages received and not yet read by the thread, oldest first. */
  inbox: Array<{ readonly message: ColoMessage; readonly value: number | null }>;
  /** The host died: nothing runs there any more (a failover's lost host). */
  crashed: boolean;
  /** query-migrate's error-desc. */
  migrationError: string | null;
  /** Checkpoints completed: the primary received VMSTATE_LOADED / the secondary sent it. */
  checkpointsDone: number;
  /** vm_stop's drain this host waits for, and for whom. */
  waitingDrain: 'migration' | 'checkpoint' | 'failover' | null;
  /** s->vm_was_running as migration_completion records it (after COLO, migration_iteration_finish sets it and restarts the VM anyway). */
  vmWasRunning: boolean;
  /** qmp_capabilities was called on this host's monitor. */
  qmpNegotiated: boolean;
  /** The network side's QOM objects (colo-compare, filters, iothread): listed, not simulated. */
  objects: Array<{ readonly id: string; readonly type: string; readonly properties: Record<string, unknown> }>;
  /** The character devices the network side's objects use (chardev-add, chardev-remove). */
  chardevs: string[];
}

/** What a process needs from the rest of the simulation. */
export interface ColoServices {
  readonly latencyUs: number;
  /** Time the secondary takes to load a checkpoint's device state. */
  readonly vmstateLoadUs: number;
  nowUs(): number;
  schedule(delayUs: number, action: import('../sim/actions.js').EngineAction): number;
  cancel(sequence: number): void;
  peer(host: HostName): ColoProcess;
  /** replication_*_all on this host. */
  startAll(host: HostName, mode: 'primary' | 'secondary'): AllOutcome;
  checkpointAll(host: HostName): AllOutcome;
  getErrorAll(host: HostName): AllOutcome;
  stopAll(host: HostName, failover: boolean): AllOutcome;
  /** The migration channel can carry messages now (it was opened and is neither broken nor hung). */
  channelState(): 'open' | 'broken' | 'hung' | 'closed';
  /** Sends a message to the other host; false when the channel refuses (the send fails). */
  send(from: HostName, message: ColoMessage, value: number | null): boolean;
  /** qemu_file_shutdown: the channel breaks; threads blocked in recv on either side wake with an error. */
  shutdownChannel(): void;
  /** vm_stop's bdrv_drain_all: true when nothing of this host is in flight, else the process is woken by `drained`. */
  drainNow(host: HostName): boolean;
  emitQmpEvent(host: HostName, name: string, data: Record<string, unknown>): void;
  /** error_report: QEMU's log line. */
  logError(host: HostName, message: string): void;
  emitColo(host: HostName, change: string): void;
  setVmRunning(host: HostName, running: boolean): void;
}

const PRIMARY_NETWORK_OBJECTS = [
  { id: 'm0', type: 'filter-mirror', properties: { netdev: 'hn0', queue: 'tx', outdev: 'mirror0' } },
  { id: 'redire0', type: 'filter-redirector', properties: { netdev: 'hn0', queue: 'rx', indev: 'compare_out' } },
  { id: 'redire1', type: 'filter-redirector', properties: { netdev: 'hn0', queue: 'rx', outdev: 'compare0' } },
  { id: 'iothread1', type: 'iothread', properties: {} },
  { id: 'comp0', type: 'colo-compare', properties: { primary_in: 'compare0-0', secondary_in: 'compare1', outdev: 'compare_out0', iothread: 'iothread1' } },
];

const SECONDARY_NETWORK_OBJECTS = [
  { id: 'f1', type: 'filter-redirector', properties: { netdev: 'hn0', queue: 'tx', indev: 'red0' } },
  { id: 'f2', type: 'filter-redirector', properties: { netdev: 'hn0', queue: 'rx', outdev: 'red1' } },
  { id: 'rew0', type: 'filter-rewriter', properties: { netdev: 'hn0', queue: 'all' } },
];

export function initialColoState(host: HostName): ColoProcessState {
  return {
    // The primary QEMU runs its VM; the secondary waits for the migration (-incoming).
    runState: host === 'primary' ? 'running' : 'inmigrate',
    outgoing: 'none',
    incoming: 'none',
    incomingUri: host === 'secondary' ? 'tcp:0.0.0.0:9998' : null,
    incomingOnce: host !== 'secondary',
    xColo: false,
    checkpointDelayMs: DEFAULT_CHECKPOINT_DELAY_MS,
    failover: 'none',
    lastMode: 'none',
    thread: null,
    vmstateLoading: false,
    checkpointEventSet: false,
    delayTimerSequence: null,
    inbox: [],
    crashed: false,
    migrationError: null,
    checkpointsDone: 0,
    waitingDrain: null,
    vmWasRunning: false,
    qmpNegotiated: false,
    // COLO-FT.txt's command lines (step 1 and 2) create these.
    objects: (host === 'primary' ? PRIMARY_NETWORK_OBJECTS : SECONDARY_NETWORK_OBJECTS).map((object) => ({ ...object, properties: { ...object.properties } })),
    chardevs: host === 'primary' ? ['mirror0', 'compare1', 'compare0', 'compare0-0', 'compare_out', 'compare_out0'] : ['red0', 'red1'],
  };
}

export class ColoProcess {
  constructor(
    readonly host: HostName,
    readonly state: ColoProcessState,
    private readonly services: ColoServices,
  ) {}

  // ---- what QMP and the scenario operations see ------------------------------------------------

  /** get_colo_mode */
  get mode(): ColoMode {
    if (this.state.outgoing === 'colo') return 'primary';
    if (this.state.incoming === 'colo') return 'secondary';
    return 'none';
  }

  get isRunning(): boolean {
    return this.state.runState === 'running';
  }

  /** query-colo-status */
  coloStatus(): { mode: ColoMode; 'last-mode': ColoMode; reason: ColoExitReason } {
    const failover = this.state.failover;
    let reason: ColoExitReason;
    if (failover === 'none') reason = 'none';
    else if (failover === 'completed') reason = 'request';
    else reason = this.state.outgoing === 'colo' ? 'processing' : 'error';
    return { mode: this.mode, 'last-mode': this.state.lastMode, reason };
  }

  // ---- run state -----------------------------------------------------------------------------------

  /** vm_start: RESUME, unless the VM already runs. */
  vmStart(): void {
    if (this.state.runState === 'running' || this.state.crashed) return;
    this.setRunState('running');
    this.services.emitQmpEvent(this.host, 'RESUME', {});
  }

  /** vm_stop / vm_stop_force_state to `to`: STOP when the VM was running. */
  vmStop(to: RunState): void {
    const wasRunning = this.state.runState === 'running';
    this.setRunState(to);
    if (wasRunning) this.services.emitQmpEvent(this.host, 'STOP', {});
  }

  private setRunState(to: RunState): void {
    const from = this.state.runState;
    if (from === to) return;
    this.state.runState = to;
    this.services.emitColo(this.host, `run state ${from} → ${to}`);
    this.services.setVmRunning(this.host, to === 'running');
  }

  /** The host dies (the lost side of a failover): its thread, timers and VM stop for good. */
  crash(): void {
    if (this.state.crashed) return;
    this.state.crashed = true;
    if (this.state.delayTimerSequence !== null) this.services.cancel(this.state.delayTimerSequence);
    this.state.delayTimerSequence = null;
    this.state.inbox = [];
    this.state.waitingDrain = null;
    this.setRunState('shutdown');
    this.services.emitColo(this.host, 'the host is lost');
  }

  // ---- starting COLO -----------------------------------------------------------------------------

  /**
   * The migration the `migrate` command starts, once its checks passed. The RAM copy is not
   * simulated: the stream reaches the destination after the link's latency. With x-colo the
   * source then enters COLO (migration_iteration_finish → migrate_start_colo_process) and waits
   * for CHECKPOINT_READY; without it the migration completes (postmigrate).
   */
  startMigration(connectionError: string | undefined): void {
    const peer = this.services.peer(this.host);
    this.state.vmWasRunning = this.state.runState === 'running';
    this.setOutgoing('setup');
    if (connectionError !== undefined) {
      this.state.migrationError = connectionError;
      this.setOutgoing('failed');
      this.services.logError(this.host, connectionError);
      return;
    }
    this.state.migrationError = null;
    this.setOutgoing('active');
    peer.state.incomingOnce = false;
    // migration_completion stops the VM to send its last state: vm_stop_force_state(RUN_STATE_FINISH_MIGRATE)
    // drains the VM's requests (do_vm_stop's bdrv_drain_all) before the device state goes out.
    this.vmStop('finish-migrate');
    if (!this.services.drainNow(this.host)) {
      this.state.waitingDrain = 'migration';
      return;
    }
    this.completeMigration();
  }

  /** The rest of migration_completion once the VM is stopped and drained, then migration_iteration_finish. */
  private completeMigration(): void {
    const peer = this.services.peer(this.host);
    this.services.schedule(this.services.latencyUs, { type: 'colo-incoming', host: peer.host, colo: this.state.xColo });
    if (this.state.xColo) {
      this.setOutgoing('colo');
      this.startCheckpointThread();
    } else {
      this.setOutgoing('completed');
      this.setRunState('postmigrate');
    }
  }

  /**
   * migrate_init, for a `migrate` that yank_register_instance then refuses: the migration state
   * goes back to setup, COLO's included (the COLO thread leaves its loop when it next wakes up).
   */
  migrateInit(): void {
    this.state.migrationError = null;
    this.state.vmWasRunning = false;
    this.setOutgoing('setup');
  }

  /** colo_process_checkpoint, up to waiting for CHECKPOINT_READY. */
  private startCheckpointThread(): void {
    this.setFailover('none');
    this.state.thread = { role: 'primary', place: 'waiting-ready' };
    this.state.inbox = [];
    this.services.emitColo(this.host, 'COLO thread started, waiting for CHECKPOINT_READY');
    this.pump();
  }

  /** The migration stream arrived (the scheduler's colo-incoming): load it, then COLO or run. */
  onIncoming(colo: boolean): void {
    if (this.state.crashed) return;
    this.setIncoming('active');
    if (!colo) {
      this.setIncoming('completed');
      this.vmStart();
      return;
    }
    // colo_process_incoming_thread
    this.setIncoming('colo');
    this.setFailover('none');
    this.state.thread = { role: 'secondary', place: 'waiting-message' };
    this.state.inbox = [];
    const started = this.services.startAll(this.host, 'secondary');
    if (!started.ok) {
      this.exitThread(started.message);
      return;
    }
    this.vmStart();
    if (!this.send('checkpoint-ready')) return;
    this.services.emitColo(this.host, 'COLO incoming thread running, waiting for a checkpoint request');
    this.pump();
  }

  // ---- checkpoints ---------------------------------------------------------------------------------

  /** colo_checkpoint_notify: the event is set and the x-checkpoint-delay timer re-armed. */
  notifyCheckpoint(): void {
    if (this.state.crashed) return;
    this.state.checkpointEventSet = true;
    this.armDelayTimer();
    this.pump();
  }

  private armDelayTimer(): void {
    if (this.state.delayTimerSequence !== null) this.services.cancel(this.state.delayTimerSequence);
    this.state.delayTimerSequence = null;
    if (this.state.checkpointDelayMs === 0) {
      // x-checkpoint-delay 0: QEMU re-arms the timer for the instant it fired in, so it fires
      // again at once and the thread never finds the event clear. colo-sim keeps the event set
      // instead of firing a timer forever at one virtual instant.
      this.state.checkpointEventSet = true;
      return;
    }
    this.state.delayTimerSequence = this.services.schedule(this.state.checkpointDelayMs * 1000, { type: 'colo-timer', host: this.host });
  }

  /** The x-checkpoint-delay timer fired. */
  onTimer(): void {
    this.state.delayTimerSequence = null;
    // The timer is freed when the thread ends; it may still fire while the thread waits to.
    if (this.state.thread?.role === 'primary' && this.state.thread.place !== 'finished') this.notifyCheckpoint();
  }

  /** Changes x-checkpoint-delay; in COLO, 7.2's migrate_params_apply notifies a checkpoint at once. */
  setCheckpointDelay(delayMs: number): void {
    this.state.checkpointDelayMs = delayMs;
    if (this.state.outgoing === 'colo') this.notifyCheckpoint();
  }

  /** A COLO message arrived over the migration channel. */
  onMessage(message: ColoMessage, value: number | null): void {
    if (this.state.crashed) return;
    this.state.inbox.push({ message, value });
    this.services.emitColo(this.host, `received ${message.toUpperCase()}`);
    this.pump();
  }

  /** The channel broke or was shut down: a thread blocked in recv fails now. */
  onChannelError(): void {
    if (this.state.crashed || !this.state.thread) return;
    const place = this.state.thread.place;
    // The secondary's idle thread is blocked in recv too (colo_wait_handle_message).
    const receiving = AWAITED_MESSAGE[place] !== undefined || place === 'waiting-message';
    if (!receiving || this.state.inbox.length > 0) return;
    this.threadError(CHANNEL_ERRORS.receive);
  }

  /** Runs the thread as far as it can go: reads what it waits for, or starts a due checkpoint. */
  private pump(): void {
    for (let guard = 0; guard < 64; guard++) {
      const thread = this.state.thread;
      if (!thread || this.state.crashed) return;
      if (thread.role === 'primary' && thread.place === 'idle') {
        if (!this.primaryLoopCheck()) return;
        // qemu_event_wait returns while the event is set; the transaction resets it only once
        // VMSTATE_RECEIVED has come (see received), so requests before that add no checkpoint.
        if (!this.state.checkpointEventSet) return;
        this.beginTransaction();
        continue;
      }
      const awaited = AWAITED_MESSAGE[thread.place];
      if (thread.role === 'secondary' && thread.place === 'waiting-message') {
        const next = this.state.inbox.shift();
        if (!next) {
          if (this.services.channelState() === 'broken') this.threadError(CHANNEL_ERRORS.receive);
          return;
        }
        // colo_wait_handle_message
        if (next.message !== 'checkpoint-request') {
          this.threadError(`Got unknown COLO message: ${coloMessageNumber(next.message)}`);
          return;
        }
        this.secondaryCheckpoint();
        continue;
      }
      if (awaited === undefined) return;
      const next = this.state.inbox.shift();
      if (!next) {
        if (this.services.channelState() === 'broken') this.threadError(CHANNEL_ERRORS.receive);
        return;
      }
      if (next.message !== awaited) {
        this.threadError(`Unexpected COLO message ${coloMessageNumber(next.message)}, expected ${coloMessageNumber(awaited)}`);
        return;
      }
      this.received(next.message);
    }
  }

  /** The primary's loop head: a failover request or the end of COLO ends the loop. */
  private primaryLoopCheck(): boolean {
    if (this.state.failover !== 'none') {
      this.threadError('failover request');
      return false;
    }
    if (this.state.outgoing !== 'colo') {
      this.exitThread(undefined);
      return false;
    }
    return true;
  }

  private place(place: PrimaryThreadPlace | SecondaryThreadPlace): void {
    const thread = this.state.thread!;
    (thread as { place: string }).place = place;
  }

  /** colo_do_checkpoint_transaction, up to waiting for CHECKPOINT_REPLY. */
  private beginTransaction(): void {
    this.services.emitColo(this.host, TRANSACTION_BEGINS);
    if (!this.send('checkpoint-request')) return;
    this.place('awaiting-reply');
  }

  private received(message: ColoMessage): void {
    switch (message) {
      case 'checkpoint-ready': {
        // colo_process_checkpoint after CHECKPOINT_READY
        const started = this.services.startAll(this.host, 'primary');
        if (!started.ok) {
          this.exitThread(started.message);
          return;
        }
        this.vmStart();
        this.place('idle');
        this.armDelayTimer();
        this.services.emitColo(this.host, COLO_RUNNING);
        return;
      }
      case 'checkpoint-reply':
        if (this.state.failover !== 'none') {
          this.exitThread(undefined);
          return;
        }
        this.vmStop('colo');
        this.place('stopping');
        this.state.waitingDrain = 'checkpoint';
        if (this.services.drainNow(this.host)) this.drained();
        return;
      case 'vmstate-received':
        // qemu_event_reset(colo_checkpoint_event); with x-checkpoint-delay 0 the timer sets it again
        // at once (armDelayTimer). colo_notify_compares_event: colo-compare is not simulated.
        this.state.checkpointEventSet = this.state.checkpointDelayMs === 0;
        this.place('awaiting-loaded');
        return;
      case 'vmstate-loaded':
        this.state.checkpointsDone++;
        this.vmStart();
        this.place('idle');
        this.services.emitColo(this.host, TRANSACTION_DONE);
        return;
      case 'vmstate-send':
        // qemu_loadvm_state_main: the RAM is not simulated.
        this.place('awaiting-vmstate-size');
        return;
      case 'vmstate-size':
        if (!this.send('vmstate-received')) return;
        this.state.vmstateLoading = true;
        this.place('loading');
        this.services.schedule(this.services.vmstateLoadUs, { type: 'colo-vmstate-loaded', host: this.host });
        return;
      case 'checkpoint-request':
        return;
    }
  }

  /** vm_stop's drain is over (the scheduler's colo-drained). */
  drained(): void {
    const purpose = this.state.waitingDrain;
    this.state.waitingDrain = null;
    if (purpose === 'migration') {
      this.completeMigration();
      return;
    }
    if (purpose === 'failover') {
      this.failoverAfterStop();
      return;
    }
    if (purpose !== 'checkpoint' || this.state.thread?.place !== 'stopping') return;
    // "Failover request bh could be called after vm_stop_force_state()": check again.
    if (this.state.failover !== 'none') {
      this.exitThread(undefined);
      return;
    }
    const checkpoint = this.services.checkpointAll(this.host);
    if (!checkpoint.ok) {
      this.threadError(checkpoint.message);
      return;
    }
    // VMSTATE_SEND, the RAM, then VMSTATE_SIZE with the device state's size.
    if (!this.send('vmstate-send')) return;
    if (!this.send('vmstate-size', 4096)) return;
    this.place('awaiting-received');
  }

  /** colo_incoming_process_checkpoint, up to waiting for VMSTATE_SEND. */
  private secondaryCheckpoint(): void {
    this.vmStop('colo');
    // The secondary's vm_stop drains its own I/O, which always answers at once here.
    if (!this.send('checkpoint-reply')) return;
    this.place('awaiting-vmstate-send');
  }

  /** The device state is loaded (the scheduler's colo-vmstate-loaded): the rest of colo_incoming_process_checkpoint. */
  onVmstateLoaded(): void {
    if (this.state.crashed || this.state.thread?.place !== 'loading') return;
    const getError = this.services.getErrorAll(this.host);
    if (!getError.ok) {
      this.state.vmstateLoading = false;
      this.threadError(getError.message);
      return;
    }
    const checkpoint = this.services.checkpointAll(this.host);
    if (!checkpoint.ok) {
      this.state.vmstateLoading = false;
      this.threadError(checkpoint.message);
      return;
    }
    this.state.vmstateLoading = false;
    this.vmStart();
    if (this.state.failover === 'relaunch') {
      // The failover asked while the state was loading: run it now (colo_process_incoming_thread's loop).
      this.setFailover('none');
      this.requestFailover();
      this.exitThread(undefined);
      return;
    }
    if (!this.send('vmstate-loaded')) return;
    this.state.checkpointsDone++;
    this.place('waiting-message');
    if (this.state.failover !== 'none') {
      this.threadError('failover request');
      return;
    }
    this.services.emitColo(this.host, 'checkpoint loaded');
  }

  /** colo_send_message; a refused send fails the thread with QEMU's message. */
  private send(message: ColoMessage, value: number | null = null): boolean {
    if (this.services.send(this.host, message, value)) return true;
    this.threadError(CHANNEL_ERRORS.send);
    return false;
  }

  /** An error in the thread: error_report, then the thread leaves its loop. */
  private threadError(message: string): void {
    this.exitThread(message);
  }

  /** The `out:` of both threads: COLO_EXIT with the reason the failover state gives, then wait for the failover. */
  private exitThread(error: string | undefined): void {
    const thread = this.state.thread;
    if (!thread || thread.place === 'exited' || thread.place === 'finished') return;
    if (error !== undefined) this.services.logError(this.host, error);
    this.state.waitingDrain = this.state.waitingDrain === 'failover' ? 'failover' : null;
    const reason: ColoExitReason = this.state.failover === 'completed' ? 'request' : 'error';
    this.services.emitQmpEvent(this.host, 'COLO_EXIT', { mode: thread.role, reason });
    this.place('exited');
    this.services.emitColo(this.host, `COLO thread exited (${reason}), waiting for a failover`);
    if (this.state.failover === 'completed') this.finishThread();
  }

  /** The failover posted the thread's semaphore: the thread ends, and the VM runs on. */
  private finishThread(): void {
    const thread = this.state.thread;
    if (!thread || thread.place !== 'exited' || this.state.failover !== 'completed') return;
    this.place('finished');
    if (this.state.delayTimerSequence !== null) this.services.cancel(this.state.delayTimerSequence);
    this.state.delayTimerSequence = null;
    this.state.checkpointEventSet = false;
    // migration_iteration_finish sets s->vm_was_running after migrate_start_colo_process returns,
    // so the primary's VM runs again whatever it was before the migration;
    // process_incoming_migration_bh starts the secondary's.
    this.vmStart();
    this.services.emitColo(this.host, 'COLO thread finished');
  }

  // ---- failover ----------------------------------------------------------------------------------------

  /**
   * qmp_x_colo_lost_heartbeat. Returns QEMU's error message, or undefined when the failover was
   * requested (its bottom half then runs in this instant's turn of the main loop).
   */
  lostHeartbeat(): string | undefined {
    if (this.mode === 'none') return "The feature 'colo' is not enabled";
    return this.requestFailover();
  }

  /** failover_request_active */
  private requestFailover(): string | undefined {
    if (this.state.failover !== 'none') return 'COLO failover is already activated';
    this.setFailover('require');
    this.services.schedule(0, { type: 'colo-failover-bh', host: this.host });
    return undefined;
  }

  /** colo_failover_bh, then colo_do_failover up to vm_stop's drain. */
  onFailoverBh(): void {
    if (this.state.crashed) return;
    if (this.state.failover !== 'require') {
      this.services.logError(this.host, `Unknown error for failover, old_state = ${this.state.failover}`);
      return;
    }
    this.setFailover('active');
    if (this.state.runState === 'running') this.vmStop('colo');
    this.state.waitingDrain = 'failover';
    if (this.services.drainNow(this.host)) this.drained();
  }

  /** colo_do_failover after the VM stopped. */
  private failoverAfterStop(): void {
    const mode = this.mode;
    this.state.lastMode = mode;
    if (mode === 'primary') this.primaryDoFailover();
    else if (mode === 'secondary') this.secondaryDoFailover();
    else this.services.logError(this.host, 'colo_do_failover failed because the colo mode could not be obtained');
  }

  private primaryDoFailover(): void {
    this.setOutgoing('completed');
    this.state.checkpointEventSet = true;
    this.services.shutdownChannel();
    this.setFailover('completed');
    const stopped = this.services.stopAll(this.host, true);
    if (!stopped.ok) this.services.logError(this.host, stopped.message);
    this.wakeThreadAfterFailover();
  }

  private secondaryDoFailover(): void {
    if (this.state.vmstateLoading) {
      this.setFailover('relaunch');
      return;
    }
    this.setIncoming('completed');
    const stopped = this.services.stopAll(this.host, true);
    if (!stopped.ok) this.services.logError(this.host, stopped.message);
    // colo_notify_filters_event(COLO_EVENT_FAILOVER): the network filters are not simulated.
    this.services.shutdownChannel();
    this.setFailover('completed');
    this.wakeThreadAfterFailover();
  }

  /** The thread, woken by the shutdown or the semaphore, runs after the bottom half. */
  private wakeThreadAfterFailover(): void {
    this.services.schedule(0, { type: 'colo-thread-wake', host: this.host });
  }

  /** The scheduler's colo-thread-wake: a thread still waiting leaves its loop; an exited one ends. */
  onThreadWake(): void {
    const thread = this.state.thread;
    if (!thread || this.state.crashed) return;
    if (thread.place !== 'exited' && thread.place !== 'finished') {
      this.state.inbox = [];
      this.state.vmstateLoading = false;
      this.exitThread(undefined);
    }
    this.finishThread();
  }

  // ---- bookkeeping ---------------------------------------------------------------------------------

  private setFailover(to: FailoverStatus): void {
    const from = this.state.failover;
    if (from === to) return;
    this.state.failover = to;
    this.services.emitColo(this.host, failoverStateChange(from, to));
  }

  private setOutgoing(to: MigrationStatus): void {
    const from = this.state.outgoing;
    if (from === to) return;
    this.state.outgoing = to;
    this.services.emitColo(this.host, `migration (outgoing) ${from} → ${to}`);
  }

  private setIncoming(to: MigrationStatus): void {
    const from = this.state.incoming;
    if (from === to) return;
    this.state.incoming = to;
    this.services.emitColo(this.host, `migration (incoming) ${from} → ${to}`);
  }
}
