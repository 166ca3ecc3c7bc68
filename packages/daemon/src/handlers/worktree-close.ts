import type { Handler } from "../rpc/dispatch.ts";
import { closeWorktree } from "../worktrees/open-close.ts";

export const worktreeClose: Handler<"worktree.close"> = (params, { daemon }) =>
  closeWorktree(daemon.worktrees, params);
