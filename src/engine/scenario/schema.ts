/**
 * The scenario format (colo-sim/1) as zod schemas: the one definition from which files are
 * validated, types are derived and the published JSON Schema is generated.
 *
 * These schemas check each value on its own. What depends on the rest of the file (offsets
 * beyond the disk, nodes that exist, ...) is checked afterwards in validate.ts.
 */
import * as z from 'zod';
import { ERRNO_NAMES } from '../block/errno.js';
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
  })
  .refine((value) => [value.pattern, value.error, value.ok].filter((field) => field !== undefined).length === 1, {
    error: 'must hold exactly one of "pattern", "error" or "ok"',
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

const replicationStep = z.strictObject({
  op: z.literal('replication'),
  host,
  action: z.enum(['start', 'checkpoint', 'get-error', 'stop'], { error: 'must be "start", "checkpoint", "get-error" or "stop"' }),
  mode: host.optional(),
  failover: z.boolean({ error: 'must be true or false' }).optional(),
  expect: expectation.optional(),
});

const coloStartStep = z.strictObject({ op: z.literal('colo-start'), expect: expectation.optional() });
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

const faultTarget = z.enum(['read', 'write', 'any'], { error: 'must be "read", "write" or "any"' });
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
  z.strictObject({
    op: z.literal('fault'),
    kind: z.literal('cancel-job'),
    host,
    type: z.enum(['backup', 'commit'], { error: 'must be "backup" or "commit"' }),
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
    expect: expectation.optional(),
  })
  .refine((value) => (value.for === undefined) !== (value.until === undefined), { error: 'needs exactly one of "for" or "until"' });

const stageName = z.enum(['none', 'running', 'failover', 'failover-failed', 'done'], {
  error: 'must be "none", "running", "failover", "failover-failed" or "done"',
});

const checkStep = z
  .strictObject({
    op: z.literal('check'),
    stage: z.strictObject({ node: nodeName, is: stageName }).optional(),
    job: z
      .strictObject({
        host,
        type: z.enum(['backup', 'commit'], { error: 'must be "backup" or "commit"' }),
        is: z.enum(['running', 'absent'], { error: 'must be "running" or "absent"' }),
      })
      .optional(),
    allocated: z
      .strictObject({ node: nodeName, offset: size, length: size, is: z.enum(['all', 'none'], { error: 'must be "all" or "none"' }) })
      .optional(),
    same: z.array(nodeName, { error: 'must be a list of node names' }).min(2, { error: 'must name at least two nodes' }).optional(),
    expect: expectation.optional(),
  })
  .refine((value) => [value.stage, value.job, value.allocated, value.same].filter((field) => field !== undefined).length === 1, {
    error: 'needs exactly one of "stage", "job", "allocated" or "same"',
  });

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

export const stepSchema = z.discriminatedUnion(
  'op',
  [writeStep, readStep, guestWriteStep, guestReadStep, replicationStep, coloStartStep, checkpointStep, failoverStep, openStep, faultStep, runStep, checkStep, sayStep, workloadStep],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'unknown op; expected one of write, read, guest-write, guest-read, replication, colo-start, checkpoint, failover, open, fault, run, check, say, workload'
        : undefined,
  },
);

export const setupSchema = z.strictObject({
  diskSize: size.optional(),
  clusterSize: size.optional(),
  seed: z.number().int({ error: 'must be an integer' }).min(0).max(0xffffffff).optional(),
  nbdLatency: duration.optional(),
  /** colo-sim addition: virtual time the active commit takes to copy one granule. */
  copyTime: duration.optional(),
});

export const scenarioSchema = z.strictObject({
  /** colo-sim addition: lets editors find the JSON Schema. */
  $schema: z.string().optional(),
  format: z.literal(FORMAT_VERSION, { error: `must be "${FORMAT_VERSION}"` }),
  title: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  description: z.string({ error: 'must be a string' }).optional(),
  source: z.string({ error: 'must be a string' }).optional(),
  setup: setupSchema.optional(),
  steps: z.array(stepSchema, { error: 'must be a list of steps' }),
});

export type ParsedScenario = z.output<typeof scenarioSchema>;
export type ParsedStep = z.output<typeof stepSchema>;
export type Expectation = z.output<typeof expectation>;

export const KNOWN_ERRNOS: readonly string[] = ERRNO_NAMES;
