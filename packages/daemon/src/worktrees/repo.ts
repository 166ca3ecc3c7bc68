import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { enclosingLinkedWorktree } from "../config/locate.ts";
import type { DaemonContext } from "../context.ts";
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

/** The main worktree of a repository by its common dir (`<root>/.git`); null when it has none. */
export function mainWorktreeOf(commonDir: string): string | null {
  return path.basename(commonDir) === ".git" ? path.dirname(commonDir) : null;
}

/**
 * A linked worktree the daemon has a record of, with the repository it belongs to as recorded
 * then (`repo` null: a repository without a main worktree).
 */
export interface KnownWorktree {
  path: string;
  repo: string | null;
  commonDir: string;
}

/**
 * Every linked worktree wm has a record of: `wm add`'s entries, the git facts recorded when wm
 * first met a worktree (`worktrees.json`: at `wm add`, or its first sandbox) and the sandbox
 * records. Their git facts were read before any agent ran there, so nothing the agent wrote
 * since can change them.
 */
export async function knownWorktrees(
  daemon: Pick<DaemonContext, "worktreeRecords" | "sandboxes">,
  entries: readonly WorktreeEntry[],
): Promise<KnownWorktree[]> {
  const known: KnownWorktree[] = [...entries];
  for (const record of await daemon.worktreeRecords.all()) {
    known.push({
      path: record.worktreePath,
      repo: mainWorktreeOf(record.commonDir),
      commonDir: record.commonDir,
    });
  }
  for (const record of daemon.sandboxes.registry.all()) {
    known.push({
      path: record.worktree,
      repo: mainWorktreeOf(record.git.commonDir),
      commonDir: record.git.commonDir,
    });
  }
  // A record outlives its worktree: one whose directory no longer holds a worktree's `.git`
  // file (removed, or another repository made there since) does not count.
  const live = await Promise.all(
    known.map(
      async (k, i) => i < entries.length || (await kind(path.join(k.path, ".git"))) === "file",
    ),
  );
  return known.filter((_, i) => live[i]);
}

/**
 * The repository `cwd` belongs to, never asking git to discover anything:
 * - inside a linked worktree wm has a record of (see {@link knownWorktrees}), the record answers;
 * - else, inside a linked worktree whose `.git` file and admin dir agree both ways, its main
 *   worktree: the outermost such worktree above `cwd` wins over any nearer `.git`, because
 *   whatever sits inside a linked worktree (a planted `.git` directory, a whole nested
 *   repository) is the agent's content there, never a repository of its own;
 * - else the nearest `.git` directory (with `objects/`) walking up: a main worktree. A
 *   repository nested in a main worktree resolves to itself: main worktrees are never mounted
 *   into a sandbox, so nothing there was written by an agent.
 */
export async function repoOf(
  cwd: string,
  known: readonly KnownWorktree[],
): Promise<Repo | undefined> {
  const real = await realpath(cwd).catch(() => path.resolve(cwd));
  const record = known
    .filter((e) => isInside(real, e.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (record) return record.repo ? { root: record.repo, commonDir: record.commonDir } : undefined;
  const linked = await enclosingLinkedWorktree(real);
  if (linked) return { root: linked.root, commonDir: linked.commonDir };
  for (let dir = real; ; dir = path.dirname(dir)) {
    const found = await kind(path.join(dir, ".git"));
    if (found === "dir") {
      const commonDir = await realpath(path.join(dir, ".git"));
      if ((await kind(path.join(commonDir, "objects"))) === "dir") return { root: dir, commonDir };
    }
    if (found === "file") return undefined;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export async function requireRepo(cwd: string, known: readonly KnownWorktree[]): Promise<Repo> {
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
