import type { ConfigDiagnostic } from "@wm/protocol";
import { WORKTREE_SAFE_KEYS } from "./key-policy.ts";
import type { LoadedFile } from "./load-file.ts";
import { EMPTY_LAYER, type MergeLayer } from "./merge.ts";
import { deepEqual, type Tree } from "./tree.ts";
import { unsupportedPaths } from "./unsupported.ts";

export interface ProjectLayer {
  layer: MergeLayer;
  unsupported: string[];
  warnings: ConfigDiagnostic[];
}

const isSafe = (key: string) => WORKTREE_SAFE_KEYS.has(key);
const isUnsafe = (key: string) => !WORKTREE_SAFE_KEYS.has(key);

function pick(value: Tree, keep: (key: string) => boolean): Tree {
  return Object.fromEntries(Object.entries(value).filter(([key]) => keep(key)));
}

/** A project file that applies in full: the main worktree's, or any outside a linked worktree. */
export function wholeProjectLayer(file: LoadedFile | undefined): ProjectLayer {
  if (!file) return { layer: EMPTY_LAYER, unsupported: [], warnings: [] };
  return {
    layer: { value: file.value, fileOf: () => file.file },
    unsupported: unsupportedPaths(file.known),
    warnings: [],
  };
}

/**
 * The project layer for a directory inside a linked worktree that has its own project file.
 * The agent working there can edit that file, so only keys that cannot reach the host are read
 * from it; the rest come from the main worktree's project file (`trusted`, if there is one).
 */
export function linkedWorktreeLayer(
  local: LoadedFile,
  trusted: LoadedFile | undefined,
): ProjectLayer {
  const trustedValue: Tree = trusted?.value ?? {};
  const warnings: ConfigDiagnostic[] = [];
  for (const [key, value] of Object.entries(local.value)) {
    if (isSafe(key) || deepEqual(value, trustedValue[key])) continue;
    const source = trusted
      ? `the main worktree's project file (${trusted.file})`
      : "the global file";
    warnings.push({
      file: local.file,
      key,
      ...local.locate([key], "key"),
      message: `ignored: this file is inside a linked worktree, which its agent can edit; ${key} is read from ${source}`,
    });
  }
  return {
    layer: {
      value: { ...pick(local.value, isSafe), ...pick(trustedValue, isUnsafe) },
      fileOf: (key) => (isSafe(key) || !trusted ? local.file : trusted.file),
    },
    unsupported: [
      ...unsupportedPaths(local.known, isSafe),
      ...(trusted ? unsupportedPaths(trusted.known, isUnsafe) : []),
    ],
    warnings,
  };
}
