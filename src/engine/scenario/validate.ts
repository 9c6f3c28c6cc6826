/**
 * Turns a scenario file's text into a Scenario, or into a list of errors that each say where
 * (a JSON path such as steps[3].offset) and what. Nothing is run until a file is valid.
 */
import type { SimulationSettings } from '../colo/simulation.js';
import { restartedSecondaryNames, TOPOLOGY_NODES } from '../colo/topology.js';
import type { HostName } from '../sim/events.js';
import type { z } from 'zod';
import { describeJsonError } from './json-error.js';
import { impossibleValue } from '../lesson/probes.js';
import { KNOWN_ERRNOS, scenarioHeadSchema, stepSchemas, stepsSchema, type ActionStep, type Expectation, type LessonInfo, type ParsedScenario, type ParsedStep, type Probe, type Until } from './schema.js';
import { settingsOfSetup } from './setup.js';
import { formatSize } from './units.js';

export interface Scenario {
  readonly title: string;
  readonly description?: string;
  readonly source?: string;
  /** Present when the file is a lesson (docs/lesson-format.md). */
  readonly lesson?: LessonInfo;
  readonly settings: SimulationSettings;
  readonly steps: readonly ParsedStep[];
}

export interface ScenarioError {
  /** Where in the file: "steps[3].offset", or "" for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type ValidationResult = { readonly ok: true; readonly scenario: Scenario } | { readonly ok: false; readonly errors: readonly ScenarioError[] };

export const SECTOR_BYTES = 512;
export const MAX_DISK_SIZE_BYTES = 4 * 1024 ** 3;
export const MIN_CLUSTER_SIZE_BYTES = 512;
export const MAX_CLUSTER_SIZE_BYTES = 2 * 1024 ** 2;

export function validateScenarioText(text: string): ValidationResult {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: '', message: describeJsonError(text, error) }] };
  }
  return validateScenarioDocument(document);
}

export function validateScenarioDocument(document: unknown): ValidationResult {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, errors: [{ path: '', message: 'a scenario must be a JSON object' }] };
  }
  let head: ReturnType<typeof scenarioHeadSchema.safeParse>;
  let steps: ReturnType<ReturnType<typeof stepsSchema>['safeParse']> | undefined;
  try {
    head = scenarioHeadSchema.safeParse(document, { error: defaultMessage });
    // The steps on their own, with the step schemas only when there is a step to check (see scenarioHeadSchema).
    const stepsValue = (document as { steps?: unknown }).steps;
    steps = Array.isArray(stepsValue) && stepsValue.length > 0 ? stepsSchema().safeParse(stepsValue, { error: defaultMessage }) : undefined;
  } catch (error) {
    // A document nested deeper than the call stack allows is not a scenario either.
    if (error instanceof RangeError) return { ok: false, errors: [{ path: '', message: 'the document is nested too deeply to be a scenario' }] };
    throw error;
  }
  if (!head.success || (steps && !steps.success)) {
    // In the order one schema of the whole file gives them: the fields in order, `steps` last,
    // then the file's unknown fields.
    const headIssues = head.success ? [] : head.error.issues;
    const unknownFields = headIssues.filter((issue) => issue.code === 'unrecognized_keys' && issue.path.length === 0);
    const stepIssues = steps && !steps.success ? steps.error.issues.map((issue) => ({ ...issue, path: ['steps', ...issue.path] })) : [];
    const issues = [...headIssues.filter((issue) => !unknownFields.includes(issue)), ...stepIssues, ...unknownFields];
    return { ok: false, errors: issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue, document) })) };
  }
  const parsed = { data: { ...head.data, steps: steps?.success ? steps.data : [] } };
  const errors: ScenarioError[] = [];
  const settings = checkSetup(parsed.data, errors);
  if (errors.length === 0) checkSteps(parsed.data.steps, settings, errors);
  if (errors.length > 0) return { ok: false, errors };
  const scenario: Scenario = {
    title: parsed.data.title,
    ...(parsed.data.description === undefined ? {} : { description: parsed.data.description }),
    ...(parsed.data.source === undefined ? {} : { source: parsed.data.source }),
    ...(parsed.data.lesson === undefined ? {} : { lesson: parsed.data.lesson }),
    settings,
    steps: parsed.data.steps,
  };
  return { ok: true, scenario };
}

/** A node a step may name, beyond the fixed topology (a replication node opened earlier). */
export interface ExtraNode {
  readonly name: string;
  readonly host: HostName;
}

export type StepValidation = { readonly ok: true; readonly step: ParsedStep } | { readonly ok: false; readonly errors: readonly ScenarioError[] };

/**
 * One step on its own, as it would be checked at the end of a scenario with these settings
 * whose earlier steps opened `extraNodes`; paths start at "step". Costs one step, however
 * long the session before it.
 */
export function validateStep(step: unknown, settings: SimulationSettings, extraNodes: readonly ExtraNode[]): StepValidation {
  const { stepSchema } = stepSchemas();
  let parsed: ReturnType<typeof stepSchema.safeParse>;
  try {
    parsed = stepSchema.safeParse(step, { error: defaultMessage });
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, errors: [{ path: 'step', message: 'the step is nested too deeply' }] };
    throw error;
  }
  if (!parsed.success) {
    const document = { step };
    return { ok: false, errors: parsed.error.issues.map((issue) => ({ path: formatPath(['step', ...issue.path]), message: describeIssue({ ...issue, path: ['step', ...issue.path] }, document) })) };
  }
  const errors: ScenarioError[] = [];
  checkSteps([parsed.data], settings, errors, extraNodes);
  if (errors.length > 0) return { ok: false, errors: errors.map((error) => ({ path: error.path.replace(/^steps\[0\]/, 'step'), message: error.message })) };
  return { ok: true, step: parsed.data };
}

/** steps[3].offset, options.node-name */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Messages for the checks that carry none of their own (a schema's own message wins over this
 * map). The input is still known here, so a missing field and a field of the wrong type differ.
 */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${withArticle(issue.expected)} (got ${kindOf(issue.input)})`;
    case 'invalid_value':
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')} (got ${JSON.stringify(issue.input)})`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)} (got ${JSON.stringify(issue.input)})`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)} (got ${JSON.stringify(issue.input)})`;
    default:
      return undefined;
  }
}

/** Whether the path's last key is absent from an object that is present. */
function isMissing(document: object, path: ReadonlyArray<PropertyKey>): boolean {
  let parent: unknown = document;
  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  const last = path[path.length - 1];
  return last !== undefined && typeof parent === 'object' && parent !== null && !Array.isArray(parent) && !Object.hasOwn(parent, last);
}

function withArticle(typeName: string): string {
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  // JSON.parse turns a number too large for a double (1e400) into Infinity, which JSON.stringify writes as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number too large to represent';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describeIssue(issue: { code: string; message: string; path: ReadonlyArray<PropertyKey>; keys?: string[] }, document: object): string {
  if (issue.code !== 'unrecognized_keys' && isMissing(document, issue.path)) return 'is required';
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (typos must not pass silently)`;
  }
  return issue.message;
}

function checkSetup(parsed: ParsedScenario, errors: ScenarioError[]): SimulationSettings {
  const settings = settingsOfSetup(parsed.setup);
  const disk = settings.diskSizeBytes;
  if (disk < SECTOR_BYTES || disk % SECTOR_BYTES !== 0) {
    errors.push({ path: 'setup.diskSize', message: `must be a positive multiple of 512 bytes (got ${disk})` });
  } else if (disk > MAX_DISK_SIZE_BYTES) {
    errors.push({ path: 'setup.diskSize', message: `must be at most ${formatSize(MAX_DISK_SIZE_BYTES)} (got ${formatSize(disk)})` });
  }
  const cluster = settings.clusterSizeBytes;
  if (cluster < MIN_CLUSTER_SIZE_BYTES || cluster > MAX_CLUSTER_SIZE_BYTES || (cluster & (cluster - 1)) !== 0) {
    errors.push({ path: 'setup.clusterSize', message: `must be a power of two from 512 bytes to 2M, as qcow2 allows (got ${cluster})` });
  }
  if (settings.nbdLatencyUs <= 0) errors.push({ path: 'setup.nbdLatency', message: 'must be longer than 0: a forwarded write takes time to arrive' });
  return settings;
}

type NodeKind = 'image' | 'replication' | 'other';

interface KnownNode {
  readonly host: HostName;
  readonly kind: NodeKind;
}

/**
 * The nodes a QMP command creates, as the engine names them: blockdev-add's node-name, drive_add
 * -n's node-name and its NBD client (NAME-nbd), drive-mirror's target (node-name, else JOB-target).
 */
function nodesCreatedByQmp(execute: string, args: Record<string, unknown>): Array<{ name: string; kind: NodeKind }> {
  if (execute === 'blockdev-add' && typeof args['node-name'] === 'string') return [{ name: args['node-name'], kind: args.driver === 'replication' ? 'replication' : 'other' }];
  if (execute === 'human-monitor-command' && typeof args['command-line'] === 'string') {
    const match = /^\s*drive_add\s+-n\s+\S+\s+(.*)$/.exec(args['command-line']);
    const nodeName = match ? /(?:^|,)node-name=([^,]+)/.exec(match[1]!)?.[1] : undefined;
    if (nodeName) return [{ name: nodeName, kind: 'replication' }, { name: `${nodeName}-nbd`, kind: 'other' }];
  }
  if (execute === 'drive-mirror') {
    const target = typeof args['node-name'] === 'string' ? args['node-name'] : typeof args['job-id'] === 'string' ? `${args['job-id']}-target` : undefined;
    if (target) return [{ name: target, kind: 'other' }];
  }
  return [];
}

function checkSteps(steps: readonly ParsedStep[], settings: SimulationSettings, errors: ScenarioError[], extraNodes: readonly ExtraNode[] = []): void {
  const nodes = new Map<string, KnownNode>();
  let restarts = 0;
  for (const node of TOPOLOGY_NODES) {
    const kind: NodeKind = node.driver === 'raw' || node.driver === 'qcow2' ? 'image' : node.driver === 'replication' ? 'replication' : 'other';
    nodes.set(node.name, { host: node.host, kind });
  }
  for (const node of extraNodes) if (!nodes.has(node.name)) nodes.set(node.name, { host: node.host, kind: 'replication' });

  const requireNode = (path: string, name: string, wanted?: NodeKind): void => {
    const known = nodes.get(name);
    if (!known) {
      errors.push({ path, message: `unknown node "${name}"; nodes here: ${[...nodes.keys()].join(', ')}` });
    } else if (wanted && known.kind !== wanted) {
      errors.push({ path, message: `"${name}" is not ${wanted === 'image' ? 'an image (primary-disk, secondary-disk, hidden-disk or active-disk)' : 'a replication node'}` });
    }
  };

  const requireRange = (path: string, offset: number, length: number): void => {
    if (offset % SECTOR_BYTES !== 0) errors.push({ path: `${path}.offset`, message: `must be a multiple of 512 (got ${offset})` });
    if (length % SECTOR_BYTES !== 0) errors.push({ path: `${path}.length`, message: `must be a multiple of 512 (got ${length})` });
    if (length === 0) errors.push({ path: `${path}.length`, message: 'must be more than 0' });
    if (offset + length > settings.diskSizeBytes) {
      errors.push({ path: `${path}.offset`, message: `range ${offset}+${length} ends beyond the disk (${settings.diskSizeBytes} bytes)` });
    }
  };

  const requireExpectation = (path: string, expect: Expectation | undefined, kind: 'read' | 'write' | 'control' | 'qmp'): void => {
    if (!expect) return;
    if (expect.return !== undefined && kind !== 'qmp') errors.push({ path: `${path}.expect.return`, message: 'only qmp steps can expect a return' });
    if (expect.pattern !== undefined && kind !== 'read') {
      errors.push({ path: `${path}.expect.pattern`, message: 'only reads can expect a pattern' });
    }
    if (typeof expect.error === 'string' && (kind === 'read' || kind === 'write') && !KNOWN_ERRNOS.includes(expect.error)) {
      errors.push({ path: `${path}.expect.error`, message: `an I/O step expects an errno name (${KNOWN_ERRNOS.join(', ')}) or true, got "${expect.error}"` });
    }
  };

  const requireCheck = (path: string, check: Until): void => {
    if (check.stage) requireNode(`${path}.stage.node`, check.stage.node, 'replication');
    if (check.allocated) {
      requireNode(`${path}.allocated.node`, check.allocated.node, 'image');
      requireRange(`${path}.allocated`, check.allocated.offset, check.allocated.length);
    }
    if (check.same) check.same.forEach((name, position) => requireNode(`${path}.same[${position}]`, name));
  };

  const requireProbe = (path: string, probe: Probe): void => {
    if (probe.read) {
      if (probe.read.node !== undefined) requireNode(`${path}.read.node`, probe.read.node);
      requireRange(`${path}.read`, probe.read.offset, probe.read.length);
    }
    if (probe['served-by']) requireRange(`${path}.served-by`, probe['served-by'].offset, probe['served-by'].length);
    if (probe.stage) requireNode(`${path}.stage.node`, probe.stage.node, 'replication');
    if (probe.allocated) {
      requireNode(`${path}.allocated.node`, probe.allocated.node, 'image');
      requireRange(`${path}.allocated`, probe.allocated.offset, probe.allocated.length);
    }
  };

  const checkChoices = (path: string, probe: Probe, choices: readonly string[], answer: string): void => {
    const seen = new Set<string>();
    choices.forEach((choice, position) => {
      if (seen.has(choice)) errors.push({ path: `${path}.choices[${position}]`, message: `"${choice}" is offered twice` });
      seen.add(choice);
      const why = impossibleValue(probe, choice);
      if (why) errors.push({ path: `${path}.choices[${position}]`, message: `"${choice}" can never be the answer: ${why}` });
    });
    if (!choices.includes(answer)) errors.push({ path: `${path}.answer`, message: `"${answer}" is not one of the choices (${choices.map((choice) => JSON.stringify(choice)).join(', ')})` });
  };

  const checkStep = (step: ParsedStep | ActionStep, path: string): void => {
    switch (step.op) {
      case 'write':
      case 'read':
        requireNode(`${path}.node`, step.node);
        requireRange(path, step.offset, step.length);
        requireExpectation(path, step.expect, step.op);
        break;
      case 'guest-write':
      case 'guest-read':
        requireRange(path, step.offset, step.length);
        requireExpectation(path, step.expect, step.op === 'guest-read' ? 'read' : 'write');
        break;
      case 'flush':
        if (step.node !== undefined) requireNode(`${path}.node`, step.node);
        requireExpectation(path, step.expect, 'write');
        break;
      case 'replication':
        if (step.mode !== undefined && step.action !== 'start') errors.push({ path: `${path}.mode`, message: 'only "start" takes a mode' });
        if (step.failover !== undefined && step.action !== 'stop') errors.push({ path: `${path}.failover`, message: 'only "stop" takes failover' });
        requireExpectation(path, step.expect, 'control');
        break;
      case 'open': {
        const name = step.options['node-name'];
        const known = nodes.get(name);
        if (known && known.host !== step.host) {
          errors.push({ path: `${path}.options.node-name`, message: `"${name}" already names a node of the ${known.host} host; colo-sim needs node names unique across both hosts` });
        } else if (!known && (step.expect?.error === undefined)) {
          nodes.set(name, { host: step.host, kind: 'replication' });
        }
        requireExpectation(path, step.expect, 'control');
        break;
      }
      case 'fault':
        if (step.kind === 'io-error') requireNode(`${path}.node`, step.node);
        if (step.kind === 'eject') requireNode(`${path}.node`, step.node, 'image');
        requireExpectation(path, step.expect, 'control');
        break;
      case 'check':
        requireCheck(path, step);
        requireExpectation(path, step.expect, 'control');
        break;
      case 'ask':
        requireProbe(`${path}.probe`, step.probe);
        checkChoices(path, step.probe, step.choices, step.answer);
        break;
      case 'task':
        // The goal is tested after the solution too, so it may name a node the solution opens.
        step.solution.forEach((solutionStep, position) => checkStep(solutionStep, `${path}.solution[${position}]`));
        requireCheck(`${path}.until`, step.until);
        break;
      case 'workload':
        if (step.blockSize !== undefined && (step.blockSize < SECTOR_BYTES || step.blockSize % SECTOR_BYTES !== 0 || step.blockSize > settings.diskSizeBytes)) {
          errors.push({ path: `${path}.blockSize`, message: `must be a multiple of 512 within the disk (got ${step.blockSize})` });
        }
        requireExpectation(path, step.expect, 'control');
        break;
      case 'colo-start':
      case 'checkpoint':
      case 'failover':
      case 'run':
      case 'say':
        requireExpectation(path, step.expect, 'control');
        break;
      case 'restart': {
        // The names the engine gives (host-lifecycle.ts): roles swap when the primary was lost;
        // the new secondary's nodes carry the restart's generation (hidden-disk-2, ...).
        restarts++;
        if (step.host === 'primary') for (const [name, known] of nodes) nodes.set(name, { ...known, host: known.host === 'primary' ? 'secondary' : 'primary' });
        const names = restartedSecondaryNames(restarts + 1);
        for (const name of [names.dataDisk, names.hiddenDisk, names.activeDisk]) if (!nodes.has(name)) nodes.set(name, { host: 'secondary', kind: 'image' });
        if (!nodes.has(names.replication)) nodes.set(names.replication, { host: 'secondary', kind: 'replication' });
        if (!nodes.has(names.topDisk)) nodes.set(names.topDisk, { host: 'secondary', kind: 'other' });
        requireExpectation(path, step.expect, 'control');
        break;
      }
      case 'qmp':
        for (const created of nodesCreatedByQmp(step.execute, step.arguments ?? {})) if (!nodes.has(created.name)) nodes.set(created.name, { host: step.host, kind: created.kind });
        requireExpectation(path, step.expect, 'qmp');
        break;
    }
  };

  steps.forEach((step, index) => checkStep(step, `steps[${index}]`));
}