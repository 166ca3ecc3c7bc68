import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";

/**
 * The directory a host command runs in: the sandbox's `guestCwd` with every symbolic link
 * resolved, which must be the worktree or inside it. A link that leads out is refused.
 */
export async function resolveHostCwd(worktree: string, guestCwd: string): Promise<string> {
  if (guestCwd.includes("\0") || !path.isAbsolute(guestCwd)) {
    throw new RpcError(
      "InvalidParams",
      `cwd ${JSON.stringify(guestCwd)} is not an absolute path; send the directory the command runs in, inside the worktree`,
    );
  }
  const root = await realpath(worktree);
  const real = await realpath(guestCwd).catch((err: NodeJS.ErrnoException) => {
    throw new RpcError(
      "InvalidParams",
      `cwd ${guestCwd} cannot be used on the host (${err.code ?? err.message}): it must be an existing directory inside the worktree ${root}`,
    );
  });
  if (real !== root && !real.startsWith(`${root}/`)) {
    const via = real === path.resolve(guestCwd) ? "" : ` (it resolves to ${real})`;
    throw new RpcError(
      "Refused",
      `cwd ${guestCwd}${via} is outside this sandbox's worktree ${root}; host commands run only inside it`,
    );
  }
  if (!(await stat(real)).isDirectory()) {
    throw new RpcError("InvalidParams", `cwd ${guestCwd} is not a directory`);
  }
  return real;
}

const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A host command is named, never given as a path: `cargo`, not `../cargo` or `/usr/bin/cargo`. */
export function checkCommandName(name: string): void {
  if (typeof name !== "string" || !COMMAND_NAME.test(name)) {
    throw new RpcError(
      "InvalidParams",
      `command ${JSON.stringify(name)} is not a command name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, no path (see sandbox.host_commands)`,
    );
  }
}
