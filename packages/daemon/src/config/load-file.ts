import { readFile } from "node:fs/promises";
import type { ConfigDiagnostic } from "@wm/protocol";
import { dropGlobalOnlyKeys } from "./global-only.ts";
import { normaliseFile } from "./normalise.ts";
import { type Locator, parseYaml } from "./parse.ts";
import type { FileConfig } from "./schema.ts";
import { isTree, type Tree, withoutNulls } from "./tree.ts";
import { validateFile } from "./validate.ts";

export interface LoadedFile {
  file: string;
  /** Checked, with legacy keys moved to their current places. */
  value: FileConfig;
  /** The keys as written that take effect (unknown and dropped keys removed). */
  known: Tree;
  locate: Locator;
}

export interface Problems {
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

export type FileRole = { kind: "global" } | { kind: "project"; globalFile: string };

/** Reads, parses and checks one config file, adding what is wrong with it to `problems`. */
export async function loadConfigFile(
  file: string,
  role: FileRole,
  problems: Problems,
): Promise<LoadedFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    problems.errors.push({ file, key: "", message: `cannot read the file: ${reason}` });
    return undefined;
  }
  const parsed = parseYaml(file, text);
  problems.errors.push(...parsed.errors);
  problems.warnings.push(...parsed.warnings);
  if (parsed.errors.length > 0) return undefined;

  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) {
    problems.errors.push({
      file,
      key: "",
      ...parsed.locate([]),
      message: "expected a map of keys (key: value) at the top level",
    });
    return undefined;
  }
  if (role.kind === "project") {
    problems.warnings.push(...dropGlobalOnlyKeys(file, raw, parsed.locate, role.globalFile));
  }
  const checked = validateFile(file, raw, parsed.locate);
  problems.warnings.push(...checked.warnings);
  problems.errors.push(...checked.errors);
  if (checked.value === undefined) return undefined;

  const normalised = normaliseFile(file, checked.value, parsed.locate);
  problems.warnings.push(...normalised.warnings);
  return { file, value: normalised.value, known: checked.known, locate: parsed.locate };
}
