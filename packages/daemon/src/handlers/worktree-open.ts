import type { Handler } from "../rpc/dispatch.ts";
import { openWorktree } from "../worktrees/open-close.ts";

export const worktreeOpen: Handler<"worktree.open"> = (params, { daemon }) =>
  openWorktree(daemon.worktrees, params);
