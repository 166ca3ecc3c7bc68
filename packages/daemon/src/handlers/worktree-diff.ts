import type { Handler } from "../rpc/dispatch.ts";
import { filePatch, worktreeChanges } from "../worktrees/diff-files.ts";

export const worktreeDiff: Handler<"worktree.diff"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const entry = await svc.find(params.cwd, params.name);
  const changes = await worktreeChanges(svc, entry);
  const patch = params.path ? await filePatch(svc, entry, changes, params.path) : null;
  return { handle: entry.handle, branch: entry.branch, ...changes, patch };
};
