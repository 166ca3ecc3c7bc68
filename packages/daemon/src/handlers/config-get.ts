import path from "node:path";
import { RpcError } from "@wm/protocol";
import { ConfigError, loadConfig } from "../config/index.ts";
import type { Handler } from "../rpc/dispatch.ts";

export const configGet: Handler<"config.get"> = async (params, { daemon }) => {
  if (!path.isAbsolute(params.cwd)) {
    throw new RpcError("InvalidParams", `cwd must be an absolute path, got "${params.cwd}"`);
  }
  try {
    const loaded = await loadConfig({ cwd: params.cwd, env: daemon.env, homedir: daemon.homedir });
    return {
      files: loaded.files,
      config: loaded.config as Record<string, unknown>,
      sources: loaded.sources,
      warnings: loaded.warnings,
      unsupported: loaded.unsupported,
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new RpcError("ConfigInvalid", err.message, { diagnostics: err.diagnostics });
    }
    throw err;
  }
};
