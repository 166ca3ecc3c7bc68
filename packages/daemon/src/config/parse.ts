import type { ConfigDiagnostic } from "@wm/protocol";
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from "yaml";
import { dotted, type KeyPath } from "./tree.ts";

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

function describeYamlError(error: YAMLError): string {
  if (error.code === "DUPLICATE_KEY") return "duplicate key: a key may appear only once in a map";
  if (error.code === "MULTIPLE_DOCS")
    return "invalid YAML: the file must hold one document (no ---)";
  return `invalid YAML: ${error.message.split("\n")[0]}`;
}

export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
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
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), locate, errors, warnings };
  } catch (err) {
    const message = `invalid YAML: ${err instanceof Error ? err.message : String(err)}`;
    return {
      value: undefined,
      locate,
      errors: [{ file, key: "", line: 1, column: 1, message }],
      warnings,
    };
  }
}
