import type { Handler } from "../rpc/dispatch.ts";
import { listWorktrees } from "../worktrees/status.ts";

export const worktreeStatus: Handler<"worktree.status"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const listed = await listWorktrees(svc, params);
  return {
    current: listed.current?.handle ?? null,
    worktrees: await Promise.all(listed.entries.map((e) => svc.summary(e))),
  };
};
