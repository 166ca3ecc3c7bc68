import type { Handler } from "../rpc/dispatch.ts";
import { worktreeService } from "../worktrees/service.ts";
import { listWorktrees } from "../worktrees/status.ts";

export const worktreeList: Handler<"worktree.list"> = async (params, { daemon }) => {
  const svc = worktreeService(daemon);
  const listed = await listWorktrees(svc, params);
  return {
    repo: listed.repo,
    worktrees: await Promise.all(listed.entries.map((e) => svc.summary(e))),
  };
};
