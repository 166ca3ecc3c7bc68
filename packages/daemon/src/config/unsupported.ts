import { isActedOn } from "./key-policy.ts";
import { childPath, isTree, type Tree } from "./tree.ts";

/** Dotted paths of the values set under `prefix`; empty maps set nothing. */
function setPaths(value: unknown, prefix: string): string[] {
  if (!isTree(value)) return [prefix];
  return Object.entries(value).flatMap(([key, v]) => setPaths(v, childPath(prefix, key)));
}

/** Dotted paths set in `known` (limited to the given top-level keys) that wm does not act on yet. */
export function unsupportedPaths(
  known: Tree,
  topKeys: (key: string) => boolean = () => true,
): string[] {
  return Object.entries(known)
    .filter(([key]) => topKeys(key))
    .flatMap(([key, value]) => setPaths(value, key))
    .filter((path) => !isActedOn(path));
}
