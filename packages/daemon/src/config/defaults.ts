import { DEFAULT_MAX_SPAWNS } from "./schema-sandbox.ts";
import { childPath, isTree, type Tree } from "./tree.ts";

export const DEFAULT_SOURCE = "default";

const AGENT_PANES = [
  { command: "<agent>", focus: true },
  { command: "clear", split: "horizontal" },
];
const SHELL_PANES = [{ focus: true }, { command: "clear", split: "horizontal" }];

export interface DefaultsContext {
  /** The project has a CLAUDE.md at its root. */
  hasClaudeMd: boolean;
}

function defaultsFor(merged: Tree, ctx: DefaultsContext): Tree {
  const defaults: Tree = {
    agent: "claude",
    agents: {},
    mode: "window",
    worktree_naming: "full",
    window_prefix: merged.nerdfont === true ? "\uf418 " : "wm-",
    merge_strategy: "merge",
    status_format: true,
    status_icons: { working: "🤖", waiting: "💬", done: "✅" },
    sandbox: {
      enabled: false,
      backend: "container",
      target: "agent",
      env_passthrough: ["GITHUB_TOKEN"],
      env: {},
      host_commands: [],
      extra_mounts: [],
      rpc_transport: "socket",
      max_spawns: DEFAULT_MAX_SPAWNS,
      network: { policy: "allow", allowed_domains: [], allow_private_ips: [] },
      container: { pids_limit: 512 },
    },
    daemon: { idle_timeout: 1800, log_level: "info" },
  };
  if (merged.panes === undefined && merged.windows === undefined) {
    defaults.panes = ctx.hasClaudeMd || merged.agent !== undefined ? AGENT_PANES : SHELL_PANES;
  }
  return defaults;
}

/** Fills every unset key that has a default, recording "default" as its origin. */
export function applyDefaults(
  merged: Tree,
  origins: Map<string, string>,
  ctx: DefaultsContext,
): void {
  const fill = (target: Tree, defaults: Tree, path: string) => {
    for (const [key, value] of Object.entries(defaults)) {
      const at = childPath(path, key);
      const current = target[key];
      if (current === undefined) {
        target[key] = structuredClone(value);
        origins.set(at, DEFAULT_SOURCE);
      } else if (isTree(current) && isTree(value)) {
        fill(current, value, at);
      }
    }
  };
  fill(merged, defaultsFor(merged, ctx), "");
}
