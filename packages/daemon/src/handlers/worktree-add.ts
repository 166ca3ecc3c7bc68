import type { Handler } from "../rpc/dispatch.ts";
import { addWorktree } from "../worktrees/add.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeAdd: Handler<"worktree.add"> = (params, { daemon }) =>
  addWorktree(worktreeService(daemon), params);
