import type { AgentStatus, SandboxState, SandboxSummary } from "@wm/protocol";
import type { RuntimeName } from "../backends/types.ts";

/** What the daemon keeps about a sandbox, durably, from before its container exists. */
export interface SandboxRecord {
  id: string;
  name: string;
  worktree: string;
  /** Git facts recorded when the sandbox was created; mounts come from these, never from the worktree. */
  git: { commonDir: string; adminDir: string; branch?: string | null };
  runtime: RuntimeName;
  image: string;
  containerName: string;
  containerId: string | null;
  state: SandboxState;
  exitCode: number | null;
  createdAt: string;
  command: string[];
  tty: boolean;
  user: string;
  transport: "socket" | "tcp";
  /** sha256 of the TCP token (hex); the token itself is never stored. */
  tokenHash: string | null;
  tcpHost: string | null;
  tcpPort: number | null;
  agentStatus: AgentStatus | null;
  /**
   * `agent.spawn` requests this sandbox made that counted against `sandbox.max_spawns`
   * (absent in records written before the limit existed: none).
   */
  spawns?: number;
}

export function summarize(r: SandboxRecord, attached: number): SandboxSummary {
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
  };
}
