import { constants, promises as fs } from "node:fs";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";

/** HOME inside every sandbox image. */
export const GUEST_HOME = "/home/agent";

/**
 * The agent's own credentials, separate from the user's: `~/.claude-sandbox.json` and
 * `~/.claude-sandbox/` appear in the sandbox as `~/.claude.json` and `~/.claude/`. Created
 * (and seeded so the agent skips its first-run screens) when missing, owned by the sandbox user.
 *
 * `sandbox.agent_config_dir` (global file only) names a host directory to use instead, as
 * workmux does with your own `~/.claude`: it is mounted read-write at `~/.claude` and the agent
 * is told to keep all of its state there (`CLAUDE_CONFIG_DIR`). That hands the agent your login
 * and history on the host, which is why wm's default is the separate directory.
 */
export async function claudeCredentialMounts(
  homedir: string,
  owner: { uid: number; gid: number },
  configDir?: string | undefined,
): Promise<MountSpec[]> {
  if (configDir !== undefined) {
    const st = await fs.lstat(configDir).catch(() => undefined);
    if (!st?.isDirectory())
      throw new AgentConfigDirError(
        `sandbox.agent_config_dir: ${configDir} ${st ? (st.isSymbolicLink() ? "is a symbolic link" : "is not a directory") : "does not exist"}; make the directory, or remove the key to use wm's own ~/.claude-sandbox`,
      );
    return [{ source: configDir, target: `${GUEST_HOME}/.claude`, readOnly: false }];
  }
  const file = path.join(homedir, ".claude-sandbox.json");
  const dir = path.join(homedir, ".claude-sandbox");
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const handle = await fs.open(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    await handle.writeFile(`${JSON.stringify({ hasCompletedOnboarding: true }, null, 2)}\n`);
    await handle.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  for (const p of [file, dir]) {
    const st = await fs.lstat(p);
    if (st.isSymbolicLink()) throw new Error(`refusing to mount ${p}: it is a symbolic link`);
    if (st.uid !== owner.uid) await fs.chown(p, owner.uid, owner.gid);
  }
  return [
    { source: file, target: `${GUEST_HOME}/.claude.json`, readOnly: false },
    { source: dir, target: `${GUEST_HOME}/.claude`, readOnly: false },
  ];
}

export class AgentConfigDirError extends Error {}

/** `sandbox.agent_config_dir` with `~` and `{agent}` expanded; undefined when not set. */
export function agentConfigDir(
  configured: string | undefined,
  agent: string,
  homedir: string,
): string | undefined {
  if (configured === undefined) return undefined;
  let dir = configured.replaceAll("{agent}", agent);
  if (dir === "~") dir = homedir;
  else if (dir.startsWith("~/")) dir = path.join(homedir, dir.slice(2));
  return path.resolve(homedir, dir);
}
