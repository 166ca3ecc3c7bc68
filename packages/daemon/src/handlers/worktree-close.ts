import type { Handler } from "../rpc/dispatch.ts";
import { closeWorktree } from "../worktrees/open-close.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeClose: Handler<"worktree.close"> = (params, { daemon }) =>
  closeWorktree(worktreeService(daemon), params);
