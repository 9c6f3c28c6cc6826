/**
 * A lesson file as the player reads it: where it stops (say, ask, task; the other steps run on
 * the way between stops), and what each stop talks about, for the views to outline (the cells of
 * a question's range, the nodes, the NBD link). The worker validates the file when it loads it;
 * this only reads the fields the player shows. Pure: no DOM, no state.
 */
import type { PairNames } from '../../engine/colo/protected-pair.js';
import { parseSize } from '../../engine/scenario/units.js';
import { VIEW_NAME } from './disks.js';

/** A lesson runs in the worker as a scenario under this prefix plus its file's name. */
export const LESSON_SCENARIO_PREFIX = 'lessons/';

/** The scenario the simulation runs is a lesson the player opened. */
export function isLessonScenario(name: string | undefined): boolean {
  return name?.startsWith(LESSON_SCENARIO_PREFIX) ?? false;
}

export interface SayStep {
  readonly op: 'say';
  readonly text: string;
}

export interface AskStep {
  readonly op: 'ask';
  readonly question: string;
  readonly probe: Record<string, Record<string, unknown>>;
  readonly choices: readonly string[];
  readonly answer: string;
  readonly explain?: string;
}

export interface TaskStep {
  readonly op: 'task';
  readonly goal: string;
  readonly until: Record<string, unknown>;
  readonly hint?: string;
  readonly solution: readonly unknown[];
}

export type LessonStep = SayStep | AskStep | TaskStep | { readonly op: string };

export interface LessonFile {
  readonly title: string;
  readonly description?: string;
  readonly lesson: { readonly id: string; readonly order: number; readonly minutes: number; readonly covers: readonly string[] };
  readonly steps: readonly LessonStep[];
}

/** Reads a lesson file's text; throws with a plain message when it is not one. */
export function parseLessonFile(text: string): LessonFile {
  const document = JSON.parse(text) as Partial<LessonFile>;
  if (!document || typeof document !== 'object' || !document.lesson || !Array.isArray(document.steps)) throw new Error('this file is not a lesson (it has no lesson block)');
  return document as LessonFile;
}

export function isStop(step: LessonStep | undefined): step is SayStep | AskStep | TaskStep {
  return step?.op === 'say' || step?.op === 'ask' || step?.op === 'task';
}

/** The indices of the steps the player stops at, in order. */
export function stopIndices(steps: readonly LessonStep[]): number[] {
  return steps.flatMap((step, index) => (isStop(step) ? [index] : []));
}

/** The first stop at or after `index` (the steps before it run on the way); steps.length when none is left. */
export function nextStop(steps: readonly LessonStep[], index: number): number {
  for (let position = index; position < steps.length; position++) if (isStop(steps[position])) return position;
  return steps.length;
}

/** The last stop before `index`, or undefined. */
export function previousStop(steps: readonly LessonStep[], index: number): number | undefined {
  for (let position = index - 1; position >= 0; position--) if (isStop(steps[position])) return position;
  return undefined;
}

/** 1-based number of the stop at `index` among all stops (the stops before it, plus one). */
export function stopNumber(steps: readonly LessonStep[], index: number): number {
  let number = 0;
  for (let position = 0; position <= Math.min(index, steps.length - 1); position++) if (isStop(steps[position])) number++;
  return Math.max(1, number);
}

// ---- what a stop talks about ---------------------------------------------------------------

/** What the views outline for a stop (view-focus.svelte.ts holds it for the grids and the graph). */
export interface FocusTarget {
  /** Byte ranges by grid: a disk's node name, or VIEW_NAME for the secondary VM's view. */
  readonly cells: ReadonlyArray<{ readonly grid: string; readonly offsetBytes: number; readonly lengthBytes: number }>;
  /** Graph nodes (and backends) by name. */
  readonly nodes: readonly string[];
  /** The NBD link between the hosts. */
  readonly link: boolean;
}

/** The first pair's images, drawn as grids by node name (every image of the graph is too); the secondary VM's view is VIEW_NAME. */
const FIRST_PAIR_GRIDS = ['primary-disk', 'secondary-disk', 'hidden-disk', 'active-disk'];

/**
 * The parts of the COLO pair a stop talks about without naming them — "the secondary VM", a
 * host's replication node, the backup job's hidden disk, NBD — by the names the pair of the
 * moment gives them: the engine resolves them from the graph (SimSummary.pair), so after a
 * failover and "resume replication" they are the new pair's (top-disk-2, hidden-disk-2, a
 * survivor's quorum and disk...). A part the graph does not have now is undefined.
 */
export type FocusPair = PairNames;

/** The first pair's names (topology.ts), when no summary says otherwise. */
export const FIRST_PAIR: FocusPair = {
  primaryQuorum: 'colo-disk',
  primaryDisk: 'primary-disk',
  replicationPrimary: 'replication-primary',
  nbdClient: 'nbd-client',
  topDisk: 'top-disk',
  replicationSecondary: 'replication-secondary',
  activeDisk: 'active-disk',
  hiddenDisk: 'hidden-disk',
  secondaryDisk: 'secondary-disk',
};

interface GraphNode {
  readonly name: string;
  readonly driver: string;
}

function bytes(value: unknown): number | undefined {
  return typeof value === 'number' || typeof value === 'string' ? parseSize(value) : undefined;
}

class FocusBuilder {
  readonly cells: Array<{ grid: string; offsetBytes: number; lengthBytes: number }> = [];
  readonly nodes = new Set<string>();
  link = false;
  /** The images drawn as grids. */
  private readonly grids: ReadonlySet<string>;

  constructor(
    readonly pair: FocusPair,
    graph: readonly GraphNode[],
  ) {
    this.grids = new Set([...FIRST_PAIR_GRIDS, ...graph.filter((node) => node.driver === 'raw' || node.driver === 'qcow2').map((node) => node.name)]);
  }

  node(name: unknown): void {
    if (typeof name !== 'string') return;
    this.nodes.add(name);
    // Nodes on the way over NBD: a step about them is about the link too.
    if (name === this.pair.nbdClient || name === this.pair.replicationPrimary) this.link = true;
  }

  /** A host's replication node in the pair of the moment. */
  replicationOf(host: unknown): void {
    this.node(host === 'primary' ? this.pair.replicationPrimary : host === 'secondary' ? this.pair.replicationSecondary : undefined);
  }

  range(grid: string, offset: unknown, length: unknown): void {
    const offsetBytes = bytes(offset);
    const lengthBytes = bytes(length);
    if (offsetBytes === undefined || lengthBytes === undefined) return;
    this.cells.push({ grid, offsetBytes, lengthBytes });
  }

  /** A range read through a node: the node, and the grid it shows when it has one. */
  through(node: unknown, offset: unknown, length: unknown): void {
    this.node(node);
    if (typeof node !== 'string') return;
    const pair = this.pair;
    if (node === pair.topDisk || node === pair.replicationSecondary) this.range(VIEW_NAME, offset, length);
    else if (this.grids.has(node)) this.range(node, offset, length);
    else if (node === pair.primaryQuorum && pair.primaryDisk !== undefined) this.range(pair.primaryDisk, offset, length);
  }

  job(host: unknown, type: unknown, graph: readonly GraphNode[]): void {
    if (type === 'backup') {
      this.node(this.pair.hiddenDisk);
      for (const node of graph) if (node.driver === 'copy-before-write') this.node(node.name);
    } else if (type === 'commit') {
      this.node(this.pair.activeDisk);
      this.node(this.pair.secondaryDisk);
      for (const node of graph) if (node.driver === 'mirror_top') this.node(node.name);
    }
    this.replicationOf(host);
  }

  build(): FocusTarget {
    return { cells: this.cells, nodes: [...this.nodes], link: this.link };
  }
}

/** What a question's probe looks at. */
export function probeFocus(probe: AskStep['probe'], graph: readonly GraphNode[], pair: FocusPair = FIRST_PAIR): FocusTarget {
  const focus = new FocusBuilder(pair, graph);
  const read = probe['read'];
  const servedBy = probe['served-by'];
  if (read) {
    if (read['vm'] === 'secondary') focus.through(pair.topDisk, read['offset'], read['length']);
    else if (read['vm'] === 'primary') focus.through(pair.primaryQuorum, read['offset'], read['length']);
    else focus.through(read['node'], read['offset'], read['length']);
  } else if (servedBy) {
    focus.through(pair.topDisk, servedBy['offset'], servedBy['length']);
    for (const layer of [pair.activeDisk, pair.hiddenDisk, pair.secondaryDisk]) if (layer !== undefined) focus.range(layer, servedBy['offset'], servedBy['length']);
  } else if (probe['stage']) focus.node(probe['stage']['node']);
  else if (probe['get-error']) focus.replicationOf(probe['get-error']['host']);
  else if (probe['allocated']) focus.through(probe['allocated']['node'], probe['allocated']['offset'], probe['allocated']['length']);
  else if (probe['job']) focus.job(probe['job']['host'], probe['job']['type'], graph);
  else if (probe['count']) countFocus(focus, probe['count']['event'], graph);
  return focus.build();
}

/** Where the events a count probe counts happen. */
function countFocus(focus: FocusBuilder, event: unknown, graph: readonly GraphNode[]): void {
  switch (event) {
    case 'forward-sent':
    case 'forward-landed':
    case 'forward-completed':
    case 'forward-lost':
      focus.node(focus.pair.nbdClient);
      focus.link = true;
      break;
    case 'cbw-copy':
      focus.job('secondary', 'backup', graph);
      break;
    case 'make-empty':
      focus.node(focus.pair.activeDisk);
      focus.node(focus.pair.hiddenDisk);
      break;
    case 'quorum-child-failed':
      focus.node(focus.pair.primaryQuorum);
      focus.node(focus.pair.topDisk);
      break;
    default:
      break;
  }
}

/** What a task's goal checks. */
export function goalFocus(until: TaskStep['until'], graph: readonly GraphNode[], pair: FocusPair = FIRST_PAIR): FocusTarget {
  const focus = new FocusBuilder(pair, graph);
  const check = until as Record<string, Record<string, unknown> | readonly string[] | undefined>;
  const stage = check['stage'] as Record<string, unknown> | undefined;
  const job = check['job'] as Record<string, unknown> | undefined;
  const allocated = check['allocated'] as Record<string, unknown> | undefined;
  const event = check['event'] as Record<string, unknown> | undefined;
  const same = check['same'] as readonly string[] | undefined;
  if (stage) focus.node(stage['node']);
  else if (job) focus.job(job['host'], job['type'], graph);
  else if (allocated) focus.through(allocated['node'], allocated['offset'], allocated['length']);
  else if (event) focus.replicationOf(event['host']);
  else if (same) for (const name of same) focus.node(name);
  return focus.build();
}

/** The nodes a narration names (word for word), and the NBD link when it speaks of NBD. */
export function narrationFocus(text: string, graph: readonly GraphNode[], pair: FocusPair = FIRST_PAIR): FocusTarget {
  const focus = new FocusBuilder(pair, graph);
  for (const node of graph) {
    // Word for word: hidden-disk is not named by "hidden-disks"; - and _ are the same (QEMU takes either in option names).
    const name = node.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/[-_]/g, '[-_]');
    const pattern = new RegExp(`(^|[^A-Za-z0-9_-])${name}($|[^A-Za-z0-9_-])`);
    if (pattern.test(text)) focus.node(node.name);
  }
  if (/\bNBD\b/.test(text)) focus.link = true;
  return focus.build();
}

/** What the stop on screen talks about. */
export function stepFocus(step: LessonStep | undefined, graph: readonly GraphNode[], pair: FocusPair = FIRST_PAIR): FocusTarget | null {
  if (!step) return null;
  if (step.op === 'ask') return probeFocus((step as AskStep).probe, graph, pair);
  if (step.op === 'task') return goalFocus((step as TaskStep).until, graph, pair);
  if (step.op === 'say') return narrationFocus((step as SayStep).text, graph, pair);
  return null;
}
