import os from "node:os";
import { resolvePaths, SocketPathTooLongError } from "@wm/protocol";
import type { LevelWithSilent } from "pino";
import { DaemonAlreadyRunningError, startDaemon } from "./daemon.ts";
import { readDaemonConfig } from "./daemon-config.ts";
import { ensureOwnerOnlyDir, InsecureDirectoryError } from "./fs/secure-dir.ts";
import { StartLockBusyError } from "./lifecycle/start-lock.ts";
import { createLogger } from "./log.ts";
import { resolveSettings, SettingsError } from "./settings.ts";

/** Exit codes of `wmd`, also documented in docs/architecture.md. */
export const DaemonExit = { Ok: 0, Failed: 1, Config: 78 } as const;

function fatal(message: string, code: number): never {
  process.stderr.write(`wmd: ${message}\n`);
  process.exit(code);
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  let paths: ReturnType<typeof resolvePaths>;
  let settings: ReturnType<typeof resolveSettings>;
  try {
    paths = resolvePaths({
      env,
      platform: process.platform,
      uid,
      homedir: os.homedir(),
      tmpdir: os.tmpdir(),
    });
    settings = resolveSettings(env, await readDaemonConfig(env, os.homedir()));
  } catch (err) {
    if (err instanceof SocketPathTooLongError || err instanceof SettingsError)
      fatal(err.message, DaemonExit.Config);
    throw err;
  }
  try {
    await ensureOwnerOnlyDir(paths.stateDir, { uid, tightenMode: true });
  } catch (err) {
    fatal((err as Error).message, DaemonExit.Config);
  }
  const log = createLogger({ level: settings.logLevel as LevelWithSilent, file: paths.logFile });
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception");
    log.flush();
    process.exit(DaemonExit.Failed);
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({ env, settings, log, paths });
  } catch (err) {
    if (err instanceof DaemonAlreadyRunningError || err instanceof StartLockBusyError) {
      log.info({ reason: err.message }, "not starting: another daemon serves this user");
      log.flush();
      process.exit(DaemonExit.Ok);
    }
    if (err instanceof InsecureDirectoryError) {
      log.error({ err }, "refusing to start");
      log.flush();
      fatal(err.message, DaemonExit.Config);
    }
    log.fatal({ err }, "daemon failed to start");
    log.flush();
    fatal(`failed to start: ${(err as Error).message}`, DaemonExit.Failed);
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => void daemon.stop(`received ${signal}`));
  }
  process.on("SIGHUP", () => log.info("SIGHUP ignored"));
  await daemon.stopped;
  log.flush();
  process.exit(DaemonExit.Ok);
}
