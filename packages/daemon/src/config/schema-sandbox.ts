import { z } from "zod";
import { cidrProblem } from "../egress/addresses.ts";
import { domainProblem } from "../egress/policy.ts";
import { byteSize, hostPath, relativePath, stringList, u32 } from "./schema-common.ts";

const domainName = z.string().superRefine((domain, ctx) => {
  const problem = domainProblem(domain);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const allowedDomain = z.union([
  domainName.transform((host) => ({ host, allow_private_ips: false })),
  z
    .strictObject({ host: domainName, allow_private_ips: z.boolean().optional() })
    .refine((d) => !(d.allow_private_ips && d.host.startsWith("*.")), {
      message: "allow_private_ips needs an exact host, not a wildcard",
      path: ["allow_private_ips"],
    })
    .transform((d) => ({ host: d.host, allow_private_ips: d.allow_private_ips ?? false })),
]);

const addressRange = z.string().superRefine((cidr, ctx) => {
  const problem = cidrProblem(cidr);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const networkSchema = z.strictObject({
  policy: z.enum(["allow", "deny"]).optional(),
  allowed_domains: z.array(allowedDomain).optional(),
  /** wm's own: address ranges the egress proxy may connect to although they are not public. */
  allow_private_ips: z.array(addressRange).optional(),
});

const extraMount = z.union([
  hostPath.transform((host_path) => ({ host_path, writable: false })),
  z
    .strictObject({
      host_path: hostPath,
      guest_path: hostPath.optional(),
      writable: z.boolean().optional(),
      force: z.boolean().optional(),
    })
    .transform(({ writable, force, ...paths }) => ({
      ...paths,
      writable: writable ?? false,
      ...(force ? { force } : {}),
    })),
]);
export const extraMountsSchema = z.array(extraMount);

const HOST_COMMAND = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** wm's own: what a host command's fence leaves writable beyond the worktree (global file only). */
export const hostExecSchema = z.strictObject({
  writable: z
    .array(
      z.string().refine((p) => p.startsWith("/") || p === "~" || p.startsWith("~/"), {
        error: "give an absolute path or one starting with ~/",
      }),
    )
    .optional(),
});

export const hostCommandsSchema = z.array(
  z.string().regex(HOST_COMMAND, {
    error:
      "command names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
  }),
);

export const envPassthroughSchema = z.array(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "not an environment variable name" }),
);
export const sandboxEnvSchema = z.record(z.string(), z.string());

const device = z.union([
  z.string().min(1),
  z.strictObject({
    host_path: z.string(),
    guest_path: z.string().optional(),
    permissions: z
      .string()
      .regex(/^[rwm]+$/, { error: "permissions are letters from rwm" })
      .optional(),
  }),
]);

export const containerRuntimeSchema = z.enum(["docker", "podman", "apple-container"]);
export const pidsLimitSchema = z.int().min(-1);

export const containerSchema = z.strictObject({
  runtime: containerRuntimeSchema.optional(),
  memory: byteSize.optional(),
  cpus: u32.optional(),
  devices: z.array(device).optional(),
  group_add: z.array(z.union([z.string(), z.int().min(0)])).optional(),
  oci_runtime: z.string().optional(),
  cap_add: stringList.optional(),
  security_opt: stringList.optional(),
  excluded_files: z.array(relativePath).optional(),
  pids_limit: pidsLimitSchema.optional(),
});

const limaIsolation = z.enum(["project", "shared", "user"]);
export const limaSchema = z.strictObject({
  isolation: limaIsolation.optional(),
  projects_dir: z.string().optional(),
  cpus: u32.optional(),
  memory: byteSize.optional(),
  disk: byteSize.optional(),
  provision: z.string().optional(),
  skip_default_provision: z.boolean().optional(),
  /** wm's own: who runs the VM — wm itself through QEMU, or the user's Lima (`limactl`). */
  driver: z.enum(["qemu", "limactl"]).optional(),
});

export const sandboxBackendSchema = z.enum(["container", "lima", "vm"]);
export const sandboxTargetSchema = z.enum(["agent", "all"]);
export const rpcTransportSchema = z.enum(["socket", "tcp"]);
/** How many agents one sandbox may start through `agent.spawn` in its lifetime. */
export const maxSpawnsSchema = z.int().min(0);
export const DEFAULT_MAX_SPAWNS = 4;

export const sandboxSchema = z.strictObject({
  enabled: z.boolean().optional(),
  backend: sandboxBackendSchema.optional(),
  target: sandboxTargetSchema.optional(),
  image: z.string().optional(),
  env_passthrough: envPassthroughSchema.optional(),
  env: sandboxEnvSchema.optional(),
  rpc_host: z.string().optional(),
  rpc_transport: rpcTransportSchema.optional(),
  max_spawns: maxSpawnsSchema.optional(),
  toolchain: z.enum(["auto", "off", "devbox", "flake"]).optional(),
  host_commands: hostCommandsSchema.optional(),
  extra_mounts: extraMountsSchema.optional(),
  agent_config_dir: z.string().optional(),
  dangerously_allow_unsandboxed_host_exec: z.boolean().optional(),
  host_exec: hostExecSchema.optional(),
  container: containerSchema.optional(),
  lima: limaSchema.optional(),
  network: networkSchema.optional(),
  runtime: containerRuntimeSchema.optional(),
  isolation: limaIsolation.optional(),
  projects_dir: z.string().optional(),
  cpus: u32.optional(),
  memory: byteSize.optional(),
  disk: byteSize.optional(),
  provision: z.string().optional(),
  skip_default_provision: z.boolean().optional(),
});

/** Flat keys from before `sandbox.container` / `sandbox.lima` existed. */
export const LEGACY_LIMA_KEYS = [
  "isolation",
  "projects_dir",
  "cpus",
  "memory",
  "disk",
  "provision",
  "skip_default_provision",
] as const;
