/**
 * The event bus stamps each event in place (sim/events.ts): listeners see the body given, with
 * its time and sequence number last, as a copy put them (a trace prints the keys in this order),
 * and an event emitted by a listener reaches everybody after the one being delivered.
 */
import { describe, expect, it } from 'vitest';
import { EventBus, type SimEvent } from '../../src/engine/sim/events.js';

describe('the event bus', () => {
  it('stamps the body it is given, time and sequence last', () => {
    let nowUs = 7;
    const bus = new EventBus(() => nowUs);
    const seen: SimEvent[] = [];
    bus.subscribe((event) => seen.push(event));
    const body = { kind: 'link-changed' as const, up: false };
    bus.emit(body);
    nowUs = 9;
    bus.emit({ kind: 'fault-cleared' });
    expect(seen[0]).toBe(body);
    expect(JSON.stringify(seen)).toBe('[{"kind":"link-changed","up":false,"timeUs":7,"sequence":0},{"kind":"fault-cleared","timeUs":9,"sequence":1}]');
    expect(bus.nextSequenceValue).toBe(2);
  });

  it('delivers an event a listener emits after the current one has reached every listener', () => {
    const bus = new EventBus(() => 0);
    const order: string[] = [];
    bus.subscribe((event) => {
      order.push(`a:${event.kind}:${event.sequence}`);
      if (event.kind === 'fault-injected') bus.emit({ kind: 'fault-cleared' });
    });
    bus.subscribe((event) => order.push(`b:${event.kind}:${event.sequence}`));
    bus.emit({ kind: 'fault-injected', description: 'x' });
    bus.emit({ kind: 'link-changed', up: true });
    expect(order).toEqual(['a:fault-injected:0', 'b:fault-injected:0', 'a:fault-cleared:1', 'b:fault-cleared:1', 'a:link-changed:2', 'b:link-changed:2']);
  });
});
