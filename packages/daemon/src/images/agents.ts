export const KNOWN_AGENTS = ["claude", "demo", "none"] as const;
export type AgentName = (typeof KNOWN_AGENTS)[number];

export function isKnownAgent(agent: string): agent is AgentName {
  return (KNOWN_AGENTS as readonly string[]).includes(agent);
}

export function assertKnownAgent(agent: string): AgentName {
  if (isKnownAgent(agent)) return agent;
  throw new Error(
    `unknown agent ${JSON.stringify(agent)}; known agents: ${KNOWN_AGENTS.join(", ")}`,
  );
}

/** What an agent adds on top of the common sandbox layer. */
export interface AgentLayer {
  /** Files the layer COPYs, by their name in the build context. */
  files: readonly string[];
  dockerfile: readonly string[];
  cmd: readonly string[];
}

export const AGENT_LAYERS: Record<AgentName, AgentLayer> = {
  claude: {
    files: ["claude"],
    dockerfile: [
      "# Claude Code's native binary (npm package @anthropic-ai/claude-code-linux-<arch>); no Node.",
      "COPY claude /usr/local/bin/claude",
      "ENV DISABLE_AUTOUPDATER=1",
      "RUN HOME=/tmp/claude-check claude --version && rm -rf /tmp/claude-check",
    ],
    cmd: ["claude"],
  },
  demo: {
    files: ["wm-demo-agent"],
    dockerfile: [
      "# A shell agent that edits, commits and reports its status through the wm shim.",
      "COPY wm-demo-agent /usr/local/bin/wm-demo-agent",
    ],
    cmd: ["wm-demo-agent"],
  },
  none: {
    files: [],
    dockerfile: ["# No agent: the sandbox runs whatever command it is given."],
    cmd: ["bash"],
  },
};
