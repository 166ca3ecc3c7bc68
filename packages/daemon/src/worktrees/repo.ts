import { lstat, readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { createSafeGit, type GitResult, type SafeGit } from "../git/safe-git.ts";
import type { WorktreeEntry } from "./state-store.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** A repository by its main worktree (realpaths). */
export interface Repo {
  root: string;
  commonDir: string;
}

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

const kind = async (p: string) => {
  const st = await lstat(p).catch(() => undefined);
  return st?.isDirectory() ? "dir" : st?.isFile() ? "file" : st ? "other" : undefined;
};

/** The main worktree a linked worktree's `.git` file leads to, only if git's files agree both ways. */
async function mainOfLinked(dir: string): Promise<Repo | undefined> {
  const pointer = /^gitdir: (.+)\n?$/.exec(await readFile(path.join(dir, ".git"), "utf8"))?.[1];
  if (!pointer) return undefined;
  const adminDir = await realpath(path.resolve(dir, pointer)).catch(() => undefined);
  if (!adminDir) return undefined;
  const named = (await readFile(path.join(adminDir, "commondir"), "utf8").catch(() => "")).trim();
  const commonDir = named
    ? await realpath(path.resolve(adminDir, named)).catch(() => undefined)
    : undefined;
  if (!commonDir || path.basename(commonDir) !== ".git" || (await kind(commonDir)) !== "dir")
    return undefined;
  if (path.dirname(adminDir) !== path.join(commonDir, "worktrees")) return undefined;
  const back = (await readFile(path.join(adminDir, "gitdir"), "utf8").catch(() => "")).trim();
  const backReal = await realpath(path.resolve(adminDir, back)).catch(() => undefined);
  if (backReal !== (await realpath(path.join(dir, ".git")))) return undefined;
  return { root: path.dirname(commonDir), commonDir };
}

/**
 * The repository `cwd` belongs to. Inside a worktree wm recorded, the record answers; else the
 * nearest `.git` walking up: a directory is a main worktree, a file is followed only when the
 * admin dir it names points back at it. Never asks git to discover anything.
 */
export async function repoOf(
  cwd: string,
  known: readonly WorktreeEntry[],
): Promise<Repo | undefined> {
  const real = await realpath(cwd).catch(() => path.resolve(cwd));
  const entry = known
    .filter((e) => isInside(real, e.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (entry) return { root: entry.repo, commonDir: entry.commonDir };
  for (let dir = real; ; dir = path.dirname(dir)) {
    const found = await kind(path.join(dir, ".git"));
    if (found === "dir") {
      const commonDir = await realpath(path.join(dir, ".git"));
      if ((await kind(path.join(commonDir, "objects"))) === "dir") return { root: dir, commonDir };
    }
    if (found === "file") return mainOfLinked(dir);
    if (path.dirname(dir) === dir) return undefined;
  }
}

export async function requireRepo(cwd: string, known: readonly WorktreeEntry[]): Promise<Repo> {
  const repo = await repoOf(cwd, known);
  if (!repo) {
    throw new RpcError("NotFound", `${cwd} is not inside a git repository with a main worktree`, {
      cwd,
    });
  }
  return repo;
}

/** safe-git in the main worktree. */
export function mainGit(repo: Repo, env: Env, identity?: { name: string; email: string }): SafeGit {
  return createSafeGit({
    gitDir: repo.commonDir,
    workTree: repo.root,
    env: env as NodeJS.ProcessEnv,
    identity,
  });
}

/** safe-git in a linked worktree, from the paths recorded when it was created. */
export function worktreeGit(entry: WorktreeEntry, env: Env): SafeGit {
  return createSafeGit({
    gitDir: entry.adminDir,
    commonDir: entry.commonDir,
    workTree: entry.path,
    env: env as NodeJS.ProcessEnv,
  });
}

/** Runs git and returns stdout, or throws `code` with git's own message. */
export async function gitOk(
  git: SafeGit,
  args: readonly string[],
  code: "Conflict" | "Refused" | "InternalError" | "InvalidParams" = "InternalError",
): Promise<string> {
  const res: GitResult = await git.run(args);
  if (res.code !== 0) {
    const message = (res.stderr || res.stdout).trim().split("\n").slice(-6).join("\n");
    throw new RpcError(code, `git ${args[0]} failed: ${message}`, { args, code: res.code });
  }
  return res.stdout;
}
