/**
 * Where and why a scenario file is not JSON. JSON.parse's messages differ between engines and
 * some carry no position (V8's "Unexpected token"), so jsonc-parser's scanner, strict about
 * comments and trailing commas, locates the first error the same way everywhere.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

export function describeJsonError(text: string, parseFailure: unknown): string {
  if (text.trim() === '') return 'invalid JSON: the file is empty';
  // UTF-16 decoded as UTF-8 (as Blob.text() and the CLI decode) puts a NUL beside every ASCII character.
  if (text.slice(0, 64).includes('\u0000')) return 'invalid JSON: the file is UTF-16 text (NUL bytes between its characters); save it as UTF-8';
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) {
    const message = parseFailure instanceof Error ? parseFailure.message : String(parseFailure);
    return `invalid JSON: ${message.replace(/\s+/g, ' ')}`;
  }
  const { line, column } = lineAndColumn(text, first.offset);
  return `invalid JSON at line ${line}, column ${column}: ${explain(text, first)}`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function explain(text: string, error: ParseError): string {
  const atEnd = text.slice(error.offset).trim() === '';
  const found = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  switch (printParseErrorCode(error.error)) {
    case 'InvalidSymbol':
      return `unexpected ${quoteVisibly(text.slice(error.offset, error.offset + error.length))} (a string needs double quotes; true, false and null are lower case)`;
    case 'ValueExpected':
      if (atEnd) return 'the file ends where a value was expected';
      return found === ']' || found === '}' ? `expected a value before ${JSON.stringify(found)} (JSON allows no trailing comma)` : 'expected a value';
    case 'PropertyNameExpected':
      return found === '}' ? 'expected a property name before "}" (JSON allows no trailing comma)' : 'expected a property name in double quotes';
    case 'ColonExpected':
      return 'expected ":" after the property name';
    case 'CommaExpected':
      return 'expected "," between two values';
    case 'CloseBraceExpected':
      return atEnd ? 'the file ends inside an object: "}" is missing' : 'expected "," or "}"';
    case 'CloseBracketExpected':
      return atEnd ? 'the file ends inside an array: "]" is missing' : 'expected "," or "]"';
    case 'EndOfFileExpected':
      return 'unexpected text after the end of the document';
    case 'InvalidCommentToken':
    case 'UnexpectedEndOfComment':
      return 'comments are not allowed in JSON';
    case 'UnexpectedEndOfString':
      return 'a string is not closed on its line (write a line break as \\n)';
    case 'InvalidNumberFormat':
    case 'UnexpectedEndOfNumber':
      return 'not a valid JSON number';
    case 'InvalidUnicode':
      return 'a \\u escape needs four hex digits';
    case 'InvalidEscapeCharacter':
      return 'an escape in a string must be one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX';
    case 'InvalidCharacter':
      return 'a control character inside a string must be escaped';
    default:
      return printParseErrorCode(error.error);
  }
}

/**
 * The text in double quotes, with characters that print as nothing (a byte order mark or a
 * zero-width space pasted into the file, other spacing than " ") written as \uXXXX: otherwise
 * the message would point at a character the reader cannot see. Control characters are
 * already escaped by JSON.stringify.
 */
function quoteVisibly(symbol: string): string {
  return JSON.stringify(symbol).replace(/[\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu, (char) =>
    char === ' ' ? char : `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
