import type { Handler } from "../rpc/dispatch.ts";
import { mergeWorktree } from "../worktrees/merge.ts";

/** Served on the host surface; a call that comes from a sandbox is held to a guest's rules. */
export const worktreeMerge: Handler<"worktree.merge"> = (params, call) =>
  mergeWorktree(call.daemon.worktrees, params, {
    initiator: call.sandbox ? "guest" : "host",
  });
