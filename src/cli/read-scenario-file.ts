/**
 * Reads a scenario file as the app does. The app takes a file's text from Blob.text() or
 * Response.text(), which decode UTF-8 the WHATWG way: a leading byte order mark is dropped
 * and a malformed byte becomes U+FFFD. Node's readFileSync(file, 'utf8') keeps the BOM, which
 * then fails JSON.parse: a file saved by an editor that adds one (Notepad) would pass in the
 * app and be invalid on the command line. TextDecoder is the same decoder the browser uses.
 */
import { readFileSync } from 'node:fs';

export type ReadResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/** The read errors a user meets, in words (the code stays for searching). */
const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

export function readScenarioFile(file: string): ReadResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === undefined ? undefined : READ_ERRORS[code];
    return { ok: false, message: `cannot read the file: ${what ? `${what} (${code})` : (code ?? String(error))}` };
  }
  return { ok: true, text: new TextDecoder('utf-8').decode(bytes) };
}
