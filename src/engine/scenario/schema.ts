/**
 * The scenario format (colo-sim/1) as zod schemas: the one definition from which files are
 * validated, types are derived and the published JSON Schema is generated.
 *
 * These schemas check each value on its own. What depends on the rest of the file (offsets
 * beyond the disk, nodes that exist, ...) is checked afterwards in validate.ts.
 */
import * as z from 'zod';
import { ERRNO_NAMES } from '../block/errno.js';
import { LESSON_ID_PATTERN, TOPIC_IDS } from '../lesson/topics.js';
import { EVENT_KINDS } from '../sim/format-event.js';
import { DURATION_PATTERN, HEX_BYTE_PATTERN, parseDuration, parsePattern, parseSize, SIZE_PATTERN } from './units.js';

export const FORMAT_VERSION = 'colo-sim/1';

const SIZE_MESSAGE = 'must be a size: a whole number of bytes, or a string of digits with an optional K, M or G suffix ("512", "64K", "64M")';
// The message is on every check: a union reports the failing check of the branch whose type matched.
const size = z
  .union([z.number({ error: SIZE_MESSAGE }).int({ error: (issue) => (issue.code === 'too_big' ? `size ${String(issue.input)} is too large` : SIZE_MESSAGE) }).nonnegative({ error: SIZE_MESSAGE }), z.string({ error: SIZE_MESSAGE }).regex(SIZE_PATTERN, { error: SIZE_MESSAGE })], {
    error: SIZE_MESSAGE,
  })
  .transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `size ${JSON.stringify(value)} is too large` });
      return z.NEVER;
    }
    return bytes;
  });

const duration = z
  .string({ error: 'must be a duration: a string with us, ms or s ("500us", "2ms", "1s")' })
  .regex(DURATION_PATTERN, { error: 'must be a duration: a number with us, ms or s ("500us", "2ms", "1s")' })
  .transform((value, ctx) => {
    const microseconds = parseDuration(value);
    if (microseconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(value)} is not a whole number of microseconds` });
      return z.NEVER;
    }
    return microseconds;
  });

const PATTERN_MESSAGE = 'must be a byte: an integer from 0 to 255, or a hex string "0x00" to "0xff"';
const pattern = z
  .union(
    [
      z.number({ error: PATTERN_MESSAGE }).int({ error: PATTERN_MESSAGE }).min(0, { error: PATTERN_MESSAGE }).max(255, { error: PATTERN_MESSAGE }),
      z.string({ error: PATTERN_MESSAGE }).regex(HEX_BYTE_PATTERN, { error: PATTERN_MESSAGE }),
    ],
    { error: PATTERN_MESSAGE },
  )
  .transform((value) => parsePattern(value)!);

const nodeName = z.string({ error: 'must be a node name (a string)' }).min(1, { error: 'must not be empty' });
const host = z.enum(['primary', 'secondary'], { error: 'must be "primary" or "secondary"' });

const expectation = z
  .strictObject({
    pattern: pattern.optional(),
    error: z.union([z.string().min(1), z.literal(true)], { error: 'must be an errno name (I/O), a message (control), or true' }).optional(),
    ok: z.literal(true, { error: 'must be true' }).optional(),
    /** colo-sim addition, qmp steps: the reply's return value contains these members (compared deeply). */
    return: z.unknown().optional(),
  })
  .refine((value) => [value.pattern, value.error, value.ok, value.return].filter((field) => field !== undefined).length === 1, {
    error: 'must hold exactly one of "pattern", "error", "ok" or "return"',
  });

const ioFields = {
  offset: size,
  length: size,
  expect: expectation.optional(),
  async: z.boolean({ error: 'must be true or false' }).optional(),
};

const writeStep = z.strictObject({ op: z.literal('write'), node: nodeName, pattern, ...ioFields });
const readStep = z.strictObject({ op: z.literal('read'), node: nodeName, ...ioFields });
const guestWriteStep = z.strictObject({ op: z.literal('guest-write'), vm: host, pattern, ...ioFields });
const guestReadStep = z.strictObject({ op: z.literal('guest-read'), vm: host, ...ioFields });
/** colo-sim addition: a flush (bdrv_co_flush) through a VM's disk or from a node down. */
const flushStep = z
  .strictObject({ op: z.literal('flush'), vm: host.optional(), node: nodeName.optional(), expect: expectation.optional(), async: ioFields.async })
  .refine((value) => (value.vm === undefined) !== (value.node === undefined), { error: 'needs exactly one of "vm" or "node"' });

const replicationStep = z.strictObject({
  op: z.literal('replication'),
  host,
  action: z.enum(['start', 'checkpoint', 'get-error', 'stop'], { error: 'must be "start", "checkpoint", "get-error" or "stop"' }),
  mode: host.optional(),
  failover: z.boolean({ error: 'must be true or false' }).optional(),
  expect: expectation.optional(),
});

const coloStartStep = z.strictObject({ op: z.literal('colo-start'), expect: expectation.optional() });
/**
 * colo-sim addition: a host lost in a failover comes back as the secondary of a new pair, its disk
 * kept or new and empty (COLO-FT.txt's "Start the new Secondary"); when the lost host was the
 * primary, the survivor becomes the primary first (hosts are named by their role).
 */
const restartStep = z.strictObject({
  op: z.literal('restart'),
  host,
  disks: z.enum(['kept', 'fresh'], { error: 'must be "kept" or "fresh"' }),
  expect: expectation.optional(),
});
const checkpointStep = z.strictObject({ op: z.literal('checkpoint'), expect: expectation.optional() });
const failoverStep = z.strictObject({ op: z.literal('failover'), to: host, expect: expectation.optional() });

const openStep = z.strictObject({
  op: z.literal('open'),
  host,
  options: z.strictObject({
    'node-name': nodeName.regex(/^[A-Za-z][A-Za-z0-9._-]*$/, {
      error: 'must start with a letter and hold only letters, digits, "-", "." and "_" (QEMU\'s id rules)',
    }),
    mode: z.string({ error: 'must be a string' }).optional(),
    'top-id': z.string({ error: 'must be a string' }).optional(),
    file: z.string({ error: 'must be a string' }).optional(),
  }),
  expect: expectation.optional(),
});

const jobType = z.enum(['backup', 'commit'], { error: 'must be "backup" or "commit"' });

const faultTarget = z.enum(['read', 'write', 'flush', 'any'], { error: 'must be "read", "write", "flush" or "any"' });
const faultStep = z.discriminatedUnion('kind', [
  z.strictObject({
    op: z.literal('fault'),
    kind: z.literal('io-error'),
    node: nodeName,
    on: faultTarget,
    count: z.number().int().positive({ error: 'must be a positive integer' }).optional(),
    expect: expectation.optional(),
  }),
  z.strictObject({ op: z.literal('fault'), kind: z.literal('link-down'), expect: expectation.optional() }),
  z.strictObject({ op: z.literal('fault'), kind: z.literal('link-up'), expect: expectation.optional() }),
  /** colo-sim addition: the peer hangs instead of refusing; requests wait until link-up, or QMP yank. */
  z.strictObject({ op: z.literal('fault'), kind: z.literal('link-hang'), expect: expectation.optional() }),
  /** colo-sim addition: the host dies (its QEMU stops, the network to it goes down); the survivor's operator then runs the failover runbook. */
  z.strictObject({ op: z.literal('fault'), kind: z.literal('host-down'), host, expect: expectation.optional() }),
  z.strictObject({
    op: z.literal('fault'),
    kind: z.literal('cancel-job'),
    host,
    type: jobType,
    expect: expectation.optional(),
  }),
  z.strictObject({ op: z.literal('fault'), kind: z.literal('eject'), node: nodeName, expect: expectation.optional() }),
  z.strictObject({ op: z.literal('fault'), kind: z.literal('clear'), expect: expectation.optional() }),
]);

const runStep = z
  .strictObject({
    op: z.literal('run'),
    for: duration.optional(),
    until: z.literal('idle', { error: 'must be "idle"' }).optional(),
    /** colo-sim addition: runs exactly this many entries of the scheduler's queue (what an exported session records when a command came in the middle of an instant). */
    events: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be a positive integer' }).optional(),
    expect: expectation.optional(),
  })
  .refine((value) => [value.for, value.until, value.events].filter((field) => field !== undefined).length === 1, { error: 'needs exactly one of "for", "until" or "events"' });

const stageName = z.enum(['none', 'running', 'failover', 'failover-failed', 'done'], {
  error: 'must be "none", "running", "failover", "failover-failed" or "done"',
});

/** The checks of a `check` step, also a task's `until`: exactly one of them. */
const checkFields = {
  stage: z.strictObject({ node: nodeName, is: stageName }).optional(),
  job: z
    .strictObject({
      host,
      type: jobType,
      is: z.enum(['running', 'absent'], { error: 'must be "running" or "absent"' }),
    })
    .optional(),
  allocated: z
    .strictObject({ node: nodeName, offset: size, length: size, is: z.enum(['all', 'none'], { error: 'must be "all" or "none"' }) })
    .optional(),
  same: z.array(nodeName, { error: 'must be a list of node names' }).min(2, { error: 'must name at least two nodes' }).optional(),
  /** colo-sim addition: a QMP event the host emitted since the previous event check there (data compared as a subset). */
  event: z
    .strictObject({
      host,
      name: z.string({ error: 'must be an event name (a string)' }).min(1, { error: 'must not be empty' }),
      data: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
    })
    .optional(),
};

type CheckFields = { stage?: unknown; job?: unknown; allocated?: unknown; same?: unknown; event?: unknown };
const exactlyOneCheck = (value: CheckFields): boolean => [value.stage, value.job, value.allocated, value.same, value.event].filter((field) => field !== undefined).length === 1;
const ONE_CHECK_MESSAGE = 'needs exactly one of "stage", "job", "allocated", "same" or "event"';

const checkStep = z
  .strictObject({ op: z.literal('check'), ...checkFields, expect: expectation.optional() })
  .refine(exactlyOneCheck, { error: ONE_CHECK_MESSAGE });

/** colo-sim addition: a random guest workload from the seeded PRNG; writesPerSecond 0 stops it. */
const workloadStep = z.strictObject({
  op: z.literal('workload'),
  writesPerSecond: z.number({ error: 'must be a number' }).min(0, { error: 'must be 0 (stop) or more' }).max(100_000, { error: 'must be at most 100000' }),
  vm: z.enum(['primary', 'secondary', 'both'], { error: 'must be "primary", "secondary" or "both"' }).optional(),
  blockSize: size.optional(),
  maxBlocks: z.number().int().min(1).max(1024).optional(),
  expect: expectation.optional(),
});

const sayStep = z.strictObject({ op: z.literal('say'), text: z.string({ error: 'must be a string' }), expect: expectation.optional() });

/** colo-sim addition: one QMP command on a host, as an operator types it ({"execute": ..., "arguments": ...}). */
const qmpStep = z.strictObject({
  op: z.literal('qmp'),
  host,
  execute: z.string({ error: 'must be a command name (a string)' }).min(1, { error: 'must not be empty' }),
  arguments: z.record(z.string(), z.unknown(), { error: 'must be an object of arguments' }).optional(),
  expect: expectation.optional(),
});

const STEP_OPS = 'write, read, guest-write, guest-read, flush, replication, colo-start, checkpoint, failover, restart, open, fault, run, check, say, workload, qmp';
const ACTION_STEPS = [writeStep, readStep, guestWriteStep, guestReadStep, flushStep, replicationStep, coloStartStep, checkpointStep, failoverStep, restartStep, openStep, faultStep, runStep, checkStep, sayStep, workloadStep, qmpStep] as const;

/** A step that acts or checks: every op but the lesson's ask and task (what a task's solution may hold). */
export const actionStepSchema = z.discriminatedUnion('op', ACTION_STEPS, {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const op = (issue.input as { op?: unknown } | undefined)?.op;
    return op === 'ask' || op === 'task' ? `a task's solution cannot hold an ${op} step; expected one of ${STEP_OPS}` : `unknown op; expected one of ${STEP_OPS}`;
  },
});

// ---- lessons (docs/lesson-format.md): probes, ask, task and the lesson block ----

const range = { offset: size, length: size };

/** What an `ask` makes the engine compute: exactly one of these. */
export const probeSchema = z
  .strictObject({
    read: z
      .strictObject({ node: nodeName.optional(), vm: host.optional(), ...range })
      .refine((value) => (value.node === undefined) !== (value.vm === undefined), { error: 'needs exactly one of "node" or "vm"' })
      .optional(),
    'served-by': z.strictObject({ vm: z.literal('secondary', { error: 'must be "secondary" (the layers are the secondary VM\'s)' }), ...range }).optional(),
    stage: z.strictObject({ node: nodeName }).optional(),
    'get-error': z.strictObject({ host }).optional(),
    allocated: z.strictObject({ node: nodeName, ...range }).optional(),
    job: z.strictObject({ host, type: jobType }).optional(),
    count: z
      .strictObject({
        event: z.enum(EVENT_KINDS as [string, ...string[]], { error: `must be an event kind: ${EVENT_KINDS.join(', ')}` }),
        since: z.enum(['lesson-start', 'last-checkpoint'], { error: 'must be "lesson-start" or "last-checkpoint"' }),
      })
      .optional(),
  }, { error: 'must be a probe: an object with one of "read", "served-by", "stage", "get-error", "allocated", "job" or "count"' })
  .refine((value) => Object.values(value).filter((field) => field !== undefined).length === 1, {
    error: 'needs exactly one of "read", "served-by", "stage", "get-error", "allocated", "job" or "count"',
  });

const text = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** Predict, then reveal: the engine computes the probe, and the keyed answer must be its value. */
const askStep = z.strictObject({
  op: z.literal('ask'),
  question: text,
  probe: probeSchema,
  choices: z.array(text, { error: 'must be a list of choices (strings)' }).min(2, { error: 'must offer at least two choices' }),
  answer: text,
  explain: text.optional(),
});

/** The check a task's goal is: one check of a `check` step. */
export const untilSchema = z.strictObject(checkFields, { error: 'must be a check: an object with one of "stage", "job", "allocated", "same" or "event"' }).refine(exactlyOneCheck, { error: ONE_CHECK_MESSAGE });

/** Your turn: the goal must not hold before the solution, and must hold after it. */
const taskStep = z.strictObject({
  op: z.literal('task'),
  goal: text,
  until: untilSchema,
  hint: text.optional(),
  solution: z.array(actionStepSchema, { error: 'must be a list of steps' }).min(1, { error: 'must hold at least one step' }),
});

export const stepSchema = z.discriminatedUnion('op', [...ACTION_STEPS, askStep, taskStep], {
  error: (issue) => (issue.code === 'invalid_union' ? `unknown op; expected one of ${STEP_OPS}, ask, task` : undefined),
});

export const lessonSchema = z.strictObject(
  {
    id: z.string({ error: 'must be a string' }).regex(LESSON_ID_PATTERN, { error: 'must be kebab-case: lower-case letters and digits in words joined by single hyphens ("cbw-keeps-first-copy")' }),
    covers: z
      .array(z.enum(TOPIC_IDS, { error: `must be a topic id: ${TOPIC_IDS.join(', ')}` }), { error: 'must be a list of topic ids' })
      .min(1, { error: 'must name at least one topic id' })
      .refine((topics) => new Set(topics).size === topics.length, { error: 'must not name a topic twice' }),
    order: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }),
    minutes: z.number({ error: 'must be a number' }).positive({ error: 'must be more than 0' }),
  },
  { error: 'must be an object with id, covers, order and minutes' },
);

export const setupSchema = z.strictObject({
  diskSize: size.optional(),
  clusterSize: size.optional(),
  seed: z.number().int({ error: 'must be an integer' }).min(0).max(0xffffffff).optional(),
  nbdLatency: duration.optional(),
  /** colo-sim addition: virtual time the active commit takes to copy one granule. */
  copyTime: duration.optional(),
  /** colo-sim addition: virtual time the secondary takes to load a checkpoint's device state. */
  vmstateLoadTime: duration.optional(),
});

export const scenarioSchema = z.strictObject({
  /** colo-sim addition: lets editors find the JSON Schema. */
  $schema: z.string().optional(),
  format: z.literal(FORMAT_VERSION, { error: `must be "${FORMAT_VERSION}"` }),
  title: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  description: z.string({ error: 'must be a string' }).optional(),
  source: z.string({ error: 'must be a string' }).optional(),
  setup: setupSchema.optional(),
  /** A lesson (docs/lesson-format.md): its id, topics, place in the course and length. */
  lesson: lessonSchema.optional(),
  steps: z.array(stepSchema, { error: 'must be a list of steps' }),
});

export type ParsedScenario = z.output<typeof scenarioSchema>;
export type ParsedStep = z.output<typeof stepSchema>;
/** A step that acts or checks (not ask or task): what a task's solution holds. */
export type ActionStep = z.output<typeof actionStepSchema>;
export type AskStep = Extract<ParsedStep, { op: 'ask' }>;
export type TaskStep = Extract<ParsedStep, { op: 'task' }>;
export type Probe = z.output<typeof probeSchema>;
export type Until = z.output<typeof untilSchema>;
export type LessonInfo = z.output<typeof lessonSchema>;
export type Expectation = z.output<typeof expectation>;

export const KNOWN_ERRNOS: readonly string[] = ERRNO_NAMES;
