/**
 * JSON as QEMU's monitor writes it (qobject_to_json): ", " between members and ": " after a
 * key, on one line. Commands, replies and events in the app and in runbooks use it, so what is
 * shown reads like a QMP session and pastes into one.
 */
import type { QmpCommandText } from './equivalents.js';

export function formatQmpJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => formatQmpJson(item)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}: ${formatQmpJson(member)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `{"execute": ..., "arguments": ...}`, as typed into a QMP monitor. */
export function formatQmpCommand(command: QmpCommandText): string {
  return formatQmpJson({ execute: command.execute, ...(command.arguments ? { arguments: command.arguments } : {}) });
}

/**
 * A QMP event as the monitor sends it: timestamp, event, then data when it has any (the order
 * of QEMU's documentation, e.g. COLO_EXIT in qapi/migration.json). QEMU stamps events with the
 * host's wall clock; colo-sim has only its virtual clock, counted from the simulation's start.
 */
export function formatQmpEvent(name: string, data: Readonly<Record<string, unknown>>, timeUs: number): string {
  const timestamp = { seconds: Math.floor(timeUs / 1_000_000), microseconds: timeUs % 1_000_000 };
  return formatQmpJson({ timestamp, event: name, ...(Object.keys(data).length > 0 ? { data } : {}) });
}
