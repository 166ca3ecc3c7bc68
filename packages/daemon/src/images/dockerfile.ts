import { AGENT_LAYERS, assertKnownAgent } from "./agents.ts";
import { DEFAULT_BASE_IMAGE, SANDBOX_IMAGE_VERSION } from "./image-labels.ts";

/** The base image sets no PATH of its own (it is an import), so the sandbox spells it out. */
export const SANDBOX_PATH =
  "/opt/wm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The sandbox image recipe: the common layer every agent needs, then the agent's own.
 * The shim is not baked in: the daemon bind-mounts it read-only on /opt/wm at run time.
 */
export function renderDockerfile(opts: { base?: string; agent: string }): string {
  const agent = assertKnownAgent(opts.agent);
  const base = opts.base ?? DEFAULT_BASE_IMAGE;
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(base)) {
    throw new Error(`not an image name: ${JSON.stringify(base)}`);
  }
  const layer = AGENT_LAYERS[agent];
  return [
    `# wm sandbox image, recipe version ${SANDBOX_IMAGE_VERSION}, agent ${agent}.`,
    `FROM ${base}`,
    "",
    "# The agent runs as the host user's UID:GID, which has no passwd entry here: give it a",
    "# HOME anyone can write (sticky), and let git work in worktrees owned by that UID.",
    "ENV WM_SANDBOX_GUEST=1 \\",
    "    HOME=/home/agent \\",
    `    PATH=${SANDBOX_PATH} \\`,
    "    LANG=C.UTF-8",
    "RUN mkdir -p /opt/wm/bin /home/agent \\",
    " && chmod 0755 /opt/wm /opt/wm/bin \\",
    " && chmod 1777 /home/agent \\",
    " && git config --system safe.directory '*'",
    "WORKDIR /home/agent",
    "",
    ...layer.dockerfile,
    `CMD ${JSON.stringify(layer.cmd)}`,
    "",
  ].join("\n");
}
