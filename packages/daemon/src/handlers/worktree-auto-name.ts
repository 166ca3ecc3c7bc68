import type { Handler } from "../rpc/dispatch.ts";
import { autoBranchNames } from "../worktrees/auto-names.ts";
import { worktreeService } from "../worktrees/service.ts";

export const worktreeAutoName: Handler<"worktree.autoName"> = (params, { daemon }) =>
  autoBranchNames(worktreeService(daemon), params);
