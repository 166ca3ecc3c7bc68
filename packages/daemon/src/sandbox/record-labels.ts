import { RELAY_LABEL } from "../backends/docker/container-sandbox.ts";
import type { SandboxInfo, SandboxRuntime } from "../backends/sandbox-backend.ts";
import type { SandboxRecord } from "./record.ts";

export const SANDBOX_ID = /^sb-[0-9a-f]{12}$/;

/**
 * What a container's labels carry of its sandbox record (no secrets: paths, ids, the user,
 * and for a TCP endpoint its address and the sha256 of its token, which cannot be turned back
 * into the token), so a record that was lost or damaged is rebuilt from the running container
 * instead of the container being swept as an orphan.
 */
export function recordLabels(r: {
  id: string;
  name: string;
  worktree: string;
  git: SandboxRecord["git"];
  user: string;
  tty: boolean;
  transport: SandboxRecord["transport"];
  tcp?: { host: string; port: number; tokenHash: string } | undefined;
}): Record<string, string> {
  return {
    "wm.sandbox": r.id,
    "wm.name": r.name,
    "wm.worktree": r.worktree,
    "wm.git.common": r.git.commonDir,
    "wm.git.admin": r.git.adminDir,
    ...(r.git.branch ? { "wm.git.branch": r.git.branch } : {}),
    "wm.user": r.user,
    "wm.tty": String(r.tty),
    "wm.transport": r.transport,
    ...(r.tcp
      ? {
          "wm.tcp.host": r.tcp.host,
          "wm.tcp.port": String(r.tcp.port),
          "wm.tcp.token-sha256": r.tcp.tokenHash,
        }
      : {}),
  };
}

/** The record of a running sandbox, from its labels; undefined when they do not say enough. */
export function recordFromLabels(
  c: Pick<SandboxInfo, "handle" | "name" | "image" | "labels">,
  runtime: SandboxRuntime,
): SandboxRecord | undefined {
  const l = c.labels;
  const id = l["wm.sandbox"];
  const needed = [l["wm.name"], l["wm.worktree"], l["wm.git.common"], l["wm.git.admin"]];
  if (!id || !SANDBOX_ID.test(id) || needed.some((v) => !v)) return undefined;
  if (!/^\d+:\d+$/.test(l["wm.user"] ?? "")) return undefined;
  const tcp = tcpFromLabels(l);
  if (l["wm.transport"] !== "socket" && !(l["wm.transport"] === "tcp" && tcp)) return undefined;
  return {
    id,
    name: l["wm.name"] as string,
    worktree: l["wm.worktree"] as string,
    git: {
      commonDir: l["wm.git.common"] as string,
      adminDir: l["wm.git.admin"] as string,
      branch: l["wm.git.branch"] ?? null,
    },
    runtime,
    image: c.image,
    containerName: c.name,
    containerId: c.handle,
    state: "running",
    exitCode: null,
    createdAt: new Date().toISOString(),
    command: [],
    tty: l["wm.tty"] === "true",
    user: l["wm.user"] as string,
    transport: tcp ? "tcp" : "socket",
    tokenHash: tcp?.tokenHash ?? null,
    tcpHost: tcp?.host ?? null,
    tcpPort: tcp?.port ?? null,
    agentStatus: null,
    ...(l[RELAY_LABEL] ? { egress: true } : {}),
  };
}

function tcpFromLabels(l: Record<string, string>) {
  const host = l["wm.tcp.host"];
  const port = Number(l["wm.tcp.port"]);
  const tokenHash = l["wm.tcp.token-sha256"];
  if (!host || !/^[0-9a-f.:]+$/i.test(host) || !Number.isInteger(port) || port <= 0)
    return undefined;
  if (!tokenHash || !/^[0-9a-f]{64}$/.test(tokenHash)) return undefined;
  return { host, port, tokenHash };
}
