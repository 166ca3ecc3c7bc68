import type { Handler } from "../rpc/dispatch.ts";
import { mergeWorktree } from "../worktrees/merge.ts";
import { worktreeService } from "../worktrees/service.ts";

/** Served on the host surface; a call that comes from a sandbox is held to a guest's rules. */
export const worktreeMerge: Handler<"worktree.merge"> = (params, call) =>
  mergeWorktree(worktreeService(call.daemon), params, {
    initiator: call.sandbox ? "guest" : "host",
  });
