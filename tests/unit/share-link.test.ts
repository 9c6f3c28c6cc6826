/**
 * Share links: a scenario and a step survive the round trip through `#scenario=<data>&step=N`
 * (deflate-raw + base64url), `?scenario=<URL>&step=N` is parsed, and every kind of bad link
 * gives a message saying what is wrong instead of throwing.
 */
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeScenarioData,
  decodeShareLink,
  encodeShareFragment,
  fetchLinkedScenario,
  fromBase64Url,
  MAX_LINK_SCENARIO_BYTES,
  shareLinkFor,
  toBase64Url,
} from '../../src/ui/lib/share-link.js';
import { listScenarioFiles } from '../support/scenario-files.js';

const APP = 'https://colo.example/app/';

async function errorOf(href: string): Promise<string> {
  const link = await decodeShareLink(href);
  if (link.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(link).slice(0, 200)}`);
  return link.message;
}

describe('self-contained links', () => {
  it('round-trips every public scenario at a step', async () => {
    for (const [index, file] of listScenarioFiles().slice(0, 40).entries()) {
      const text = readFileSync(file, 'utf8');
      const link = await shareLinkFor(`${APP}?x=1#old`, text, index);
      expect(link.startsWith(`${APP}#scenario=`)).toBe(true);
      expect(await decodeShareLink(link)).toEqual({ kind: 'inline', scenarioText: text, step: index });
    }
  });

  it('compresses: a scenario link is much shorter than the file', async () => {
    const text = readFileSync(listScenarioFiles()[0]!, 'utf8');
    const fragment = await encodeShareFragment(text.repeat(1));
    expect(fragment.length).toBeLessThan(text.length);
    expect(fragment).toMatch(/^#scenario=[A-Za-z0-9_-]+$/);
  });

  it('round-trips any text (unicode included) and any step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.option(fc.nat(), { nil: undefined }), async (value, step) => {
        const text = JSON.stringify({ title: value });
        expect(await decodeShareLink(`${APP}${await encodeShareFragment(text, step)}`)).toEqual({ kind: 'inline', scenarioText: text, step });
      }),
      { numRuns: 60 },
    );
  });

  it('base64url matches Node\'s encoder, both ways', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const encoded = toBase64Url(bytes);
        expect(encoded).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64Url(encoded)).toEqual(bytes);
      }),
    );
  });

  it('data made by zlib decodes (the format is plain deflate-raw)', async () => {
    const text = '{"format":"colo-sim/1"}';
    const data = deflateRawSync(Buffer.from(text)).toString('base64url');
    expect(await decodeShareLink(`${APP}#step=3&scenario=${data}`)).toEqual({ kind: 'inline', scenarioText: text, step: 3 });
  });

  it('refuses an encode step that is not a whole number', async () => {
    await expect(encodeShareFragment('{}', -1)).rejects.toThrow(RangeError);
    await expect(encodeShareFragment('{}', 1.5)).rejects.toThrow(RangeError);
  });
});

describe('bad self-contained links say what is wrong', () => {
  const good = encodeShareFragment(JSON.stringify({ format: 'colo-sim/1', title: 'x'.repeat(200), steps: Array.from({ length: 50 }, (_, i) => ({ op: 'run', for: `${i}ms` })) }), 4);

  it('cut short: every truncation of the data is an error message, never a throw or a wrong scenario', async () => {
    const fragment = await good;
    const data = /scenario=([^&]+)/.exec(fragment)![1]!;
    for (let length = 0; length < data.length; length += 7) {
      const message = await errorOf(`${APP}#scenario=${data.slice(0, length)}&step=4`);
      expect(message).toMatch(/empty|cut short|damaged|not valid JSON/);
    }
  });

  it('a character base64url does not use', async () => {
    expect(await errorOf(`${APP}#scenario=abc$def`)).toMatch(/character base64url does not use \("\$" at position 4\)/);
  });

  it('bytes that are not deflate data', async () => {
    expect(await errorOf(`${APP}#scenario=${toBase64Url(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))}`)).toMatch(/damaged or cut short/);
  });

  it('deflate data that is not UTF-8, or not JSON', async () => {
    expect(await errorOf(`${APP}#scenario=${deflateRawSync(Buffer.from([0xc3, 0x28])).toString('base64url')}`)).toMatch(/not to UTF-8 text/);
    expect(await errorOf(`${APP}#scenario=${deflateRawSync(Buffer.from('{"steps": [')).toString('base64url')}`)).toMatch(/not valid JSON/);
  });

  it('a decompression bomb is refused', async () => {
    const bomb = deflateRawSync(Buffer.alloc(MAX_LINK_SCENARIO_BYTES + 1, 0x20)).toString('base64url');
    expect(await errorOf(`${APP}#scenario=${bomb}`)).toMatch(/larger than 4 MiB/);
  });

  it('bad steps', async () => {
    const fragment = await good;
    const data = /scenario=([^&]+)/.exec(fragment)![1]!;
    expect(await errorOf(`${APP}#scenario=${data}&step=-1`)).toMatch(/whole number of steps \(0 or more\), not "-1"/);
    expect(await errorOf(`${APP}#scenario=${data}&step=two`)).toMatch(/not "two"/);
    expect(await errorOf(`${APP}#scenario=${data}&step=1&step=2`)).toMatch(/more than one step=/);
    expect(await errorOf(`${APP}#scenario=${data}&step=99999999999999999999`)).toMatch(/too large/);
    expect(await errorOf(`${APP}#scenario=`)).toMatch(/empty/);
  });
});

describe('links by address', () => {
  it('resolves relative and absolute addresses, with the step', async () => {
    expect(await decodeShareLink(`${APP}?scenario=scenarios/colo/01.json&step=7`)).toEqual({ kind: 'url', url: 'https://colo.example/app/scenarios/colo/01.json', step: 7 });
    expect(await decodeShareLink(`${APP}?scenario=${encodeURIComponent('https://other.example/s.json?a=1&b=2')}`)).toEqual({ kind: 'url', url: 'https://other.example/s.json?a=1&b=2', step: undefined });
  });

  it('no scenario: nothing to do; the fragment wins over the query', async () => {
    expect(await decodeShareLink(`${APP}?step=3`)).toEqual({ kind: 'none' });
    expect(await decodeShareLink(APP)).toEqual({ kind: 'none' });
    const fragment = await encodeShareFragment('{"a":1}', 2);
    expect(await decodeShareLink(`${APP}?scenario=x.json${fragment}`)).toMatchObject({ kind: 'inline', step: 2 });
  });

  it('bad addresses and steps', async () => {
    expect(await errorOf(`${APP}?scenario=`)).toMatch(/empty/);
    expect(await errorOf(`${APP}?scenario=javascript:alert(1)`)).toMatch(/must be http or https, not javascript/);
    expect(await errorOf(`${APP}?scenario=a.json&step=x`)).toMatch(/whole number/);
    expect(await errorOf(`${APP}?scenario=a.json&scenario=b.json`)).toMatch(/more than one scenario=/);
    expect(await errorOf('not a url')).toMatch(/not a valid URL/);
  });

  it('fetching: HTTP errors, network errors, empty files and web pages are messages', async () => {
    const answer = (status: number, body: string) => async () => new Response(body, { status, statusText: status === 404 ? 'Not Found' : '' });
    expect(await fetchLinkedScenario('https://x/s.json', answer(200, '{"a":1}'))).toEqual({ ok: true, text: '{"a":1}' });
    expect(await fetchLinkedScenario('https://x/s.json', answer(404, 'no'))).toEqual({ ok: false, message: 'the scenario at https://x/s.json could not be fetched: the server answered 404 Not Found' });
    expect(await fetchLinkedScenario('https://x/s.json', answer(200, '  '))).toEqual({ ok: false, message: 'the scenario at https://x/s.json is empty' });
    const page = async () => new Response('<!doctype html><html><body>colo-sim</body></html>', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(await fetchLinkedScenario('https://x/missing.json', page)).toEqual({
      ok: false,
      message: 'the server answered https://x/missing.json with a web page, not a scenario file: is the address right? (many servers answer a missing file with their home page)',
    });
    // A scenario served with a wrong type is still a scenario.
    const mislabelled = async () => new Response('{"a":1}', { status: 200, headers: { 'content-type': 'text/html' } });
    expect(await fetchLinkedScenario('https://x/s.json', mislabelled)).toEqual({ ok: true, text: '{"a":1}' });
    const failing = await fetchLinkedScenario('https://x/s.json', async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(failing).toEqual({ ok: false, message: expect.stringMatching(/could not be fetched \(Failed to fetch\).*CORS/) });
  });

  it('decodeScenarioData on its own', async () => {
    expect(await decodeScenarioData('')).toEqual({ ok: false, message: "the link's scenario data is empty" });
  });
});
