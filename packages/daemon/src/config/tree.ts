export type Tree = Record<string, unknown>;
export type KeyPath = readonly PropertyKey[];

export function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function dotted(path: KeyPath): string {
  return path.map(String).join(".");
}

export function childPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/** Dotted paths of every leaf: scalars, lists and empty maps end a path; maps are walked into. */
export function leafPaths(value: unknown, prefix = ""): string[] {
  if (!isTree(value) || Object.keys(value).length === 0) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, childPath(prefix, k)));
}

export function getIn(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (!isTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Removes the value at `path` (a map key or list index) if it exists; true when it did. */
export function deleteIn(value: unknown, path: KeyPath): boolean {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => {
    if (Array.isArray(node)) return node[Number(key)];
    return isTree(node) ? node[String(key)] : undefined;
  }, value);
  const last = path[path.length - 1];
  if (last === undefined || !isTree(parent) || !Object.hasOwn(parent, String(last))) return false;
  delete parent[String(last)];
  return true;
}

/** Map entries whose value is null count as not set, as with workmux's optional fields. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isTree(value)) return value;
  const out: Tree = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isTree(a) && isTree(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
