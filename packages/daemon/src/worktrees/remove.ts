import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { type HookRun, type ParsedParams, type Result, RpcError } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import { branchExists, mainBranch } from "./git-info.ts";
import { DEFAULT_HOOK_SHELL, runHooks } from "./hooks.ts";
import { gitOk, mainGit } from "./repo.ts";
import { configDirOf, type WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { uncommitted } from "./uncommitted.ts";

/** Hook environment of a worktree. */
export function hookVars(
  entry: WorktreeEntry,
  configDir: string,
  extra: Record<string, string> = {},
) {
  return {
    WM_HANDLE: entry.handle,
    WM_WORKTREE_PATH: entry.path,
    WM_PROJECT_ROOT: entry.repo,
    WM_CONFIG_DIR: configDir,
    ...extra,
  };
}

/** Closes the window, removes the worktree (after the caller's status check) and deletes its branch. */
export async function dismantle(
  svc: WorktreeService,
  entry: WorktreeEntry,
  deleteBranch: boolean,
): Promise<boolean> {
  const { env } = svc.daemon;
  await svc.killWindow(entry);
  await svc.daemon.sandboxes.stopWorktree(entry.path);
  const repo = { root: entry.repo, commonDir: entry.commonDir };
  const git = mainGit(repo, env);
  if (existsSync(entry.path))
    await gitOk(git, ["worktree", "remove", "--force", entry.path], "Conflict");
  await rm(entry.path, { recursive: true, force: true });
  await rm(svc.gitTarget(entry).shadow.dir, { recursive: true, force: true });
  await git.run(["worktree", "prune"]);
  let deleted = false;
  if (deleteBranch && (await branchExists(git, entry.branch))) {
    await gitOk(git, ["branch", "-D", entry.branch], "Conflict");
    deleted = true;
  }
  await svc.state.delete(entry.path);
  await svc.daemon.worktreeRecords.forget(entry.path);
  return deleted;
}

/** The repository itself is gone: close the window and drop the record. */
async function forget(
  svc: WorktreeService,
  entry: WorktreeEntry,
): Promise<Result<"worktree.remove">> {
  await svc.killWindow(entry);
  await svc.state.delete(entry.path);
  svc.emit("worktree", "removed", entry, { branchDeleted: false });
  return {
    handle: entry.handle,
    path: entry.path,
    branch: entry.branch,
    branchDeleted: false,
    hooks: [],
  };
}

export async function runEntryHooks(
  svc: WorktreeService,
  entry: WorktreeEntry,
  config: WmConfig,
  configDir: string,
  hook: "pre_remove" | "pre_merge",
  extra: Record<string, string> = {},
  undone = hook === "pre_remove" ? "nothing was removed" : "nothing was merged",
): Promise<HookRun[]> {
  return runHooks(
    {
      hook,
      commands: config[hook] ?? [],
      shell: config.hook_shell ?? DEFAULT_HOOK_SHELL,
      cwd: entry.path,
      env: svc.daemon.env,
      vars: hookVars(entry, configDir, extra),
    },
    undone,
  );
}

export async function removeWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.remove">,
): Promise<Result<"worktree.remove">> {
  const entry = await svc.find(params.cwd, params.name);
  return svc.withEntryLock(entry, async () => {
    if (!existsSync(entry.commonDir)) return forget(svc, entry);
    const loaded = await svc.loadConfig({ root: entry.repo, commonDir: entry.commonDir });
    const present = existsSync(entry.path);
    if (!params.force && present) {
      const dirty = await uncommitted(svc, entry);
      if (dirty.length > 0) {
        throw new RpcError(
          "Refused",
          `worktree "${entry.handle}" has uncommitted changes:\n${dirty.slice(0, 10).join("\n")}\ncommit or discard them, or pass -f to remove anyway`,
          { reason: "uncommitted", files: dirty },
        );
      }
    }
    const git = mainGit({ root: entry.repo, commonDir: entry.commonDir }, svc.daemon.env);
    if (!params.force && !params.keepBranch && (await branchExists(git, entry.branch))) {
      const target = await mainBranch(git, loaded.config.main_branch);
      const ahead = !(await branchExists(git, target))
        ? "0"
        : await gitOk(git, [
            "rev-list",
            "--count",
            `refs/heads/${target}..refs/heads/${entry.branch}`,
          ]);
      if (Number(ahead.trim()) > 0) {
        throw new RpcError(
          "Refused",
          `branch "${entry.branch}" has ${ahead.trim()} commit(s) not merged into ${target}; \`wm merge ${entry.handle}\` merges them, -f removes anyway, --keep-branch keeps the branch`,
          { reason: "unmerged", commits: Number(ahead.trim()), target },
        );
      }
    }
    const configDir = configDirOf(loaded, entry.repo);
    const hooks = present
      ? await runEntryHooks(svc, entry, loaded.config, configDir, "pre_remove")
      : [];
    const branchDeleted = await dismantle(svc, entry, !params.keepBranch);
    svc.emit("worktree", "removed", entry, { branchDeleted });
    return { handle: entry.handle, path: entry.path, branch: entry.branch, branchDeleted, hooks };
  });
}
