import path from "node:path";
import { RpcError } from "@wm/protocol";
import { findGlobalConfigFile, findProjectFiles, globalConfigDirs } from "../config/locate.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { recordedRoots } from "./config-get.ts";

/** The files loadConfig reads for `cwd`, found the same way, without parsing them. */
export const configFiles: Handler<"config.files"> = async (params, { daemon }) => {
  if (!path.isAbsolute(params.cwd)) {
    throw new RpcError("InvalidParams", `cwd must be an absolute path, got "${params.cwd}"`);
  }
  const found = await findGlobalConfigFile(daemon.env, daemon.homedir);
  const primary = path.join(
    globalConfigDirs(daemon.env, daemon.homedir)[0] as string,
    "config.yaml",
  );
  const project = await findProjectFiles({
    cwd: params.cwd,
    ...(await recordedRoots(daemon, params.cwd)),
  });
  return {
    global: found ? { path: found, exists: true } : { path: primary, exists: false },
    project: project.nearest,
    trusted: project.trusted !== project.nearest ? project.trusted : null,
    repoRoot: project.repoRoot,
  };
};
