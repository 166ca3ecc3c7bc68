import type { Handler } from "../rpc/dispatch.ts";
import { openWorktree } from "../worktrees/open-close.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeOpen: Handler<"worktree.open"> = (params, { daemon }) =>
  openWorktree(worktreeService(daemon), params);
