import { existsSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { displaySafe, type ParsedParams, type Result, RpcError, unsafeChar } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import { PlantedPathError, writeFileUnder } from "../fs/no-follow.ts";
import type { SafeGit } from "../git/safe-git.ts";
import { recordWorktree } from "../sandbox/git-layout.ts";
import { applyFileOps } from "./file-ops.ts";
import { branchExists, checkedOut, currentBranch, mainBranch } from "./git-info.ts";
import { DEFAULT_HOOK_SHELL, runHooks } from "./hooks.ts";
import { withExclusiveLock } from "./lock.ts";
import { assertBranchName, handleFor, worktreeBaseDir, worktreePathFor } from "./names.ts";
import { gitOk, mainGit, type Repo, requireRepo } from "./repo.ts";
import { configDirOf, type WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { openEntryWindow } from "./window.ts";

type AddParams = ParsedParams<"worktree.add">;

/** The commit a new branch starts from: `--base`, else base_branch (`auto` = the main branch), else the main worktree's branch. */
async function resolveBase(
  git: SafeGit,
  base: string | undefined,
  configured: string | undefined,
  main: string | undefined,
) {
  let name = base ?? configured;
  if (name === "auto") name = await mainBranch(git, main);
  name ??= (await currentBranch(git)) ?? "HEAD";
  if (name.startsWith("-") || unsafeChar(name) !== undefined) {
    throw new RpcError("InvalidParams", `"${displaySafe(name)}" is not a valid base`);
  }
  const res = await git.run([
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${name}^{commit}`,
  ]);
  if (res.code !== 0)
    throw new RpcError("InvalidParams", `base "${name}" is not a commit in this repository`);
  return { name, commit: res.stdout.trim() };
}

/** Undoes a partly made worktree: the worktree (files and admin dir) and a branch this call created. */
async function undo(git: SafeGit, worktree: string, branch: string | undefined): Promise<void> {
  await git.run(["worktree", "remove", "--force", "--force", worktree]).catch(() => undefined);
  await rm(worktree, { recursive: true, force: true });
  await git.run(["worktree", "prune"]).catch(() => undefined);
  if (branch) await git.run(["branch", "-D", branch]).catch(() => undefined);
}

/**
 * The prompt goes in a file in the worktree (as workmux does); the pane reads it from there.
 * The worktree holds a branch an agent may have written: the file is created without following
 * symbolic links (a link at the file's own name is replaced; `.workmux` as a link or a
 * non-directory is refused).
 */
async function writePrompt(worktree: string, handle: string, prompt: string): Promise<string> {
  const name = `PROMPT-${handle.replace(/[^A-Za-z0-9_.-]/g, "-")}.md`;
  const st = await stat(worktree);
  try {
    return await writeFileUnder(
      worktree,
      path.join(".workmux", name),
      prompt.endsWith("\n") ? prompt : `${prompt}\n`,
      { mode: 0o644, dirMode: 0o755, owner: { uid: st.uid, gid: st.gid } },
    );
  } catch (err) {
    if (!(err instanceof PlantedPathError)) throw err;
    throw new RpcError(
      "Conflict",
      `${err.message}; the prompt was not written (the worktree is at ${worktree})`,
    );
  }
}

/** `--open-if-exists`: the existing worktree's window, opened (or selected) instead of an error. */
async function openExisting(
  svc: WorktreeService,
  entry: WorktreeEntry,
  config: WmConfig,
  params: AddParams,
): Promise<Result<"worktree.add">> {
  const opened = await openEntryWindow(svc, entry, config, {
    client: params.tmux,
    background: params.background,
  });
  svc.emit("worktree", "opened", opened.entry);
  return {
    worktree: await svc.summary(opened.entry),
    branchCreated: false,
    base: null,
    files: { copied: [], symlinked: [], skipped: [] },
    hooks: [],
    panes: opened.panes,
  };
}

export async function addWorktree(
  svc: WorktreeService,
  params: AddParams,
): Promise<Result<"worktree.add">> {
  const { daemon } = svc;
  const repo: Repo = await requireRepo(params.cwd, await svc.known());
  assertBranchName(params.branch);
  const loaded = await svc.loadConfig(repo);
  const config = loaded.config;
  const handle = handleFor(params.branch, config.worktree_naming, config.worktree_prefix);
  const base = worktreeBaseDir(config.worktree_dir, repo.root, daemon.homedir);
  const target = worktreePathFor(base, handle);
  const git = mainGit(repo, daemon.env);
  const busy = `another \`wm add\` of "${handle}" in ${repo.root} is in progress`;

  return withExclusiveLock(daemon.paths.stateDir, [repo.commonDir, target], busy, async () => {
    const known = (await svc.state.all()).find(
      (e) => e.path === target || (e.repo === repo.root && e.handle === handle),
    );
    if (known && params.openIfExists) return openExisting(svc, known, config, params);
    if (known)
      throw new RpcError(
        "Conflict",
        `worktree "${handle}" already exists at ${known.path}; \`wm open ${handle}\` opens it`,
      );
    if (existsSync(target)) {
      throw new RpcError(
        "Conflict",
        `${target} already exists; remove it or choose another branch name`,
      );
    }
    const exists = await branchExists(git, params.branch);
    if (exists) {
      const at = (await checkedOut(git)).get(params.branch);
      if (at)
        throw new RpcError("Conflict", `branch "${params.branch}" is already checked out at ${at}`);
      if (params.base)
        throw new RpcError(
          "InvalidParams",
          `branch "${params.branch}" exists; --base applies only to a new branch`,
        );
    }
    const from = exists
      ? undefined
      : await resolveBase(git, params.base, config.base_branch, config.main_branch);
    await mkdir(base, { recursive: true });
    const args = from
      ? ["-b", params.branch, "--", target, from.commit]
      : ["--", target, params.branch];
    try {
      await gitOk(git, ["worktree", "add", ...args], "Conflict");
    } catch (err) {
      await undo(git, target, from ? params.branch : undefined);
      throw err;
    }

    let entry: WorktreeEntry;
    let files: Result<"worktree.add">["files"];
    let hooks: Result<"worktree.add">["hooks"];
    try {
      const record = await recordWorktree(target, { env: daemon.env as NodeJS.ProcessEnv });
      files = await applyFileOps({
        mainRoot: repo.root,
        worktree: record.worktreePath,
        copy: config.files?.copy ?? [],
        symlink: config.files?.symlink ?? [],
      });
      hooks = await runHooks(
        {
          hook: "post_create",
          commands: config.post_create ?? [],
          shell: config.hook_shell ?? DEFAULT_HOOK_SHELL,
          cwd: record.worktreePath,
          env: daemon.env,
          vars: {
            WM_HANDLE: handle,
            WM_WORKTREE_PATH: record.worktreePath,
            WM_PROJECT_ROOT: repo.root,
            WM_CONFIG_DIR: configDirOf(loaded, repo.root),
          },
        },
        "the worktree was removed again",
      );
      await daemon.worktreeRecords.remember(record);
      const now = new Date().toISOString();
      entry = await svc.state.put({
        handle,
        branch: params.branch,
        path: record.worktreePath,
        repo: repo.root,
        commonDir: record.commonDir,
        adminDir: record.adminDir,
        mode: config.mode,
        sandbox: params.sandbox ?? config.sandbox.enabled,
        ...(params.agent ? { agent: params.agent } : {}),
        tmux: null,
        status: null,
        statusAt: null,
        lastActivity: now,
        createdAt: now,
      });
    } catch (err) {
      await undo(git, target, from ? params.branch : undefined);
      throw err;
    }
    svc.emit("worktree", "added", entry);
    const promptFile = params.prompt
      ? await writePrompt(entry.path, handle, params.prompt)
      : undefined;
    const opened = await openEntryWindow(svc, entry, config, {
      client: params.tmux,
      background: params.background,
      promptFile,
    });
    svc.emit("worktree", "opened", opened.entry);
    return {
      worktree: await svc.summary(opened.entry),
      branchCreated: from !== undefined,
      base: from?.name ?? null,
      files,
      hooks,
      panes: opened.panes,
    };
  });
}
