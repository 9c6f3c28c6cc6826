/**
 * The topic ids of the lesson contract (docs/lesson-format-v1.md): what a lesson's `covers`
 * may name. The numbered ones follow QEMU's docs/block-replication.txt in its order.
 */
export const TOPIC_IDS = [
  'topology',
  'rule-1',
  'rule-2',
  'rule-3',
  'rule-4',
  'failure-1',
  'failure-2',
  'failure-3',
  'failure-4',
  'failure-5',
  'failure-6',
  'failure-7',
  'interface-start',
  'interface-checkpoint',
  'interface-get-error',
  'interface-stop',
  'start-order',
  'failover-commit',
  'failover-failed',
  'resume-replication',
] as const;

export type TopicId = (typeof TOPIC_IDS)[number];

/** What each topic is about, in a line (for the course page and for authors). */
export const TOPIC_TITLES: Readonly<Record<TopicId, string>> = {
  topology: 'the two hosts, their block graphs and the roles of the disks',
  'rule-1': "workflow rule 1: the primary's writes are copied and forwarded to the secondary",
  'rule-2': 'workflow rule 2: the old content is copied into the disk buffer first, without overwriting what it holds',
  'rule-3': "workflow rule 3: the primary's writes are written to the secondary disk",
  'rule-4': "workflow rule 4: the secondary VM's writes go to the disk buffer and overwrite it",
  'failure-1': 'failure 1: an I/O error on the primary disk',
  'failure-2': "failure 2: forwarding the primary's write fails",
  'failure-3': 'failure 3: the backup fails',
  'failure-4': 'failure 4: an I/O error on the secondary disk',
  'failure-5': 'failure 5: an I/O error on the active disk',
  'failure-6': 'failure 6: emptying the active or hidden disk fails',
  'failure-7': 'failure 7: the failover fails',
  'interface-start': 'replication_start_all()',
  'interface-checkpoint': 'replication_do_checkpoint_all()',
  'interface-get-error': 'replication_get_error_all()',
  'interface-stop': 'replication_stop_all()',
  'start-order': 'the secondary starts replication before the primary',
  'failover-commit': "the failover's active commit",
  'failover-failed': 'writes in stage failover-failed',
  'resume-replication': 'resuming replication after a failover',
};

/** A lesson id: lower-case words joined by single hyphens. */
export const LESSON_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
