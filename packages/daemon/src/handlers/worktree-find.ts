import type { Handler } from "../rpc/dispatch.ts";

export const worktreeFind: Handler<"worktree.find"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  return { worktree: await svc.summary(await svc.find(params.cwd, params.name)) };
};
