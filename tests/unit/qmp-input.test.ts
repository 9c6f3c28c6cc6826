/** src/ui/lib/qmp-input.ts: what a QMP console reads as a command, and why it sends nothing else. */
import { describe, expect, it } from 'vitest';
import { parseQmpInput } from '../../src/ui/lib/qmp-input.js';

describe('parseQmpInput', () => {
  it("reads QMP's own JSON, with or without arguments", () => {
    expect(parseQmpInput('{"execute": "query-status"}')).toEqual({ ok: true, execute: 'query-status' });
    expect(parseQmpInput('  {"execute":"migrate","arguments":{"uri":"tcp:secondary:9998"}} ')).toEqual({ ok: true, execute: 'migrate', arguments: { uri: 'tcp:secondary:9998' } });
  });

  it('reads the short form: a name, then its arguments as one JSON object', () => {
    expect(parseQmpInput('query-status')).toEqual({ ok: true, execute: 'query-status' });
    expect(parseQmpInput('migrate-set-parameters {"x-checkpoint-delay": 200}')).toEqual({ ok: true, execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 200 } });
    expect(parseQmpInput('qmp_capabilities {}')).toEqual({ ok: true, execute: 'qmp_capabilities', arguments: {} });
    // An unknown name is sent: QEMU answers CommandNotFound.
    expect(parseQmpInput('query-cheese')).toEqual({ ok: true, execute: 'query-cheese' });
  });

  it('sends nothing for input that is no command, and says why', () => {
    const message = (text: string) => {
      const parsed = parseQmpInput(text);
      return parsed.ok ? 'sent' : parsed.message;
    };
    expect(message('')).toMatch(/^Type a command/);
    expect(message('{"execute": "query-status"')).toMatch(/^Not valid JSON: /);
    expect(message('migrate {"uri": tcp}')).toMatch(/^Not valid JSON: /);
    expect(message('[1]')).toBe('"[1]" is not a command name: names are letters, digits, "-", "_" and "." (type QMP\'s JSON with a "{").');
    expect(message('{"arguments": {}}')).toBe('The object needs "execute": the command\'s name.');
    expect(message('{"execute": 3}')).toBe('"execute" must be a string: the command\'s name.');
    expect(message('{"execute": "stop", "arguments": []}')).toBe('"arguments" must be a JSON object.');
    expect(message('{"execute": "stop", "id": 1}')).toBe('This console sends "execute" and "arguments" only; leave out "id".');
    expect(message('migrate tcp:secondary:9998')).toBe('After the command name come its arguments as one JSON object, e.g. migrate-set-parameters {"x-checkpoint-delay": 200}.');
    expect(message('migrate [1]')).toBe('After the command name come its arguments as one JSON object, e.g. migrate-set-parameters {"x-checkpoint-delay": 200}.');
    expect(message('migrate {} {}')).toMatch(/^Not valid JSON: /);
  });
});
