/**
 * What is typed into a QMP console, read as a command: QMP's own JSON
 * (`{"execute": "query-status"}`, with `"arguments"`) or colo-sim's short form (`query-status`,
 * `migrate-set-parameters {"x-checkpoint-delay": 200}`). Input that is no command is not sent:
 * the message says why, in colo-sim's words (QEMU's JSON parser and its dispatcher's checks are
 * not in colo-sim's QEMU sources, so their exact texts are not claimed).
 */

export type QmpInput = { readonly ok: true; readonly execute: string; readonly arguments?: Record<string, unknown> } | { readonly ok: false; readonly message: string };

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const SHORT_FORM_EXAMPLE = 'migrate-set-parameters {"x-checkpoint-delay": 200}';

export function parseQmpInput(text: string): QmpInput {
  const input = text.trim();
  if (input === '') return { ok: false, message: 'Type a command: a name (query-status), a name and its arguments as JSON, or QMP\'s {"execute": …}.' };
  if (input.startsWith('{')) return fromJson(input);
  const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(input)!;
  const name = match[1]!;
  const rest = match[2]?.trim() ?? '';
  if (!NAME.test(name)) return { ok: false, message: `"${name}" is not a command name: names are letters, digits, "-", "_" and "." (type QMP's JSON with a "{").` };
  if (rest === '') return { ok: true, execute: name };
  if (!rest.startsWith('{')) return { ok: false, message: `After the command name come its arguments as one JSON object, e.g. ${SHORT_FORM_EXAMPLE}.` };
  const parsed = parseJson(rest);
  if (!parsed.ok) return parsed;
  if (!isObject(parsed.value)) return { ok: false, message: `The arguments must be one JSON object, e.g. ${SHORT_FORM_EXAMPLE}.` };
  return { ok: true, execute: name, arguments: parsed.value };
}

function fromJson(input: string): QmpInput {
  const parsed = parseJson(input);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return { ok: false, message: 'A QMP command is one JSON object: {"execute": "query-status"}.' };
  const unexpected = Object.keys(value).filter((key) => key !== 'execute' && key !== 'arguments');
  if (unexpected.length > 0) return { ok: false, message: `This console sends "execute" and "arguments" only; leave out ${unexpected.map((key) => `"${key}"`).join(', ')}.` };
  if (typeof value.execute !== 'string') return { ok: false, message: value.execute === undefined ? 'The object needs "execute": the command\'s name.' : '"execute" must be a string: the command\'s name.' };
  if (value.arguments === undefined) return { ok: true, execute: value.execute };
  if (!isObject(value.arguments)) return { ok: false, message: '"arguments" must be a JSON object.' };
  return { ok: true, execute: value.execute, arguments: value.arguments };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `Not valid JSON: ${detail}.` };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
