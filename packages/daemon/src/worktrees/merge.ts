import { existsSync } from "node:fs";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ParsedParams, type Result, RpcError } from "@wm/protocol";
import type { LoadedConfig } from "../config/index.ts";
import { createSafeGit, type SafeGit } from "../git/safe-git.ts";
import { branchExists, checkedOut, commitIdentity, mainBranch } from "./git-info.ts";
import { assertBranchName } from "./names.ts";
import { dismantle, runEntryHooks } from "./remove.ts";
import { gitOk, mainGit, worktreeGit } from "./repo.ts";
import { configDirOf, type WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";
import {
  changedFiles,
  changesDigest,
  hostRunChanges,
  isProjectFilePath,
  mergedTree,
  pathsTouched,
  stateOfTree,
  stateOnDisk,
  type TrustedChange,
  type TrustedState,
  trustedDiff,
  trustedPaths,
  usesDefaultPanes,
} from "./trusted-files.ts";
import { uncommitted } from "./uncommitted.ts";

type Strategy = "merge" | "rebase" | "squash";

async function conflict(
  git: SafeGit,
  args: readonly string[],
  abort: readonly string[],
): Promise<void> {
  const res = await git.run(args);
  if (res.code === 0) return;
  await git.run(abort);
  // git's own advice (`--continue`, `--abort`, `git add`) is about a state wm already undid.
  const why = (res.stdout + res.stderr)
    .trim()
    .split("\n")
    .filter((line) => !GIT_ADVICE.test(line))
    .slice(-8)
    .join("\n");
  throw new RpcError(
    "Conflict",
    `git ${args[0]} of the branch failed and was aborted; the target is unchanged:\n${why}\n` +
      "To merge it, bring the target into the branch in its worktree (git merge or rebase " +
      "there), resolve the conflicts, commit, then run wm merge again.",
    { args },
  );
}

const GIT_ADVICE =
  /^(hint:|\(use "git|.*--(continue|abort|skip|quit)\b|.*\bgit (add|rm|commit)\b|.*fix conflicts and)/i;

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

export interface MergeOptions {
  /**
   * Who asked. A sandbox's agent (`guest`) may not change what wm reads as configuration on the
   * host: such a merge is refused. The host's own merge asks first (`yes` in the params).
   */
  initiator?: "host" | "guest";
}

function refusal(entry: WorktreeEntry, target: string, files: readonly string[]): RpcError {
  const them = files.length === 1 ? "that file" : "those files";
  return new RpcError(
    "Refused",
    `merging ${entry.branch} would change ${files.join(", ")} on ${target}, and wm reads ${them} as configuration on the host, so a sandbox may not merge it. Review the branch, then merge it on the host: wm merge ${entry.handle}`,
    { reason: "trusted-files", files },
  );
}

const oneLine = (value: unknown) => (value === undefined ? "(unset)" : JSON.stringify(value));

async function confirmation(
  git: SafeGit,
  entry: WorktreeEntry,
  target: string,
  diff: { from: string; to: string; before: TrustedState; after: TrustedState },
  changes: TrustedChange[],
): Promise<RpcError> {
  const lines = changes.flatMap((c) => [
    `  ${c.file}${c.note ? ` (${c.note})` : ""}`,
    ...c.keys.map((k) => `    ${k}: ${oneLine(c.old?.[k])} -> ${oneLine(c.new?.[k])}`),
  ]);
  return new RpcError(
    "ConfirmationRequired",
    `merging ${entry.branch} into ${target} changes what wm runs on this host:\n${lines.join("\n")}`,
    {
      reason: "trusted-config",
      branch: entry.branch,
      target,
      changes,
      diff: await trustedDiff(git, diff.from, diff.to, changes, diff.before, diff.after),
      digest: changesDigest(changes),
    },
  );
}

/** Puts the target back where it was before the merge (the main worktree was clean). */
async function undo(git: SafeGit, before: string, why: RpcError): Promise<never> {
  const res = await git.run(["reset", "--keep", before]);
  if (res.code !== 0) {
    throw new RpcError(
      "InternalError",
      `${why.message}\nThe merge was applied and could not be undone (${res.stderr.trim()}); undo it with: git reset --keep ${before}`,
      why.data,
    );
  }
  throw why;
}

/**
 * Where the merge runs: the worktree that has the target checked out (the main worktree or one
 * wm made), which must be clean; or, when no worktree has it, a temporary detached worktree
 * whose result then moves the branch (`update-ref`) without touching any of the user's checkouts.
 */
type Place =
  | {
      kind: "checkout";
      /** safe-git in that worktree, committing as `identity`. */
      git: (identity: { name: string; email: string }) => SafeGit;
      path: string;
      main: boolean;
    }
  | { kind: "temporary" };

/** The target branch and where to merge into it, once both branches exist. */
async function checkedTarget(
  svc: WorktreeService,
  entry: WorktreeEntry,
  plain: SafeGit,
  into: string | undefined,
  configuredMain: string | undefined,
): Promise<{ target: string; place: Place }> {
  const target = into ?? (await mainBranch(plain, configuredMain));
  assertBranchName(target, "target branch");
  if (!(await branchExists(plain, target)))
    throw new RpcError("NotFound", `target branch "${target}" does not exist`);
  if (!(await branchExists(plain, entry.branch)))
    throw new RpcError("NotFound", `branch "${entry.branch}" no longer exists`);
  if (target === entry.branch)
    throw new RpcError(
      "InvalidParams",
      `cannot merge ${entry.branch} into itself; pass --into another branch`,
    );
  const where = (await checkedOut(plain)).get(target);
  if (where === undefined) return { target, place: { kind: "temporary" } };
  const main =
    (await realpath(where).catch(() => where)) ===
    (await realpath(entry.repo).catch(() => entry.repo));
  const repo = { root: entry.repo, commonDir: entry.commonDir };
  let open = (identity: { name: string; email: string }) => mainGit(repo, svc.daemon.env, identity);
  let git = plain;
  if (!main) {
    const owner = await svc.entryAt(where);
    if (!owner || owner.path === entry.path) {
      throw new RpcError(
        "Refused",
        `${target} is checked out in the worktree ${where}, which wm did not make; merge there with git, or switch that worktree to another branch and run wm merge again`,
      );
    }
    git = worktreeGit(owner, svc.daemon.env);
    open = (identity) =>
      createSafeGit({
        gitDir: owner.adminDir,
        commonDir: owner.commonDir,
        workTree: owner.path,
        env: svc.daemon.env as NodeJS.ProcessEnv,
        identity,
      });
  }
  const dirty = (await gitOk(git, ["status", "--porcelain=v1", "--untracked-files=no"])).trim();
  if (dirty) {
    throw new RpcError(
      "Refused",
      `${target} is checked out in ${main ? "the main worktree" : "the worktree"} ${where}, which has uncommitted changes; commit or stash them there first:\n${dirty}`,
      { reason: "target-uncommitted", worktree: where },
    );
  }
  return { target, place: { kind: "checkout", git: open, path: where, main } };
}

/** The admin dir of a worktree wm just added in its own private directory (its `.git` file). */
async function adminDirOf(tree: string): Promise<string> {
  const gitFile = await readFile(path.join(tree, ".git"), "utf8");
  const dir = /^gitdir: (.+)$/m.exec(gitFile)?.[1];
  if (!dir)
    throw new RpcError("InternalError", `unexpected ${tree}/.git: ${gitFile.slice(0, 200)}`);
  return path.resolve(tree, dir.trim());
}

/**
 * Merges into `target` in a temporary detached worktree (hooks and filters are off in safe-git),
 * then moves the branch with a compare-and-swap `update-ref`; no other checkout changes.
 */
async function applyDetached(
  svc: WorktreeService,
  entry: WorktreeEntry,
  identity: { name: string; email: string },
  strategy: Strategy,
  target: string,
): Promise<string> {
  const { env } = svc.daemon;
  const plain = mainGit({ root: entry.repo, commonDir: entry.commonDir }, env);
  const before = (
    await gitOk(plain, ["rev-parse", "--verify", `refs/heads/${target}^{commit}`])
  ).trim();
  const dir = await mkdtemp(path.join(tmpdir(), "wm-merge-"));
  // The admin dir git makes is named after the last component: unique like the directory.
  const tree = path.join(dir, path.basename(dir));
  try {
    await gitOk(plain, ["worktree", "add", "--detach", "--quiet", tree, before], "InternalError");
    const git = createSafeGit({
      gitDir: await adminDirOf(tree),
      commonDir: entry.commonDir,
      workTree: tree,
      env: env as NodeJS.ProcessEnv,
      identity,
    });
    await apply(git, strategy, entry.branch, target);
    const commit = (await gitOk(git, ["rev-parse", "--verify", "HEAD"])).trim();
    await gitOk(
      plain,
      ["update-ref", "-m", `wm merge ${entry.branch}`, `refs/heads/${target}`, commit, before],
      "Conflict",
    );
    return commit;
  } finally {
    await plain.run(["worktree", "remove", "--force", tree]);
    await rm(dir, { recursive: true, force: true });
    await plain.run(["worktree", "prune"]);
  }
}

/**
 * The worktree's uncommitted changes (wm's own files are none of them: uncommitted.ts). Refused,
 * unless `ignore`: then they are returned, and the merge takes the branch's commits without them.
 */
async function leftOut(
  svc: WorktreeService,
  entry: WorktreeEntry,
  ignore: boolean,
  keep: boolean,
): Promise<string[]> {
  if (!existsSync(entry.path)) return [];
  const dirty = await uncommitted(svc, entry);
  if (dirty.length === 0 || ignore) return dirty;
  const fate = keep ? "they stay in the worktree" : "they are removed with the worktree";
  throw new RpcError(
    "Refused",
    `worktree "${entry.handle}" has uncommitted changes; commit them first, or pass --ignore-uncommitted to merge only the commits (the changes are not merged; ${fate}):\n${dirty.slice(0, 10).join("\n")}`,
    { reason: "uncommitted", files: dirty },
  );
}

interface TrustedGuard {
  plain: SafeGit;
  entry: WorktreeEntry;
  target: string;
  strategy: Strategy;
  loaded: LoadedConfig;
  guest: boolean;
  params: ParsedParams<"worktree.merge">;
}

/**
 * What wm reads as configuration in the main worktree: checked on the trees before the merge
 * (refused for a guest, asked about on the host), and on disk after it by the returned check,
 * which undoes the merge when it changed what it may not.
 */
async function guardTrusted(
  g: TrustedGuard,
): Promise<(git: SafeGit, commit: string) => Promise<void>> {
  const { plain, entry, target, guest, params } = g;
  const defaultPanes = usesDefaultPanes(g.loaded);
  const before = (
    await gitOk(plain, ["rev-parse", "--verify", `refs/heads/${target}^{commit}`])
  ).trim();
  const touched = (await pathsTouched(plain, target, entry.branch, g.strategy === "rebase")).filter(
    isProjectFilePath,
  );
  const accepted = !guest && params.yes === true;
  if (guest || !accepted) {
    const tree = await mergedTree(plain, target, entry.branch);
    const inTarget = await stateOfTree(plain, entry.repo, before);
    const inResult = await stateOfTree(plain, entry.repo, tree);
    const files = changedFiles(inTarget, inResult, defaultPanes);
    if (guest) {
      const refused = [...new Set([...touched, ...files])].sort();
      if (refused.length > 0) throw refusal(entry, target, refused);
    } else {
      const changes = hostRunChanges(inTarget, inResult, files, defaultPanes);
      if (changes.length > 0) {
        const shown = { from: before, to: tree, before: inTarget, after: inResult };
        throw await confirmation(plain, entry, target, shown, changes);
      }
    }
  }
  if (accepted && params.confirmed === undefined) return async () => undefined;
  const paths = [
    ...new Set([
      ...(await trustedPaths(plain, [before, `refs/heads/${entry.branch}`])),
      ...touched,
    ]),
  ];
  const onDiskBefore = await stateOnDisk(entry.repo, paths);
  return async (git, commit) => {
    const all = [...new Set([...paths, ...(await trustedPaths(plain, [commit]))])];
    const onDiskAfter = await stateOnDisk(entry.repo, all);
    const files = changedFiles(onDiskBefore, onDiskAfter, defaultPanes);
    if (guest && files.length > 0) await undo(git, before, refusal(entry, target, files));
    if (!guest) {
      const changes = hostRunChanges(onDiskBefore, onDiskAfter, files, defaultPanes);
      if (changes.length > 0 && (!accepted || changesDigest(changes) !== params.confirmed)) {
        const shown = { from: before, to: commit, before: onDiskBefore, after: onDiskAfter };
        await undo(git, before, await confirmation(plain, entry, target, shown, changes));
      }
    }
  };
}

export async function mergeWorktree(
  svc: WorktreeService,
  params: ParsedParams<"worktree.merge">,
  opts: MergeOptions = {},
): Promise<Result<"worktree.merge">> {
  const { env, homedir } = svc.daemon;
  const guest = opts.initiator === "guest";
  if (guest && params.noVerify) {
    throw new RpcError(
      "Refused",
      "a sandbox may not skip the pre_merge hooks (--no-verify): they are the host's check on its merge; merge on the host to skip them",
    );
  }
  const entry = await svc.find(params.cwd, params.name);
  const repo = { root: entry.repo, commonDir: entry.commonDir };
  return svc.withEntryLock(entry, async () => {
    const loaded = await svc.loadConfig(repo);
    const { config } = loaded;
    const strategy = params.strategy ?? config.merge_strategy;
    const keep = params.keep ?? config.merge_keep ?? false;
    const plain = mainGit(repo, env);
    const { target, place } = await checkedTarget(
      svc,
      entry,
      plain,
      params.into,
      config.main_branch,
    );
    const left = await leftOut(svc, entry, params.ignoreUncommitted === true, keep);
    const verify = await guardTrusted({ plain, entry, target, strategy, loaded, guest, params });

    const configDir = configDirOf(loaded, entry.repo);
    const hooks =
      existsSync(entry.path) && !params.noVerify
        ? await runEntryHooks(svc, entry, config, configDir, "pre_merge", {
            WM_BRANCH_NAME: entry.branch,
            WM_TARGET_BRANCH: target,
          })
        : [];
    const identity = await commitIdentity(plain, env, homedir);
    let commit: string;
    if (place.kind === "temporary") {
      commit = await applyDetached(svc, entry, identity, strategy, target);
    } else {
      const git = place.git(identity);
      await apply(git, strategy, entry.branch, target);
      commit = (await gitOk(git, ["rev-parse", "--verify", "HEAD"])).trim();
      // What wm reads on the host changes on disk only when the main worktree has the target.
      if (place.main) await verify(git, commit);
    }
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
      uncommitted: left,
      hooks,
    };
  });
}
