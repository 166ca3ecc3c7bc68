import { agentStatus, type SandboxSummary, sandboxState } from "@wm/protocol";
import { z } from "zod";
import type { SandboxRuntime } from "../backends/sandbox-backend.ts";

/** What the daemon keeps about a sandbox, durably, from before its container exists. */
export const sandboxRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  worktree: z.string(),
  /** Git facts recorded when the sandbox was created; mounts come from these, never from the worktree. */
  git: z.object({
    commonDir: z.string(),
    adminDir: z.string(),
    /** Absent in records written before the field existed. */
    branch: z.string().nullable().optional(),
  }),
  runtime: z.enum(["docker", "podman", "vm"]) satisfies z.ZodType<SandboxRuntime>,
  image: z.string(),
  containerName: z.string(),
  containerId: z.string().nullable(),
  state: sandboxState,
  exitCode: z.number().nullable(),
  createdAt: z.string(),
  command: z.array(z.string()),
  tty: z.boolean(),
  user: z.string(),
  transport: z.enum(["socket", "tcp"]),
  /** sha256 of the TCP token (hex); the token itself is never stored. */
  tokenHash: z.string().nullable(),
  tcpHost: z.string().nullable(),
  tcpPort: z.number().int().nullable(),
  agentStatus: agentStatus.nullable(),
  /**
   * `agent.spawn` requests this sandbox made that counted against `sandbox.max_spawns`
   * (absent in records written before the limit existed: none).
   */
  spawns: z.number().int().nonnegative().optional(),
  /** Under `network.policy: deny`: the sandbox's network is its egress relay's. */
  egress: z.boolean().optional(),
});
export type SandboxRecord = z.infer<typeof sandboxRecordSchema>;

export function summarize(
  r: SandboxRecord,
  attached: number,
  egress?: { allowed: number; denied: number },
): SandboxSummary {
  return {
    id: r.id,
    name: r.name,
    worktree: r.worktree,
    runtime: r.runtime,
    containerId: r.containerId,
    image: r.image,
    state: r.state,
    exitCode: r.exitCode,
    createdAt: r.createdAt,
    command: r.command,
    transport: r.transport,
    attached,
    agentStatus: r.agentStatus,
    egress: r.egress ? (egress ?? { allowed: 0, denied: 0 }) : null,
  };
}
