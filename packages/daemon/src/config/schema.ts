import { z } from "zod";
import { durationSeconds, stringList } from "./schema-common.ts";
import { layoutsSchema, panesSchema, windowsSchema } from "./schema-panes.ts";
import { sandboxSchema } from "./schema-sandbox.ts";
import {
  autoNameSchema,
  dashboardSchema,
  sidebarSchema,
  statusIconsSchema,
  themeSchema,
} from "./schema-ui.ts";

const envValue = z.union([z.string(), z.strictObject({ from_env: z.string() })], {
  error: "expected a string or { from_env: NAME }",
});

const agentEntry = z.union([
  z.string().transform((command) => ({ command })),
  z.strictObject({
    command: z.string().optional(),
    type: z.string().optional(),
    args: stringList.optional(),
    env: z.record(z.string(), envValue).optional(),
  }),
]);
export const agentsSchema = z.record(z.string(), agentEntry);

export const modeSchema = z.enum(["window", "session"]);
export const worktreeNamingSchema = z.enum(["full", "basename"]);
export const mergeStrategySchema = z.enum(["merge", "rebase", "squash"]);
export const logLevelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace"]);

export const daemonSchema = z.strictObject({
  idle_timeout: durationSeconds.optional(),
  log_level: logLevelSchema.optional(),
});

export const filesSchema = z.strictObject({
  copy: stringList.optional(),
  symlink: stringList.optional(),
});

/** One config file as written: every key optional, unknown keys rejected (reported as warnings). */
export const fileConfigSchema = z.strictObject({
  main_branch: z.string().optional(),
  base_branch: z.string().optional(),
  worktree_dir: z.string().optional(),
  worktree_naming: worktreeNamingSchema.optional(),
  worktree_prefix: z.string().optional(),
  window_prefix: z.string().optional(),
  window_placement: z.enum(["after_current", "rightmost"]).optional(),
  mode: modeSchema.optional(),
  target: modeSchema.optional(),
  default_session: z.string().optional(),
  nerdfont: z.boolean().optional(),
  agent: z.string().optional(),
  agents: agentsSchema.optional(),
  merge_strategy: mergeStrategySchema.optional(),
  merge_keep: z.boolean().optional(),
  prompt_file_only: z.boolean().optional(),
  status_format: z.boolean().optional(),
  auto_update_check: z.boolean().optional(),
  hook_shell: stringList.min(1, { error: "hook_shell needs at least the program" }).optional(),
  stale_after: durationSeconds.optional(),
  confirm_unmerged_removal: z.boolean().optional(),
  theme: themeSchema.optional(),
  panes: panesSchema.optional(),
  windows: windowsSchema.optional(),
  layouts: layoutsSchema.optional(),
  files: filesSchema.optional(),
  post_create: stringList.optional(),
  pre_merge: stringList.optional(),
  pre_remove: stringList.optional(),
  pre_delete: stringList.optional(),
  status_icons: statusIconsSchema.optional(),
  auto_name: autoNameSchema.optional(),
  dashboard: dashboardSchema.optional(),
  sidebar: sidebarSchema.optional(),
  sandbox: sandboxSchema.optional(),
  daemon: daemonSchema.optional(),
});

export type FileConfig = z.output<typeof fileConfigSchema>;
