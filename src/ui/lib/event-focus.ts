/**
 * What the views outline for the events of the scheduler entry shown while stepping inside a
 * command (time travel, issue 9): each event's node in the graph (the node the event log names
 * for it, `nodeOf`), the NBD link when the event travels over it, and the byte range it touches
 * on that node's grid (a copy-before-write copy: on its source and target disks). The event log
 * highlights the same events, so the views and the log name the same nodes and ranges.
 */
import { describeEvent } from '../../engine/sim/format-event.js';
import type { SimEvent } from '../../engine/sim/events.js';
import { nodeOf } from './event-log.js';
import type { FocusTarget } from './lesson-plan.js';

type Cell = FocusTarget['cells'][number];

/** The byte ranges an event touches, by grid (node name); none for events without bytes (flushes, jobs, COLO). */
export function eventCells(event: SimEvent): Cell[] {
  switch (event.kind) {
    case 'io-issued':
    case 'io-completed':
    case 'write-landed':
    case 'read-served':
    case 'io-failed':
    case 'quorum-child-failed':
      return event.lengthBytes > 0 ? [{ grid: event.node, offsetBytes: event.offsetBytes, lengthBytes: event.lengthBytes }] : [];
    case 'forward-landed':
      // nodeOf names secondary-disk for it: the NBD export the forwarded write lands on.
      return event.lengthBytes > 0 ? [{ grid: 'secondary-disk', offsetBytes: event.offsetBytes, lengthBytes: event.lengthBytes }] : [];
    case 'cbw-copy':
      // The old bytes are read from the source and written into the target (the hidden disk).
      return [
        { grid: event.source, offsetBytes: event.offsetBytes, lengthBytes: event.lengthBytes },
        { grid: event.target, offsetBytes: event.offsetBytes, lengthBytes: event.lengthBytes },
      ];
    default:
      return [];
  }
}

/** The nodes an event is on: the log's node, and a copy's source and target. */
export function eventNodes(event: SimEvent): string[] {
  const node = nodeOf(event);
  const nodes = node ? [node] : [];
  if (event.kind === 'cbw-copy') nodes.push(event.source, event.target);
  return nodes;
}

/** Whether the event crosses the NBD link between the hosts (a forwarded request or its reply). */
export function eventCrossesLink(event: SimEvent): boolean {
  return event.kind === 'forward-sent' || event.kind === 'forward-landed' || event.kind === 'forward-completed' || event.kind === 'forward-lost';
}

/** The outline for a set of events (those of one scheduler entry), or null when there are none. */
export function eventsFocus(events: readonly SimEvent[]): FocusTarget | null {
  if (events.length === 0) return null;
  const nodes = new Set<string>();
  const cells: Cell[] = [];
  let link = false;
  for (const event of events) {
    for (const node of eventNodes(event)) nodes.add(node);
    cells.push(...eventCells(event));
    link ||= eventCrossesLink(event);
  }
  return { cells, nodes: [...nodes], link };
}

/** One line for a screen reader: the entry's first event in the log's words, and how many more there are. */
export function eventsAnnouncement(stepNumber: number, events: readonly SimEvent[]): string {
  if (events.length === 0) return `Inside step ${stepNumber}: no event`;
  const more = events.length - 1;
  return `Inside step ${stepNumber}: ${describeEvent(events[0]!)}${more > 0 ? `, and ${more} more ${more === 1 ? 'event' : 'events'}` : ''}`;
}
