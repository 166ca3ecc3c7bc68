import { RpcError } from "@wm/protocol";
import type { Handler } from "../rpc/dispatch.ts";
import { goneBranches } from "../worktrees/git-info.ts";
import { mainGit } from "../worktrees/repo.ts";
import { listWorktrees } from "../worktrees/status.ts";

export const worktreeList: Handler<"worktree.list"> = async (params, { daemon }) => {
  const svc = daemon.worktrees;
  if (params.gone && (params.all || !params.cwd))
    throw new RpcError(
      "InvalidParams",
      "gone lists the worktrees of one repository: pass cwd, not all",
    );
  const listed = await listWorktrees(svc, params);
  let entries = listed.entries;
  if (params.gone) {
    const repo = params.cwd ? await svc.repoOf(params.cwd) : undefined;
    if (!repo) throw new RpcError("NotFound", `${params.cwd} is not inside a git repository`);
    const gone = await goneBranches(mainGit(repo, daemon.env));
    entries = entries.filter((e) => gone.has(e.branch));
  }
  return {
    repo: listed.repo,
    worktrees: await Promise.all(entries.map((e) => svc.summary(e))),
  };
};
