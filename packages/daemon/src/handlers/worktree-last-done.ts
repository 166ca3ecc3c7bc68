import { RpcError } from "@wm/protocol";
import type { Handler } from "../rpc/dispatch.ts";
import { selectWindow } from "../worktrees/select-window.ts";
import { listWorktrees } from "../worktrees/status.ts";

/** Selects the window of the agent whose `done` is the most recent (statusAt), among open ones. */
export const worktreeLastDone: Handler<"worktree.lastDone"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const { entries } = await listWorktrees(svc, params);
  const done = entries
    .filter((e) => e.status === "done" && e.statusAt !== null && e.tmux)
    .sort((a, b) => (b.statusAt ?? "").localeCompare(a.statusAt ?? ""));
  for (const entry of done) {
    const live = await svc.liveWindow(entry);
    if (!live) continue;
    await selectWindow(svc, entry, live, params.tmux);
    return { worktree: await svc.summary(entry) };
  }
  throw new RpcError("NotFound", "no agent has finished (none reports done in an open window)");
};
