import path from "node:path";
import type { SafeGit } from "../git/safe-git.ts";

type Env = Readonly<Record<string, string | undefined>>;

export async function branchExists(git: SafeGit, branch: string): Promise<boolean> {
  return (await git.run(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).code === 0;
}

/** The branch checked out in the main worktree, or undefined when HEAD is detached. */
export async function currentBranch(git: SafeGit): Promise<string | undefined> {
  const res = await git.run(["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return res.code === 0 ? res.stdout.trim() : undefined;
}

/** `main_branch`, else the remote's HEAD, else main or master, else the main worktree's branch. */
export async function mainBranch(git: SafeGit, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const remote = await git.run(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]);
  const fromRemote = remote.stdout.trim().replace(/^refs\/remotes\/origin\//, "");
  if (remote.code === 0 && fromRemote && (await branchExists(git, fromRemote))) return fromRemote;
  for (const name of ["main", "master"]) if (await branchExists(git, name)) return name;
  return (await currentBranch(git)) ?? "main";
}

/** One worktree as `git worktree list --porcelain` reports it. */
export interface ListedWorktree {
  /** As git recorded it (not a realpath). */
  path: string;
  /** The branch checked out (without `refs/heads/`), null for a detached HEAD. */
  branch: string | null;
  /** Git says its directory is gone (`prunable`). */
  prunable: boolean;
}

/** Every worktree of the repository, the main worktree first (`git worktree list --porcelain`). */
export async function gitWorktrees(git: SafeGit): Promise<ListedWorktree[]> {
  const res = await git.run(["worktree", "list", "--porcelain", "-z"]);
  const out: ListedWorktree[] = [];
  let current: ListedWorktree | undefined;
  for (const field of res.stdout.split("\0")) {
    if (field.startsWith("worktree ")) {
      current = { path: field.slice("worktree ".length), branch: null, prunable: false };
      out.push(current);
    } else if (current && field.startsWith("branch refs/heads/"))
      current.branch = field.slice("branch refs/heads/".length);
    else if (current && field.startsWith("prunable")) current.prunable = true;
  }
  return out;
}

/** Worktree paths by the branch checked out in them. */
export async function checkedOut(git: SafeGit): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const w of await gitWorktrees(git)) if (w.branch) out.set(w.branch, w.path);
  return out;
}

export const FALLBACK_IDENTITY = { name: "wm", email: "wm@localhost" } as const;

/**
 * Who commits merges: user.name/user.email from the repository's own config, else from the
 * user's ~/.gitconfig or $XDG_CONFIG_HOME/git/config (read as plain files, no includes), else "wm".
 */
export async function commitIdentity(git: SafeGit, env: Env, homedir: string) {
  const xdg =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(homedir, ".config");
  const sources: string[][] = [
    [],
    ["--file", path.join(homedir, ".gitconfig")],
    ["--file", path.join(xdg, "git", "config")],
  ];
  for (const source of sources) {
    const get = async (key: string) => {
      const res = await git.run(["config", ...source, "--get", key]);
      return res.code === 0 ? res.stdout.trim() : "";
    };
    const [name, email] = [await get("user.name"), await get("user.email")];
    if (name && email) return { name, email };
  }
  return { ...FALLBACK_IDENTITY };
}

/**
 * Local branches whose upstream is gone (`%(upstream:track)` is `[gone]`): deleted on the
 * remote and pruned by `git fetch --prune`. Branch names cannot contain spaces.
 */
export async function goneBranches(git: SafeGit): Promise<Set<string>> {
  const res = await git.run([
    "for-each-ref",
    "--format=%(refname:short) %(upstream:track)",
    "refs/heads",
  ]);
  if (res.code !== 0) throw new Error(`git for-each-ref failed: ${res.stderr.trim()}`);
  const gone = new Set<string>();
  for (const line of res.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0 && line.slice(space + 1).trim() === "[gone]") gone.add(line.slice(0, space));
  }
  return gone;
}
