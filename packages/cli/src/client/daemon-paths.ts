import os from "node:os";
import type { WmPaths } from "@wm/protocol";
import { resolvePaths, SocketPathTooLongError } from "@wm/protocol/paths";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

export function pathsFor(env: Readonly<Record<string, string | undefined>>): WmPaths {
  try {
    return resolvePaths({
      env,
      platform: process.platform,
      uid: process.getuid?.() ?? 0,
      homedir: os.homedir(),
      tmpdir: os.tmpdir(),
    });
  } catch (err) {
    if (err instanceof SocketPathTooLongError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
}
