import { PROTOCOL_VERSION, WM_VERSION } from "@wm/protocol";

/** Bump when renderDockerfile's recipe (or an agent layer) changes: older images turn stale. */
export const SANDBOX_IMAGE_VERSION = 1;

/** The base image scripts/build-base-image.sh builds, and its BASE_VERSION. */
export const DEFAULT_BASE_IMAGE = "wm-base:bookworm";
export const BASE_IMAGE_VERSION = 1;

export const LABEL = {
  image: "wm.image",
  agent: "wm.agent",
  agentVersion: "wm.agent.version",
  imageVersion: "wm.image.version",
  protocol: "wm.protocol",
  wmVersion: "wm.version",
  baseVersion: "wm.base.version",
} as const;

export function sandboxImageName(agent: string): string {
  return `wm-sandbox:${agent}`;
}

/**
 * The agent an `agent` setting names: the command's program, without its directory or
 * arguments (`/opt/bin/claude --model x` → `claude`).
 */
export function agentNameOf(agentCommand: string): string {
  const program = agentCommand.trim().split(/\s+/)[0] ?? "";
  return program.slice(program.lastIndexOf("/") + 1) || "claude";
}

/**
 * The image a sandbox runs: `sandbox.image` when set, else the agent's `wm-sandbox:<agent>`.
 * An agent chosen for one worktree (`--agent`) always uses its own image.
 */
export function sandboxImageFor(
  config: { agent: string; sandbox: { image?: string | undefined } },
  agentOverride?: string,
): string {
  if (agentOverride !== undefined) return sandboxImageName(agentNameOf(agentOverride));
  return config.sandbox.image ?? sandboxImageName(agentNameOf(config.agent));
}

/** The agent a `wm-sandbox:<agent>` name stands for, if it is one. */
export function agentOfImageName(name: string): string | undefined {
  return /^wm-sandbox:([a-z0-9][a-z0-9_.-]*)$/.exec(name)?.[1];
}

export function sandboxImageLabels(
  agent: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...extra,
    [LABEL.image]: "sandbox",
    [LABEL.agent]: agent,
    [LABEL.imageVersion]: String(SANDBOX_IMAGE_VERSION),
    [LABEL.protocol]: String(PROTOCOL_VERSION),
    [LABEL.wmVersion]: WM_VERSION,
  };
}
