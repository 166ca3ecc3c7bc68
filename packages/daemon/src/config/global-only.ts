import type { ConfigDiagnostic } from "@wm/protocol";
import { GLOBAL_ONLY_KEYS, WM_DAEMON_KEYS } from "./key-policy.ts";
import type { Locator } from "./parse.ts";
import { deleteIn, getIn, type Tree } from "./tree.ts";

const DAEMON_KEYS: ReadonlySet<string> = new Set(WM_DAEMON_KEYS);

/** Removes global-only keys from a project file's data, with one warning per key found. */
export function dropGlobalOnlyKeys(
  file: string,
  raw: Tree,
  locate: Locator,
  globalFile: string,
): ConfigDiagnostic[] {
  const warnings: ConfigDiagnostic[] = [];
  for (const key of GLOBAL_ONLY_KEYS) {
    const path = key.split(".");
    if (getIn(raw, path) === undefined) continue;
    const why = DAEMON_KEYS.has(key)
      ? "is a wm daemon setting"
      : "can widen what a sandbox may reach or run";
    warnings.push({
      file,
      key,
      ...locate(path, "key"),
      message: `${key} ${why}, so it is read only from the global config and is ignored in a project file; move it to ${globalFile}`,
    });
    deleteIn(raw, path);
  }
  return warnings;
}
