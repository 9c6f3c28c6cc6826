/**
 * COLO-FT.txt's "Secondary resume replication" / "Primary resume replication" as the steps the
 * guided action runs one by one (public/scenarios/lifecycle/01, 02, 06 and lesson 21 run the
 * same): the lost host starts again as the new secondary, the survivor (the primary of the new
 * pair: hosts are roles) resyncs it with drive-mirror, stops, cancels the mirror once READY,
 * adds a replication node (mode=primary) as a new quorum child and starts COLO again.
 *
 * Each step is built from the engine's state when it is about to run (the quorum, the new
 * secondary's export and a free node name are whatever the graphs have then), so the runbook
 * works in either direction and on any round of the cycle.
 */
import type { HostName } from '../../engine/sim/events.js';
import type { SimSummary } from '../../worker/protocol.js';
import { analyseRoles } from './host-roles.js';

export type ResumeStepId = 'settle' | 'restart' | 'mirror' | 'sync' | 'stop' | 'cancel' | 'cancelled' | 'drive-add' | 'add-child' | 'capabilities' | 'migrate' | 'protected';

export type GuideStep = Record<string, unknown> & { readonly op: string };

export interface ResumeStep {
  readonly id: ResumeStepId;
  /** What the step does, as its Next button says it. */
  readonly title: string;
  /** Why, in COLO-FT.txt's and QEMU's words. */
  readonly why: string;
  /** The step (scenario JSON) to run, from the state now; a string says why it cannot be built. */
  build(summary: SimSummary, disks: 'kept' | 'fresh'): GuideStep | string;
  /** Whether the step is already done in this state (the runbook then starts after it). */
  done?(summary: SimSummary): boolean;
}

/** COLO-FT.txt's ports: the new secondary's NBD server and its -incoming. */
const NBD_PORT = 9999;
const MIGRATION_PORT = 9998;
/** The mirror's job id, as COLO-FT.txt's runbook names it. */
export const RESYNC_JOB = 'resync';

/** The host lost in the failover, or null when neither is. */
export function lostHost(summary: SimSummary): HostName | null {
  const { primary, secondary } = summary.colo;
  if (primary.lost === secondary.lost) return null;
  return primary.lost ? 'primary' : 'secondary';
}

/** The new secondary's NBD export name (its disk), from its NBD server. */
function exportOf(summary: SimSummary): string | undefined {
  return summary.backends.find((backend) => backend.host === 'secondary' && backend.kind === 'export')?.exportName;
}

function quorumOf(summary: SimSummary): string | undefined {
  return analyseRoles(summary).hosts.primary.slots.quorum;
}

/** The first `replicationN` no node of the primary has: drive_add's node-name must be new (a leftover of an earlier round may be open). */
export function freeReplicationName(summary: SimSummary): string {
  const taken = new Set(summary.nodes.filter((node) => node.host === 'primary').map((node) => node.name));
  let index = 0;
  while (taken.has(`replication${index}`)) index++;
  return `replication${index}`;
}

const primaryQmp = (execute: string, args?: Record<string, unknown>): GuideStep => ({ op: 'qmp', host: 'primary', execute, ...(args ? { arguments: args } : {}) });

export const RESUME_STEPS: readonly ResumeStep[] = [
  {
    id: 'settle',
    title: 'Let the failover finish',
    why: "The survivor's failover must be complete (its active commit done) before the lost host may come back.",
    build: () => ({ op: 'run', until: 'idle' }),
    done: (summary) => {
      const lost = lostHost(summary);
      return lost === null || summary.colo[lost === 'primary' ? 'secondary' : 'primary'].failover === 'completed';
    },
  },
  {
    id: 'restart',
    title: 'Start the lost host as the new secondary',
    why: 'COLO-FT.txt: "Start the new Secondary (Steps 2 and 3 above)": a new QEMU with -incoming, new empty active and hidden disks, its NBD server exporting its disk. The survivor becomes the primary of the new pair (colo-sim names hosts by their role).',
    build: (summary, disks) => {
      const lost = lostHost(summary);
      return lost === null ? 'No host is lost: there is nothing to restart.' : { op: 'restart', host: lost, disks };
    },
    done: (summary) => lostHost(summary) === null,
  },
  {
    id: 'mirror',
    title: 'drive-mirror the disk to the new secondary',
    why: "On the new primary: drive-mirror (sync=full) copies the VM's whole disk, read through its quorum, to the new secondary's NBD export.",
    build: (summary) => {
      const quorum = quorumOf(summary);
      const exported = exportOf(summary);
      if (!quorum || !exported) return 'The new pair is not there: the primary has no quorum or the secondary no NBD export.';
      return primaryQmp('drive-mirror', { device: quorum, 'job-id': RESYNC_JOB, target: `nbd://secondary:${NBD_PORT}/${exported}`, mode: 'existing', format: 'raw', sync: 'full' });
    },
  },
  {
    id: 'sync',
    title: 'Wait until the disk is synced (READY)',
    why: 'The mirror copies every dirty granule, flushes the target and reports BLOCK_JOB_READY.',
    build: () => ({ op: 'run', until: 'idle' }),
  },
  {
    id: 'stop',
    title: 'Stop the VM',
    why: 'COLO-FT.txt: "Wait until disk is synced, then stop": no guest write may slip in between the cancel and COLO\'s start.',
    build: () => primaryQmp('stop'),
  },
  {
    id: 'cancel',
    title: 'block-job-cancel the mirror',
    why: 'A cancel after READY is soft (mirror_cancel): the job ends with BLOCK_JOB_COMPLETED, the target consistent, the VM staying on its own disk.',
    build: () => primaryQmp('block-job-cancel', { device: RESYNC_JOB }),
  },
  {
    id: 'cancelled',
    title: 'Let the mirror end',
    why: 'The job drains and drops its filter and its NBD connection.',
    build: () => ({ op: 'run', until: 'idle' }),
  },
  {
    id: 'drive-add',
    title: 'drive_add the replication node (mode=primary)',
    why: 'HMP drive_add -n opens a replication node in primary mode over a new NBD connection to the new secondary\'s export, not attached yet.',
    build: (summary) => {
      const exported = exportOf(summary);
      if (!exported) return 'The new secondary has no NBD export.';
      const node = freeReplicationName(summary);
      return primaryQmp('human-monitor-command', {
        'command-line': `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=secondary,file.port=${NBD_PORT},file.export=${exported},node-name=${node}`,
      });
    },
  },
  {
    id: 'add-child',
    title: 'x-blockdev-change: add it to the quorum',
    why: "The new node becomes a child of the VM's quorum (7.2 names it after the highest child number in use).",
    build: (summary) => {
      const quorum = quorumOf(summary);
      const quorumView = summary.nodes.find((node) => node.host === 'primary' && node.name === quorum);
      const inQuorum = new Set(quorumView?.children.map((child) => child.child) ?? []);
      // The replication node drive_add opened: in primary mode, not a child yet (the newest such node).
      const added = summary.nodes.filter((node) => node.host === 'primary' && node.replication?.mode === 'primary' && node.replication.stage === 'none' && !inQuorum.has(node.name)).at(-1);
      if (!quorum || !added) return 'There is no new replication node to add.';
      return primaryQmp('x-blockdev-change', { parent: quorum, node: added.name });
    },
  },
  {
    id: 'capabilities',
    title: 'migrate-set-capabilities x-colo',
    why: 'COLO runs as a migration with the x-colo capability.',
    build: () => primaryQmp('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] }),
  },
  {
    id: 'migrate',
    title: 'migrate to the new secondary',
    why: 'The migration starts COLO in the new direction: replication_start_all(PRIMARY) starts the new node; the old secondary node, DONE, is ignored.',
    build: () => primaryQmp('migrate', { uri: `tcp:secondary:${MIGRATION_PORT}` }),
  },
  {
    id: 'protected',
    title: 'Let COLO start',
    why: 'The first checkpoint makes both sides equal: COLO protects the VM again.',
    build: () => ({ op: 'run', for: '10ms' }),
  },
];

/** Where the guided resume starts in this state: null when it does not apply (no failover to recover from). */
export function resumeStart(summary: SimSummary | null): number | null {
  if (!summary) return null;
  if (lostHost(summary) !== null) return RESUME_STEPS.findIndex((step) => !step.done?.(summary));
  // The lost host was restarted by hand: resume from the survivor's side, if COLO is not running
  // and the new secondary waits for the migration.
  const waiting = summary.colo.secondary.runState === 'inmigrate' && summary.coloState !== 'running' && summary.coloState !== 'starting' && summary.colo.primary.failover === 'completed';
  return waiting ? RESUME_STEPS.findIndex((step) => step.id === 'mirror') : null;
}
