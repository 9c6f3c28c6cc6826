/**
 * What the views outline for the events of the scheduler entry shown inside a command: each
 * event's node as the event log names it, the NBD link for what travels over it, and the byte
 * ranges on the grids (a copy on both of its disks); nothing for an entry without events.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent, SimEventBody } from '../../src/engine/sim/events.js';
import { describeEvent } from '../../src/engine/sim/format-event.js';
import { eventsAnnouncement, eventsFocus } from '../../src/ui/lib/event-focus.js';
import { nodeOf } from '../../src/ui/lib/event-log.js';

let sequence = 0;
const at = (body: SimEventBody): SimEvent => ({ ...body, timeUs: 1000, sequence: sequence++ }) as SimEvent;

describe('eventsFocus', () => {
  it("outlines a write's node and its bytes on that node's grid", () => {
    const event = at({ kind: 'write-landed', requestId: 1, node: 'primary-disk', offsetBytes: 65536, lengthBytes: 4096, cow: [] });
    expect(eventsFocus([event])).toEqual({ nodes: [nodeOf(event)], link: false, cells: [{ grid: 'primary-disk', offsetBytes: 65536, lengthBytes: 4096 }] });
  });

  it('outlines the NBD link for a forward, and the secondary disk where it lands', () => {
    const sent = at({ kind: 'forward-sent', requestId: 2, io: 'write', offsetBytes: 0, lengthBytes: 8192, arrivesAtUs: 1500 });
    const landed = at({ kind: 'forward-landed', requestId: 2, io: 'write', offsetBytes: 0, lengthBytes: 8192 });
    expect(eventsFocus([sent])).toEqual({ nodes: [nodeOf(sent)], link: true, cells: [] });
    expect(eventsFocus([landed])).toEqual({ nodes: [nodeOf(landed)], link: true, cells: [{ grid: 'secondary-disk', offsetBytes: 0, lengthBytes: 8192 }] });
  });

  it("outlines a copy-before-write's filter, source and target, and its range on both disks", () => {
    const copy = at({ kind: 'cbw-copy', requestId: 3, filter: 'secondary-disk-cbw', source: 'secondary-disk', target: 'hidden-disk', offsetBytes: 131072, lengthBytes: 65536, zeroes: true });
    expect(eventsFocus([copy])).toEqual({
      nodes: ['secondary-disk-cbw', 'secondary-disk', 'hidden-disk'],
      link: false,
      cells: [
        { grid: 'secondary-disk', offsetBytes: 131072, lengthBytes: 65536 },
        { grid: 'hidden-disk', offsetBytes: 131072, lengthBytes: 65536 },
      ],
    });
  });

  it('outlines no bytes for a flush, and nothing for an entry without events', () => {
    const flush = at({ kind: 'io-issued', requestId: 4, origin: 'primary-vm', node: 'colo-disk', io: 'flush', offsetBytes: 0, lengthBytes: 0 });
    expect(eventsFocus([flush])).toEqual({ nodes: ['colo-disk'], link: false, cells: [] });
    expect(eventsFocus([])).toBeNull();
  });

  it("announces the entry's first event in the log's words and counts the rest", () => {
    const events = [
      at({ kind: 'write-landed', requestId: 1, node: 'primary-disk', offsetBytes: 0, lengthBytes: 4096, cow: [] }),
      at({ kind: 'forward-sent', requestId: 1, io: 'write', offsetBytes: 0, lengthBytes: 4096, arrivesAtUs: 1500 }),
      at({ kind: 'forward-landed', requestId: 1, io: 'write', offsetBytes: 0, lengthBytes: 4096 }),
    ];
    expect(eventsAnnouncement(2, events)).toBe(`Inside step 2: ${describeEvent(events[0]!)}, and 2 more events`);
    expect(eventsAnnouncement(2, events.slice(0, 2))).toBe(`Inside step 2: ${describeEvent(events[0]!)}, and 1 more event`);
    expect(eventsAnnouncement(3, [])).toBe('Inside step 3: no event');
  });
});
