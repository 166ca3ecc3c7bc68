import type { ConfigDiagnostic } from "@wm/protocol";
import {
  Composer,
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  type YAMLError,
  YAMLParseError,
} from "yaml";
import { dotted, type KeyPath } from "./tree.ts";
import { MAX_NESTING, nestingProblem, tooDeepAt } from "./yaml-limits.ts";

export interface Position {
  line: number;
  column: number;
}

/** Where a key (or its value) sits in the file; for a missing key, the nearest existing parent. */
export type Locator = (path: KeyPath, at?: "key" | "value") => Position;

export interface ParsedYaml {
  /** The document as plain data; undefined when the YAML itself is broken. */
  value: unknown;
  locate: Locator;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

type Range = readonly [number, number, number];

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function rangeOf(node: unknown): Range | undefined {
  return isNode(node) ? (node.range as Range | undefined) : undefined;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.source === "";
}

function offsetOf(doc: Document, path: KeyPath, at: "key" | "value"): number {
  let node: unknown = doc.contents;
  let keyOffset = rangeOf(node)?.[0] ?? 0;
  for (const segment of path) {
    const current = deref(doc, node);
    if (isMap(current)) {
      const pair = current.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) return keyOffset;
      keyOffset = rangeOf(pair.key)?.[0] ?? keyOffset;
      node = pair.value;
    } else if (isSeq(current)) {
      const item = current.items[Number(segment)];
      if (item === undefined) return keyOffset;
      keyOffset = rangeOf(item)?.[0] ?? keyOffset;
      node = item;
    } else {
      return keyOffset;
    }
  }
  if (at === "key" || isEmptyScalar(node)) return keyOffset;
  return rangeOf(node)?.[0] ?? keyOffset;
}

function pathAtOffset(node: Node | null | undefined, offset: number): string[] {
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = rangeOf(pair.key);
      if (k && offset >= k[0] && offset < k[2]) return [keyText(pair.key) ?? "?"];
      const v = rangeOf(pair.value);
      if (v && offset >= v[0] && offset < v[2]) {
        return [keyText(pair.key) ?? "?", ...pathAtOffset(pair.value as Node, offset)];
      }
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const r = rangeOf(item);
      if (r && offset >= r[0] && offset < r[2]) {
        return [String(i), ...pathAtOffset(item as Node, offset)];
      }
    }
  }
  return [];
}

/** How many times the data of one anchor may be repeated through aliases (yaml's default). */
const MAX_ALIAS_COUNT = 100;

function describeYamlError(error: YAMLError): string {
  if (error.code === "DUPLICATE_KEY") return "duplicate key: a key may appear only once in a map";
  if (error.code === "MULTIPLE_DOCS")
    return "invalid YAML: the file must hold one document (no ---)";
  return `invalid YAML: ${error.message.split("\n")[0]}`;
}

const DATA_MESSAGES = {
  "alias bomb": `invalid YAML: its aliases (*name) expand to too much data; wm repeats an anchor's data at most ${MAX_ALIAS_COUNT} times`,
  cycle: "invalid YAML: an alias (*name) is used inside the collection its anchor names",
  "too deep": `invalid YAML: with its aliases (*name) resolved, the data nests more than ${MAX_NESTING} levels deep`,
};

/** The file's data, aliases resolved, or what stops it from being read as data. */
function toData(doc: Document.Parsed): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith("Excessive alias count")) return { error: DATA_MESSAGES["alias bomb"] };
    return { error: `invalid YAML: ${message}` };
  }
  const problem = nestingProblem(value);
  return problem ? { error: DATA_MESSAGES[problem] } : { value };
}

/**
 * The file's one document; a second one is an error in it. Nothing is composed (composing
 * recurses once per level) when collections nest deeper than MAX_NESTING: then where they do.
 */
function composeOne(
  text: string,
  lineCounter: LineCounter,
): { doc: Document.Parsed } | { tooDeepAt: number } {
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const deep = tooDeepAt(tokens);
  if (deep !== undefined) return { tooDeepAt: deep };
  const docs = new Composer({ uniqueKeys: true }).compose(tokens, true, text.length);
  const first = docs.next();
  if (first.done) throw new Error("the YAML composer gave no document");
  const doc = first.value;
  const second = docs.next();
  if (!second.done) {
    const [start, end] = second.value.range;
    doc.errors.push(new YAMLParseError([start, end], "MULTIPLE_DOCS", "more than one document"));
  }
  return { doc };
}

export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const composed = composeOne(text, lineCounter);
  if ("tooDeepAt" in composed) {
    const at = position(composed.tooDeepAt);
    const message = `invalid YAML: nested more than ${MAX_NESTING} levels deep`;
    return {
      value: undefined,
      locate: () => at,
      errors: [{ file, key: "", ...at, message }],
      warnings: [],
    };
  }
  const { doc } = composed;
  const diagnostic = (error: YAMLError): ConfigDiagnostic => {
    // An unclosed quote is found where the file ends; point at where its value starts.
    const unclosed = error.code === "MISSING_CHAR";
    const path = pathAtOffset(
      doc.contents,
      unclosed ? Math.max(0, error.pos[0] - 1) : error.pos[0],
    );
    const offset = unclosed && path.length > 0 ? offsetOf(doc, path, "value") : error.pos[0];
    return { file, key: dotted(path), ...position(offset), message: describeYamlError(error) };
  };
  const locate: Locator = (path, at = "value") => position(offsetOf(doc, path, at));
  const errors = doc.errors.map(diagnostic);
  const warnings = doc.warnings.map(diagnostic);
  if (errors.length > 0) return { value: undefined, locate, errors, warnings };
  const data = toData(doc);
  if ("error" in data) {
    errors.push({ file, key: "", line: 1, column: 1, message: data.error });
    return { value: undefined, locate, errors, warnings };
  }
  return { value: data.value, locate, errors, warnings };
}
