import { childPath, isTree, leafPaths, type Tree } from "./tree.ts";

export const GLOBAL_PLACEHOLDER = "<global>";

type Strategy = "fields" | "splice" | "unless-default";

/** How project values combine with global ones; any path not listed is replaced wholesale. */
const STRATEGY: Readonly<Record<string, Strategy>> = {
  "": "fields",
  post_create: "splice",
  pre_merge: "splice",
  pre_remove: "splice",
  files: "fields",
  "files.copy": "splice",
  "files.symlink": "splice",
  layouts: "fields",
  status_icons: "fields",
  dashboard: "fields",
  sidebar: "fields",
  theme: "fields",
  auto_name: "fields",
  sandbox: "fields",
  "sandbox.lima": "fields",
  "sandbox.container": "fields",
  worktree_naming: "unless-default",
};
const SPLICED = Object.keys(STRATEGY).filter((path) => STRATEGY[path] === "splice");

export interface MergeLayer {
  value: Tree;
  /** The file a top-level key of this layer came from. */
  fileOf(topKey: string): string;
}

export interface Merged {
  value: Tree;
  /** Dotted path → file, for each subtree taken from one file; the longest matching prefix applies. */
  origins: Map<string, string>;
}

export const EMPTY_LAYER: MergeLayer = { value: {}, fileOf: () => "" };

/** workmux's merge: project over global, with `<global>` splicing and per-field sections. */
export function mergeLayers(global: MergeLayer, project: MergeLayer): Merged {
  const origins = new Map<string, string>();
  const take = (layer: MergeLayer, path: string, value: unknown) => {
    origins.set(path, layer.fileOf(path.split(".")[0] ?? ""));
    return value;
  };
  const merge = (path: string, g: unknown, p: unknown): unknown => {
    if (p === undefined) return g === undefined ? undefined : take(global, path, g);
    if (g === undefined) return take(project, path, p);
    const strategy = STRATEGY[path];
    if (strategy === "fields" && isTree(g) && isTree(p)) {
      if (path) take(project, path, undefined);
      const out: Tree = {};
      for (const key of new Set([...Object.keys(g), ...Object.keys(p)])) {
        const value = merge(childPath(path, key), g[key], p[key]);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    if (strategy === "splice" && Array.isArray(g) && Array.isArray(p)) {
      return take(
        project,
        path,
        p.includes(GLOBAL_PLACEHOLDER)
          ? p.flatMap((item) => (item === GLOBAL_PLACEHOLDER ? g : [item]))
          : p,
      );
    }
    if (strategy === "unless-default" && p === "full") return take(global, path, g);
    return take(project, path, p);
  };
  const value = structuredClone(merge("", global.value, project.value)) as Tree;

  if (value.panes !== undefined && value.windows !== undefined) {
    delete value[project.value.windows !== undefined ? "panes" : "windows"];
  }
  for (const path of SPLICED) {
    const [head, tail] = path.split(".") as [string, string | undefined];
    const holder = tail === undefined ? value : value[head];
    const key = tail ?? head;
    if (isTree(holder) && Array.isArray(holder[key])) {
      holder[key] = (holder[key] as unknown[]).filter((item) => item !== GLOBAL_PLACEHOLDER);
    }
  }
  return { value, origins };
}

/** The file (or "default") each leaf of `config` came from. */
export function sourcesOf(
  config: Tree,
  origins: ReadonlyMap<string, string>,
): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const leaf of leafPaths(config)) {
    for (let path = leaf; ; path = path.slice(0, Math.max(0, path.lastIndexOf(".")))) {
      const file = origins.get(path);
      if (file !== undefined) {
        sources[leaf] = file;
        break;
      }
      if (!path.includes(".")) break;
    }
  }
  return sources;
}
