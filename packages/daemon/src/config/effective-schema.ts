import { z } from "zod";
import {
  agentsSchema,
  fileConfigSchema,
  logLevelSchema,
  mergeStrategySchema,
  modeSchema,
  worktreeNamingSchema,
} from "./schema.ts";
import { durationSeconds } from "./schema-common.ts";
import {
  containerSchema,
  envPassthroughSchema,
  extraMountsSchema,
  hostCommandsSchema,
  maxSpawnsSchema,
  networkSchema,
  pidsLimitSchema,
  rpcTransportSchema,
  sandboxBackendSchema,
  sandboxEnvSchema,
  sandboxSchema,
  sandboxTargetSchema,
} from "./schema-sandbox.ts";
import { statusIconsSchema } from "./schema-ui.ts";

const effectiveSandbox = sandboxSchema
  .omit({
    runtime: true,
    isolation: true,
    projects_dir: true,
    cpus: true,
    memory: true,
    disk: true,
    provision: true,
    skip_default_provision: true,
  })
  .extend({
    enabled: z.boolean(),
    backend: sandboxBackendSchema,
    target: sandboxTargetSchema,
    env_passthrough: envPassthroughSchema,
    env: sandboxEnvSchema,
    host_commands: hostCommandsSchema,
    extra_mounts: extraMountsSchema,
    rpc_transport: rpcTransportSchema,
    max_spawns: maxSpawnsSchema,
    network: networkSchema.required(),
    container: containerSchema.extend({ pids_limit: pidsLimitSchema }),
  });

/** The merged configuration with defaults applied and legacy keys in their current places. */
export const wmConfigSchema = fileConfigSchema.omit({ target: true, pre_delete: true }).extend({
  agent: z.string(),
  agents: agentsSchema,
  mode: modeSchema,
  worktree_naming: worktreeNamingSchema,
  window_prefix: z.string(),
  merge_strategy: mergeStrategySchema,
  status_format: z.boolean(),
  status_icons: statusIconsSchema.required({ working: true, waiting: true, done: true }),
  sandbox: effectiveSandbox,
  daemon: z.strictObject({ idle_timeout: durationSeconds, log_level: logLevelSchema }),
});

export type WmConfig = z.output<typeof wmConfigSchema>;
