/**
 * The scenario format (colo-sim/1) as zod schemas: the one definition from which files are
 * validated, types are derived and the published JSON Schema is generated.
 *
 * These schemas check each value on its own. What depends on the rest of the file (offsets
 * beyond the disk, nodes that exist, ...) is checked afterwards in validate.ts.
 */
// zod/mini: the same checks and issues as zod's classic API, built from functions instead of
// methods, so the schemas cost a fraction to make (every `colo-sim run` makes them all) and
// the worker's bundle is smaller.
import en from 'zod/v4/locales/en.js';
import * as z from 'zod/mini';
import { ERRNO_NAMES } from '../block/errno.js';
import { LESSON_ID_PATTERN, TOPIC_IDS } from '../lesson/topics.js';
import { EVENT_KINDS } from '../sim/format-event.js';
import { DURATION_PATTERN, HEX_BYTE_PATTERN, parseDuration, parsePattern, parseSize, SIZE_PATTERN } from './units.js';

// What the classic API sets up on first use: English messages for any issue validate.ts does not
// word itself, and the memoizer its objects and unions parse with.
z.config(en());
z.config({ memoizer: z.memoizer() });

export const FORMAT_VERSION = 'colo-sim/1';

const SIZE_MESSAGE = 'must be a size: a whole number of bytes, or a string of digits with an optional K, M or G suffix ("512", "64K", "64M")';
// The message is on every check: a union reports the failing check of the branch whose type matched.
const size = z.pipe(
  z.union(
    [
      z.number({ error: SIZE_MESSAGE }).check(z.int({ error: (issue) => (issue.code === 'too_big' ? `size ${String(issue.input)} is too large` : SIZE_MESSAGE) }), z.nonnegative({ error: SIZE_MESSAGE })),
      z.string({ error: SIZE_MESSAGE }).check(z.regex(SIZE_PATTERN, { error: SIZE_MESSAGE })),
    ],
    { error: SIZE_MESSAGE },
  ),
  z.transform((value: number | string, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.issues.push({ code: 'custom', message: `size ${JSON.stringify(value)} is too large`, input: value });
      return z.NEVER;
    }
    return bytes;
  }),
);

const duration = z.pipe(
  z.string({ error: 'must be a duration: a string with us, ms or s ("500us", "2ms", "1s")' }).check(z.regex(DURATION_PATTERN, { error: 'must be a duration: a number with us, ms or s ("500us", "2ms", "1s")' })),
  z.transform((value: string, ctx) => {
    const microseconds = parseDuration(value);
    if (microseconds === undefined) {
      ctx.issues.push({ code: 'custom', message: `duration ${JSON.stringify(value)} is not a whole number of microseconds`, input: value });
      return z.NEVER;
    }
    return microseconds;
  }),
);

const PATTERN_MESSAGE = 'must be a byte: an integer from 0 to 255, or a hex string "0x00" to "0xff"';
const pattern = z.pipe(
  z.union(
    [
      z.number({ error: PATTERN_MESSAGE }).check(z.int({ error: PATTERN_MESSAGE }), z.gte(0, { error: PATTERN_MESSAGE }), z.lte(255, { error: PATTERN_MESSAGE })),
      z.string({ error: PATTERN_MESSAGE }).check(z.regex(HEX_BYTE_PATTERN, { error: PATTERN_MESSAGE })),
    ],
    { error: PATTERN_MESSAGE },
  ),
  z.transform((value: number | string) => parsePattern(value)!),
);

const nodeName = z.string({ error: 'must be a node name (a string)' }).check(z.minLength(1, { error: 'must not be empty' }));
const host = z.enum(['primary', 'secondary'], { error: 'must be "primary" or "secondary"' });

/**
 * The step schemas, made on first use: a scenario with no steps (and a `colo-sim run` of one)
 * never pays for them. zod makes a schema in microseconds, but there are dozens here.
 */
function buildStepSchemas() {
  const expectation = z
    .strictObject({
      pattern: z.optional(pattern),
      error: z.optional(z.union([z.string().check(z.minLength(1)), z.literal(true)], { error: 'must be an errno name (I/O), a message (control), or true' })),
      ok: z.optional(z.literal(true, { error: 'must be true' })),
      /** colo-sim addition, qmp steps: the reply's return value contains these members (compared deeply). */
      return: z.optional(z.unknown()),
    })
    .check(
      z.refine((value) => [value.pattern, value.error, value.ok, value.return].filter((field) => field !== undefined).length === 1, {
        error: 'must hold exactly one of "pattern", "error", "ok" or "return"',
      }),
    );

  const ioFields = {
    offset: size,
    length: size,
    expect: z.optional(expectation),
    async: z.optional(z.boolean({ error: 'must be true or false' })),
  };

  const writeStep = z.strictObject({ op: z.literal('write'), node: nodeName, pattern, ...ioFields });
  const readStep = z.strictObject({ op: z.literal('read'), node: nodeName, ...ioFields });
  const guestWriteStep = z.strictObject({ op: z.literal('guest-write'), vm: host, pattern, ...ioFields });
  const guestReadStep = z.strictObject({ op: z.literal('guest-read'), vm: host, ...ioFields });
  /** colo-sim addition: a flush (bdrv_co_flush) through a VM's disk or from a node down. */
  const flushStep = z
    .strictObject({ op: z.literal('flush'), vm: z.optional(host), node: z.optional(nodeName), expect: z.optional(expectation), async: ioFields.async })
    .check(z.refine((value) => (value.vm === undefined) !== (value.node === undefined), { error: 'needs exactly one of "vm" or "node"' }));

  const replicationStep = z.strictObject({
    op: z.literal('replication'),
    host,
    action: z.enum(['start', 'checkpoint', 'get-error', 'stop'], { error: 'must be "start", "checkpoint", "get-error" or "stop"' }),
    mode: z.optional(host),
    failover: z.optional(z.boolean({ error: 'must be true or false' })),
    expect: z.optional(expectation),
  });

  const coloStartStep = z.strictObject({ op: z.literal('colo-start'), expect: z.optional(expectation) });
  /**
   * colo-sim addition: a host lost in a failover comes back as the secondary of a new pair, its disk
   * kept or new and empty (COLO-FT.txt's "Start the new Secondary"); when the lost host was the
   * primary, the survivor becomes the primary first (hosts are named by their role).
   */
  const restartStep = z.strictObject({
    op: z.literal('restart'),
    host,
    disks: z.enum(['kept', 'fresh'], { error: 'must be "kept" or "fresh"' }),
    expect: z.optional(expectation),
  });
  const checkpointStep = z.strictObject({ op: z.literal('checkpoint'), expect: z.optional(expectation) });
  const failoverStep = z.strictObject({ op: z.literal('failover'), to: host, expect: z.optional(expectation) });

  const openStep = z.strictObject({
    op: z.literal('open'),
    host,
    options: z.strictObject({
      'node-name': nodeName.check(
        z.regex(/^[A-Za-z][A-Za-z0-9._-]*$/, {
          error: 'must start with a letter and hold only letters, digits, "-", "." and "_" (QEMU\'s id rules)',
        }),
      ),
      mode: z.optional(z.string({ error: 'must be a string' })),
      'top-id': z.optional(z.string({ error: 'must be a string' })),
      file: z.optional(z.string({ error: 'must be a string' })),
    }),
    expect: z.optional(expectation),
  });

  const jobType = z.enum(['backup', 'commit'], { error: 'must be "backup" or "commit"' });

  const faultTarget = z.enum(['read', 'write', 'flush', 'any'], { error: 'must be "read", "write", "flush" or "any"' });
  const faultStep = z.discriminatedUnion('kind', [
    z.strictObject({
      op: z.literal('fault'),
      kind: z.literal('io-error'),
      node: nodeName,
      on: faultTarget,
      count: z.optional(z.number().check(z.int(), z.positive({ error: 'must be a positive integer' }))),
      expect: z.optional(expectation),
    }),
    z.strictObject({ op: z.literal('fault'), kind: z.literal('link-down'), expect: z.optional(expectation) }),
    z.strictObject({ op: z.literal('fault'), kind: z.literal('link-up'), expect: z.optional(expectation) }),
    /** colo-sim addition: the peer hangs instead of refusing; requests wait until link-up, or QMP yank. */
    z.strictObject({ op: z.literal('fault'), kind: z.literal('link-hang'), expect: z.optional(expectation) }),
    /** colo-sim addition: the host dies (its QEMU stops, the network to it goes down); the survivor's operator then runs the failover runbook. */
    z.strictObject({ op: z.literal('fault'), kind: z.literal('host-down'), host, expect: z.optional(expectation) }),
    z.strictObject({
      op: z.literal('fault'),
      kind: z.literal('cancel-job'),
      host,
      type: jobType,
      expect: z.optional(expectation),
    }),
    z.strictObject({ op: z.literal('fault'), kind: z.literal('eject'), node: nodeName, expect: z.optional(expectation) }),
    z.strictObject({ op: z.literal('fault'), kind: z.literal('clear'), expect: z.optional(expectation) }),
  ]);

  const runStep = z
    .strictObject({
      op: z.literal('run'),
      for: z.optional(duration),
      until: z.optional(z.literal('idle', { error: 'must be "idle"' })),
      /** colo-sim addition: runs exactly this many entries of the scheduler's queue (what an exported session records when a command came in the middle of an instant). */
      events: z.optional(z.number({ error: 'must be a number' }).check(z.int({ error: 'must be an integer' }), z.positive({ error: 'must be a positive integer' }))),
      expect: z.optional(expectation),
    })
    .check(z.refine((value) => [value.for, value.until, value.events].filter((field) => field !== undefined).length === 1, { error: 'needs exactly one of "for", "until" or "events"' }));

  const stageName = z.enum(['none', 'running', 'failover', 'failover-failed', 'done'], {
    error: 'must be "none", "running", "failover", "failover-failed" or "done"',
  });

  /** The checks of a `check` step, also a task's `until`: exactly one of them. */
  const checkFields = {
    stage: z.optional(z.strictObject({ node: nodeName, is: stageName })),
    job: z.optional(
      z.strictObject({
        host,
        type: jobType,
        is: z.enum(['running', 'absent'], { error: 'must be "running" or "absent"' }),
      }),
    ),
    allocated: z.optional(z.strictObject({ node: nodeName, offset: size, length: size, is: z.enum(['all', 'none'], { error: 'must be "all" or "none"' }) })),
    same: z.optional(z.array(nodeName, { error: 'must be a list of node names' }).check(z.minLength(2, { error: 'must name at least two nodes' }))),
    /** colo-sim addition: a QMP event the host emitted since the previous event check there (data compared as a subset). */
    event: z.optional(
      z.strictObject({
        host,
        name: z.string({ error: 'must be an event name (a string)' }).check(z.minLength(1, { error: 'must not be empty' })),
        data: z.optional(z.record(z.string(), z.unknown(), { error: 'must be an object' })),
      }),
    ),
  };

  type CheckFields = { stage?: unknown; job?: unknown; allocated?: unknown; same?: unknown; event?: unknown };
  const exactlyOneCheck = (value: CheckFields): boolean => [value.stage, value.job, value.allocated, value.same, value.event].filter((field) => field !== undefined).length === 1;
  const ONE_CHECK_MESSAGE = 'needs exactly one of "stage", "job", "allocated", "same" or "event"';

  const checkStep = z.strictObject({ op: z.literal('check'), ...checkFields, expect: z.optional(expectation) }).check(z.refine(exactlyOneCheck, { error: ONE_CHECK_MESSAGE }));

  /** colo-sim addition: a random guest workload from the seeded PRNG; writesPerSecond 0 stops it. */
  const workloadStep = z.strictObject({
    op: z.literal('workload'),
    writesPerSecond: z.number({ error: 'must be a number' }).check(z.gte(0, { error: 'must be 0 (stop) or more' }), z.lte(100_000, { error: 'must be at most 100000' })),
    vm: z.optional(z.enum(['primary', 'secondary', 'both'], { error: 'must be "primary", "secondary" or "both"' })),
    blockSize: z.optional(size),
    maxBlocks: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1024))),
    expect: z.optional(expectation),
  });

  const sayStep = z.strictObject({ op: z.literal('say'), text: z.string({ error: 'must be a string' }), expect: z.optional(expectation) });

  /** colo-sim addition: one QMP command on a host, as an operator types it ({"execute": ..., "arguments": ...}). */
  const qmpStep = z.strictObject({
    op: z.literal('qmp'),
    host,
    execute: z.string({ error: 'must be a command name (a string)' }).check(z.minLength(1, { error: 'must not be empty' })),
    arguments: z.optional(z.record(z.string(), z.unknown(), { error: 'must be an object of arguments' })),
    expect: z.optional(expectation),
  });

  const STEP_OPS = 'write, read, guest-write, guest-read, flush, replication, colo-start, checkpoint, failover, restart, open, fault, run, check, say, workload, qmp';
  const ACTION_STEPS = [writeStep, readStep, guestWriteStep, guestReadStep, flushStep, replicationStep, coloStartStep, checkpointStep, failoverStep, restartStep, openStep, faultStep, runStep, checkStep, sayStep, workloadStep, qmpStep] as const;

  /** A step that acts or checks: every op but the lesson's ask and task (what a task's solution may hold). */
  const actionStepSchema = z.discriminatedUnion('op', ACTION_STEPS, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const op = (issue.input as { op?: unknown } | undefined)?.op;
      return op === 'ask' || op === 'task' ? `a task's solution cannot hold an ${op} step; expected one of ${STEP_OPS}` : `unknown op; expected one of ${STEP_OPS}`;
    },
  });

  // ---- lessons (docs/lesson-format.md): probes, ask, task and the lesson block ----

  const range = { offset: size, length: size };

  /** What an `ask` makes the engine compute: exactly one of these. */
  const probeSchema = z
    .strictObject(
      {
        read: z.optional(
          z
            .strictObject({ node: z.optional(nodeName), vm: z.optional(host), ...range })
            .check(z.refine((value) => (value.node === undefined) !== (value.vm === undefined), { error: 'needs exactly one of "node" or "vm"' })),
        ),
        'served-by': z.optional(z.strictObject({ vm: z.literal('secondary', { error: 'must be "secondary" (the layers are the secondary VM\'s)' }), ...range })),
        stage: z.optional(z.strictObject({ node: nodeName })),
        'get-error': z.optional(z.strictObject({ host })),
        allocated: z.optional(z.strictObject({ node: nodeName, ...range })),
        job: z.optional(z.strictObject({ host, type: jobType })),
        count: z.optional(
          z.strictObject({
            event: z.enum(EVENT_KINDS as [string, ...string[]], { error: `must be an event kind: ${EVENT_KINDS.join(', ')}` }),
            since: z.enum(['lesson-start', 'last-checkpoint'], { error: 'must be "lesson-start" or "last-checkpoint"' }),
          }),
        ),
      },
      { error: 'must be a probe: an object with one of "read", "served-by", "stage", "get-error", "allocated", "job" or "count"' },
    )
    .check(
      z.refine((value) => Object.values(value).filter((field) => field !== undefined).length === 1, {
        error: 'needs exactly one of "read", "served-by", "stage", "get-error", "allocated", "job" or "count"',
      }),
    );

  const text = z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' }));

  /** Predict, then reveal: the engine computes the probe, and the keyed answer must be its value. */
  const askStep = z.strictObject({
    op: z.literal('ask'),
    question: text,
    probe: probeSchema,
    choices: z.array(text, { error: 'must be a list of choices (strings)' }).check(z.minLength(2, { error: 'must offer at least two choices' })),
    answer: text,
    explain: z.optional(text),
  });

  /** The check a task's goal is: one check of a `check` step. */
  const untilSchema = z.strictObject(checkFields, { error: 'must be a check: an object with one of "stage", "job", "allocated", "same" or "event"' }).check(z.refine(exactlyOneCheck, { error: ONE_CHECK_MESSAGE }));

  /** Your turn: the goal must not hold before the solution, and must hold after it. */
  const taskStep = z.strictObject({
    op: z.literal('task'),
    goal: text,
    until: untilSchema,
    hint: z.optional(text),
    solution: z.array(actionStepSchema, { error: 'must be a list of steps' }).check(z.minLength(1, { error: 'must hold at least one step' })),
  });

  const stepSchema = z.discriminatedUnion('op', [...ACTION_STEPS, askStep, taskStep], {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown op; expected one of ${STEP_OPS}, ask, task` : undefined),
  });

  return { expectation, actionStepSchema, probeSchema, untilSchema, stepSchema };
}

type StepSchemas = ReturnType<typeof buildStepSchemas>;
let builtStepSchemas: StepSchemas | undefined;

/** The step schemas (built once, on the first call). */
export function stepSchemas(): StepSchemas {
  return (builtStepSchemas ??= buildStepSchemas());
}

export const lessonSchema = z.strictObject(
  {
    id: z.string({ error: 'must be a string' }).check(z.regex(LESSON_ID_PATTERN, { error: 'must be kebab-case: lower-case letters and digits in words joined by single hyphens ("cbw-keeps-first-copy")' })),
    covers: z
      .array(z.enum(TOPIC_IDS, { error: `must be a topic id: ${TOPIC_IDS.join(', ')}` }), { error: 'must be a list of topic ids' })
      .check(
        z.minLength(1, { error: 'must name at least one topic id' }),
        z.refine((topics) => new Set(topics).size === topics.length, { error: 'must not name a topic twice' }),
      ),
    order: z.number({ error: 'must be a number' }).check(z.int({ error: 'must be an integer' })),
    minutes: z.number({ error: 'must be a number' }).check(z.positive({ error: 'must be more than 0' })),
  },
  { error: 'must be an object with id, covers, order and minutes' },
);

export const setupSchema = z.strictObject({
  diskSize: z.optional(size),
  clusterSize: z.optional(size),
  seed: z.optional(z.number().check(z.int({ error: 'must be an integer' }), z.gte(0), z.lte(0xffffffff))),
  nbdLatency: z.optional(duration),
  /** colo-sim addition: virtual time the active commit takes to copy one granule. */
  copyTime: z.optional(duration),
  /** colo-sim addition: virtual time the secondary takes to load a checkpoint's device state. */
  vmstateLoadTime: z.optional(duration),
});

const scenarioFields = {
  /** colo-sim addition: lets editors find the JSON Schema. */
  $schema: z.optional(z.string()),
  format: z.literal(FORMAT_VERSION, { error: `must be "${FORMAT_VERSION}"` }),
  title: z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' })),
  description: z.optional(z.string({ error: 'must be a string' })),
  source: z.optional(z.string({ error: 'must be a string' })),
  setup: z.optional(setupSchema),
  /** A lesson (docs/lesson-format.md): its id, topics, place in the course and length. */
  lesson: z.optional(lessonSchema),
};
const STEPS_MESSAGE = 'must be a list of steps';

/**
 * A scenario with its steps left unchecked: validate.ts checks the steps with `stepsSchema` and
 * puts their issues where this schema's `steps` would have had them (the last field, before an
 * unknown field's issue), so the errors are those of `fullScenarioSchema`.
 */
export const scenarioHeadSchema = z.strictObject({ ...scenarioFields, steps: z.array(z.unknown(), { error: STEPS_MESSAGE }) });

let builtStepsSchema: ReturnType<typeof makeStepsSchema> | undefined;
function makeStepsSchema() {
  return z.array(stepSchemas().stepSchema, { error: STEPS_MESSAGE });
}
/** The steps of a scenario (built on first use). */
export function stepsSchema(): ReturnType<typeof makeStepsSchema> {
  return (builtStepsSchema ??= makeStepsSchema());
}

/** The whole format in one schema: what the published JSON Schema is generated from. */
export function fullScenarioSchema() {
  return z.strictObject({ ...scenarioFields, steps: stepsSchema() });
}

export type ParsedStep = z.output<StepSchemas['stepSchema']>;
export type ParsedScenario = Omit<z.output<typeof scenarioHeadSchema>, 'steps'> & { steps: ParsedStep[] };
/** A step that acts or checks (not ask or task): what a task's solution holds. */
export type ActionStep = z.output<StepSchemas['actionStepSchema']>;
export type AskStep = Extract<ParsedStep, { op: 'ask' }>;
export type TaskStep = Extract<ParsedStep, { op: 'task' }>;
export type Probe = z.output<StepSchemas['probeSchema']>;
export type Until = z.output<StepSchemas['untilSchema']>;
export type LessonInfo = z.output<typeof lessonSchema>;
export type Expectation = z.output<StepSchemas['expectation']>;

export const KNOWN_ERRNOS: readonly string[] = ERRNO_NAMES;
