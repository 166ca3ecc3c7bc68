import { existsSync } from "node:fs";
import { RpcError } from "@wm/protocol";
import type { Handler } from "../rpc/dispatch.ts";
import { applyFileOps } from "../worktrees/file-ops.ts";

/** `files.copy` / `files.symlink` of the repository's config, applied again as `wm add` does. */
export const worktreeSyncFiles: Handler<"worktree.syncFiles"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  let entries: Awaited<ReturnType<typeof svc.entries>>;
  if (params.all) {
    if (params.name !== undefined)
      throw new RpcError("InvalidParams", "give a worktree name or all, not both");
    const repo = await svc.repoOf(params.cwd);
    if (!repo) throw new RpcError("NotFound", `${params.cwd} is not inside a git repository`);
    entries = await svc.entries(repo);
  } else {
    entries = [await svc.find(params.cwd, params.name)];
  }
  const worktrees = [];
  for (const entry of entries) {
    if (!existsSync(entry.path)) continue;
    const files = await svc.withEntryLock(entry, async () => {
      const { config } = await svc.loadConfig({ root: entry.repo, commonDir: entry.commonDir });
      return applyFileOps({
        mainRoot: entry.repo,
        worktree: entry.path,
        copy: config.files?.copy ?? [],
        symlink: config.files?.symlink ?? [],
      });
    });
    worktrees.push({ handle: entry.handle, path: entry.path, files });
  }
  return { worktrees };
};
