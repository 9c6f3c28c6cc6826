/**
 * COLO's control plane for the pair: the two hosts' QEMU processes (colo-process.ts), the
 * migration channel between them, QMP events, QEMU's error log, and the scenario operations
 * `colo-start`, `checkpoint` and `failover` built from what an operator (or colo-compare, or the
 * heartbeat manager) would do on real hosts.
 *
 * - `colo-start` is `migrate-set-capabilities x-colo` and `migrate` on the primary; it ends when
 *   the primary's COLO thread runs (replication started on both sides) or COLO can no longer
 *   start (an error on either side).
 * - `checkpoint` is what colo-compare does on a mismatch (colo_checkpoint_notify); it ends when
 *   that transaction completes, or fails with the first error either side logged, or fails when
 *   no checkpoint can run (COLO not running, or its threads wait for each other for good).
 * - `failover` is the other host dying (its process stops; the NBD link goes down) and
 *   `x-colo-lost-heartbeat` on the survivor; it ends when the survivor's failover completed.
 *
 * All state is plain data, saved with the simulation.
 */
import type { AllOutcome } from './host.js';
import { ColoProcess, initialColoState, type ColoProcessState, type ColoServices } from './colo-process.js';
import { AWAITED_MESSAGE, type ColoMessage, type MigrationStatus } from './colo-protocol.js';
import type { EngineAction } from '../sim/actions.js';
import type { EventBus, HostName } from '../sim/events.js';
import type { Scheduler } from '../sim/scheduler.js';

/**
 * The migration channel: `hung` when the peer stopped answering (its host died, or the network
 * hangs); messages sent then wait in `held` and go on their way if the network comes back.
 */
export type ChannelState = 'closed' | 'open' | 'broken' | 'hung';

export interface HeldColoMessage {
  readonly to: HostName;
  readonly message: ColoMessage;
  readonly value: number | null;
}

export interface QmpEventRecord {
  readonly name: string;
  readonly data: Record<string, unknown>;
  readonly timeUs: number;
}

/** `record` and its data made read-only (a change would throw): snapshots share kept events instead of copying them. */
function freezeQmpEvent(record: QmpEventRecord): QmpEventRecord {
  Object.freeze(record.data);
  return Object.freeze(record);
}

/** A scenario operation waiting for the protocol, with where it started. */
export type ColoOperation =
  | { readonly id: number; readonly kind: 'start'; readonly errorsFrom: number }
  | { readonly id: number; readonly kind: 'checkpoint'; readonly errorsFrom: number; readonly doneBefore: number }
  | { readonly id: number; readonly kind: 'failover'; readonly to: HostName; readonly errorsFrom: number };

export interface ColoControlState {
  readonly processes: Record<HostName, ColoProcessState>;
  channel: { state: ChannelState; epoch: number; held: HeldColoMessage[]; peerDead: boolean };
  /** COLO actions queued that move the protocol on (the x-checkpoint-delay timer is not one). */
  pendingActions: number;
  /** QMP events emitted on each host, with the number of the first one kept. */
  readonly qmpEvents: Record<HostName, { firstIndex: number; events: QmpEventRecord[] }>;
  /** Per host: the number of the first event a `check event` has not looked at yet. */
  readonly eventCursor: Record<HostName, number>;
  /** QEMU's error log (error_report), newest last, with the number of the first one kept. */
  readonly errors: { firstIndex: number; entries: Array<{ host: HostName; message: string; timeUs: number }> };
  operations: ColoOperation[];
  /** The errors replication_stop_all(true) gave in each host's last failover. */
  readonly stopErrors: Record<HostName, string | null>;
}

const QMP_EVENTS_KEPT = 500;

/** Where the secondary's QEMU listens (-incoming tcp:0.0.0.0:9998), as COLO-FT.txt starts it; hosts are named by their role. */
export const DEFAULT_MIGRATION_URI = 'tcp:secondary:9998';

/** "tcp:HOST:PORT" */
export function parseTcpUri(uri: string): { host: string; port: string } | undefined {
  const match = /^tcp:([^:]*):(\d+)$/.exec(uri);
  return match ? { host: match[1]!, port: match[2]! } : undefined;
}
const ERRORS_KEPT = 200;

export function initialColoControlState(): ColoControlState {
  return {
    processes: { primary: initialColoState('primary'), secondary: initialColoState('secondary') },
    channel: { state: 'closed', epoch: 0, held: [], peerDead: false },
    pendingActions: 0,
    qmpEvents: { primary: { firstIndex: 0, events: [] }, secondary: { firstIndex: 0, events: [] } },
    eventCursor: { primary: 0, secondary: 0 },
    errors: { firstIndex: 0, entries: [] },
    operations: [],
    stopErrors: { primary: null, secondary: null },
  };
}

/** What the control plane needs from the simulation. */
export interface ColoEnvironment {
  readonly scheduler: Scheduler<EngineAction>;
  readonly events: EventBus;
  readonly latencyUs: number;
  readonly vmstateLoadUs: number;
  replication(host: HostName): { startAll(mode: 'primary' | 'secondary'): AllOutcome; checkpointAll(): AllOutcome; getErrorAll(): AllOutcome; stopAll(failover: boolean): AllOutcome };
  inFlightOn(host: HostName): number;
  linkIsUp(): boolean;
  /** Takes the NBD link down (the failover's lost host). */
  takeLinkDown(): void;
  /** The failover to the primary detaches the replication node from colo-disk (x-blockdev-change). */
  detachPrimaryReplication(): void;
  answerOperation(operation: ColoOperation, outcome: { ok: true } | { ok: false; message: string }): void;
}

export type StepAnswer = { ok: true } | { ok: false; message: string };

export class ColoControl {
  readonly primary: ColoProcess;
  readonly secondary: ColoProcess;

  constructor(
    readonly state: ColoControlState,
    private readonly environment: ColoEnvironment,
  ) {
    // Kept QMP events are never changed once emitted: snapshots share them (takeSnapshot).
    for (const host of ['primary', 'secondary'] as const) for (const record of state.qmpEvents[host].events) freezeQmpEvent(record);
    const services = this.services();
    this.primary = new ColoProcess('primary', state.processes.primary, services);
    this.secondary = new ColoProcess('secondary', state.processes.secondary, services);
  }

  process(host: HostName): ColoProcess {
    return host === 'primary' ? this.primary : this.secondary;
  }

  /** The pair's COLO state at a glance, for the app's top bar. */
  summaryState(): 'off' | 'starting' | 'running' | 'failing-over' | 'failed-over' | 'exited' {
    const processes = [this.primary, this.secondary];
    if (processes.some((process) => ['require', 'active', 'relaunch'].includes(process.state.failover))) return 'failing-over';
    if (processes.some((process) => process.state.failover === 'completed')) return 'failed-over';
    const primaryPlace = this.primary.state.thread?.place;
    if (primaryPlace === 'waiting-ready') return 'starting';
    if (processes.some((process) => process.state.thread?.place === 'exited')) return 'exited';
    if (this.primary.mode === 'primary' && this.secondary.mode === 'secondary') return 'running';
    return 'off';
  }

  // ---- the scheduler's COLO actions ------------------------------------------------------------

  /** Runs a COLO action; returns false for actions that are not COLO's. */
  dispatch(action: EngineAction): boolean {
    switch (action.type) {
      case 'colo-message':
        this.state.pendingActions--;
        if (action.epoch !== this.state.channel.epoch || this.state.channel.state !== 'open') return true;
        this.process(action.to).onMessage(action.message, action.value);
        return true;
      case 'colo-incoming':
        this.state.pendingActions--;
        this.process(action.host).onIncoming(action.colo);
        return true;
      case 'colo-timer':
        this.process(action.host).onTimer();
        return true;
      case 'colo-failover-bh':
        this.state.pendingActions--;
        this.process(action.host).onFailoverBh();
        return true;
      case 'colo-drained':
        this.state.pendingActions--;
        this.process(action.host).drained();
        return true;
      case 'colo-vmstate-loaded':
        this.state.pendingActions--;
        this.process(action.host).onVmstateLoaded();
        return true;
      case 'colo-thread-wake':
        this.state.pendingActions--;
        this.process(action.host).onThreadWake();
        return true;
      case 'colo-channel-error':
        this.state.pendingActions--;
        this.process(action.host).onChannelError();
        return true;
      default:
        return false;
    }
  }

  /** I/O of `host` drained: a process waiting in vm_stop goes on in its own turn. */
  onDrained(host: HostName): void {
    const process = this.process(host);
    if (process.state.waitingDrain !== null) this.schedule(0, { type: 'colo-drained', host });
  }

  /** The network between the hosts failed: the migration channel breaks, threads in recv fail. */
  onLinkDown(): void {
    const channel = this.state.channel;
    // A hung channel to a dead peer stays hung: the survivor's threads wait until a failover shuts it down.
    if (channel.state === 'open' || (channel.state === 'hung' && !channel.peerDead)) this.breakChannel();
  }

  /** QMP yank of the migration instance (migration_yank_iochannel): the channel is shut down; threads in recv or send fail. */
  yankMigration(_host: HostName): void {
    const channel = this.state.channel;
    if (channel.state === 'open' || channel.state === 'hung') this.breakChannel();
  }

  /** The network hangs: the channel takes messages and delivers none until it comes back. */
  onLinkHung(): void {
    const channel = this.state.channel;
    if (channel.state === 'open') this.state.channel = { ...channel, state: 'hung', held: [] };
  }

  /** The network came back from a hang: what waited on the channel arrives, a latency later. */
  onLinkRecovered(): void {
    const channel = this.state.channel;
    if (channel.state !== 'hung' || channel.peerDead) return;
    const held = channel.held;
    this.state.channel = { ...channel, state: 'open', held: [] };
    for (const entry of held) this.schedule(this.environment.latencyUs, { type: 'colo-message', to: entry.to, message: entry.message, value: entry.value, epoch: channel.epoch });
  }

  private breakChannel(): void {
    this.state.channel = { state: 'broken', epoch: this.state.channel.epoch + 1, held: [], peerDead: false };
    for (const host of ['primary', 'secondary'] as const) this.schedule(0, { type: 'colo-channel-error', host });
  }

  // ---- scenario operations -------------------------------------------------------------------------

  /** colo-start: migrate-set-capabilities x-colo and migrate on the primary. */
  start(operationId: number): StepAnswer | undefined {
    if (this.primary.state.crashed) return { ok: false, message: 'The primary host is lost: COLO cannot start from it' };
    // migrate-set-capabilities refuses only while migration_is_running().
    if (migrationIsRunning(this.primary.state.outgoing)) return { ok: false, message: "There's a migration process in progress" };
    this.primary.state.xColo = true;
    const refusal = this.migratePrepare(this.primary);
    if (refusal) return { ok: false, message: refusal };
    this.connectAndMigrate(this.primary, DEFAULT_MIGRATION_URI);
    if (this.primary.state.outgoing === 'failed') return { ok: false, message: this.primary.state.migrationError! };
    this.state.operations.push({ id: operationId, kind: 'start', errorsFrom: this.errorsEnd() });
    return undefined;
  }

  /**
   * qmp_migrate up to the connection: the checks of migrate_prepare that colo-sim's states can
   * meet, in QEMU's order, then migrate_init and yank_register_instance; undefined to go on.
   * QEMU 7.2's migration_is_running() does not count MIGRATION_STATUS_COLO, so a migration in
   * COLO is not "in progress": migrate_init resets this host's migration state to setup, and then
   * the yank instance of the migration still running (unregistered by migrate_fd_cleanup on the
   * source, migration_incoming_state_destroy on the destination, both after COLO) is a duplicate.
   */
  migratePrepare(process: ColoProcess, blockMigration = false): string | undefined {
    const state = process.state;
    if (migrationIsRunning(state.outgoing)) return "There's a migration process in progress";
    if (state.runState === 'inmigrate') return 'Guest is waiting for an incoming migration';
    if (state.runState === 'postmigrate') return "Can't migrate the vm that was paused due to previous migration";
    if (blockMigration && state.xColo) return 'No disk migration is required in COLO mode';
    if (state.outgoing === 'colo' || state.incoming === 'active' || state.incoming === 'colo') {
      process.migrateInit();
      return 'duplicate yank instance';
    }
    return undefined;
  }

  /** Opens the migration connection to `uri` (refused when the link is down or nobody listens there) and migrates. */
  connectAndMigrate(process: ColoProcess, uri: string): void {
    const peer = this.peerOf(process.host);
    const target = parseTcpUri(uri);
    const listening = !peer.state.crashed && peer.state.incoming === 'none' && peer.state.incomingUri !== null && target !== undefined && target.host === peer.host && target.port === parseTcpUri(peer.state.incomingUri)?.port;
    const refused = !this.environment.linkIsUp() || !listening;
    if (!refused) this.state.channel = { state: 'open', epoch: this.state.channel.epoch + 1, held: [], peerDead: false };
    process.startMigration(refused ? `Failed to connect to '${target ? `${target.host}:${target.port}` : uri}': Connection refused` : undefined);
  }

  /** checkpoint: colo_checkpoint_notify on the primary, as colo-compare does on a mismatch. */
  checkpoint(operationId: number): StepAnswer | undefined {
    const primary = this.primary;
    const place = primary.state.thread?.place;
    if (primary.mode !== 'primary' || place === undefined || place === 'exited' || place === 'finished') {
      return { ok: false, message: `No checkpoint can run: ${this.whyNoCheckpoint()}` };
    }
    this.state.operations.push({ id: operationId, kind: 'checkpoint', errorsFrom: this.errorsEnd(), doneBefore: primary.state.checkpointsDone });
    primary.notifyCheckpoint();
    return undefined;
  }

  private whyNoCheckpoint(): string {
    const primary = this.primary;
    const place = primary.state.thread?.place;
    if (primary.state.crashed) return 'the primary host is lost';
    if (place === 'exited') return "the primary's COLO thread has exited and waits for a failover (COLO_EXIT was sent)";
    if (place === 'finished' || primary.state.failover === 'completed') return 'COLO has ended on the primary (a failover completed)';
    return 'COLO is not running on the primary (query-colo-status: mode none)';
  }

  /** failover: the other host dies, then x-colo-lost-heartbeat on the survivor. */
  failover(operationId: number, to: HostName): StepAnswer | undefined {
    const survivor = this.process(to);
    if (survivor.state.crashed) return { ok: false, message: `The ${to} host is lost: a failover runs on the surviving host` };
    // qmp_x_colo_lost_heartbeat's checks come first: a refused request changes nothing.
    if (survivor.mode === 'none') return { ok: false, message: "The feature 'colo' is not enabled" };
    if (survivor.state.failover !== 'none') return { ok: false, message: 'COLO failover is already activated' };
    this.loseHost(this.peerOf(to).host);
    this.state.stopErrors[to] = null;
    const refused = survivor.lostHeartbeat();
    if (refused) return { ok: false, message: refused };
    this.state.operations.push({ id: operationId, kind: 'failover', to, errorsFrom: this.errorsEnd() });
    return undefined;
  }

  /**
   * The host dies: its QEMU stops and the network to it goes down. Its peer's COLO thread stays
   * blocked on the channel (a dead peer resets nothing) until a failover shuts the channel down.
   */
  loseHost(host: HostName): void {
    const lost = this.process(host);
    if (lost.state.crashed) return;
    lost.crash();
    const channel = this.state.channel;
    if (channel.state === 'open' || channel.state === 'hung') this.state.channel = { state: 'hung', epoch: channel.epoch, held: [], peerDead: true };
    this.environment.takeLinkDown();
  }

  /** Answers the operations that are over; called after every scheduler action and command. */
  checkOperations(): void {
    if (this.state.operations.length === 0) return;
    const stuck = this.isStuck();
    const remaining: ColoOperation[] = [];
    for (const operation of this.state.operations) {
      const answer = this.answerOf(operation, stuck);
      if (answer) this.environment.answerOperation(operation, answer);
      else remaining.push(operation);
    }
    this.state.operations = remaining;
  }

  private answerOf(operation: ColoOperation, stuck: boolean): StepAnswer | undefined {
    const firstError = this.firstErrorFrom(operation.errorsFrom);
    switch (operation.kind) {
      case 'start': {
        const primaryPlace = this.primary.state.thread?.place;
        if (primaryPlace === 'idle' && this.secondary.mode === 'secondary' && this.secondary.state.thread?.place !== 'exited') return { ok: true };
        const exited = [this.primary, this.secondary].some((process) => process.state.thread?.place === 'exited');
        if (firstError && (stuck || exited)) return { ok: false, message: firstError };
        if (stuck) return { ok: false, message: `COLO did not start: ${this.describeThreads()}` };
        return undefined;
      }
      case 'checkpoint': {
        if (this.primary.state.checkpointsDone > operation.doneBefore) return { ok: true };
        const primaryExited = ['exited', 'finished'].includes(this.primary.state.thread?.place ?? 'finished');
        if (firstError && (stuck || primaryExited)) return { ok: false, message: firstError };
        if (stuck || primaryExited) return { ok: false, message: `The checkpoint cannot complete: ${this.describeThreads()}` };
        return undefined;
      }
      case 'failover': {
        const survivor = this.process(operation.to);
        const place = survivor.state.thread?.place;
        if (survivor.state.failover === 'completed' && (place === undefined || place === 'finished')) {
          if (operation.to === 'primary') this.environment.detachPrimaryReplication();
          const stopError = this.state.stopErrors[operation.to];
          return stopError ? { ok: false, message: stopError } : { ok: true };
        }
        if (stuck) return { ok: false, message: `The failover cannot complete: ${this.describeThreads()}` };
        return undefined;
      }
    }
  }

  /**
   * A failover asked for and not done: x-colo-lost-heartbeat's bottom half not run yet
   * (FAILOVER_STATUS_REQUIRE), relaunched after a checkpoint's load (RELAUNCH), or colo_do_failover
   * waiting in vm_stop's drain. `run until idle` waits for it as for a request in flight.
   */
  failoverPending(): boolean {
    return [this.primary, this.secondary].some(
      (process) => !process.state.crashed && (process.state.failover === 'require' || process.state.failover === 'relaunch' || process.state.waitingDrain === 'failover'),
    );
  }

  /** Nothing queued can move COLO on: no message on the wire, no COLO action, no drain pending, no due checkpoint. */
  private isStuck(): boolean {
    if (this.state.pendingActions > 0) return false;
    for (const process of [this.primary, this.secondary]) {
      if (process.state.waitingDrain !== null) return false;
      if (process.state.thread?.place === 'idle' && process.state.checkpointEventSet) return false;
      const place = process.state.thread?.place;
      if (place && AWAITED_MESSAGE[place] && process.state.inbox.length > 0) return false;
    }
    return true;
  }

  /** Where both threads are, in words. */
  describeThreads(): string {
    const describe = (process: ColoProcess): string => {
      const name = process.host === 'primary' ? "the primary's COLO thread" : "the secondary's COLO incoming thread";
      if (process.state.crashed) return `the ${process.host} host is lost`;
      const thread = process.state.thread;
      if (!thread) return `the ${process.host} has no COLO thread`;
      const awaited = AWAITED_MESSAGE[thread.place];
      if (awaited) return `${name} waits for ${awaited.toUpperCase().replace(/-/g, '_')}`;
      switch (thread.place) {
        case 'idle':
          return `${name} waits for a checkpoint to be due`;
        case 'waiting-message':
          return `${name} waits for CHECKPOINT_REQUEST`;
        case 'exited':
          return `${name} has exited and waits for a failover`;
        case 'finished':
          return `${name} has finished`;
        default:
          return `${name} is ${thread.place}`;
      }
    };
    return `${describe(this.primary)}, and ${describe(this.secondary)}`;
  }

  // ---- QMP events and the error log ----------------------------------------------------------------

  /** `check event`: whether that event (data a subset) was emitted on the host since the last event check there. */
  checkEvent(host: HostName, name: string, data: Record<string, unknown> | undefined): { ok: true } | { ok: false; message: string } {
    const log = this.state.qmpEvents[host];
    const from = this.state.eventCursor[host];
    const seen = log.events.slice(Math.max(0, from - log.firstIndex));
    this.state.eventCursor[host] = log.firstIndex + log.events.length;
    const match = seen.find((event) => event.name === name && (data === undefined || containsSubset(event.data, data)));
    if (match) return { ok: true };
    const names = seen.map((event) => `${event.name}${Object.keys(event.data).length ? ` ${JSON.stringify(event.data)}` : ''}`);
    return { ok: false, message: `no ${name}${data ? ` ${JSON.stringify(data)}` : ''} on the ${host} since the last event check; it emitted ${names.length ? names.join(', ') : 'nothing'}` };
  }

  qmpEventsOf(host: HostName): readonly QmpEventRecord[] {
    return this.state.qmpEvents[host].events;
  }

  /** Emits a QMP event on `host`'s monitor and keeps it for `check event` and query-style views. */
  emitQmpEvent(host: HostName, name: string, data: Record<string, unknown>): void {
    const log = this.state.qmpEvents[host];
    log.events.push(freezeQmpEvent({ name, data, timeUs: this.environment.scheduler.nowUs }));
    if (log.events.length > QMP_EVENTS_KEPT) {
      log.events.shift();
      log.firstIndex++;
    }
    this.environment.events.emit({ kind: 'qmp-event', host, name, data });
  }

  private logError(host: HostName, message: string): void {
    const errors = this.state.errors;
    errors.entries.push({ host, message, timeUs: this.environment.scheduler.nowUs });
    if (errors.entries.length > ERRORS_KEPT) {
      errors.entries.shift();
      errors.firstIndex++;
    }
    this.environment.events.emit({ kind: 'colo-log', host, message });
  }

  private errorsEnd(): number {
    return this.state.errors.firstIndex + this.state.errors.entries.length;
  }

  private firstErrorFrom(index: number): string | undefined {
    const errors = this.state.errors;
    return errors.entries[Math.max(0, index - errors.firstIndex)]?.message;
  }

  private peerOf(host: HostName): ColoProcess {
    return host === 'primary' ? this.secondary : this.primary;
  }

  private schedule(delayUs: number, action: EngineAction): number {
    if (action.type !== 'colo-timer') this.state.pendingActions++;
    return this.environment.scheduler.schedule(delayUs, action);
  }

  private services(): ColoServices {
    const environment = this.environment;
    return {
      latencyUs: environment.latencyUs,
      vmstateLoadUs: environment.vmstateLoadUs,
      nowUs: () => environment.scheduler.nowUs,
      schedule: (delayUs, action) => this.schedule(delayUs, action),
      cancel: (sequence) => environment.scheduler.cancel(sequence),
      peer: (host) => this.peerOf(host),
      startAll: (host, mode) => environment.replication(host).startAll(mode),
      checkpointAll: (host) => environment.replication(host).checkpointAll(),
      getErrorAll: (host) => environment.replication(host).getErrorAll(),
      stopAll: (host, failover) => {
        const outcome = environment.replication(host).stopAll(failover);
        this.state.stopErrors[host] = outcome.ok ? null : outcome.message;
        return outcome;
      },
      channelState: () => this.state.channel.state,
      send: (from, message, value) => this.send(from, message, value),
      shutdownChannel: () => {
        if (this.state.channel.state === 'open' || this.state.channel.state === 'hung') this.breakChannel();
      },
      drainNow: (host) => environment.inFlightOn(host) === 0,
      emitQmpEvent: (host, name, data) => this.emitQmpEvent(host, name, data),
      logError: (host, message) => this.logError(host, message),
      emitColo: (host, change) => environment.events.emit({ kind: 'colo-change', host, change }),
      setVmRunning: (host, running) => environment.events.emit({ kind: 'vm-state', vm: host, running }),
    };
  }

  private send(from: HostName, message: ColoMessage, value: number | null): boolean {
    const channel = this.state.channel;
    if (channel.state === 'broken' || channel.state === 'closed') return false;
    const to = from === 'primary' ? 'secondary' : 'primary';
    this.environment.events.emit({ kind: 'colo-message', from, to, message, arrivesAtUs: this.environment.scheduler.nowUs + this.environment.latencyUs, lost: channel.state === 'hung' && channel.peerDead });
    // A hung connection takes the message: a dead peer never reads it; a hung network delivers it when it comes back.
    if (channel.state === 'hung') {
      if (!channel.peerDead) channel.held.push({ to, message, value });
      return true;
    }
    this.schedule(this.environment.latencyUs, { type: 'colo-message', to, message, value, epoch: channel.epoch });
    return true;
  }
}

/** migration_is_running (migration/migration.c): MIGRATION_STATUS_COLO is not one of its states. */
export function migrationIsRunning(state: MigrationStatus): boolean {
  return state === 'setup' || state === 'active';
}

function containsSubset(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((item, index) => containsSubset(actual[index], item));
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(expected as Record<string, unknown>).every(([key, value]) => containsSubset((actual as Record<string, unknown>)[key], value));
}

export { containsSubset };
