import type { Handler } from "../rpc/dispatch.ts";
import { removeWorktree } from "../worktrees/remove.ts";

export const worktreeRemove: Handler<"worktree.remove"> = (params, { daemon }) =>
  removeWorktree(daemon.worktrees, params);
