import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isInside } from "./repo.ts";
import type { WorktreeEntry } from "./state-store.ts";

/**
 * Where the entry's window opens: its `subdir` (the directory of the nested project file
 * `wm add` used) when that is a directory inside the worktree, else the worktree itself. The
 * checked-out branch may have put a symbolic link there; one leading out of the worktree is not
 * followed.
 */
export async function windowDir(entry: Pick<WorktreeEntry, "path" | "subdir">): Promise<string> {
  if (!entry.subdir) return entry.path;
  const root = await realpath(entry.path).catch(() => undefined);
  const dir = root && (await realpath(path.join(root, entry.subdir)).catch(() => undefined));
  if (!root || !dir || !isInside(dir, root)) return entry.path;
  return (await stat(dir).catch(() => undefined))?.isDirectory() ? dir : entry.path;
}
