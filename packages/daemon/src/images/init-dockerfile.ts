import { writeFile } from "node:fs/promises";
import path from "node:path";
import { assertKnownAgent } from "./agents.ts";
import { sandboxImageName } from "./image-labels.ts";

export function customDockerfile(agent: string): string {
  const from = sandboxImageName(assertKnownAgent(agent));
  return `# A custom wm sandbox image for the "${agent}" agent.
#
# Build it and tell wm to use it:
#   docker build -t my-sandbox:${agent} .        (or podman build)
# and in ~/.config/workmux/config.yaml (or the project's .workmux.yaml):
#   sandbox:
#     image: my-sandbox:${agent}
#
# Keep building FROM ${from} (\`wm sandbox build --agent ${agent}\` makes it): it
# provides what wm needs inside a sandbox: WM_SANDBOX_GUEST=1, /opt/wm/bin on PATH (the wm
# shim is mounted there when the sandbox starts), a writable HOME=/home/agent, and git's
# safe.directory. Rebuild this image after rebuilding ${from}.
#
# Instructions here run as root; the sandbox itself runs as your own UID:GID.
FROM ${from}

# Example: more tools for the agent.
# RUN apt-get update \\
#  && apt-get install -y --no-install-recommends ripgrep python3 \\
#  && rm -rf /var/lib/apt/lists/*
`;
}

/** Writes `dir/Dockerfile` for a custom image; refuses to replace one unless `force`. */
export async function initDockerfile(
  dir: string,
  opts: { agent: string; force?: boolean },
): Promise<{ file: string }> {
  const file = path.join(dir, "Dockerfile");
  const text = customDockerfile(opts.agent);
  try {
    await writeFile(file, text, { mode: 0o644, flag: opts.force ? "w" : "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new Error(`${file} already exists; pass --force to replace it`);
    if (code === "ENOENT") throw new Error(`directory ${dir} does not exist`);
    throw err;
  }
  return { file };
}
