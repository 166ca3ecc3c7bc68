import { lstat, readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { displaySafe, RpcError } from "@wm/protocol";
import type { LoadedConfig } from "../config/index.ts";
import { openDirUnder, PlantedPathError } from "../fs/no-follow.ts";
import { createSafeGit, type SafeGit } from "../git/safe-git.ts";
import { branchExists } from "./git-info.ts";
import { isInside, mainGit, type Repo, worktreeGit } from "./repo.ts";
import type { WorktreeEntry } from "./state-store.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** `stash create` writes a commit object, which needs an identity; it lands on no branch. */
const STASH_IDENTITY = { name: "wm", email: "wm@localhost" };

/** The remote `--pr` fetches from: `origin`, else the only remote there is. */
async function prRemote(git: SafeGit): Promise<{ remote: string; url: string }> {
  const res = await git.run(["config", "--get-regexp", "^remote\\..+\\.url$"]);
  const urls = new Map<string, string>();
  for (const line of res.code === 0 ? res.stdout.split("\n") : []) {
    const m = /^remote\.(.+)\.url (.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) urls.set(m[1], m[2]);
  }
  const remote = urls.has("origin") ? "origin" : urls.size === 1 ? [...urls.keys()][0] : undefined;
  if (!remote) {
    throw new RpcError(
      "InvalidParams",
      urls.size === 0
        ? "--pr fetches the pull request from the remote origin, and this repository has no remote; add one (`git remote add origin URL`)"
        : `--pr fetches the pull request from the remote origin, and this repository has several remotes but no origin (${[...urls.keys()].map((r) => displaySafe(r)).join(", ")})`,
    );
  }
  return { remote, url: urls.get(remote) as string };
}

/**
 * `wm add --pr N`: fetches `refs/pull/N/head` from the remote (origin) into the new local
 * `branch`. wm's git runs no ssh and no credential helper, and a remote is fetched by its URL
 * (never by name, whose `uploadpack`/`vcs` settings run programs), so only an https/http/file
 * URL or a local path is fetched; for anything else the error gives the git command to run.
 */
export async function fetchPullRequest(
  git: SafeGit,
  pr: number,
  branch: string,
): Promise<{ remote: string; number: number }> {
  const yourself = (remote: string) =>
    `fetch it yourself with \`git fetch ${displaySafe(remote)} pull/${pr}/head:${displaySafe(branch)}\`, then run \`wm add ${displaySafe(branch)}\``;
  if (await branchExists(git, branch)) {
    throw new RpcError(
      "Conflict",
      `branch "${displaySafe(branch)}" exists already, so pull request ${pr} was not fetched; \`wm add ${displaySafe(branch)}\` checks it out, or give another branch name: \`wm add NAME --pr ${pr}\``,
      { branch },
    );
  }
  const { remote, url } = await prRemote(git);
  const local = url.startsWith("/") || url.startsWith("file://");
  if (!local && !/^https?:\/\//.test(url)) {
    throw new RpcError(
      "InvalidParams",
      `the remote ${displaySafe(remote)} is ${displaySafe(url)}; wm fetches pull requests only over https or from a local path (its git runs no ssh and no credential helper); ${yourself(remote)}`,
      { remote },
    );
  }
  const res = await git.run([
    "fetch",
    "--quiet",
    "--no-write-fetch-head",
    "--",
    url,
    `refs/pull/${pr}/head:refs/heads/${branch}`,
  ]);
  if (res.code !== 0) {
    const said = res.stderr.trim().split("\n").slice(-3).join(" ");
    throw new RpcError(
      "NotFound",
      `pull request ${pr} could not be fetched from ${displaySafe(remote)} (${displaySafe(url)}): ${displaySafe(said)}; nothing was created. Check the number, or ${yourself(remote)}`,
      { remote, pr },
    );
  }
  return { remote, number: pr };
}

/** The uncommitted changes of the worktree `wm add --with-changes` runs from. */
export interface Changes {
  source: string;
  /** `git stash create`'s commit (HEAD plus the tracked changes); undefined when there are none. */
  stash: string | undefined;
  tracked: string[];
  untracked: string[];
}

/** The worktree `cwd` lies in: a recorded linked worktree (innermost), else the main worktree. */
function sourceGit(repo: Repo, entries: readonly WorktreeEntry[], cwd: string, env: Env) {
  const entry = entries
    .filter((e) => isInside(cwd, e.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (entry)
    return {
      root: entry.path,
      git: createSafeGit({
        ...gitOf(entry),
        env: env as NodeJS.ProcessEnv,
        identity: STASH_IDENTITY,
      }),
    };
  if (isInside(cwd, repo.root)) return { root: repo.root, git: mainGit(repo, env, STASH_IDENTITY) };
  throw new RpcError(
    "InvalidParams",
    `--with-changes carries the changes of the worktree you run it from, and ${cwd} is in none of this repository's worktrees`,
  );
}

function gitOf(entry: WorktreeEntry) {
  return { gitDir: entry.adminDir, commonDir: entry.commonDir, workTree: entry.path };
}

const nulList = (out: string) => out.split("\0").filter(Boolean);

/**
 * Reads the uncommitted changes of the source worktree without touching it: tracked changes
 * (staged or not) as a `git stash create` commit, which changes no ref, index or file; untracked
 * files that are not ignored by name.
 */
export async function captureChanges(
  repo: Repo,
  entries: readonly WorktreeEntry[],
  cwd: string,
  env: Env,
): Promise<Changes> {
  const real = await realpath(cwd).catch(() => cwd);
  const { root, git } = sourceGit(repo, entries, real, env);
  const run = async (args: string[]) => {
    const res = await git.run(args);
    if (res.code !== 0)
      throw new RpcError(
        "InternalError",
        `reading the changes of ${root} failed (git ${args[0]}): ${res.stderr.trim()}`,
      );
    return res.stdout;
  };
  const tracked = nulList(await run(["diff", "--name-only", "-z", "HEAD", "--"]));
  const untracked = nulList(await run(["ls-files", "--others", "--exclude-standard", "-z"]));
  const stash =
    tracked.length > 0 ? (await run(["stash", "create"])).trim() || undefined : undefined;
  return { source: root, stash, tracked, untracked };
}

/**
 * Applies captured changes to the new worktree: the stash commit's changes against its first
 * parent, merged in (`cherry-pick -n -m 1`) and left unstaged; untracked files copied, a
 * symbolic link as a link (never followed), nothing written through a link in the new worktree.
 */
export async function applyChanges(
  entry: Pick<WorktreeEntry, "path" | "adminDir" | "commonDir">,
  changes: Changes,
  env: Env,
): Promise<void> {
  const git = worktreeGit(entry as WorktreeEntry, env);
  if (changes.stash) {
    const picked = await git.run(["cherry-pick", "--no-commit", "-m", "1", changes.stash]);
    if (picked.code !== 0) {
      throw new RpcError(
        "Conflict",
        `the uncommitted changes of ${changes.source} do not apply to the new branch (${displaySafe(picked.stderr.trim().split("\n").slice(-2).join(" "))}); the new worktree was removed again and ${changes.source} is unchanged. Start the branch from the commit you changed (--base), or commit first`,
      );
    }
    await git.run(["reset", "--quiet"]);
  }
  const { uid, gid } = await stat(entry.path);
  const sourceRoot = await realpath(changes.source);
  for (const rel of changes.untracked) {
    const src = path.join(sourceRoot, rel);
    const parentReal = await realpath(path.dirname(src)).catch(() => undefined);
    if (!parentReal || !isInside(parentReal, sourceRoot)) continue;
    const st = await lstat(src).catch(() => undefined);
    if (!st || !(st.isFile() || st.isSymbolicLink())) continue;
    try {
      const dir = await openDirUnder(entry.path, path.dirname(rel), {
        create: true,
        mode: 0o755,
        owner: { uid, gid },
      });
      try {
        if (st.isSymbolicLink()) await dir.symlink(path.basename(rel), await readlink(src));
        else await dir.copyFile(path.basename(rel), src);
      } finally {
        await dir.close();
      }
    } catch (err) {
      if (!(err instanceof PlantedPathError)) throw err;
      throw new RpcError(
        "Conflict",
        `the untracked file ${displaySafe(rel)} could not be carried over: ${displaySafe(err.rel)} in the new worktree is not a plain directory; the new worktree was removed again`,
      );
    }
  }
}

/**
 * `--layout NAME`: the config with `layouts.NAME.panes` as its panes (window mode); `outcome`
 * ends the error (what was and was not done).
 */
export function withLayout(
  loaded: LoadedConfig,
  layout: string | undefined,
  outcome = "nothing was created",
): LoadedConfig {
  if (layout === undefined) return loaded;
  const layouts = loaded.config.layouts ?? {};
  const chosen = layouts[layout];
  if (!chosen) {
    const names = Object.keys(layouts);
    throw new RpcError(
      "InvalidParams",
      `no layout "${displaySafe(layout)}" under layouts: in the config (${names.length > 0 ? `it has ${names.map((n) => displaySafe(n)).join(", ")}` : "it defines none"}); ${outcome}`,
      { layout },
    );
  }
  if (loaded.config.mode === "session" && loaded.config.windows)
    throw new RpcError(
      "InvalidParams",
      `--layout lays out one window's panes, and this config (mode: session) has windows:; ${outcome}`,
    );
  return { ...loaded, config: { ...loaded.config, panes: chosen.panes, windows: undefined } };
}
