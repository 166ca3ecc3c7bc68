import type { Handler } from "../rpc/dispatch.ts";
import { addWorktree } from "../worktrees/add.ts";

export const worktreeAdd: Handler<"worktree.add"> = (params, { daemon }) =>
  addWorktree(daemon.worktrees, params);
