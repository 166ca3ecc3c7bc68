import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import {
  displaySafe,
  type PaneRun,
  type ParsedParams,
  type Result,
  RpcError,
  unsafeChar,
} from "@wm/protocol";
import type { SafeGit } from "../git/safe-git.ts";
import { recordWorktree } from "../sandbox/git-layout.ts";
import { applyChanges, captureChanges, fetchPullRequest, withLayout } from "./add-options.ts";
import { autoBranchName } from "./auto-name.ts";
import { branchTaken } from "./auto-names.ts";
import { planBranch, worktreeAddArgs } from "./branch-plan.ts";
import { applyFileOps } from "./file-ops.ts";
import { checkedOut, currentBranch, mainBranch } from "./git-info.ts";
import { DEFAULT_HOOK_SHELL, runHooks } from "./hooks.ts";
import { withExclusiveLock } from "./lock.ts";
import {
  assertBranchName,
  handleFor,
  handleFromName,
  worktreeBaseDir,
  worktreePathFor,
} from "./names.ts";
import { writePromptFile } from "./prompt-file.ts";
import { gitOk, mainGit, type Repo, requireRepo } from "./repo.ts";
import { selectWindow, withSandboxChoice } from "./select-window.ts";
import { configDirOf, type WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import { openEntryWindow } from "./window.ts";
import { planWindow } from "./window-checks.ts";
import { windowDir } from "./window-dir.ts";
import { wmInvocation } from "./wm-command.ts";

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
    throw new RpcError(
      "InvalidParams",
      `base "${name}" is not a commit in this repository; nothing was created. Give a branch, tag or commit that exists (see \`git branch -a\`)`,
    );
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
 * `--open-if-exists`: the existing worktree (made by wm or not) instead of an error. Its live
 * window is selected (left as it is with --background); a closed one is opened again, once.
 */
async function openExisting(
  svc: WorktreeService,
  found: WorktreeEntry,
  params: AddParams,
): Promise<Result<"worktree.add">> {
  const live = await svc.liveWindow(found);
  const entry = withSandboxChoice(found, params.sandbox, live);
  let opened: { entry: WorktreeEntry; panes: string[]; runs: PaneRun[] } = {
    entry,
    panes: [],
    runs: [],
  };
  if (live) {
    if (!params.background) await selectWindow(svc, entry, live, params.tmux);
  } else {
    const loaded = await svc.entryConfig(entry);
    await svc.assertAgentStartable(loaded, entry.sandbox);
    opened = await openEntryWindow(svc, entry, loaded, {
      client: params.tmux,
      background: params.background,
      ...(params.sandbox !== undefined ? { ask: "flag" as const } : {}),
    });
    svc.emit("worktree", "opened", opened.entry);
  }
  return {
    worktree: await svc.summary(opened.entry),
    opened: true,
    branchCreated: false,
    base: null,
    tracking: null,
    files: { copied: [], symlinked: [], skipped: [] },
    hooks: [],
    hooksSkipped: 0,
    carried: null,
    pr: null,
    promptFile: null,
    promptFileOnly: false,
    panes: opened.panes,
    runs: opened.runs,
  };
}

export async function addWorktree(
  svc: WorktreeService,
  params: AddParams,
): Promise<Result<"worktree.add">> {
  const { daemon } = svc;
  const repo: Repo = await requireRepo(params.cwd, await svc.known());
  if (params.autoName && params.branch !== undefined)
    throw new RpcError("InvalidParams", "-A names the branch itself; give a branch name or -A");
  if (params.autoName && params.pr !== undefined)
    throw new RpcError("InvalidParams", "-A and --pr exclude each other");
  if (!params.autoName && params.branch === undefined)
    throw new RpcError("InvalidParams", "a branch name is required unless -A names one");
  if (params.branch !== undefined) assertBranchName(params.branch);
  const { loaded: configured, subdir } = await svc.configAt(repo, params.cwd);
  const loaded = withLayout(configured, params.layout);
  const config = loaded.config;
  const git = mainGit(repo, daemon.env);
  let branch = params.branch as string;
  if (params.autoName) {
    if (!params.prompt)
      throw new RpcError(
        "InvalidParams",
        "-A names the branch from the prompt; give -p, -P or a prompt on stdin",
      );
    branch = await autoBranchName(configured, params.prompt, {
      env: daemon.env,
      cwd: repo.root,
      taken: branchTaken(git, await svc.entries(repo)),
    });
  }
  if (params.pr !== undefined && params.openIfExists)
    throw new RpcError("InvalidParams", "--pr and --open-if-exists exclude each other");
  if (params.withChanges && params.openIfExists)
    throw new RpcError("InvalidParams", "--with-changes and --open-if-exists exclude each other");
  if (params.pr !== undefined && params.base)
    throw new RpcError(
      "InvalidParams",
      "--pr checks out the pull request's head; --base does not apply",
    );
  const plan =
    params.pr !== undefined
      ? { kind: "existing" as const, branch: branch }
      : await planBranch(git, branch);
  const handle = params.name
    ? handleFromName(params.name)
    : handleFor(plan.branch, config.worktree_naming, config.worktree_prefix);
  const base = worktreeBaseDir(config.worktree_dir, repo.root, daemon.homedir);
  const target = worktreePathFor(base, handle);
  /** The branch this call creates, deleted again when the add fails. */
  const created = plan.kind === "existing" && params.pr === undefined ? undefined : plan.branch;
  const busy = `another \`wm add\` of "${handle}" in ${repo.root} is in progress`;
  const sandbox = params.sandbox ?? config.sandbox.enabled;
  const ask = params.sandbox === undefined ? "config" : "flag";
  await svc.assertAgentStartable(loaded, sandbox);

  return withExclusiveLock(daemon.paths.stateDir, [repo.commonDir, target], busy, async () => {
    const known = (await svc.entries(repo)).find(
      (e) => e.path === target || e.handle === handle || e.branch === plan.branch,
    );
    if (known && params.openIfExists) return openExisting(svc, known, params);
    if (known)
      throw new RpcError(
        "Conflict",
        `worktree "${known.handle}" already exists at ${known.path} (branch ${known.branch}); \`wm open ${known.handle}\` opens it, and so does \`wm add --open-if-exists\``,
      );
    if (existsSync(target)) {
      throw new RpcError(
        "Conflict",
        `${target} already exists; remove it or choose another branch name`,
      );
    }
    if (plan.kind === "existing" && params.pr === undefined) {
      const at = (await checkedOut(git)).get(plan.branch);
      if (at)
        throw new RpcError("Conflict", `branch "${plan.branch}" is already checked out at ${at}`);
    }
    if (plan.kind !== "new" && params.base) {
      const what = plan.kind === "tracking" ? `the remote branch ${plan.remoteRef}` : "a branch";
      throw new RpcError(
        "InvalidParams",
        `"${branch}" is ${what} that exists; --base applies only to a new branch`,
      );
    }
    const from =
      plan.kind === "new"
        ? await resolveBase(git, params.base, config.base_branch, config.main_branch)
        : undefined;
    // tmux, a sandboxed pane when asked for and its image: checked before anything is made.
    await planWindow(daemon, {
      loaded,
      mode: config.mode,
      worktree: target,
      sandbox,
      wm: wmInvocation(daemon.env),
      agent: params.agent,
      ask,
      outcome: "nothing was created",
    });
    const changes = params.withChanges
      ? await captureChanges(repo, await svc.entries(repo), params.cwd, daemon.env)
      : undefined;
    const pr = params.pr !== undefined ? await fetchPullRequest(git, params.pr, plan.branch) : null;
    await mkdir(base, { recursive: true });
    try {
      await gitOk(
        git,
        ["worktree", "add", ...worktreeAddArgs(plan, target, from?.commit)],
        "Conflict",
      );
    } catch (err) {
      await undo(git, target, created);
      throw err;
    }

    let entry: WorktreeEntry;
    let files: Result<"worktree.add">["files"];
    let hooks: Result<"worktree.add">["hooks"];
    try {
      const record = await recordWorktree(target, { env: daemon.env as NodeJS.ProcessEnv });
      if (changes)
        await applyChanges(
          { path: record.worktreePath, adminDir: record.adminDir, commonDir: record.commonDir },
          changes,
          daemon.env,
        );
      files = await applyFileOps({
        mainRoot: repo.root,
        worktree: record.worktreePath,
        copy: config.files?.copy ?? [],
        symlink: config.files?.symlink ?? [],
      });
      hooks = params.noHooks
        ? []
        : await runHooks(
            {
              hook: "post_create",
              commands: config.post_create ?? [],
              shell: config.hook_shell ?? DEFAULT_HOOK_SHELL,
              cwd: await windowDir({ path: record.worktreePath, subdir }),
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
        branch: plan.branch,
        path: record.worktreePath,
        repo: repo.root,
        commonDir: record.commonDir,
        adminDir: record.adminDir,
        mode: config.mode,
        sandbox,
        ...(params.agent ? { agent: params.agent } : {}),
        ...(params.layout ? { layout: params.layout } : {}),
        ...(subdir ? { subdir } : {}),
        tmux: null,
        status: null,
        statusAt: null,
        lastActivity: now,
        createdAt: now,
      });
    } catch (err) {
      await undo(git, target, created);
      throw err;
    }
    svc.emit("worktree", "added", entry);
    const promptFile = params.prompt ? await writePromptFile(entry, params.prompt) : undefined;
    const opened = await openEntryWindow(svc, entry, loaded, {
      client: params.tmux,
      background: params.background,
      // prompt_file_only: the file is written, the agent is not handed it.
      promptFile: config.prompt_file_only ? undefined : promptFile,
      ask,
    });
    svc.emit("worktree", "opened", opened.entry);
    return {
      worktree: await svc.summary(opened.entry),
      opened: false,
      branchCreated: created !== undefined,
      base: from?.name ?? null,
      tracking: plan.kind === "tracking" ? plan.remoteRef : null,
      files,
      hooks,
      hooksSkipped: params.noHooks ? (config.post_create?.length ?? 0) : 0,
      carried: changes ? { tracked: changes.tracked, untracked: changes.untracked } : null,
      pr,
      promptFile: promptFile ?? null,
      promptFileOnly: promptFile !== undefined && config.prompt_file_only === true,
      panes: opened.panes,
      runs: opened.runs,
    };
  });
}
