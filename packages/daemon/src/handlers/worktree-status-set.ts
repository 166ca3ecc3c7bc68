import type { Handler } from "../rpc/dispatch.ts";
import { worktreeService } from "../worktrees/service.ts";
import { setStatus } from "../worktrees/status.ts";

export const worktreeStatusSet: Handler<"worktree.statusSet"> = (params, { daemon }) =>
  setStatus(worktreeService(daemon), params);
