/** Writes public/scenario.schema.json from the zod schemas (npm run schema). */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchemaText } from '../engine/scenario/json-schema.js';

export const SCHEMA_PATH = 'public/scenario.schema.json';

writeFileSync(SCHEMA_PATH, scenarioJsonSchemaText());
process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
