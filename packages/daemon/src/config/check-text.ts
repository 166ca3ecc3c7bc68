import type { ConfigDiagnostic } from "@wm/protocol";
import { dropGlobalOnlyKeys } from "./global-only.ts";
import { normaliseFile } from "./normalise.ts";
import { type Position, parseYaml } from "./parse.ts";
import type { FileConfig } from "./schema.ts";
import { isTree, type Tree, withoutNulls } from "./tree.ts";
import { validateFile } from "./validate.ts";

export type FileRole = { kind: "global" } | { kind: "project"; globalFile: string };

/**
 * What one file's text yields. Plain data, so that it can come back from the parse worker and
 * be kept for as long as the file does not change.
 */
export interface CheckedFile {
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
  /** Present when the file has no errors. */
  loaded?: {
    /** Checked, with legacy keys moved to their current places. */
    value: FileConfig;
    /** The keys as written that take effect (unknown and dropped keys removed). */
    known: Tree;
    /** Where the document starts, and where each top-level key of `value` is written. */
    positions: { root: Position; keys: Record<string, Position> };
  };
}

/** Parses and checks one config file's text. Pure: the same text and role give the same result. */
export function checkConfigText(file: string, text: string, role: FileRole): CheckedFile {
  const parsed = parseYaml(file, text);
  const errors = [...parsed.errors];
  const warnings = [...parsed.warnings];
  if (errors.length > 0) return { errors, warnings };

  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) {
    const message = "expected a map of keys (key: value) at the top level";
    errors.push({ file, key: "", ...parsed.locate([]), message });
    return { errors, warnings };
  }
  if (role.kind === "project") {
    warnings.push(...dropGlobalOnlyKeys(file, raw, parsed.locate, role.globalFile));
  }
  const checked = validateFile(file, raw, parsed.locate);
  warnings.push(...checked.warnings);
  errors.push(...checked.errors);
  if (checked.value === undefined) return { errors, warnings };

  const normalised = normaliseFile(file, checked.value, parsed.locate);
  warnings.push(...normalised.warnings);
  const keys = Object.fromEntries(
    Object.keys(normalised.value).map((key) => [key, parsed.locate([key], "key")]),
  );
  return {
    errors,
    warnings,
    loaded: {
      value: normalised.value,
      known: checked.known,
      positions: { root: parsed.locate([]), keys },
    },
  };
}

/** What the parse worker is sent, and what it answers. */
export interface CheckRequest {
  file: string;
  text: string;
  role: FileRole;
}
export type CheckReply =
  | { ready: true }
  | { ok: true; checked: CheckedFile }
  | { ok: false; message: string };
