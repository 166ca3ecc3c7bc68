import { constants } from "node:fs";
import { copyFile, lstat, mkdir, readdir, realpath, symlink, unlink } from "node:fs/promises";
import path from "node:path";
import { expandGlob, globProblem } from "./glob.ts";
import { isInside } from "./repo.ts";

export interface FileOpsResult {
  copied: string[];
  symlinked: string[];
  skipped: { path: string; reason: string }[];
}

class Skip extends Error {}

/** Creates the parent directories of `rel` inside `worktree`, refusing to pass through a symlink. */
async function parentIn(worktree: string, rel: string): Promise<string> {
  let dir = worktree;
  for (const part of path
    .dirname(rel)
    .split("/")
    .filter((p) => p && p !== ".")) {
    dir = path.join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (!st) await mkdir(dir, { mode: 0o755 });
    else if (!st.isDirectory())
      throw new Skip(`${path.relative(worktree, dir)} in the worktree is not a plain directory`);
  }
  return dir;
}

/** Makes room for `dest` (removes a file or link there, never follows it); false when a directory is in the way. */
async function clear(dest: string): Promise<boolean> {
  const st = await lstat(dest).catch(() => undefined);
  if (!st) return true;
  if (st.isDirectory()) return false;
  await unlink(dest);
  return true;
}

/** The real source path when it stays inside the main worktree; symlinks leading out are refused. */
async function sourceIn(mainRoot: string, rel: string): Promise<string> {
  const real = await realpath(path.join(mainRoot, rel)).catch(() => undefined);
  if (!real) throw new Skip("does not exist (or is a dangling symlink)");
  if (!isInside(real, mainRoot))
    throw new Skip("resolves outside the repository (symlink); not followed");
  return real;
}

async function copyTree(
  mainRoot: string,
  src: string,
  dest: string,
  worktree: string,
  depth = 0,
): Promise<void> {
  if (depth > 64) throw new Skip("nested more than 64 levels deep (a symlink loop?)");
  const st = await lstat(src);
  if (st.isSymbolicLink()) {
    const real = await sourceIn(mainRoot, path.relative(mainRoot, src));
    return copyTree(mainRoot, real, dest, worktree, depth + 1);
  }
  if (st.isDirectory()) {
    const existing = await lstat(dest).catch(() => undefined);
    if (!existing) await mkdir(dest, { mode: st.mode & 0o777 });
    else if (!existing.isDirectory())
      throw new Skip(`${path.relative(worktree, dest)} exists and is not a directory`);
    for (const entry of await readdir(src)) {
      if (entry === ".git") continue;
      await copyTree(mainRoot, path.join(src, entry), path.join(dest, entry), worktree, depth + 1);
    }
    return;
  }
  if (!st.isFile()) throw new Skip("not a regular file or directory");
  if (!(await clear(dest)))
    throw new Skip(`${path.relative(worktree, dest)} is a directory in the worktree`);
  await copyFile(src, dest, constants.COPYFILE_EXCL);
}

/**
 * `files.copy` and `files.symlink`: globs matched in the main worktree, applied to the new one.
 * Nothing is read through a symlink that leads out of the repository, and nothing is written
 * through a symlink inside the new worktree (its content comes from a branch an agent may
 * have written).
 */
export async function applyFileOps(opts: {
  mainRoot: string;
  worktree: string;
  copy: readonly string[];
  symlink: readonly string[];
}): Promise<FileOpsResult> {
  const result: FileOpsResult = { copied: [], symlinked: [], skipped: [] };
  const mainRoot = await realpath(opts.mainRoot);
  const worktree = await realpath(opts.worktree);
  const each = async (
    globs: readonly string[],
    op: (rel: string) => Promise<void>,
    done: string[],
  ) => {
    for (const glob of globs) {
      const problem = globProblem(glob);
      if (problem) {
        result.skipped.push({ path: glob, reason: problem });
        continue;
      }
      for (const rel of await expandGlob(mainRoot, glob)) {
        try {
          await op(rel);
          done.push(rel);
        } catch (err) {
          if (!(err instanceof Skip)) throw err;
          result.skipped.push({ path: rel, reason: err.message });
        }
      }
    }
  };
  await each(
    opts.copy,
    async (rel) => {
      const parent = await parentIn(worktree, rel);
      await copyTree(
        mainRoot,
        path.join(mainRoot, rel),
        path.join(parent, path.basename(rel)),
        worktree,
      );
    },
    result.copied,
  );
  await each(
    opts.symlink,
    async (rel) => {
      const source = await sourceIn(mainRoot, rel);
      const dest = path.join(await parentIn(worktree, rel), path.basename(rel));
      if (!(await clear(dest))) throw new Skip("a directory is in the way in the worktree");
      await symlink(source, dest);
    },
    result.symlinked,
  );
  return result;
}
