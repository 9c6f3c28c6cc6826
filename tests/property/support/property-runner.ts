/**
 * Runs a fast-check property with a seed that can be replayed, and fails with fast-check's
 * own report (seed, path, shrunk counterexample, the error) plus the command that replays it.
 *
 *   PROPERTY_SEED=<seed> npx vitest run tests/property
 *   PROPERTY_SEED=<seed> PROPERTY_PATH=<path> npx vitest run tests/property -t "<test name>"
 *
 * Without PROPERTY_SEED each run draws a new seed (so CI keeps exploring); the seed is in the
 * report of any failure.
 */
import fc from 'fast-check';

function seedFromEnvironment(): number | undefined {
  const text = process.env['PROPERTY_SEED'];
  if (text === undefined || text.trim() === '') return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`PROPERTY_SEED must be an integer, got "${text}"`);
  return seed;
}

export function assertProperty<Ts extends [unknown, ...unknown[]]>(testName: string, property: fc.IProperty<Ts>, numRuns: number): void {
  const path = process.env['PROPERTY_PATH'] || undefined;
  const seedFromEnv = seedFromEnvironment();
  if (path !== undefined && seedFromEnv === undefined) throw new Error('PROPERTY_PATH replays a counterexample of one seed: set PROPERTY_SEED too');
  const seed = seedFromEnv ?? (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
  const details = fc.check(property, { seed, numRuns, ...(path ? { path } : {}) });
  if (!details.failed) return;
  const report = fc.defaultReportMessage(details) ?? `Property failed with seed ${details.seed}`;
  const replayPath = details.counterexamplePath ? ` PROPERTY_PATH="${details.counterexamplePath}"` : '';
  const failure = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const cause = details.errorInstance instanceof Error ? details.errorInstance : undefined;
  throw new Error(
    `${report}\n\n` +
      `What failed (on the shrunk counterexample):\n${failure}\n\n` +
      `Replay this counterexample:\n  PROPERTY_SEED=${details.seed}${replayPath} npx vitest run tests/property -t "${testName}"\n` +
      `Replay the whole run:\n  PROPERTY_SEED=${details.seed} npx vitest run tests/property`,
    cause ? { cause } : undefined,
  );
}
