/**
 * The event log's node of an event (src/ui/lib/event-log.ts nodeOf): forwarded writes name no
 * node, so the log files them under the pair's NBD client and, landing, its secondary disk —
 * the first pair's names, or after "resume replication" the new pair's.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/engine/sim/events.js';
import { EventLog, nodeOf } from '../../src/ui/lib/event-log.js';

const SENT: SimEvent = { timeUs: 0, sequence: 1, kind: 'forward-sent', requestId: 7, io: 'write', offsetBytes: 0, lengthBytes: 4096, fillByte: 0x22, arrivesAtUs: 500 };
const LANDED: SimEvent = { timeUs: 500, sequence: 2, kind: 'forward-landed', requestId: 7, io: 'write', offsetBytes: 0, lengthBytes: 4096 };

describe("the event log's node of a forwarded write", () => {
  it("is the first pair's NBD client and secondary disk when no pair is given", () => {
    expect([nodeOf(SENT), nodeOf(LANDED)]).toEqual(['nbd-client', 'secondary-disk']);
  });

  it("is the resumed pair's NBD client and data disk after a resume", () => {
    const forward = { nbdClient: 'replication0-nbd', secondaryDisk: 'primary-disk' };
    expect([nodeOf(SENT, forward), nodeOf(LANDED, forward)]).toEqual(['replication0-nbd', 'primary-disk']);
    const hosts: Record<string, 'primary' | 'secondary'> = { 'replication0-nbd': 'primary', 'primary-disk': 'secondary' };
    const log = new EventLog((node) => hosts[node], () => forward);
    log.push(SENT);
    log.push(LANDED);
    expect(log.filter(undefined).map((entry) => [entry.node, entry.host])).toEqual([
      ['replication0-nbd', 'primary'],
      ['primary-disk', 'secondary'],
    ]);
  });
});
