/**
 * Bad lesson files get the same clear errors as scenarios: the JSON path and what is wrong (the
 * lesson block, ask and task steps, probes, goals and solutions).
 */
import { describe, expect, it } from 'vitest';
import { validateScenarioText, type ScenarioError } from '../../src/engine/scenario/validate.js';

type Json = Record<string, unknown>;

const LESSON_BLOCK = { id: 'cbw-keeps-first-copy', covers: ['rule-2'], order: 3, minutes: 5 };

function lesson(steps: Json[], block: unknown = LESSON_BLOCK): Json {
  return { format: 'colo-sim/1', title: 'a lesson', lesson: block, setup: { diskSize: '1M' }, steps };
}

function ask(extra: Json = {}): Json {
  return {
    op: 'ask',
    question: 'Which layer serves it?',
    probe: { 'served-by': { vm: 'secondary', offset: '64K', length: '64K' } },
    choices: ['active-disk', 'hidden-disk', 'secondary-disk'],
    answer: 'hidden-disk',
    explain: 'Why.',
    ...extra,
  };
}

function task(extra: Json = {}): Json {
  return {
    op: 'task',
    goal: 'Fill the hidden disk.',
    until: { allocated: { node: 'hidden-disk', offset: '128K', length: '64K', is: 'all' } },
    hint: 'Which writes go through copy-before-write?',
    solution: [{ op: 'guest-write', vm: 'primary', offset: '128K', length: '4K', pattern: '0x22' }],
    ...extra,
  };
}

function errorsOf(document: Json): readonly ScenarioError[] {
  const result = validateScenarioText(JSON.stringify(document));
  return result.ok ? [] : result.errors;
}

function expectOneError(document: Json, path: string, message: RegExp | string): void {
  const errors = errorsOf(document);
  expect(errors.map((error) => error.path)).toEqual([path]);
  if (typeof message === 'string') expect(errors[0]!.message).toBe(message);
  else expect(errors[0]!.message).toMatch(message);
}

describe('valid lessons', () => {
  it('the contract\'s examples validate, and the lesson block is kept', () => {
    const result = validateScenarioText(JSON.stringify(lesson([ask(), task()])));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.scenario.lesson).toEqual(LESSON_BLOCK);
  });

  it('every probe of the contract validates', () => {
    const probes: Array<[Json, string[], string]> = [
      [{ read: { node: 'secondary-disk', offset: 0, length: '64K' } }, ['0x11', '0x22', 'mixed', 'EIO'], '0x11'],
      [{ read: { vm: 'secondary', offset: 0, length: '64K' } }, ['0x11', 'mixed'], 'mixed'],
      [{ stage: { node: 'replication-secondary' } }, ['running', 'failover'], 'running'],
      [{ 'get-error': { host: 'primary' } }, ['ok', 'I/O error occurred'], 'ok'],
      [{ allocated: { node: 'hidden-disk', offset: 0, length: '64K' } }, ['all', 'none', 'some'], 'some'],
      [{ job: { host: 'secondary', type: 'commit' } }, ['running', 'absent'], 'absent'],
      [{ count: { event: 'cbw-copy', since: 'last-checkpoint' } }, ['0', '1', '2'], '2'],
      [{ count: { event: 'forward-sent', since: 'lesson-start' } }, ['0', '10'], '10'],
    ];
    for (const [probe, choices, answer] of probes) expect(errorsOf(lesson([ask({ probe, choices, answer })]))).toEqual([]);
  });

  it('a task\'s goal may be any check, and its solution may open nodes later steps use', () => {
    expect(errorsOf(lesson([task({ until: { stage: { node: 'replication-secondary', is: 'failover' } } })]))).toEqual([]);
    expect(errorsOf(lesson([task({ until: { job: { host: 'secondary', type: 'commit', is: 'running' } } })]))).toEqual([]);
    expect(errorsOf(lesson([task({ until: { same: ['primary-disk', 'secondary-disk'] } })]))).toEqual([]);
    expect(errorsOf(lesson([task({ until: { event: { host: 'secondary', name: 'COLO_EXIT' } } })]))).toEqual([]);
    const opened = lesson([
      task({ until: { stage: { node: 'extra', is: 'running' } }, solution: [{ op: 'open', host: 'secondary', options: { 'node-name': 'extra', mode: 'secondary', 'top-id': 'top-disk', file: 'active-disk' } }] }),
      ask({ probe: { stage: { node: 'extra' } }, choices: ['running', 'none'], answer: 'running' }),
    ]);
    expect(errorsOf(opened)).toEqual([]);
  });
});

describe('the lesson block', () => {
  it('id must be kebab-case', () => {
    for (const id of ['Cbw', 'cbw_keeps', 'cbw--keeps', '-cbw', 'cbw keeps', '']) {
      expectOneError(lesson([], { ...LESSON_BLOCK, id }), 'lesson.id', /must be kebab-case/);
    }
  });

  it('covers must name known topic ids, at least one, each once', () => {
    expectOneError(lesson([], { ...LESSON_BLOCK, covers: ['rule-2', 'rule-5'] }), 'lesson.covers[1]', /^must be a topic id: topology, rule-1, /);
    expectOneError(lesson([], { ...LESSON_BLOCK, covers: [] }), 'lesson.covers', 'must name at least one topic id');
    expectOneError(lesson([], { ...LESSON_BLOCK, covers: ['rule-2', 'rule-2'] }), 'lesson.covers', 'must not name a topic twice');
    expectOneError(lesson([], { ...LESSON_BLOCK, covers: 'rule-2' }), 'lesson.covers', /must be a list of topic ids/);
  });

  it('every field is required, and no other is allowed', () => {
    for (const field of ['id', 'covers', 'order', 'minutes']) {
      const block: Json = { ...LESSON_BLOCK };
      delete block[field];
      expectOneError(lesson([], block), `lesson.${field}`, 'is required');
    }
    expectOneError(lesson([], { ...LESSON_BLOCK, level: 2 }), 'lesson', 'unknown field "level" (typos must not pass silently)');
    expectOneError(lesson([], { ...LESSON_BLOCK, order: 2.5 }), 'lesson.order', 'must be an integer');
    expectOneError(lesson([], { ...LESSON_BLOCK, minutes: 0 }), 'lesson.minutes', 'must be more than 0');
    expectOneError(lesson([], 'cbw'), 'lesson', /must be an object/);
  });
});

describe('ask', () => {
  it('the answer must be one of the choices', () => {
    expectOneError(lesson([ask({ answer: 'secondary' })]), 'steps[0].answer', '"secondary" is not one of the choices ("active-disk", "hidden-disk", "secondary-disk")');
  });

  it('choices must be values the probe can give, each once, at least two', () => {
    expectOneError(lesson([ask({ choices: ['active-disk', 'hidden-disk', 'hidden'] })]), 'steps[0].choices[2]', /^"hidden" can never be the answer: a served-by probe gives/);
    expectOneError(lesson([ask({ choices: ['hidden-disk', 'hidden-disk'] })]), 'steps[0].choices[1]', '"hidden-disk" is offered twice');
    expectOneError(lesson([ask({ choices: ['hidden-disk'] })]), 'steps[0].choices', 'must offer at least two choices');
    expectOneError(
      lesson([ask({ probe: { read: { vm: 'primary', offset: 0, length: 512 } }, choices: ['0x11', '0x2'], answer: '0x11' })]),
      'steps[0].choices[1]',
      /^"0x2" can never be the answer: a read probe gives a byte/,
    );
  });

  it('a probe naming an unknown node, or a node of the wrong kind', () => {
    expectOneError(lesson([ask({ probe: { stage: { node: 'replication-tertiary' } }, choices: ['running', 'none'], answer: 'running' })]), 'steps[0].probe.stage.node', /^unknown node "replication-tertiary"; nodes here: colo-disk, /);
    expectOneError(lesson([ask({ probe: { read: { node: 'hiden-disk', offset: 0, length: 512 } }, choices: ['0x11', 'mixed'], answer: '0x11' })]), 'steps[0].probe.read.node', /^unknown node "hiden-disk"/);
    expectOneError(lesson([ask({ probe: { allocated: { node: 'top-disk', offset: 0, length: 512 } }, choices: ['all', 'none'], answer: 'all' })]), 'steps[0].probe.allocated.node', /is not an image/);
    expectOneError(lesson([ask({ probe: { stage: { node: 'active-disk' } }, choices: ['running', 'none'], answer: 'running' })]), 'steps[0].probe.stage.node', '"active-disk" is not a replication node');
  });

  it('a probe\'s range must lie within the disk, in sectors', () => {
    expectOneError(lesson([ask({ probe: { 'served-by': { vm: 'secondary', offset: '1M', length: '64K' } } })]), 'steps[0].probe.served-by.offset', 'range 1048576+65536 ends beyond the disk (1048576 bytes)');
    expectOneError(lesson([ask({ probe: { 'served-by': { vm: 'secondary', offset: 100, length: '64K' } } })]), 'steps[0].probe.served-by.offset', 'must be a multiple of 512 (got 100)');
  });

  it('a probe has exactly one kind, with its own fields', () => {
    expectOneError(lesson([ask({ probe: {} })]), 'steps[0].probe', /^needs exactly one of "read", "served-by"/);
    expectOneError(lesson([ask({ probe: { 'served-by': { vm: 'primary', offset: 0, length: 512 } } })]), 'steps[0].probe.served-by.vm', /must be "secondary"/);
    expectOneError(lesson([ask({ probe: { read: { offset: 0, length: 512 } }, choices: ['0x11', 'mixed'], answer: '0x11' })]), 'steps[0].probe.read', 'needs exactly one of "node" or "vm"');
    expectOneError(lesson([ask({ probe: { count: { event: 'cbw', since: 'lesson-start' } }, choices: ['0', '1'], answer: '0' })]), 'steps[0].probe.count.event', /^must be an event kind: io-issued, /);
    expectOneError(lesson([ask({ probe: { count: { event: 'cbw-copy', since: 'yesterday' } }, choices: ['0', '1'], answer: '0' })]), 'steps[0].probe.count.since', 'must be "lesson-start" or "last-checkpoint"');
    expectOneError(lesson([ask({ probe: { job: { host: 'secondary' } }, choices: ['running', 'absent'], answer: 'running' })]), 'steps[0].probe.job.type', 'is required');
  });

  it('question, probe, choices and answer are required; unknown fields are errors', () => {
    for (const field of ['question', 'probe', 'choices', 'answer']) {
      const step = ask();
      delete step[field];
      expect(errorsOf(lesson([step])).map((error) => `${error.path}: ${error.message}`)).toContain(`steps[0].${field}: is required`);
    }
    expectOneError(lesson([ask({ expect: { ok: true } })]), 'steps[0]', 'unknown field "expect" (typos must not pass silently)');
  });
});

describe('task', () => {
  it('its goal is one known check on known nodes', () => {
    expectOneError(lesson([task({ until: {} })]), 'steps[0].until', 'needs exactly one of "stage", "job", "allocated", "same" or "event"');
    expectOneError(lesson([task({ until: { allocated: { node: 'hidden', offset: 0, length: 512, is: 'all' } } })]), 'steps[0].until.allocated.node', /^unknown node "hidden"/);
    expectOneError(lesson([task({ until: { allocated: { node: 'hidden-disk', offset: 0, length: 512, is: 'some' } } })]), 'steps[0].until.allocated.is', 'must be "all" or "none"');
  });

  it('its solution holds valid steps (paths inside it), and no ask or task', () => {
    expectOneError(lesson([task({ solution: [] })]), 'steps[0].solution', 'must hold at least one step');
    expectOneError(lesson([task({ solution: [{ op: 'write', node: 'nope', offset: 0, length: 512, pattern: 1 }] })]), 'steps[0].solution[0].node', /^unknown node "nope"/);
    expectOneError(lesson([task({ solution: [{ op: 'write', node: 'primary-disk', offset: 0, length: 512, pattern: 1, expect: { pattern: 1 } }] })]), 'steps[0].solution[0].expect.pattern', 'only reads can expect a pattern');
    expectOneError(lesson([task({ solution: [ask()] })]), 'steps[0].solution[0].op', /^a task's solution cannot hold an ask step/);
    expectOneError(lesson([task({ solution: [task()] })]), 'steps[0].solution[0].op', /^a task's solution cannot hold a?n? ?task step/);
  });

  it('goal, until and solution are required', () => {
    for (const field of ['goal', 'until', 'solution']) {
      const step = task();
      delete step[field];
      expectOneError(lesson([step]), `steps[0].${field}`, 'is required');
    }
  });
});
