import type { ConfigDiagnostic } from "@wm/protocol";
import type { FileRole } from "./check-text.ts";
import type { ConfigFiles } from "./file-cache.ts";
import type { Locator } from "./parse.ts";
import type { FileConfig } from "./schema.ts";
import type { Tree } from "./tree.ts";

export type { FileRole } from "./check-text.ts";
export { MAX_CONFIG_BYTES } from "./open-file.ts";

export interface LoadedFile {
  file: string;
  /** Checked, with legacy keys moved to their current places. */
  value: FileConfig;
  /** The keys as written that take effect (unknown and dropped keys removed). */
  known: Tree;
  /** Where a top-level key is written; a deeper path gets its top-level key's place. */
  locate: Locator;
}

export interface Problems {
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

/** Reads, parses and checks one config file, adding what is wrong with it to `problems`. */
export async function loadConfigFile(
  file: string,
  role: FileRole,
  problems: Problems,
  files: ConfigFiles,
): Promise<LoadedFile | undefined> {
  const checked = await files.load(file, role);
  problems.errors.push(...checked.errors);
  problems.warnings.push(...checked.warnings);
  if (!checked.loaded) return undefined;
  const { value, known, positions } = checked.loaded;
  const locate: Locator = ([top]) => {
    const key = String(top);
    return top !== undefined && Object.hasOwn(positions.keys, key)
      ? (positions.keys[key] ?? positions.root)
      : positions.root;
  };
  return { file, value, known, locate };
}
