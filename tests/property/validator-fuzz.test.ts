/**
 * Fuzzing the scenario validator. Whatever it is given (the real scenario files mutated in
 * every way a careless or hostile author could, damaged text, random JSON), it must answer
 * {ok: true, scenario} or {ok: false, errors} with at least one error, each with a string path
 * and a non-empty message, and never throw. It must not pollute Object.prototype either.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateScenarioDocument, validateScenarioText, type ValidationResult } from '../../src/engine/scenario/validate.js';
import { applyMutation, applyTextMutation, cloneJson, mutationArbitrary, nastyKeyArbitrary, nastyValueArbitrary, setOwn, textMutationArbitrary } from './support/json-mutations.js';
import { assertProperty } from './support/property-runner.js';

const SCENARIO_DIRECTORY = 'public/scenarios';
const MUTATED_DOCUMENTS = 2500;
const DAMAGED_TEXTS = 1500;
const RANDOM_DOCUMENTS = 1000;

function scenarioFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return scenarioFiles(path);
    return entry.name.endsWith('.json') ? [path] : [];
  });
}

/** The real scenario files, parsed: the fuzzer's seeds. A file that does not parse is skipped. */
const seeds: Array<{ file: string; text: string; document: unknown }> = scenarioFiles(SCENARIO_DIRECTORY)
  .sort()
  .flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    try {
      return [{ file, text, document: JSON.parse(text) as unknown }];
    } catch {
      return [];
    }
  });

/** The validator's contract, checked on one answer; returns a description of what is wrong, or undefined. */
function contractViolation(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return `returned ${String(result)}`;
  const answer = result as Partial<Record<'ok' | 'errors' | 'scenario', unknown>>;
  if (answer.ok === true) return typeof answer.scenario === 'object' && answer.scenario !== null ? undefined : 'ok: true without a scenario';
  if (answer.ok !== false) return `ok is ${String(answer.ok)}`;
  if (!Array.isArray(answer.errors) || answer.errors.length === 0) return 'ok: false without a non-empty errors list';
  for (const error of answer.errors as unknown[]) {
    if (typeof error !== 'object' || error === null) return `an error is ${String(error)}`;
    const { path, message } = error as { path?: unknown; message?: unknown };
    if (typeof path !== 'string') return `an error's path is ${typeof path}`;
    if (typeof message !== 'string' || message.trim() === '') return `the error at "${path}" has the message ${JSON.stringify(message)}`;
  }
  return undefined;
}

function expectContract(validate: () => ValidationResult, what: string): ValidationResult {
  let result: ValidationResult;
  try {
    result = validate();
  } catch (error) {
    throw new Error(`${what} threw instead of answering: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  const violation = contractViolation(result);
  if (violation) throw new Error(`${what} broke its contract: ${violation}\n${JSON.stringify(result).slice(0, 2000)}`);
  // A validator that reads "__proto__" or "constructor" carelessly could pollute every object.
  const probe: Record<string, unknown> = {};
  if (Object.keys(Object.prototype).length > 0 || probe['polluted'] !== undefined || typeof probe['format'] !== 'undefined') {
    throw new Error(`${what} polluted Object.prototype: ${Object.keys(Object.prototype).join(', ')}`);
  }
  return result;
}

/** JSON text of a document, or undefined when it has no JSON form (NaN, undefined at the root, ...). */
function jsonTextOf(document: unknown): string | undefined {
  try {
    const text = JSON.stringify(document);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a document survives a JSON round trip unchanged (no NaN, Infinity, -0 or undefined); iterative. */
function isPlainJson(document: unknown): boolean {
  const stack: unknown[] = [document];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || Object.is(value, -0)) return false;
    } else if (Array.isArray(value)) stack.push(...value);
    else if (typeof value === 'object') stack.push(...Object.values(value as object));
    else return false;
  }
  return true;
}

describe('scenario validator fuzzing', () => {
  it('has real scenario files to start from, some of them valid', () => {
    expect(seeds.length).toBeGreaterThan(0);
    expect(seeds.some((seed) => validateScenarioDocument(cloneJson(seed.document)).ok)).toBe(true);
  });

  it('answers every mutated scenario document with ok or errors, never an exception', () => {
    const seedIndex = fc.nat({ max: Math.max(0, seeds.length - 1) });
    assertProperty(
      'answers every mutated scenario document with ok or errors, never an exception',
      fc.property(seedIndex, fc.array(mutationArbitrary, { minLength: 1, maxLength: 6 }), (index, mutations) => {
        const seed = seeds[index]!;
        let document = cloneJson(seed.document);
        for (const mutation of mutations) document = applyMutation(document, mutation);
        const fromDocument = expectContract(() => validateScenarioDocument(document), `validateScenarioDocument (mutated ${seed.file})`);
        const text = jsonTextOf(document);
        if (text === undefined) return;
        const fromText = expectContract(() => validateScenarioText(text), `validateScenarioText (mutated ${seed.file})`);
        // validateScenarioText is JSON.parse then validateScenarioDocument: they must agree.
        if (isPlainJson(document)) expect(fromText.ok).toBe(fromDocument.ok);
      }),
      MUTATED_DOCUMENTS,
    );
  });

  it('answers damaged scenario text with ok or errors, never an exception', () => {
    const seedIndex = fc.nat({ max: Math.max(0, seeds.length - 1) });
    assertProperty(
      'answers damaged scenario text with ok or errors, never an exception',
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(seedIndex, fc.array(textMutationArbitrary, { minLength: 1, maxLength: 4 })).map(([index, mutations]) => mutations.reduce(applyTextMutation, seeds[index]!.text)) },
          { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              '',
              ' ',
              'null',
              '[]',
              '0',
              '"colo-sim/1"',
              '{"format":"colo-sim/1","format":1}',
              '{"__proto__":{"format":"colo-sim/1"},"title":"x","steps":[]}',
              '{"format":"colo-sim/1","title":"x","steps":[],"constructor":{"prototype":{"polluted":1}}}',
              '\ufeff{"format":"colo-sim/1","title":"x","steps":[]}',
              '{"format":"colo-sim/1","title":"x","steps":[],}',
              `${'['.repeat(100000)}${']'.repeat(100000)}`,
              `${'{"a":'.repeat(20000)}1${'}'.repeat(20000)}`,
            ),
          },
        ),
        (text) => {
          expectContract(() => validateScenarioText(text), 'validateScenarioText (damaged text)');
        },
      ),
      DAMAGED_TEXTS,
    );
  });

  it('answers random JSON documents and values with ok or errors, never an exception', () => {
    const scenarioShaped = fc
      .record({
        format: fc.oneof(fc.constant('colo-sim/1'), nastyValueArbitrary),
        title: fc.oneof(fc.string(), nastyValueArbitrary),
        setup: fc.oneof(fc.dictionary(fc.constantFrom('diskSize', 'clusterSize', 'seed', 'nbdLatency', 'copyTime'), nastyValueArbitrary), nastyValueArbitrary),
        steps: fc.oneof(
          fc.array(fc.dictionary(fc.constantFrom('op', 'node', 'vm', 'offset', 'length', 'pattern', 'host', 'action', 'kind', 'expect', 'for', 'until'), nastyValueArbitrary), { maxLength: 8 }),
          nastyValueArbitrary,
        ),
      })
      .chain((document) =>
        fc.tuple(fc.constant(document), fc.option(fc.tuple(nastyKeyArbitrary, nastyValueArbitrary))).map(([value, extra]) => {
          const copy = cloneJson(value) as Record<string, unknown>;
          if (extra) setOwn(copy, extra[0], extra[1]);
          return copy;
        }),
      );
    assertProperty(
      'answers random JSON documents and values with ok or errors, never an exception',
      fc.property(fc.oneof(scenarioShaped, nastyValueArbitrary, fc.jsonValue()), (document) => {
        expectContract(() => validateScenarioDocument(document), 'validateScenarioDocument (random document)');
        const text = jsonTextOf(document);
        if (text !== undefined) expectContract(() => validateScenarioText(text), 'validateScenarioText (random document)');
      }),
      RANDOM_DOCUMENTS,
    );
  });
});
