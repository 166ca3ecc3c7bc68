/**
 * Keys a project file may not set: they widen what a sandbox can reach or run, or they are
 * the daemon's own settings. A `.workmux.yaml` comes with the repository (and an agent can
 * edit the one in its worktree), so these are read from the global file only.
 */
export const SANDBOX_WIDENING_KEYS = [
  "agents",
  "auto_name.command",
  "sandbox.env_passthrough",
  "sandbox.env",
  "sandbox.rpc_host",
  "sandbox.host_commands",
  "sandbox.extra_mounts",
  "sandbox.agent_config_dir",
  "sandbox.network",
  "sandbox.dangerously_allow_unsandboxed_host_exec",
  "sandbox.host_exec",
  "sandbox.runtime",
  "sandbox.container.runtime",
  "sandbox.container.devices",
  "sandbox.container.group_add",
  "sandbox.container.oci_runtime",
  "sandbox.container.cap_add",
  "sandbox.container.security_opt",
  "sandbox.container.excluded_files",
] as const;

/** wm's own keys (not in workmux); global file only. */
export const WM_DAEMON_KEYS = [
  "daemon",
  "sandbox.rpc_transport",
  "sandbox.container.pids_limit",
  "sandbox.max_spawns",
  "sandbox.lima.driver",
] as const;

export const GLOBAL_ONLY_KEYS: readonly string[] = [...SANDBOX_WIDENING_KEYS, ...WM_DAEMON_KEYS];

/**
 * Top-level keys that cannot run anything on the host or change a sandbox. Only these are read
 * from a project file inside a linked worktree (which its agent can write); everything else
 * comes from the main worktree's project file.
 */
export const WORKTREE_SAFE_KEYS: ReadonlySet<string> = new Set([
  "main_branch",
  "base_branch",
  "worktree_naming",
  "worktree_prefix",
  "window_prefix",
  "window_placement",
  "mode",
  "target",
  "default_session",
  "nerdfont",
  "merge_strategy",
  "merge_keep",
  "prompt_file_only",
  "status_format",
  "auto_update_check",
  "stale_after",
  "confirm_unmerged_removal",
  "theme",
  "status_icons",
  "dashboard",
  "sidebar",
]);

/**
 * Keys wm acts on; any other accepted key is reported as not supported yet. A sandbox key
 * whose value wm cannot honour is refused when a sandbox would start (docs/sandbox.md).
 */
const ACTED_ON = [
  "main_branch",
  "base_branch",
  "worktree_dir",
  "worktree_naming",
  "worktree_prefix",
  "window_prefix",
  "mode",
  "target",
  "nerdfont",
  "agent",
  "agents",
  "merge_strategy",
  "merge_keep",
  "window_placement",
  "hook_shell",
  "auto_name.command",
  "status_format",
  "status_icons",
  "dashboard.commit",
  "dashboard.merge",
  "dashboard.preview_size",
  "dashboard.sort_mode",
  "theme",
  "panes",
  "windows",
  "layouts",
  "prompt_file_only",
  "files",
  "post_create",
  "pre_merge",
  "pre_remove",
  "pre_delete",
  "sandbox.enabled",
  "sandbox.backend",
  "sandbox.target",
  "sandbox.image",
  "sandbox.env_passthrough",
  "sandbox.env",
  "sandbox.extra_mounts",
  "sandbox.host_commands",
  "sandbox.host_exec",
  "sandbox.dangerously_allow_unsandboxed_host_exec",
  "sandbox.runtime",
  "sandbox.container.runtime",
  "sandbox.container.memory",
  "sandbox.container.cpus",
  "sandbox.container.pids_limit",
  "sandbox.container.oci_runtime",
  "sandbox.network.policy",
  "sandbox.network.allowed_domains",
  "sandbox.network.allow_private_ips",
  "sandbox.rpc_transport",
  "sandbox.max_spawns",
  "sandbox.toolchain",
  "sandbox.agent_config_dir",
  "sandbox.lima.isolation",
  "sandbox.lima.projects_dir",
  "sandbox.lima.cpus",
  "sandbox.lima.memory",
  "sandbox.lima.disk",
  "sandbox.lima.provision",
  "sandbox.lima.skip_default_provision",
  "sandbox.isolation",
  "sandbox.projects_dir",
  "sandbox.cpus",
  "sandbox.memory",
  "sandbox.disk",
  "sandbox.provision",
  "sandbox.skip_default_provision",
  "daemon",
];

export function isActedOn(path: string): boolean {
  return ACTED_ON.some((key) => path === key || path.startsWith(`${key}.`));
}

/** Accepted keys wm will not act on, and why: `wm config` says so instead of "not yet". */
const NOT_PLANNED: ReadonlyArray<readonly [string, string]> = [
  ["sidebar", "wm has no sidebar pane; `wm dashboard` is the overview"],
];

/** Why wm will never act on `path`; undefined for a key it acts on or may act on later. */
export function notPlannedReason(path: string): string | undefined {
  return NOT_PLANNED.find(([key]) => path === key || path.startsWith(`${key}.`))?.[1];
}
