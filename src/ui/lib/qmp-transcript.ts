/**
 * The consoles' transcript on the page: the QMP traffic frames bring (numbered, never dropped),
 * and what each host's console shows of it: commands, QEMU's replies and the host's events, in
 * the order they happened, and the commands again for ArrowUp.
 */
import { formatQmpCommand, formatQmpEvent, formatQmpJson } from '../../engine/qmp/qmp-json.js';
import type { HostName } from '../../engine/sim/events.js';
import type { Frame, QmpTranscriptEvent } from '../../worker/protocol.js';

/** The page keeps at most this many entries (the worker keeps QMP_LOG_LIMIT and resends them on a reload). */
const PAGE_LIMIT = 2000;

export interface QmpTranscript {
  /** The number of the first entry kept. */
  readonly firstIndex: number;
  readonly entries: readonly QmpTranscriptEvent[];
}

export const EMPTY_TRANSCRIPT: QmpTranscript = { firstIndex: 0, entries: [] };

/** The transcript with a frame's QMP news: the whole of it after a reset, else the entries it lacks. */
export function applyQmpNews(transcript: QmpTranscript, news: Frame['qmp']): QmpTranscript {
  if (!news) return transcript;
  let firstIndex: number;
  let entries: QmpTranscriptEvent[];
  if (news.reset) {
    firstIndex = news.from;
    entries = news.entries.slice();
  } else {
    const end = transcript.firstIndex + transcript.entries.length;
    const fresh = news.entries.slice(Math.max(0, end - news.from));
    if (fresh.length === 0) return transcript;
    // Numbers run on: a gap (never sent) would start the transcript again from the news.
    firstIndex = news.from > end ? news.from : transcript.firstIndex;
    entries = news.from > end ? fresh : [...transcript.entries, ...fresh];
  }
  const excess = entries.length - PAGE_LIMIT;
  if (excess > 0) {
    entries = entries.slice(excess);
    firstIndex += excess;
  }
  return { firstIndex, entries };
}

export type ConsoleLine =
  | { readonly kind: 'command'; readonly key: string; readonly timeUs: number; readonly text: string }
  | { readonly kind: 'reply'; readonly key: string; readonly timeUs: number; readonly text: string; readonly error: boolean }
  | { readonly kind: 'event'; readonly key: string; readonly timeUs: number; readonly text: string; readonly name: string };

/**
 * What one host's console shows: `-> command`, `<- reply` and `<- event` lines, oldest first.
 * The events a command caused come between the command and its reply, as QEMU's monitor sends
 * them.
 */
export function consoleLines(transcript: QmpTranscript, host: HostName): ConsoleLine[] {
  const lines: ConsoleLine[] = [];
  /** Per entry: where its lines start (for another host's entry, where this host's next line goes). */
  const lineOf: number[] = [];
  transcript.entries.forEach((entry, position) => {
    lineOf.push(lines.length);
    if (entry.host !== host) return;
    const key = String(transcript.firstIndex + position);
    if (entry.kind === 'qmp') {
      const firstCaused = position - (entry.eventsDuring ?? 0);
      const at = firstCaused < position ? (lineOf[Math.max(0, firstCaused)] ?? lines.length) : lines.length;
      lines.splice(at, 0, { kind: 'command', key: `${key}c`, timeUs: entry.timeUs, text: formatQmpCommand(entry) });
      lineOf[position] = at;
      lines.push({ kind: 'reply', key: `${key}r`, timeUs: entry.timeUs, text: formatQmpJson(entry.reply), error: 'error' in entry.reply });
    } else {
      lines.push({ kind: 'event', key, timeUs: entry.timeUs, text: formatQmpEvent(entry.name, entry.data, entry.timeUs), name: entry.name });
    }
  });
  return lines;
}

/** A command in the console's short form: `name` or `name {arguments}`. */
export function shortForm(command: { readonly execute: string; readonly arguments?: Readonly<Record<string, unknown>> }): string {
  return command.arguments ? `${command.execute} ${formatQmpJson(command.arguments)}` : command.execute;
}

/** The commands sent to a host, oldest first, in short form (what ArrowUp brings back). */
export function commandHistory(transcript: QmpTranscript, host: HostName): string[] {
  return transcript.entries.flatMap((entry) => (entry.kind === 'qmp' && entry.host === host ? [shortForm(entry)] : []));
}
