/**
 * The QMP commands colo-sim answers, with the names of their arguments, read from the command
 * table: what the app's console completes and lists. The worker sends this list to the page, so
 * the page does not bundle the command handlers (and through them the engine).
 */
import { COMMANDS } from './qmp.js';

export interface QmpCommandSignature {
  readonly name: string;
  /** The command's QAPI arguments in schema order, each with whether it must be given. */
  readonly members: ReadonlyArray<{ readonly name: string; readonly required: boolean }>;
}

export function qmpCommandSignatures(): QmpCommandSignature[] {
  return Object.entries(COMMANDS)
    .map(([name, command]) => ({ name, members: Object.entries(command.args).map(([member, spec]) => ({ name: member, required: spec.optional !== true })) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
