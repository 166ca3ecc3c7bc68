import os from "node:os";
import { resolvePaths } from "@wm/protocol";
import { makeTempHome, type TempHome } from "@wm/testing";
import { type RunningDaemon, startDaemon } from "../src/daemon.ts";
import { createLogger } from "../src/log.ts";
import { resolveSettings } from "../src/settings.ts";

export interface InProcessDaemon {
  home: TempHome;
  daemon: RunningDaemon;
  close(): Promise<void>;
}

/** A real daemon on a real socket in a temp home, in this process. */
export async function startTestDaemon(env: NodeJS.ProcessEnv = {}): Promise<InProcessDaemon> {
  const home = await makeTempHome(env);
  const paths = resolvePaths({
    env: home.env,
    platform: process.platform,
    uid: process.getuid?.() ?? 0,
    homedir: home.root,
    tmpdir: os.tmpdir(),
  });
  const log = createLogger({ level: "debug", file: paths.logFile });
  const daemon = await startDaemon({
    env: home.env,
    settings: resolveSettings(home.env),
    log,
    paths,
    homedir: home.root,
  });
  return {
    home,
    daemon,
    async close() {
      await daemon.stop("test finished");
      await home.cleanup();
    },
  };
}
