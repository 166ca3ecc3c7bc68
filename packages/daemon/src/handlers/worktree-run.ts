import type { Handler } from "../rpc/dispatch.ts";
import { runInPane } from "../worktrees/run-pane.ts";

export const worktreeRun: Handler<"worktree.run"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  const entry = await svc.find(params.cwd, params.name);
  return { handle: entry.handle, ...(await runInPane(svc, entry, params.command)) };
};
