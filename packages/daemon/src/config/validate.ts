import type { ConfigDiagnostic } from "@wm/protocol";
import { errorMessage, sortIssues } from "./issues.ts";
import type { Locator } from "./parse.ts";
import { type FileConfig, fileConfigSchema } from "./schema.ts";
import { closest, keysAt } from "./suggest.ts";
import { deleteIn, dotted, type Tree } from "./tree.ts";

export interface ValidatedFile {
  /** The file's value with types checked and short forms expanded; undefined when invalid. */
  value: FileConfig | undefined;
  /** The data as written, minus unknown keys. */
  known: Tree;
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

const MAX_PASSES = 5;

/** An unknown key's warning, naming the valid key it is closest to when there is one. */
function unknownKey(file: string, path: PropertyKey[], locate: Locator): ConfigDiagnostic {
  const name = String(path[path.length - 1]);
  const parent = path.slice(0, -1);
  const near = closest(name, keysAt(fileConfigSchema, parent));
  const suggestion = near === undefined ? undefined : dotted([...parent, near]);
  return {
    file,
    key: dotted(path),
    ...locate(path, "key"),
    message: `unknown key "${name}" is ignored${suggestion ? `; did you mean ${suggestion}?` : ""}`,
    code: "unknown-key",
    ...(suggestion ? { suggestion } : {}),
  };
}

/**
 * Checks one file against the schema. Unknown keys become warnings and are removed, then the
 * rest is checked again so that rules skipped because of them still run.
 */
export function validateFile(file: string, raw: Tree, locate: Locator): ValidatedFile {
  const known = structuredClone(raw);
  const warnings: ConfigDiagnostic[] = [];
  for (let pass = 1; ; pass++) {
    const result = fileConfigSchema.safeParse(known, { error: errorMessage, reportInput: true });
    if (result.success) return { value: result.data, known, errors: [], warnings };
    const sorted = sortIssues(result.error.issues);
    for (const path of sorted.unknownKeys) {
      deleteIn(known, path);
      warnings.push(unknownKey(file, path, locate));
    }
    if (sorted.unknownKeys.length === 0 || pass === MAX_PASSES) {
      const errors = sorted.errors.map(({ path, message }) => ({
        file,
        key: dotted(path),
        ...locate(path, "value"),
        message,
      }));
      if (errors.length === 0) {
        errors.push({ file, key: "", line: 1, column: 1, message: "keys could not be checked" });
      }
      return { value: undefined, known, errors, warnings };
    }
  }
}
