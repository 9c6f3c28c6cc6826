/**
 * Scenario validation (validateScenarioText): every error names the exact JSON path and says
 * clearly what is wrong. The CLI's output is tested in cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { validateScenarioText, type ScenarioError } from '../../src/engine/scenario/validate.js';

type Json = Record<string, unknown>;

const BASE: Json = { format: 'colo-sim/1', title: 'a scenario', setup: { diskSize: '1M' }, steps: [] };

function withSteps(...steps: Json[]): Json {
  return { ...BASE, steps };
}

function write(extra: Json = {}): Json {
  return { op: 'write', node: 'primary-disk', offset: 0, length: 512, pattern: '0x11', ...extra };
}

function errorsOf(document: Json | string): readonly ScenarioError[] {
  const result = validateScenarioText(typeof document === 'string' ? document : JSON.stringify(document));
  if (result.ok) return [];
  return result.errors;
}

/** Exactly one error, at `path`, whose message matches. */
function expectOneError(document: Json | string, path: string, message: RegExp | string): void {
  const errors = errorsOf(document);
  expect(errors.map((error) => error.path)).toEqual([path]);
  if (typeof message === 'string') expect(errors[0]!.message).toBe(message);
  else expect(errors[0]!.message).toMatch(message);
}

describe('valid scenarios', () => {
  it('a minimal scenario validates, with the contract’s defaults', () => {
    const result = validateScenarioText(JSON.stringify({ format: 'colo-sim/1', title: 't', steps: [] }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.scenario.settings.diskSizeBytes).toBe(64 * 1024 * 1024);
    expect(result.scenario.settings.clusterSizeBytes).toBe(64 * 1024);
    expect(result.scenario.settings.seed).toBe(1);
    expect(result.scenario.settings.nbdLatencyUs).toBeGreaterThan(0);
  });

  it('sizes, durations and patterns in every accepted form', () => {
    const result = validateScenarioText(
      JSON.stringify({
        ...BASE,
        setup: { diskSize: '2M', clusterSize: 4096, seed: 0, nbdLatency: '1.5ms' },
        steps: [
          write({ offset: '1K', length: '64K', pattern: 17 }),
          write({ offset: 1536, length: '1M', pattern: '0xfF' }),
          write({ pattern: '0x0' }),
          { op: 'run', for: '2s' },
          { op: 'run', for: '250us' },
        ],
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.scenario.settings.diskSizeBytes).toBe(2 * 1024 * 1024);
    expect(result.scenario.settings.nbdLatencyUs).toBe(1500);
    expect(result.scenario.steps.map((step) => ('pattern' in step ? step.pattern : undefined))).toEqual([17, 255, 0, undefined, undefined]);
    expect(result.scenario.steps.map((step) => ('offset' in step ? step.offset : undefined)).slice(0, 2)).toEqual([1024, 1536]);
    expect(result.scenario.steps.map((step) => (step.op === 'run' ? step.for : undefined)).slice(3)).toEqual([2_000_000, 250]);
  });

  it('a node opened by an earlier step can be named later', () => {
    expect(
      errorsOf(
        withSteps(
          { op: 'open', host: 'primary', options: { 'node-name': 'extra', mode: 'primary', file: 'nbd-client' } },
          { op: 'check', stage: { node: 'extra', is: 'none' } },
        ),
      ),
    ).toEqual([]);
  });
});

describe('invalid JSON', () => {
  it('names the line and column of the error', () => {
    expectOneError('{"format": "colo-sim/1",}', '', /^invalid JSON at line 1, column 25: /);
    const text = '{\n  "format": "colo-sim/1",\n  "title": "t",\n  "steps": [\n    {"op": "say", "text": "a"}\n    {"op": "say", "text": "b"}\n  ]\n}';
    expectOneError(text, '', /^invalid JSON at line 6, column 5: /);
  });

  // A bare word is the commonest typo; V8's message for it has no "at position N".
  it('names the line and column of an unexpected token', () => {
    expectOneError('{\n  "format": "colo-sim/1",\n  "title": oops\n}', '', /line 3, column 12/);
  });

  it('says what is wrong in words, the same in every JavaScript engine', () => {
    expectOneError('{"format": "colo-sim/1",}', '', 'invalid JSON at line 1, column 25: expected a property name before "}" (JSON allows no trailing comma)');
    expectOneError('{"steps": [1, 2,]}', '', 'invalid JSON at line 1, column 17: expected a value before "]" (JSON allows no trailing comma)');
    expectOneError('{"format": "colo-sim/1"', '', /^invalid JSON at line 1, column 24: the file ends inside an object/);
    expectOneError('// a comment\n{}', '', 'invalid JSON at line 1, column 1: comments are not allowed in JSON');
    expectOneError('{"title": \'t\'}', '', /^invalid JSON at line 1, column 11: unexpected "'t'"/);
    expectOneError('   ', '', 'invalid JSON: the file is empty');
  });

  it('says a UTF-16 file is UTF-16 (decoded as UTF-8 it has a NUL beside every character), and a number past a double is too large', () => {
    const utf16 = new TextDecoder('utf-8').decode(new Uint8Array([0xff, 0xfe, ...[...'{"a": 1}'].flatMap((char) => [char.charCodeAt(0), 0])]));
    expectOneError(utf16, '', 'invalid JSON: the file is UTF-16 text (NUL bytes between its characters); save it as UTF-8');
    expectOneError('{"format": "colo-sim/1", "title": "t", "setup": {"seed": 1e400}, "steps": []}', 'setup.seed', 'must be a number (got a number too large to represent)');
  });

  // A byte order mark inside the text, or a zero-width space pasted in, prints as nothing.
  it('an unexpected character that prints as nothing is spelled out as \\uXXXX', () => {
    expectOneError('{"format": "colo-sim/1",\u200b"title": "t"}', '', /^invalid JSON at line 1, column 25: unexpected "\\u200b" \(/);
    expectOneError('{"a": 1}\ufeff', '', /^invalid JSON at line 1, column 9: unexpected "\\ufeff" \(/);
  });

  it('an empty file and a file that is not an object are refused', () => {
    expectOneError('', '', /^invalid JSON/);
    expectOneError('[]', '', 'a scenario must be a JSON object');
    expectOneError('"colo-sim/1"', '', 'a scenario must be a JSON object');
  });
});

describe('the top level', () => {
  it('a wrong format version', () => {
    expectOneError({ ...BASE, format: 'colo-sim/2' }, 'format', 'must be "colo-sim/1"');
  });

  it('missing format, title or steps', () => {
    const { format: _format, ...noFormat } = BASE;
    expectOneError(noFormat, 'format', /required|colo-sim\/1/);
    const { title: _title, ...noTitle } = BASE;
    expectOneError(noTitle, 'title', 'is required');
    const { steps: _steps, ...noSteps } = BASE;
    expectOneError(noSteps, 'steps', 'is required');
  });

  it('an unknown top-level field', () => {
    expectOneError({ ...BASE, titel: 'typo' }, '', /unknown field "titel"/);
  });

  // A field that is present with the wrong type is not "missing".
  it('a value of the wrong type is not reported as missing', () => {
    expectOneError({ ...BASE, title: 5 }, 'title', /string/);
  });
});

describe('setup', () => {
  it('an unknown field', () => {
    expectOneError({ ...BASE, setup: { diskSiz: '1M' } }, 'setup', /unknown field "diskSiz"/);
  });

  it('a size with an unknown suffix, or not a multiple of 512', () => {
    expect(errorsOf({ ...BASE, setup: { diskSize: '64Q' } }).map((error) => error.path)).toEqual(['setup.diskSize']);
    expectOneError({ ...BASE, setup: { diskSize: 100 } }, 'setup.diskSize', /multiple of 512/);
    expectOneError({ ...BASE, setup: { diskSize: 0 } }, 'setup.diskSize', /multiple of 512/);
    expectOneError({ ...BASE, setup: { clusterSize: '3K' } }, 'setup.clusterSize', /power of two/);
    expectOneError({ ...BASE, setup: { clusterSize: '4M' } }, 'setup.clusterSize', /power of two/);
  });

  it('a size with an unknown suffix says which forms are accepted', () => {
    expectOneError({ ...BASE, setup: { diskSize: '64Q' } }, 'setup.diskSize', /K, M or G/);
  });

  it('bad durations', () => {
    expectOneError({ ...BASE, setup: { nbdLatency: '500' } }, 'setup.nbdLatency', /us, ms or s/);
    expectOneError({ ...BASE, setup: { nbdLatency: '5m' } }, 'setup.nbdLatency', /us, ms or s/);
    expectOneError({ ...BASE, setup: { nbdLatency: '1.5us' } }, 'setup.nbdLatency', /whole number of microseconds/);
    expectOneError({ ...BASE, setup: { nbdLatency: '0us' } }, 'setup.nbdLatency', /longer than 0/);
    expectOneError(withSteps({ op: 'run', for: 'soon' }), 'steps[0].for', /us, ms or s/);
  });
});

describe('steps', () => {
  it('an unknown op', () => {
    expectOneError(withSteps({ op: 'writ', node: 'primary-disk' }), 'steps[0].op', /unknown op; expected one of write, read,/);
  });

  it('an unknown field in a step', () => {
    expectOneError(withSteps({ op: 'say', text: 'a' }, write({ offest: 512 })), 'steps[1]', /unknown field "offest"/);
    expectOneError(withSteps({ op: 'fault', kind: 'link-down', node: 'primary-disk' }), 'steps[0]', /unknown field "node"/);
  });

  it('the path counts steps from 0', () => {
    const steps = [{ op: 'say', text: 'a' }, { op: 'say', text: 'b' }, { op: 'say', text: 'c' }, write({ offset: 100 })];
    expectOneError(withSteps(...steps), 'steps[3].offset', 'must be a multiple of 512 (got 100)');
  });

  it('offsets and lengths: unaligned, zero, beyond the disk', () => {
    expectOneError(withSteps(write({ offset: 100 })), 'steps[0].offset', 'must be a multiple of 512 (got 100)');
    expectOneError(withSteps(write({ length: 1000 })), 'steps[0].length', 'must be a multiple of 512 (got 1000)');
    expectOneError(withSteps(write({ length: 0 })), 'steps[0].length', 'must be more than 0');
    expectOneError(withSteps(write({ offset: '1M' })), 'steps[0].offset', /ends beyond the disk \(1048576 bytes\)/);
    expectOneError(withSteps(write({ offset: 1048064, length: 1024 })), 'steps[0].offset', /1048064\+1024 ends beyond the disk/);
    // Exactly up to the end is fine.
    expect(errorsOf(withSteps(write({ offset: 1048064, length: 512 })))).toEqual([]);
    expectOneError(withSteps({ op: 'check', allocated: { node: 'active-disk', offset: 0, length: 100, is: 'all' } }), 'steps[0].allocated.length', /multiple of 512/);
  });

  it('bad patterns: 256, "0x100", "17", -1, 1.5', () => {
    for (const pattern of [256, '0x100', '17', -1, 1.5, true]) {
      expect(errorsOf(withSteps(write({ pattern }))).map((error) => error.path), JSON.stringify(pattern)).toEqual(['steps[0].pattern']);
    }
  });

  it('bad patterns say which forms are accepted', () => {
    for (const pattern of [256, '0x100', '17']) {
      expectOneError(withSteps(write({ pattern })), 'steps[0].pattern', /0 to 255|"0x00"/);
    }
  });

  it('bad sizes in a step', () => {
    expect(errorsOf(withSteps(write({ offset: '64Q' }))).map((error) => error.path)).toEqual(['steps[0].offset']);
    expect(errorsOf(withSteps(write({ length: -512 }))).map((error) => error.path)).toEqual(['steps[0].length']);
    expectOneError(withSteps(write({ length: 1.5 })), 'steps[0].length', /must be a size/);
  });

  it('unknown nodes', () => {
    expectOneError(withSteps(write({ node: 'seconday-disk' })), 'steps[0].node', /^unknown node "seconday-disk"; nodes here: .*secondary-disk/);
    expectOneError(withSteps({ op: 'fault', kind: 'io-error', node: 'nowhere', on: 'read' }), 'steps[0].node', /unknown node "nowhere"/);
    expectOneError(withSteps({ op: 'check', same: ['primary-disk', 'nowhere'] }), 'steps[0].same[1]', /unknown node "nowhere"/);
  });

  it('a node whose open is expected to fail is not known afterwards', () => {
    expectOneError(
      withSteps({ op: 'open', host: 'primary', options: { 'node-name': 'extra' }, expect: { error: true } }, { op: 'check', stage: { node: 'extra', is: 'none' } }),
      'steps[1].stage.node',
      /unknown node "extra"/,
    );
  });

  it('eject and allocated need an image; stage needs a replication node', () => {
    expectOneError(withSteps({ op: 'fault', kind: 'eject', node: 'top-disk' }), 'steps[0].node', /"top-disk" is not an image/);
    expectOneError(
      withSteps({ op: 'check', allocated: { node: 'replication-secondary', offset: 0, length: 512, is: 'all' } }),
      'steps[0].allocated.node',
      /"replication-secondary" is not an image/,
    );
    expectOneError(withSteps({ op: 'check', stage: { node: 'active-disk', is: 'running' } }), 'steps[0].stage.node', '"active-disk" is not a replication node');
  });

  it('mode only with start, failover only with stop', () => {
    expectOneError(withSteps({ op: 'replication', host: 'secondary', action: 'stop', mode: 'secondary' }), 'steps[0].mode', 'only "start" takes a mode');
    expectOneError(withSteps({ op: 'replication', host: 'secondary', action: 'checkpoint', mode: 'primary' }), 'steps[0].mode', 'only "start" takes a mode');
    expectOneError(withSteps({ op: 'replication', host: 'secondary', action: 'start', failover: true }), 'steps[0].failover', 'only "stop" takes failover');
  });

  it('expectations that do not fit the step', () => {
    expectOneError(withSteps(write({ expect: { pattern: '0x11' } })), 'steps[0].expect.pattern', 'only reads can expect a pattern');
    expectOneError(withSteps({ op: 'checkpoint', expect: { pattern: 1 } }), 'steps[0].expect.pattern', 'only reads can expect a pattern');
    expectOneError(
      withSteps({ op: 'read', node: 'primary-disk', offset: 0, length: 512, expect: { error: 'Block replication is not running' } }),
      'steps[0].expect.error',
      /an I\/O step expects an errno name .*got "Block replication is not running"/,
    );
    expectOneError(withSteps({ op: 'checkpoint', expect: { ok: true, error: true } }), 'steps[0].expect', /exactly one of "pattern", "error", "ok" or "return"/);
    expectOneError(withSteps({ op: 'checkpoint', expect: {} }), 'steps[0].expect', /exactly one of/);
    expectOneError(withSteps({ op: 'checkpoint', expect: { ok: false } }), 'steps[0].expect.ok', 'must be true');
    // A control step may expect any message.
    expect(errorsOf(withSteps({ op: 'checkpoint', expect: { error: 'Backup job was cancelled unexpectedly' } }))).toEqual([]);
  });

  it('run needs exactly one of for/until/events; check exactly one kind', () => {
    expectOneError(withSteps({ op: 'run', for: '1ms', until: 'idle' }), 'steps[0]', /exactly one of "for", "until" or "events"/);
    expectOneError(withSteps({ op: 'run', events: 3, until: 'idle' }), 'steps[0]', /exactly one of "for", "until" or "events"/);
    expectOneError(withSteps({ op: 'run' }), 'steps[0]', /exactly one of "for", "until" or "events"/);
    expectOneError(withSteps({ op: 'run', events: 0 }), 'steps[0].events', 'must be a positive integer');
    expectOneError(withSteps({ op: 'run', events: 1.5 }), 'steps[0].events', 'must be an integer');
    expect(errorsOf(withSteps({ op: 'run', events: 12 }))).toEqual([]);
    expectOneError(withSteps({ op: 'check' }), 'steps[0]', /exactly one of "stage", "job", "allocated", "same" or "event"/);
  });

  it('enumerations name their values', () => {
    expectOneError(withSteps({ op: 'replication', host: 'primary', action: 'begin' }), 'steps[0].action', 'must be "start", "checkpoint", "get-error" or "stop"');
    expectOneError(withSteps({ op: 'guest-write', vm: 'third', offset: 0, length: 512, pattern: 1 }), 'steps[0].vm', 'must be "primary" or "secondary"');
  });

  it('several errors are all reported, each with its own path, in file order', () => {
    const errors = errorsOf(withSteps({ op: 'say', text: 'x' }, write({ offset: 100, length: 1000 }), { op: 'read', node: 'nowhere', offset: 0, length: 512 }));
    expect(errors.map((error) => error.path)).toEqual(['steps[1].offset', 'steps[1].length', 'steps[2].node']);
  });
});
