/**
 * Share links: a link that opens the app on a scenario at a step.
 *
 * - Self-contained: `#scenario=<data>&step=N`, where `<data>` is the scenario file's text
 *   (UTF-8) compressed with deflate-raw (CompressionStream) and base64url-encoded (RFC 4648 §5,
 *   no padding). It lives in the fragment, so it never reaches a server.
 * - By address: `?scenario=<URL of a scenario file>&step=N` (relative to the page, or any
 *   server that allows the page to read it).
 *
 * `step` is the number of steps run (0 = before the first; absent = none chosen). Decoding never
 * throws: every problem comes back as `{ kind: 'error', message }` saying what is wrong with the
 * link, for the page to show (the saved simulation is not touched). Pure: no DOM, no Svelte; it
 * needs CompressionStream / DecompressionStream (browsers, Node 18+).
 */

/** Largest scenario text a link may carry once decompressed, in bytes (a bigger one is refused, not inflated). */
export const MAX_LINK_SCENARIO_BYTES = 4 * 1024 * 1024;

export type ShareLink =
  /** The address names no scenario. */
  | { readonly kind: 'none' }
  /** A scenario carried in the link: its text (valid JSON; the caller validates it as a scenario). */
  | { readonly kind: 'inline'; readonly scenarioText: string; readonly step: number | undefined }
  /** A scenario to fetch from `url` (absolute, http or https). */
  | { readonly kind: 'url'; readonly url: string; readonly step: number | undefined }
  /** The link names a scenario but cannot be used: `message` says why, in a sentence. */
  | { readonly kind: 'error'; readonly message: string };

/**
 * The fragment of a self-contained link (`#scenario=...&step=N`) for a scenario file's text.
 * `step` (a whole number >= 0) is left out when undefined. Throws RangeError on a bad step.
 */
export async function encodeShareFragment(scenarioText: string, step?: number): Promise<string> {
  if (step !== undefined && !(Number.isSafeInteger(step) && step >= 0)) throw new RangeError(`step must be a whole number >= 0, got ${step}`);
  const compressed = await transform(new TextEncoder().encode(scenarioText), new CompressionStream('deflate-raw'));
  return `#scenario=${toBase64Url(compressed)}${step === undefined ? '' : `&step=${step}`}`;
}

/** A whole self-contained link: `base` (the app's address; its own query and fragment are dropped) plus the fragment. */
export async function shareLinkFor(base: string, scenarioText: string, step?: number): Promise<string> {
  const url = new URL(base);
  url.search = '';
  url.hash = '';
  return `${url.toString()}${await encodeShareFragment(scenarioText, step)}`;
}

/**
 * What the page's address asks for. `href` is the page's full address (location.href). The
 * fragment's `scenario` wins over the query's when both are there. Never throws.
 */
export async function decodeShareLink(href: string): Promise<ShareLink> {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return { kind: 'error', message: `the address "${clip(href)}" is not a valid URL` };
  }
  const fragment = new URLSearchParams(url.hash.startsWith('#') ? url.hash.slice(1) : url.hash);
  if (fragment.has('scenario')) {
    const step = parseStep(fragment.getAll('step'));
    if (typeof step === 'string') return { kind: 'error', message: step };
    const data = fragment.getAll('scenario');
    if (data.length > 1) return { kind: 'error', message: 'the link has more than one scenario= in its fragment' };
    const text = await decodeScenarioData(data[0]!);
    if (!text.ok) return { kind: 'error', message: text.message };
    return { kind: 'inline', scenarioText: text.text, step };
  }
  const query = url.searchParams;
  if (!query.has('scenario')) return { kind: 'none' };
  const step = parseStep(query.getAll('step'));
  if (typeof step === 'string') return { kind: 'error', message: step };
  const addresses = query.getAll('scenario');
  if (addresses.length > 1) return { kind: 'error', message: 'the link has more than one scenario= in its query' };
  const address = addresses[0]!.trim();
  if (address === '') return { kind: 'error', message: 'the link\'s scenario= is empty: it should be the address of a scenario file' };
  let target: URL;
  try {
    target = new URL(address, url);
  } catch {
    return { kind: 'error', message: `the link's scenario address "${clip(address)}" is not a valid URL` };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { kind: 'error', message: `the link's scenario address must be http or https, not ${target.protocol.replace(/:$/, '')}` };
  return { kind: 'url', url: target.toString(), step };
}

/**
 * The scenario text carried by a link's `<data>`: base64url, then deflate-raw, then UTF-8, then
 * JSON. Every failure says which of these is wrong. Never throws.
 */
export async function decodeScenarioData(data: string): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  if (data === '') return { ok: false, message: 'the link\'s scenario data is empty' };
  const bytes = fromBase64Url(data);
  if (typeof bytes === 'string') return { ok: false, message: bytes };
  let inflated: Uint8Array;
  try {
    inflated = await transform(bytes, new DecompressionStream('deflate-raw'), MAX_LINK_SCENARIO_BYTES);
  } catch (error) {
    if (error instanceof TooLarge) return { ok: false, message: `the link's scenario is larger than ${MAX_LINK_SCENARIO_BYTES / (1024 * 1024)} MiB once decompressed; it is refused` };
    return { ok: false, message: 'the link\'s scenario data is damaged or cut short (it does not decompress): copy the whole link again' };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch {
    return { ok: false, message: 'the link\'s scenario data decompresses, but not to UTF-8 text' };
  }
  try {
    JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `the link's scenario is not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  return { ok: true, text };
}

/**
 * Fetches a scenario named by a `?scenario=` link with `fetchText` (the page passes `fetch`).
 * Never throws: a network failure, an HTTP error, an empty answer or a web page instead of a file
 * comes back as a message.
 */
export async function fetchLinkedScenario(url: string, fetchText: (url: string) => Promise<Response>): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  let response: Response;
  try {
    response = await fetchText(url);
  } catch (error) {
    return { ok: false, message: `the scenario at ${url} could not be fetched (${error instanceof Error ? error.message : String(error)}); another site must allow this page to read it (CORS)` };
  }
  if (!response.ok) return { ok: false, message: `the scenario at ${url} could not be fetched: the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}` };
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { ok: false, message: `the scenario at ${url} could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
  if (text.trim() === '') return { ok: false, message: `the scenario at ${url} is empty` };
  // Many servers (a single-page app's among them) answer a missing file with their index page.
  if ((response.headers.get('content-type') ?? '').startsWith('text/html') && text.trimStart().startsWith('<')) {
    return { ok: false, message: `the server answered ${url} with a web page, not a scenario file: is the address right? (many servers answer a missing file with their home page)` };
  }
  return { ok: true, text };
}

// ---- helpers ---------------------------------------------------------------------------------

/** The step, undefined when absent, or a message. */
function parseStep(values: string[]): number | undefined | string {
  if (values.length === 0) return undefined;
  if (values.length > 1) return 'the link has more than one step=';
  const text = values[0]!.trim();
  if (!/^\d+$/.test(text)) return `the link's step must be a whole number of steps (0 or more), not "${clip(text)}"`;
  const step = Number(text);
  if (!Number.isSafeInteger(step)) return `the link's step ${clip(text)} is too large`;
  return step;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** RFC 4648 §5 base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let index = 0; index < bytes.length; index += 3) {
    const a = bytes[index]!;
    const b = bytes[index + 1];
    const c = bytes[index + 2];
    out += BASE64URL[a >> 2]! + BASE64URL[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    if (b !== undefined) out += BASE64URL[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    if (c !== undefined) out += BASE64URL[c & 63]!;
  }
  return out;
}

/** Bytes of base64url text (padding tolerated), or a message saying what is wrong. */
export function fromBase64Url(text: string): Uint8Array | string {
  const body = text.replace(/=+$/, '');
  const bad = /[^A-Za-z0-9_-]/.exec(body);
  if (bad) return `the link's scenario data has a character base64url does not use ("${bad[0]}" at position ${bad.index + 1}); was the link changed?`;
  if (body.length % 4 === 1) return 'the link\'s scenario data is cut short (its length is not possible in base64url): copy the whole link again';
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let position = 0;
  for (const char of body) {
    value = (value << 6) | BASE64URL.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[position++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

class TooLarge extends Error {}

/** Runs bytes through a compression stream; stops with TooLarge past `maxBytes` of output. */
async function transform(input: Uint8Array, stream: CompressionStream | DecompressionStream, maxBytes = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  const written = writer.write(input as Uint8Array<ArrayBuffer>).then(() => writer.close());
  // A write or close that fails is reported by the reader as well; do not leave it unhandled.
  written.catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
  }
  await written;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
