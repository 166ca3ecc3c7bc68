import { realpath } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { ConfigError, loadConfig } from "../config/index.ts";
import { notPlannedReason } from "../config/key-policy.ts";
import type { DaemonContext } from "../context.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { isInside } from "../worktrees/repo.ts";

/**
 * Inside a linked worktree wm has a record of, the recorded worktree and main worktree frame
 * the lookup (a `.git` planted further down is ignored); elsewhere the config loader finds them
 * from git's files, where an enclosing linked worktree also wins over a nested `.git`.
 */
export async function recordedRoots(daemon: DaemonContext, cwd: string) {
  const real = await realpath(cwd).catch(() => path.resolve(cwd));
  const record = (await daemon.worktrees.known())
    .filter((k) => isInside(real, k.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  return record?.repo ? { repoRoot: record.path, mainWorktreeRoot: record.repo } : {};
}

export const configGet: Handler<"config.get"> = async (params, { daemon }) => {
  if (!path.isAbsolute(params.cwd)) {
    throw new RpcError("InvalidParams", `cwd must be an absolute path, got "${params.cwd}"`);
  }
  try {
    const loaded = await loadConfig({
      cwd: params.cwd,
      env: daemon.env,
      homedir: daemon.homedir,
      ...(await recordedRoots(daemon, params.cwd)),
    });
    return {
      files: loaded.files,
      config: loaded.config as Record<string, unknown>,
      sources: loaded.sources,
      warnings: loaded.warnings,
      unsupported: loaded.unsupported,
      notPlanned: Object.fromEntries(
        loaded.unsupported.flatMap((key) => {
          const why = notPlannedReason(key);
          return why ? [[key, why]] : [];
        }),
      ),
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new RpcError("ConfigInvalid", err.message, { diagnostics: err.diagnostics });
    }
    throw err;
  }
};
