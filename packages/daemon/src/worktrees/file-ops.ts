import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { type Owner, openDirUnder, type PinnedDir, PlantedPathError } from "../fs/no-follow.ts";
import { expandGlob, globProblem } from "./glob.ts";
import { isInside } from "./repo.ts";

export interface FileOpsResult {
  copied: string[];
  symlinked: string[];
  skipped: { path: string; reason: string }[];
}

class Skip extends Error {}

/** Runs `fn`, turning a planted link or a directory in the way into a Skip with `reason`. */
async function refusedAs<T>(
  reason: (err: PlantedPathError) => string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PlantedPathError) throw new Skip(reason(err));
    throw err;
  }
}

/** Opens (creating) the parent directory of `rel` inside `worktree`, refusing to pass through a symlink. */
function parentIn(worktree: string, rel: string, owner: Owner): Promise<PinnedDir> {
  return refusedAs(
    (err) => `${err.rel} in the worktree is not a plain directory`,
    () => openDirUnder(worktree, path.dirname(rel), { create: true, mode: 0o755, owner }),
  );
}

/** The real source path when it stays inside the main worktree; symlinks leading out are refused. */
async function sourceIn(mainRoot: string, rel: string): Promise<string> {
  const real = await realpath(path.join(mainRoot, rel)).catch(() => undefined);
  if (!real) throw new Skip("does not exist (or is a dangling symlink)");
  if (!isInside(real, mainRoot))
    throw new Skip("resolves outside the repository (symlink); not followed");
  return real;
}

/** Copies `src` (a file or directory of the main worktree) to `name` in the pinned `dest`. */
async function copyTree(
  mainRoot: string,
  src: string,
  dest: PinnedDir,
  name: string,
  depth = 0,
): Promise<void> {
  if (depth > 64) throw new Skip("nested more than 64 levels deep (a symlink loop?)");
  const st = await lstat(src);
  if (st.isSymbolicLink()) {
    const real = await sourceIn(mainRoot, path.relative(mainRoot, src));
    return copyTree(mainRoot, real, dest, name, depth + 1);
  }
  if (st.isDirectory()) {
    const sub = await refusedAs(
      (err) => `${err.rel} exists and is not a directory`,
      () => dest.dir(name, { create: true, mode: st.mode & 0o777 }),
    );
    try {
      for (const entry of await readdir(src)) {
        if (entry === ".git") continue;
        await copyTree(mainRoot, path.join(src, entry), sub, entry, depth + 1);
      }
    } finally {
      await sub.close();
    }
    return;
  }
  if (!st.isFile()) throw new Skip("not a regular file or directory");
  await refusedAs(
    (err) => `${err.rel} is a directory in the worktree`,
    () => dest.copyFile(name, src),
  );
}

/**
 * `files.copy` and `files.symlink`: globs matched in the main worktree, applied to the new one.
 * Nothing is read through a symlink that leads out of the repository, and nothing is written
 * through a symlink inside the new worktree (its content comes from a branch an agent may
 * have written): every write goes through a directory opened without following links
 * (fs/no-follow.ts), and a file or link already at a destination is replaced, not written
 * through. What is created is owned by the worktree's owner.
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
  const { uid, gid } = await stat(worktree);
  const owner = { uid, gid };
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
      const parent = await parentIn(worktree, rel, owner);
      try {
        await copyTree(mainRoot, path.join(mainRoot, rel), parent, path.basename(rel));
      } finally {
        await parent.close();
      }
    },
    result.copied,
  );
  await each(
    opts.symlink,
    async (rel) => {
      const source = await sourceIn(mainRoot, rel);
      const parent = await parentIn(worktree, rel, owner);
      try {
        await refusedAs(
          () => "a directory is in the way in the worktree",
          () => parent.symlink(path.basename(rel), source),
        );
      } finally {
        await parent.close();
      }
    },
    result.symlinked,
  );
  return result;
}
