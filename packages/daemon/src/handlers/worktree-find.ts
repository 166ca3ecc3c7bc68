import type { Handler } from "../rpc/dispatch.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeFind: Handler<"worktree.find"> = async (params, { daemon }) => {
  const svc = worktreeService(daemon);
  return { worktree: await svc.summary(await svc.find(params.cwd, params.name)) };
};
