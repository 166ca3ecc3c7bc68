import { z } from "zod";
import { defineMethod } from "../method.ts";

const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith("/"), "must be an absolute path");

export const terminalSize = z.strictObject({
  rows: z.number().int().min(1).max(1000),
  cols: z.number().int().min(1).max(1000),
});

export const sandboxState = z.enum(["creating", "running", "exited", "lost"]);
export type SandboxState = z.infer<typeof sandboxState>;

export const sandboxSummary = z.object({
  id: z.string(),
  name: z.string(),
  worktree: z.string(),
  /** `vm`: a session in one of the daemon's VMs (`sandbox.backend: lima`). */
  runtime: z.enum(["docker", "podman", "vm"]),
  containerId: z.string().nullable(),
  image: z.string(),
  state: sandboxState,
  exitCode: z.number().int().nullable(),
  createdAt: z.string(),
  command: z.array(z.string()),
  transport: z.enum(["socket", "tcp"]),
  attached: z.number().int().nonnegative(),
  agentStatus: z.string().nullable(),
  /**
   * Under `sandbox.network.policy: deny`: connections and DNS lookups the egress policy allowed
   * and denied since the daemon began serving the sandbox. null: the network is not filtered.
   */
  egress: z
    .object({ allowed: z.number().int().nonnegative(), denied: z.number().int().nonnegative() })
    .nullable()
    .optional(),
});
export type SandboxSummary = z.infer<typeof sandboxSummary>;

export const sandboxRun = defineMethod({
  summary:
    "Create an ephemeral sandbox for a worktree, start a command in it and attach this WebSocket to its terminal.",
  surfaces: ["host"],
  stream: true,
  params: z.strictObject({
    worktree: absolutePath,
    command: z.array(z.string().max(65536)).min(1).max(1024),
    /** Agent whose image to use (wm-sandbox:<agent>); default: the configured agent. */
    agent: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "an agent name: lowercase letters, digits, . _ -")
      .optional(),
    tty: z.boolean(),
    interactive: z.boolean().default(true),
    size: terminalSize.optional(),
    /**
     * The client's environment. The daemon takes only the terminal variables
     * (CLIENT_ENV_ALLOWED) and the names the global `sandbox.env_passthrough` lists.
     */
    env: z.record(z.string().max(256), z.string().max(65536)).optional(),
  }),
  result: z.object({ sandbox: sandboxSummary }),
});

export const sandboxAttach = defineMethod({
  summary:
    "Attach this WebSocket to a running sandbox's terminal (after a daemon restart or a lost client).",
  surfaces: ["host"],
  stream: true,
  params: z.strictObject({ id: z.string().min(1).max(128), size: terminalSize.optional() }),
  result: z.object({ sandbox: sandboxSummary }),
});

export const sandboxResize = defineMethod({
  summary: "Resize a sandbox's terminal.",
  surfaces: ["host"],
  params: z.strictObject({ id: z.string().min(1).max(128), size: terminalSize }),
  result: z.object({ ok: z.literal(true) }),
});

export const sandboxSignal = defineMethod({
  summary: "Send a signal to the command running in a sandbox.",
  surfaces: ["host"],
  params: z.strictObject({
    id: z.string().min(1).max(128),
    signal: z.enum(["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGKILL", "SIGWINCH"]),
  }),
  result: z.object({ ok: z.literal(true) }),
});

export const sandboxList = defineMethod({
  summary: "Every sandbox the daemon owns, with its worktree, state and agent status.",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({ sandboxes: z.array(sandboxSummary) }),
});

export const sandboxStop = defineMethod({
  summary: "Stop and remove sandboxes by name or id, or all of them.",
  surfaces: ["host"],
  params: z.strictObject({
    names: z.array(z.string().min(1).max(256)).max(256).default([]),
    all: z.boolean().default(false),
  }),
  result: z.object({ stopped: z.array(z.string()), notFound: z.array(z.string()) }),
});

export const sandboxPrune = defineMethod({
  summary:
    "Remove exited sandboxes' records, any container labelled as ours that no record explains, and stopped VMs.",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({
    removedRecords: z.array(z.string()),
    removedContainers: z.array(z.string()),
    /** Stopped VMs deleted with their disks. */
    removedVms: z.array(z.string()).default([]),
  }),
});

export const vmSummary = z.object({
  name: z.string(),
  /** The project's git dir it serves, or "shared". */
  scope: z.string(),
  state: z.enum(["running", "stopped"]),
  /** Bytes its own disk (a copy-on-write overlay) takes on the host. */
  diskBytes: z.number().int().nonnegative(),
  uptimeSeconds: z.number().int().nonnegative().nullable(),
  /** Sandboxes running in it now. */
  sessions: z.number().int().nonnegative(),
  cpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
});
export type VmSummary = z.infer<typeof vmSummary>;

export const sandboxVms = defineMethod({
  summary: "The daemon's VMs (sandbox.backend: lima): state, disk use, uptime, sandboxes in each.",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({ vms: z.array(vmSummary) }),
});

export const sandboxVmStop = defineMethod({
  summary: "Stop VMs by name (their sandboxes end with them); with remove, delete their disks too.",
  surfaces: ["host"],
  params: z.strictObject({
    names: z.array(z.string().min(1).max(256)).min(1).max(256),
    remove: z.boolean().default(false),
  }),
  result: z.object({
    stopped: z.array(z.string()),
    removed: z.array(z.string()),
    notFound: z.array(z.string()),
  }),
});

export const sandboxBuild = defineMethod({
  summary:
    "Build the sandbox image for an agent; progress arrives as `sandbox.buildProgress` notifications.",
  surfaces: ["host"],
  stream: true,
  params: z.strictObject({
    agent: z.string().min(1).max(64).optional(),
    runtime: z.enum(["docker", "podman"]).optional(),
    cwd: absolutePath.optional(),
    /** Build the offline Debian base first when it is missing (needs root for debootstrap). */
    withBase: z.boolean().default(false),
  }),
  result: z.object({
    image: z.string(),
    runtime: z.enum(["docker", "podman"]),
    seconds: z.number(),
  }),
});

export const sandboxExitNotification = z.object({
  id: z.string(),
  exitCode: z.number().int(),
  reason: z.string().optional(),
});

export const sandboxInitDockerfile = defineMethod({
  summary: "Write a Dockerfile to customise the sandbox image.",
  surfaces: ["host"],
  params: z.strictObject({
    dir: absolutePath,
    agent: z.string().min(1).max(64).optional(),
    force: z.boolean().default(false),
  }),
  result: z.object({ file: z.string() }),
});
