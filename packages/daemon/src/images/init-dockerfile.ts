import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { assertKnownAgent } from "./agents.ts";
import { SANDBOX_PATH } from "./dockerfile.ts";
import { sandboxImageName } from "./image-labels.ts";

export class DockerfileExistsError extends Error {}

/** A commented Dockerfile that starts from wm's sandbox image, for users to extend. */
export function customDockerfile(agent: string): string {
  const base = sandboxImageName(assertKnownAgent(agent));
  return `# A custom wm sandbox image. Build and use it:
#   docker build -t my-sandbox .            (or: podman build -t my-sandbox .)
#   then in ~/.config/workmux/config.yaml:   sandbox: { image: my-sandbox }
# It starts from ${base} (wm sandbox build --agent ${agent}), which already has git,
# certificates, HOME=/home/agent and the mount point of the in-sandbox wm (/opt/wm).
FROM ${base}

# Tools your agent needs, from Debian's packages:
# RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3 \\
#  && rm -rf /var/lib/apt/lists/*

# If you start FROM another image instead, keep wm's shim first on PATH:
ENV PATH=${SANDBOX_PATH}
`;
}

export async function initDockerfile(
  dir: string,
  opts: { agent: string; force: boolean },
): Promise<string> {
  const file = path.join(dir, "Dockerfile");
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (opts.force ? constants.O_TRUNC : constants.O_EXCL);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, flags, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new DockerfileExistsError(`${file} already exists; pass --force to overwrite it`);
    }
    throw err;
  }
  try {
    await handle.writeFile(customDockerfile(opts.agent));
  } finally {
    await handle.close();
  }
  return file;
}
