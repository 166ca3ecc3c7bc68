import type { Handler } from "../rpc/dispatch.ts";
import { setStatus } from "../worktrees/status.ts";

export const worktreeStatusSet: Handler<"worktree.statusSet"> = (params, { daemon }) =>
  setStatus(daemon.worktrees, params);
