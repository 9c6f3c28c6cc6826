/**
 * The lesson player's pure parts: where a lesson stops (say, ask, task; the steps between run on
 * the way), what each stop outlines in the views, and the page's address (#/learn, #/learn/<id>).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goalFocus, narrationFocus, nextStop, parseLessonFile, previousStop, probeFocus, stopIndices, stopNumber, type LessonStep } from '../../src/ui/lib/lesson-plan.js';
import { hrefOf, parseRoute } from '../../src/ui/lib/route.js';

const GRAPH = [
  { name: 'colo-disk', driver: 'quorum' },
  { name: 'replication-primary', driver: 'replication' },
  { name: 'nbd-client', driver: 'nbd' },
  { name: 'top-disk', driver: 'qcow2' },
  { name: 'replication-secondary', driver: 'replication' },
  { name: 'active-disk', driver: 'qcow2' },
  { name: 'hidden-disk', driver: 'qcow2' },
  { name: 'secondary-disk', driver: 'raw' },
  { name: 'cbw0', driver: 'copy-before-write' },
];

describe('stops', () => {
  const steps: LessonStep[] = [{ op: 'colo-start' }, { op: 'say' }, { op: 'guest-write' }, { op: 'ask' }, { op: 'ask' }, { op: 'checkpoint' }, { op: 'task' }];

  it('stops at say, ask and task only, and counts them from 1', () => {
    expect(stopIndices(steps)).toEqual([1, 3, 4, 6]);
    expect(stopNumber(steps, 1)).toBe(1);
    expect(stopNumber(steps, 4)).toBe(3);
    expect(stopNumber(steps, 6)).toBe(4);
  });

  it('runs the steps between stops on the way, in both directions', () => {
    expect(nextStop(steps, 0)).toBe(1);
    expect(nextStop(steps, 5)).toBe(6);
    expect(nextStop(steps, 7)).toBe(steps.length);
    expect(previousStop(steps, 6)).toBe(4);
    expect(previousStop(steps, 3)).toBe(1);
    expect(previousStop(steps, 1)).toBeUndefined();
  });

  it('every lesson of the course has a first stop the player opens at', () => {
    const lesson = parseLessonFile(readFileSync('public/lessons/03-hidden-disk-keeps-the-past.json', 'utf8'));
    expect(nextStop(lesson.steps, 0)).toBeLessThan(lesson.steps.length);
    expect(lesson.steps[nextStop(lesson.steps, 0)]!.op).toBe('say');
  });

  it('a file without a lesson block is refused', () => {
    expect(() => parseLessonFile('{"title":"x","steps":[]}')).toThrow('this file is not a lesson');
  });
});

describe('what a stop outlines', () => {
  it('a served-by question: the range in the secondary VM view and in each of its three layers', () => {
    const focus = probeFocus({ 'served-by': { vm: 'secondary', offset: '64K', length: '64K' } }, GRAPH);
    expect(focus.cells).toEqual([
      { grid: 'svm-view', offsetBytes: 65536, lengthBytes: 65536 },
      { grid: 'active-disk', offsetBytes: 65536, lengthBytes: 65536 },
      { grid: 'hidden-disk', offsetBytes: 65536, lengthBytes: 65536 },
      { grid: 'secondary-disk', offsetBytes: 65536, lengthBytes: 65536 },
    ]);
    expect(focus.nodes).toEqual(['top-disk']);
    expect(focus.link).toBe(false);
  });

  it('a read through the primary\'s replication node crosses NBD: the link too', () => {
    const focus = probeFocus({ read: { node: 'replication-primary', offset: 0, length: 512 } }, GRAPH);
    expect(focus.nodes).toEqual(['replication-primary']);
    expect(focus.link).toBe(true);
    expect(focus.cells).toEqual([]);
  });

  it('a backup job question: hidden-disk, the copy-before-write filter and the replication node', () => {
    const focus = probeFocus({ job: { host: 'secondary', type: 'backup' } }, GRAPH);
    expect(focus.nodes).toEqual(['hidden-disk', 'cbw0', 'replication-secondary']);
  });

  it('a task\'s allocated goal: the cells of that image', () => {
    const focus = goalFocus({ allocated: { node: 'hidden-disk', offset: '128K', length: '64K', is: 'all' } }, GRAPH);
    expect(focus.cells).toEqual([{ grid: 'hidden-disk', offsetBytes: 131072, lengthBytes: 65536 }]);
  });

  it('narration names nodes word for word (hidden-disk, not hidden-disks\' prefix of another name) and NBD', () => {
    const focus = narrationFocus('The write crosses NBD into secondary-disk; top-disk-like names and active-disks do not count.', GRAPH);
    expect(focus.nodes).toEqual(['secondary-disk']);
    expect(focus.link).toBe(true);
  });
});

describe('what a stop outlines after a failover and "resume replication" (the pair of the moment, issue 8)', () => {
  // The survivor of a failover to the secondary is the primary (its top-disk over its old chain
  // and replication0); the restarted host kept primary-disk under active-disk-2 and hidden-disk-2.
  const PAIR = {
    primaryQuorum: 'top-disk',
    primaryDisk: 'secondary-disk',
    replicationPrimary: 'replication0',
    nbdClient: 'replication0-nbd',
    topDisk: 'top-disk-2',
    replicationSecondary: 'replication-secondary-2',
    activeDisk: 'active-disk-2',
    hiddenDisk: 'hidden-disk-2',
    secondaryDisk: 'primary-disk',
  };
  const RESUMED_GRAPH = [
    { name: 'top-disk', driver: 'quorum' },
    { name: 'replication-secondary', driver: 'replication' },
    { name: 'secondary-disk', driver: 'raw' },
    { name: 'active-disk', driver: 'qcow2' },
    { name: 'hidden-disk', driver: 'qcow2' },
    { name: 'replication0', driver: 'replication' },
    { name: 'replication0-nbd', driver: 'nbd' },
    { name: 'top-disk-2', driver: 'quorum' },
    { name: 'replication-secondary-2', driver: 'replication' },
    { name: 'active-disk-2', driver: 'qcow2' },
    { name: 'hidden-disk-2', driver: 'qcow2' },
    { name: 'primary-disk', driver: 'raw' },
    { name: 'cbw1', driver: 'copy-before-write' },
  ];

  it("a served-by question: the new secondary VM's view and the new chain's three layers", () => {
    const focus = probeFocus({ 'served-by': { vm: 'secondary', offset: '64K', length: '64K' } }, RESUMED_GRAPH, PAIR);
    expect(focus.cells.map((cell) => cell.grid)).toEqual(['svm-view', 'active-disk-2', 'hidden-disk-2', 'primary-disk']);
    expect(focus.nodes).toEqual(['top-disk-2']);
  });

  it("the primary VM's read: the survivor's quorum, and the disk its data is on", () => {
    const focus = probeFocus({ read: { vm: 'primary', offset: 0, length: '64K' } }, RESUMED_GRAPH, PAIR);
    expect(focus.nodes).toEqual(['top-disk']);
    expect(focus.cells).toEqual([{ grid: 'secondary-disk', offsetBytes: 0, lengthBytes: 65536 }]);
  });

  it("a backup job question and get-error name the new pair's hidden disk and replication nodes; forwards, its NBD client", () => {
    expect(probeFocus({ job: { host: 'secondary', type: 'backup' } }, RESUMED_GRAPH, PAIR).nodes).toEqual(['hidden-disk-2', 'cbw1', 'replication-secondary-2']);
    const primary = probeFocus({ 'get-error': { host: 'primary' } }, RESUMED_GRAPH, PAIR);
    expect(primary.nodes).toEqual(['replication0']);
    expect(primary.link).toBe(true);
    const forwards = probeFocus({ count: { event: 'forward-sent' } }, RESUMED_GRAPH, PAIR);
    expect(forwards.nodes).toEqual(['replication0-nbd']);
    expect(forwards.link).toBe(true);
    expect(probeFocus({ count: { event: 'make-empty' } }, RESUMED_GRAPH, PAIR).nodes).toEqual(['active-disk-2', 'hidden-disk-2']);
  });

  it("a task's goal on a new image outlines its own grid; one on the survivor's old top-disk is no longer the secondary VM's view", () => {
    expect(goalFocus({ allocated: { node: 'hidden-disk-2', offset: '128K', length: '64K', is: 'all' } }, RESUMED_GRAPH, PAIR).cells).toEqual([{ grid: 'hidden-disk-2', offsetBytes: 131072, lengthBytes: 65536 }]);
    expect(goalFocus({ event: { host: 'secondary' } }, RESUMED_GRAPH, PAIR).nodes).toEqual(['replication-secondary-2']);
    expect(probeFocus({ read: { node: 'top-disk-2', offset: 0, length: 512 } }, RESUMED_GRAPH, PAIR).cells).toEqual([{ grid: 'svm-view', offsetBytes: 0, lengthBytes: 512 }]);
    expect(probeFocus({ read: { node: 'top-disk', offset: 0, length: 512 } }, RESUMED_GRAPH, PAIR).cells).toEqual([{ grid: 'secondary-disk', offsetBytes: 0, lengthBytes: 512 }]);
  });
});

describe('the address', () => {
  it('#/learn is the course, #/learn/<id> a lesson, anything else the simulation', () => {
    expect(parseRoute('#/learn')).toEqual({ page: 'course' });
    expect(parseRoute('#/learn/')).toEqual({ page: 'course' });
    expect(parseRoute('#/learn/a-checkpoint')).toEqual({ page: 'lesson', lessonId: 'a-checkpoint' });
    expect(parseRoute('#/learn/Not_An-Id')).toEqual({ page: 'simulation' });
    expect(parseRoute('#/learn/a/b')).toEqual({ page: 'simulation' });
    expect(parseRoute('#/learn/%E0%A4%A')).toEqual({ page: 'simulation' });
    expect(parseRoute('')).toEqual({ page: 'simulation' });
  });

  it('goes back to what it parsed', () => {
    for (const route of [{ page: 'course' }, { page: 'lesson', lessonId: 'meet-the-pair' }, { page: 'simulation' }] as const) expect(parseRoute(hrefOf(route))).toEqual(route);
  });
});
