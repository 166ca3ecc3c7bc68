import { existsSync } from "node:fs";
import { type ParsedParams, type Result, RpcError } from "@wm/protocol";
import type { SafeGit } from "../git/safe-git.ts";
import { branchExists, commitIdentity, currentBranch, mainBranch } from "./git-info.ts";
import { assertBranchName } from "./names.ts";
import { dismantle, runEntryHooks, uncommitted } from "./remove.ts";
import { gitOk, mainGit } from "./repo.ts";
import { configDirOf, type WorktreeService } from "./service.ts";

type Strategy = "merge" | "rebase" | "squash";

async function conflict(
  git: SafeGit,
  args: readonly string[],
  abort: readonly string[],
): Promise<void> {
  const res = await git.run(args);
  if (res.code === 0) return;
  await git.run(abort);
  const why = (res.stdout + res.stderr).trim().split("\n").slice(-8).join("\n");
  throw new RpcError(
    "Conflict",
    `git ${args[0]} of the branch failed and was aborted; the target is unchanged:\n${why}`,
    {
      args,
    },
  );
}

/**
 * Applies `branch` to the checked-out `target` in the main worktree. `rebase` replays the
 * branch's commits on the target with cherry-pick (a fast-forward when it already sits on top):
 * the same history as rebase + fast-forward, without `git rebase`, which runs configured programs.
 */
async function apply(
  git: SafeGit,
  strategy: Strategy,
  branch: string,
  target: string,
): Promise<void> {
  if (strategy === "merge") {
    await conflict(
      git,
      ["merge", "--no-edit", "-m", `Merge branch '${branch}' into ${target}`, branch],
      ["merge", "--abort"],
    );
    return;
  }
  if (strategy === "squash") {
    await conflict(git, ["merge", "--squash", branch], ["reset", "--merge"]);
    const staged = await git.run(["diff", "--cached", "--quiet"]);
    if (staged.code !== 0) await gitOk(git, ["commit", "--no-edit"]);
    return;
  }
  const onTop = await git.run([
    "merge-base",
    "--is-ancestor",
    `refs/heads/${target}`,
    `refs/heads/${branch}`,
  ]);
  if (onTop.code === 0) {
    await conflict(git, ["merge", "--ff-only", branch], ["merge", "--abort"]);
    return;
  }
  const commits = (
    await gitOk(git, [
      "rev-list",
      "--reverse",
      "--no-merges",
      `refs/heads/${target}..refs/heads/${branch}`,
    ])
  )
    .split("\n")
    .filter(Boolean);
  if (commits.length > 0)
    await conflict(git, ["cherry-pick", "--allow-empty", ...commits], ["cherry-pick", "--abort"]);
}

export async function mergeWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.merge">,
): Promise<Result<"worktree.merge">> {
  const { env, homedir } = svc.daemon;
  const entry = await svc.find(params.cwd, params.name);
  const repo = { root: entry.repo, commonDir: entry.commonDir };
  return svc.withEntryLock(entry, async () => {
    const loaded = await svc.loadConfig(repo);
    const { config } = loaded;
    const strategy = params.strategy ?? config.merge_strategy;
    const keep = params.keep ?? config.merge_keep ?? false;
    const plain = mainGit(repo, env);
    const target = params.into ?? (await mainBranch(plain, config.main_branch));
    assertBranchName(target, "target branch");
    if (!(await branchExists(plain, target)))
      throw new RpcError("NotFound", `target branch "${target}" does not exist`);
    if (!(await branchExists(plain, entry.branch)))
      throw new RpcError("NotFound", `branch "${entry.branch}" no longer exists`);
    const checked = await currentBranch(plain);
    if (checked !== target) {
      throw new RpcError(
        "Conflict",
        `the main worktree (${entry.repo}) has ${checked ?? "a detached HEAD"} checked out, not ${target}; switch it to ${target} or pass --into ${checked ?? "BRANCH"}`,
      );
    }
    if (existsSync(entry.path)) {
      const dirty = await uncommitted(svc, entry);
      if (dirty.length > 0) {
        throw new RpcError(
          "Refused",
          `worktree "${entry.handle}" has uncommitted changes; commit them first:\n${dirty.slice(0, 10).join("\n")}`,
          {
            reason: "uncommitted",
            files: dirty,
          },
        );
      }
    }
    const mainDirty = (
      await gitOk(plain, ["status", "--porcelain=v1", "--untracked-files=no"])
    ).trim();
    if (mainDirty) {
      throw new RpcError(
        "Refused",
        `the main worktree ${entry.repo} has uncommitted changes; commit or stash them first:\n${mainDirty}`,
      );
    }
    const configDir = configDirOf(loaded, entry.repo);
    const hooks = existsSync(entry.path)
      ? await runEntryHooks(svc, entry, config, configDir, "pre_merge", {
          WM_BRANCH_NAME: entry.branch,
          WM_TARGET_BRANCH: target,
        })
      : [];
    const git = mainGit(repo, env, await commitIdentity(plain, env, homedir));
    await apply(git, strategy, entry.branch, target);
    const commit = (await gitOk(git, ["rev-parse", "--verify", "HEAD"])).trim();
    svc.emit("worktree", "merged", entry, { target, strategy, commit });
    if (!keep) {
      if (existsSync(entry.path)) {
        const done = "the merge is done; the worktree and branch were kept";
        hooks.push(...(await runEntryHooks(svc, entry, config, configDir, "pre_remove", {}, done)));
      }
      await dismantle(svc, entry, true);
      svc.emit("worktree", "removed", entry, { branchDeleted: true });
    }
    return {
      handle: entry.handle,
      branch: entry.branch,
      target,
      strategy,
      commit,
      removed: !keep,
      hooks,
    };
  });
}
