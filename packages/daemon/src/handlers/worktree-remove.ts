import type { Handler } from "../rpc/dispatch.ts";
import { removeWorktree } from "../worktrees/remove.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeRemove: Handler<"worktree.remove"> = (params, { daemon }) =>
  removeWorktree(worktreeService(daemon), params);
