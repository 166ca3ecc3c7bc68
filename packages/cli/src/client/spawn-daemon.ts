import { spawn } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { WmPaths } from "@wm/protocol";

/** The daemon bundle shipped beside the CLI bundle (`dist/wm.cjs` → `dist/wmd.js`). */
export function daemonEntry(env: Readonly<Record<string, string | undefined>>): string {
  return env.WM_DAEMON_ENTRY ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "wmd.js");
}

export interface SpawnedDaemon {
  pid: number | undefined;
  /** Resolves with the exit code if the process ends (a losing racer exits 0). */
  exited: Promise<number | null>;
}

/**
 * Start `wmd` detached, in its own session, with stdout/stderr appended to the daemon log
 * so that a crash before its logger is up is still on record.
 */
export async function spawnDaemon(paths: WmPaths, env: NodeJS.ProcessEnv): Promise<SpawnedDaemon> {
  await fs.mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const log = await fs.open(
    paths.logFile,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    const child = spawn(process.execPath, [daemonEntry(env)], {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env,
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.once("error", () => resolve(-1));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    await log.close();
  }
}
