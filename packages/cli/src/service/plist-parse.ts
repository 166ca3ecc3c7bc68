export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

class XmlReader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    const line = this.text.slice(0, this.pos).split("\n").length;
    throw new Error(`XML line ${line}: ${message}`);
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`expected "${s}"`);
    this.pos += s.length;
  }
  skipUntil(end: string): string {
    const i = this.text.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated, expected "${end}"`);
    const body = this.text.slice(this.pos, i);
    this.pos = i + end.length;
    return body;
  }
  whitespace(): void {
    while (/\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }
  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }
  decode(raw: string): string {
    if (raw.includes("<")) this.fail('"<" in text');
    return raw.replace(/&([^;]*);|&/g, (all, ref: string | undefined) => {
      if (ref === undefined) this.fail('bare "&" in text');
      if (ref in ENTITIES) return ENTITIES[ref] as string;
      const m = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(ref);
      if (!m) this.fail(`unknown entity ${all}`);
      return String.fromCodePoint(m[1] ? Number.parseInt(m[1], 16) : Number(m[2]));
    });
  }
  miscellany(): void {
    for (;;) {
      this.whitespace();
      if (this.startsWith("<!--")) {
        this.pos += 4;
        if (this.skipUntil("-->").includes("--")) this.fail('"--" inside a comment');
      } else if (this.startsWith("<!DOCTYPE")) {
        if (this.skipUntil(">").includes("["))
          this.fail("DOCTYPE internal subsets are not supported");
      } else return;
    }
  }
  element(): XmlElement {
    this.expect("<");
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      this.whitespace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return { name, attributes, children: [] };
      }
      if (this.startsWith(">")) break;
      const attr = this.name();
      this.whitespace();
      this.expect("=");
      this.whitespace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attr} needs a quoted value`);
      this.pos++;
      if (attr in attributes) this.fail(`duplicate attribute ${attr}`);
      attributes[attr] = this.decode(this.skipUntil(quote));
    }
    this.pos++;
    const children: (XmlElement | string)[] = [];
    for (;;) {
      const next = this.text.indexOf("<", this.pos);
      if (next < 0) this.fail(`<${name}> is not closed`);
      if (next > this.pos) children.push(this.decode(this.text.slice(this.pos, next)));
      this.pos = next;
      if (this.startsWith("</")) {
        this.pos += 2;
        if (this.name() !== name) this.fail(`mismatched closing tag for <${name}>`);
        this.whitespace();
        this.expect(">");
        return { name, attributes, children };
      }
      if (this.startsWith("<!--")) {
        this.pos += 4;
        this.skipUntil("-->");
      } else children.push(this.element());
    }
  }
}

/** Parses a well-formed XML document (no DTD subsets, CDATA or processing instructions inside). */
export function parseXml(text: string): XmlElement {
  const reader = new XmlReader(text);
  if (reader.startsWith("<?xml")) reader.skipUntil("?>");
  reader.miscellany();
  const root = reader.element();
  reader.miscellany();
  if (reader.pos !== text.length) reader.fail("content after the root element");
  return root;
}

function elementsOf(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => {
    if (typeof c === "string" && c.trim() !== "")
      throw new Error(`stray text in <${el.name}>: "${c.trim()}"`);
    return typeof c !== "string";
  });
}

function textOf(el: XmlElement): string {
  if (el.children.some((c) => typeof c !== "string"))
    throw new Error(`<${el.name}> must hold text only`);
  return el.children.join("");
}

function plistValue(el: XmlElement): PlistValue {
  switch (el.name) {
    case "string":
    case "date":
    case "data":
      return textOf(el);
    case "integer":
    case "real": {
      const text = textOf(el).trim();
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`<${el.name}> is not a number: "${text}"`);
      return Number(text);
    }
    case "true":
    case "false":
      if (el.children.length > 0) throw new Error(`<${el.name}/> must be empty`);
      return el.name === "true";
    case "array":
      return elementsOf(el).map(plistValue);
    case "dict": {
      const items = elementsOf(el);
      const dict: { [key: string]: PlistValue } = {};
      for (let i = 0; i < items.length; i += 2) {
        const key = items[i];
        const value = items[i + 1];
        if (key?.name !== "key" || !value) throw new Error("<dict> needs <key> and value pairs");
        const name = textOf(key);
        if (Object.hasOwn(dict, name)) throw new Error(`duplicate key ${name}`);
        dict[name] = plistValue(value);
      }
      return dict;
    }
    default:
      throw new Error(`<${el.name}> is not a plist element`);
  }
}

/** Parses an XML property list strictly and returns its top-level value. */
export function parsePlist(text: string): PlistValue {
  const root = parseXml(text);
  if (root.name !== "plist") throw new Error(`root element is <${root.name}>, not <plist>`);
  const [only, ...rest] = elementsOf(root);
  if (!only || rest.length > 0) throw new Error("<plist> must hold exactly one value");
  return plistValue(only);
}
