/**
 * A strict reader for the XML subset a JUnit report uses (declaration, elements, attributes,
 * text, the five predefined entities and character references), so a test can check that a
 * report is well-formed and read it back without an XML dependency. It throws, naming the
 * offset, on anything a conforming parser would reject within that subset: a mismatched or
 * unclosed tag, an unquoted or repeated attribute, a bare & or <, a character XML 1.0 forbids.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, entities decoded (text of children not included). */
  readonly text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;
const FORBIDDEN_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(source: string): XmlElement {
  const forbidden = FORBIDDEN_CHARACTER.exec(source);
  if (forbidden) fail(forbidden.index, `character U+${forbidden[0].charCodeAt(0).toString(16)} is not allowed in XML`);
  let position = 0;

  function fail(at: number, message: string): never {
    throw new Error(`not well-formed XML at offset ${at}: ${message}`);
  }
  function skipSpace(): void {
    SPACE.lastIndex = position;
    SPACE.exec(source);
    position = SPACE.lastIndex;
  }
  function name(): string {
    NAME.lastIndex = position;
    const match = NAME.exec(source);
    if (!match) fail(position, 'a name was expected');
    position = NAME.lastIndex;
    return match[0];
  }
  function decode(raw: string, at: number): string {
    if (raw.includes('<')) fail(at, 'a bare "<"');
    return raw.replace(/&([^;]*);?/g, (whole, entity: string) => {
      if (!whole.endsWith(';')) fail(at, `"&" not starting an entity: ${JSON.stringify(whole)}`);
      if (entity in ENTITIES) return ENTITIES[entity]!;
      const reference = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(entity);
      if (!reference) fail(at, `unknown entity &${entity};`);
      const code = reference[1]!.startsWith('x') ? parseInt(reference[1]!.slice(1), 16) : Number(reference[1]);
      const char = String.fromCodePoint(code);
      if (FORBIDDEN_CHARACTER.test(char)) fail(at, `&${entity}; refers to a character XML forbids`);
      return char;
    });
  }
  function element(): XmlElement {
    if (source[position] !== '<') fail(position, '"<" expected');
    position++;
    const tag = name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const beforeSpace = position;
      skipSpace();
      if (source.startsWith('/>', position)) {
        position += 2;
        return { name: tag, attributes, children: [], text: '' };
      }
      if (source[position] === '>') {
        position++;
        break;
      }
      if (position === beforeSpace) fail(position, 'space expected before an attribute');
      const attribute = name();
      if (attribute in attributes) fail(position, `attribute ${attribute} repeated`);
      skipSpace();
      if (source[position] !== '=') fail(position, `"=" expected after ${attribute}`);
      position++;
      skipSpace();
      const quote = source[position];
      if (quote !== '"' && quote !== "'") fail(position, `the value of ${attribute} is not quoted`);
      const end = source.indexOf(quote, position + 1);
      if (end < 0) fail(position, `the value of ${attribute} is not closed`);
      // A parser normalizes a literal tab or line break in a value to a space (XML 1.0 §3.3.3).
      attributes[attribute] = decode(source.slice(position + 1, end).replace(/[\t\n\r]/g, ' '), position);
      position = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = source.indexOf('<', position);
      if (next < 0) fail(position, `<${tag}> is not closed`);
      text += decode(source.slice(position, next), position);
      position = next;
      if (source.startsWith('</', position)) {
        position += 2;
        const closing = name();
        if (closing !== tag) fail(position, `</${closing}> closes <${tag}>`);
        skipSpace();
        if (source[position] !== '>') fail(position, '">" expected');
        position++;
        return { name: tag, attributes, children, text };
      }
      children.push(element());
    }
  }

  const declaration = /^<\?xml version="1\.0"( encoding="UTF-8")?\?>/.exec(source);
  if (declaration) position = declaration[0].length;
  skipSpace();
  const root = element();
  skipSpace();
  if (position !== source.length) fail(position, 'text after the root element');
  return root;
}

/** Every element below `root` (root included) with that name, in document order. */
export function elementsNamed(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = root.name === name ? [root] : [];
  for (const child of root.children) out.push(...elementsNamed(child, name));
  return out;
}
