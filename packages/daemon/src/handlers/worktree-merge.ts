import type { Handler } from "../rpc/dispatch.ts";
import { mergeWorktree } from "../worktrees/merge.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeMerge: Handler<"worktree.merge"> = (params, { daemon }) =>
  mergeWorktree(worktreeService(daemon), params);
