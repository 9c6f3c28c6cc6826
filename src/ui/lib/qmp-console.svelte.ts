/**
 * What the QMP consoles keep while the side panel shows another tab: which host is shown, what
 * is typed in each, the lines typed there that were not commands (ArrowUp brings them back to
 * be fixed) and why the last one was not sent. The commands sent are not kept here: they are
 * the transcript's, which the worker saves.
 */
import type { HostName } from '../../engine/sim/events.js';

const PER_HOST = <T>(make: () => T): Record<HostName, T> => ({ primary: make(), secondary: make() });
/** Unsent lines kept per host. */
const UNSENT_LIMIT = 50;

export class QmpConsoleState {
  host = $state<HostName>('primary');
  drafts = $state<Record<HostName, string>>(PER_HOST(() => ''));
  unsent = $state<Record<HostName, string[]>>(PER_HOST(() => []));
  /** Why the last line typed was not sent, or null. */
  problems = $state<Record<HostName, string | null>>(PER_HOST(() => null));
  /** Bumped to move the focus into the console (the 5 key). */
  focusNonce = $state(0);

  rememberUnsent(host: HostName, line: string): void {
    const lines = this.unsent[host];
    if (lines[lines.length - 1] !== line) lines.push(line);
    if (lines.length > UNSENT_LIMIT) lines.splice(0, lines.length - UNSENT_LIMIT);
  }
}
