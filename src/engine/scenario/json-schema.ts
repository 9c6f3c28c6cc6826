/**
 * The JSON Schema of the scenario format, generated from the zod schemas so that the two can
 * never disagree. Editors use it to check scenario files as they are typed.
 */
import * as z from 'zod/mini';
import { fullScenarioSchema } from './schema.js';

export const SCHEMA_ID = 'https://colo-sim.invalid/scenario.schema.json';

export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(fullScenarioSchema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...generated,
    $id: SCHEMA_ID,
    title: 'colo-sim scenario (colo-sim/1)',
    description:
      'A COLO block replication scenario: a disk setup and steps, each an operation with an optional expectation. ' +
      'Offsets and lengths must also be multiples of 512 within the disk, and nodes must exist; colo-sim checks those when it loads a file.',
  };
}

export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
