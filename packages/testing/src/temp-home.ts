import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TempHome {
  /** Root of everything this test owns. */
  root: string;
  runtimeDir: string;
  socketPath: string;
  registrationFile: string;
  stateDir: string;
  logFile: string;
  configDir: string;
  /** Environment that points wm at this home and nowhere else. */
  env: NodeJS.ProcessEnv;
  /** Kill any daemon that registered here and remove the directory. */
  cleanup(): Promise<void>;
}

function pidsOf(text: string): number[] {
  try {
    const pid = (JSON.parse(text) as { pid?: number }).pid;
    return typeof pid === "number" ? [pid] : [];
  } catch {
    return [];
  }
}

/**
 * A throw-away HOME with its own runtime, state and config directories. Kept under /tmp
 * with a short name: Unix socket paths are limited to 107 bytes.
 */
export async function makeTempHome(extraEnv: NodeJS.ProcessEnv = {}): Promise<TempHome> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "wmt-"));
  const runtimeDir = path.join(root, "run");
  const stateHome = path.join(root, "state");
  const configHome = path.join(root, "config");
  await fs.mkdir(configHome, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    WM_RUNTIME_DIR: runtimeDir,
    XDG_STATE_HOME: stateHome,
    XDG_CONFIG_HOME: configHome,
    XDG_CACHE_HOME: path.join(root, "cache"),
    WM_DAEMON_IDLE_TIMEOUT: "120",
    WM_LOG_LEVEL: "debug",
    ...extraEnv,
  };
  const registrationFile = path.join(runtimeDir, "daemon.json");
  const spawnedPids = new Set<number>();
  return {
    root,
    runtimeDir,
    socketPath: path.join(runtimeDir, "daemon.sock"),
    registrationFile,
    stateDir: path.join(stateHome, "wm"),
    logFile: path.join(stateHome, "wm", "daemon.log"),
    configDir: path.join(configHome, "workmux"),
    env,
    async cleanup() {
      const text = await fs.readFile(registrationFile, "utf8").catch(() => "");
      for (const pid of [...pidsOf(text), ...spawnedPids]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
