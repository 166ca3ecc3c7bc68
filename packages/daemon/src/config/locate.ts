import { lstat, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";

export const PROJECT_FILE_NAMES = [".workmux.yaml", ".workmux.yml"] as const;
const GLOBAL_FILE_NAMES = ["config.yaml", "config.yml"] as const;

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

async function firstFile(dir: string, names: readonly string[]): Promise<string | null> {
  for (const name of names) {
    const file = path.join(dir, name);
    if (await isFile(file)) return file;
  }
  return null;
}

/** The real path when it exists, else the resolved path. */
export async function canonical(p: string): Promise<string> {
  const resolved = path.resolve(p);
  return realpath(resolved).catch(() => resolved);
}

export function isInside(dir: string, root: string): boolean {
  const rel = path.relative(root, dir);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** `$XDG_CONFIG_HOME/workmux` (only an absolute value counts), else `~/.config/workmux`. */
export function globalConfigDirs(
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): string[] {
  const fallback = path.join(homedir, ".config", "workmux");
  const xdg = env.XDG_CONFIG_HOME;
  if (!xdg || !path.isAbsolute(xdg)) return [fallback];
  const primary = path.join(xdg, "workmux");
  return primary === fallback ? [fallback] : [primary, fallback];
}

/** The global file: first `config.yaml`/`config.yml` in the XDG directory, then in ~/.config. */
export async function findGlobalConfigFile(
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): Promise<string | null> {
  for (const dir of globalConfigDirs(env, homedir)) {
    const file = await firstFile(dir, GLOBAL_FILE_NAMES);
    if (file) return canonical(file);
  }
  return null;
}

const kindOf = async (p: string) => {
  const st = await lstat(p).catch(() => undefined);
  return st?.isDirectory() ? "dir" : st?.isFile() ? "file" : st ? "other" : undefined;
};

/**
 * The main worktree (root and `.git`, realpaths) of the linked worktree at `dir`, read from
 * git's files and only when they agree both ways: `dir/.git` names an admin dir under the main
 * `.git/worktrees/`, whose `commondir` leads to that `.git` and whose `gitdir` leads back to
 * `dir/.git`. Never asks git to discover anything.
 */
export async function linkedWorktreeMain(
  dir: string,
): Promise<{ root: string; commonDir: string } | undefined> {
  if ((await kindOf(path.join(dir, ".git"))) !== "file") return undefined;
  const text = await readFile(path.join(dir, ".git"), "utf8").catch(() => "");
  const pointer = /^gitdir: (.+)\n?$/.exec(text)?.[1];
  if (!pointer) return undefined;
  const adminDir = await realpath(path.resolve(dir, pointer)).catch(() => undefined);
  if (!adminDir) return undefined;
  const named = (await readFile(path.join(adminDir, "commondir"), "utf8").catch(() => "")).trim();
  const commonDir = named
    ? await realpath(path.resolve(adminDir, named)).catch(() => undefined)
    : undefined;
  if (!commonDir || path.basename(commonDir) !== ".git" || (await kindOf(commonDir)) !== "dir")
    return undefined;
  if (path.dirname(adminDir) !== path.join(commonDir, "worktrees")) return undefined;
  const back = (await readFile(path.join(adminDir, "gitdir"), "utf8").catch(() => "")).trim();
  const backReal = await realpath(path.resolve(adminDir, back)).catch(() => undefined);
  if (!backReal || backReal !== (await realpath(path.join(dir, ".git")).catch(() => undefined)))
    return undefined;
  return { root: path.dirname(commonDir), commonDir };
}

/**
 * The outermost linked worktree at or above `start` (see {@link linkedWorktreeMain}), if any.
 * Everything inside a linked worktree is its agent's content: a `.git` planted there, even a
 * whole repository, is never a repository of its own for wm.
 */
export async function enclosingLinkedWorktree(
  start: string,
): Promise<{ dir: string; root: string; commonDir: string } | undefined> {
  let found: { dir: string; root: string; commonDir: string } | undefined;
  for (let dir = start; ; dir = path.dirname(dir)) {
    const main = await linkedWorktreeMain(dir);
    if (main) found = { dir, ...main };
    if (path.dirname(dir) === dir) return found;
  }
}

/**
 * The worktree root for `start`: the outermost linked worktree above it when there is one
 * (a nested `.git` inside it does not count), else the nearest directory at or above `start`
 * holding `.git` (a directory, or a worktree's file).
 */
export async function findRepoRoot(start: string): Promise<string | null> {
  const linked = await enclosingLinkedWorktree(start);
  if (linked) return linked.dir;
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (await stat(path.join(dir, ".git")).catch(() => undefined)) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The main worktree of the repository whose worktree is `repoRoot`, read from git's files:
 * a linked worktree's `.git` file names its gitdir, whose `commondir` leads to the main `.git`.
 * Null when the repository has no main worktree (a bare repository).
 */
export async function findMainWorktreeRoot(repoRoot: string): Promise<string | null> {
  const dotGit = path.join(repoRoot, ".git");
  const info = await stat(dotGit).catch(() => undefined);
  if (!info || info.isDirectory()) return repoRoot;
  const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, "utf8").catch(() => ""));
  if (!pointer?.[1]) return repoRoot;
  const gitDir = path.resolve(repoRoot, pointer[1]);
  const commonDir = (await readFile(path.join(gitDir, "commondir"), "utf8").catch(() => "")).trim();
  if (!commonDir) return repoRoot;
  const common = path.resolve(gitDir, commonDir);
  return path.basename(common) === ".git" ? canonical(path.dirname(common)) : null;
}

/** Nearest project file walking up from `start` to `stop` (inclusive). */
export async function findNearestProjectFile(start: string, stop: string): Promise<string | null> {
  if (!isInside(start, stop)) return null;
  for (let dir = start; ; dir = path.dirname(dir)) {
    const file = await firstFile(dir, PROJECT_FILE_NAMES);
    if (file) return file;
    if (dir === stop || path.dirname(dir) === dir) return null;
  }
}

export interface ProjectFiles {
  /** The project file for `cwd`: nearest walking up to the repo root, else the main worktree's. */
  nearest: string | null;
  /** The project file host-run settings come from: found the same way, inside the main worktree. */
  trusted: string | null;
  repoRoot: string | null;
  mainWorktreeRoot: string | null;
}

export async function findProjectFiles(opts: {
  cwd: string;
  repoRoot?: string | undefined;
  mainWorktreeRoot?: string | undefined;
}): Promise<ProjectFiles> {
  const cwd = await canonical(opts.cwd);
  const repoRoot = opts.repoRoot ? await canonical(opts.repoRoot) : await findRepoRoot(cwd);
  if (!repoRoot || !isInside(cwd, repoRoot)) {
    return { nearest: null, trusted: null, repoRoot, mainWorktreeRoot: null };
  }
  const mainRoot = opts.mainWorktreeRoot
    ? await canonical(opts.mainWorktreeRoot)
    : await findMainWorktreeRoot(repoRoot);
  const nearest = await findNearestProjectFile(cwd, repoRoot);
  if (mainRoot === repoRoot)
    return { nearest, trusted: nearest, repoRoot, mainWorktreeRoot: mainRoot };

  let trusted: string | null = null;
  if (mainRoot) {
    let start = path.join(mainRoot, path.relative(repoRoot, cwd));
    while (start !== mainRoot && !(await stat(start).catch(() => undefined))) {
      start = path.dirname(start);
    }
    trusted = await findNearestProjectFile(start, mainRoot);
  }
  return { nearest: nearest ?? trusted, trusted, repoRoot, mainWorktreeRoot: mainRoot };
}
