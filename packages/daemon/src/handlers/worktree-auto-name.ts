import type { Handler } from "../rpc/dispatch.ts";
import { autoBranchNames } from "../worktrees/auto-names.ts";

export const worktreeAutoName: Handler<"worktree.autoName"> = (params, { daemon }) =>
  autoBranchNames(daemon.worktrees, params);
