/**
 * A scenario file's `setup` section and the simulation settings it sets: one table, read by the
 * validator and written by an export, so that a setting cannot be read from a file and then left
 * out of the file an export writes (an export of a session begun with `vmstateLoadTime` once
 * dropped it and replayed to another virtual time). The types below make the table name every
 * setting and every setup field: a new one fails to compile until it is in the table.
 */
import type { z } from 'zod';
import { DEFAULT_SETTINGS, type SimulationSettings } from '../colo/simulation.js';
import type { setupSchema } from './schema.js';
import { formatDuration } from './units.js';

/** A setup field as a file spells it (the schema's input) and as the validator reads it (its output). */
type SetupInput = z.input<typeof setupSchema>;
type SetupOutput = z.output<typeof setupSchema>;
type SetupField = keyof SetupInput;

interface FieldMapping {
  readonly field: SetupField;
  /** The value as an export writes it: what the schema reads back to the same setting. */
  readonly write: (value: number) => number | string;
}

const identity = (value: number): number => value;

/** Each simulation setting and the setup field that sets it. */
export const SETUP_FIELDS = {
  diskSizeBytes: { field: 'diskSize', write: identity },
  clusterSizeBytes: { field: 'clusterSize', write: identity },
  seed: { field: 'seed', write: identity },
  nbdLatencyUs: { field: 'nbdLatency', write: formatDuration },
  copyTimeUs: { field: 'copyTime', write: formatDuration },
  vmstateLoadUs: { field: 'vmstateLoadTime', write: formatDuration },
} as const satisfies { readonly [Setting in keyof SimulationSettings]: FieldMapping };

// Every setup field of the schema is some setting's field (the `satisfies` above covers the other
// direction): a field the schema gains without a setting here is a compile error.
type MappedField = (typeof SETUP_FIELDS)[keyof typeof SETUP_FIELDS]['field'];
const everySetupFieldMapped: [Exclude<SetupField, MappedField>] extends [never] ? true : ['setup fields without a setting:', Exclude<SetupField, MappedField>] = true;
void everySetupFieldMapped;

const SETTING_KEYS = Object.keys(SETUP_FIELDS) as Array<keyof SimulationSettings>;

/** The settings a parsed setup section gives (a field left out takes its default). */
export function settingsOfSetup(setup: SetupOutput | undefined): SimulationSettings {
  const settings: { -readonly [Setting in keyof SimulationSettings]: SimulationSettings[Setting] } = { ...DEFAULT_SETTINGS };
  for (const key of SETTING_KEYS) {
    const value = setup?.[SETUP_FIELDS[key].field];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/** The setup section that recreates these settings, every one of them written out. */
export function setupOfSettings(settings: SimulationSettings): Record<SetupField, number | string> {
  const setup = {} as Record<SetupField, number | string>;
  for (const key of SETTING_KEYS) setup[SETUP_FIELDS[key].field] = SETUP_FIELDS[key].write(settings[key]);
  return setup;
}
