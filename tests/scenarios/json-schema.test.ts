/** The published JSON Schema is the one generated from the zod schemas (run `npm run schema` after changing them). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchemaText } from '../../src/engine/scenario/json-schema.js';

describe('public/scenario.schema.json', () => {
  it('is up to date with the zod schemas', () => {
    expect(readFileSync('public/scenario.schema.json', 'utf8')).toBe(scenarioJsonSchemaText());
  });

  it('describes every operation of the format', () => {
    const text = scenarioJsonSchemaText();
    for (const op of ['write', 'read', 'guest-write', 'guest-read', 'replication', 'colo-start', 'checkpoint', 'failover', 'open', 'fault', 'run', 'check', 'say']) {
      expect(text).toContain(`"const": "${op}"`);
    }
  });
});
