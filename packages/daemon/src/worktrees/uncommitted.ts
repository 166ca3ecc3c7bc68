import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import type { SafeGit } from "../git/safe-git.ts";
import { gitOk } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

/** One `git status --porcelain=v1 -z` record: the two status letters and the path. */
interface StatusLine {
  xy: string;
  path: string;
}

function parseStatus(out: string): StatusLine[] {
  const fields = out.split("\0");
  const lines: StatusLine[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (field.length < 4) continue;
    const xy = field.slice(0, 2);
    lines.push({ xy, path: field.slice(3) });
    // A rename or copy is followed by its source path.
    if (xy[0] === "R" || xy[0] === "C") i++;
  }
  return lines;
}

/** A path as `git status` would show it: quoted when it holds anything but plain characters. */
function shown(p: string): string {
  return /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(p) && !p.includes('"')
    ? p
    : JSON.stringify(p);
}

/**
 * A symbolic link in the worktree that leads to the same path in the main worktree: what
 * `files.symlink` makes. git lists it as untracked even when `.gitignore` ignores that path as a
 * directory (`node_modules/` matches no symlink), yet it holds no work of the worktree's own.
 * Only link metadata is read (lstat, readlink, realpath), never a file's content.
 */
export async function linksToMain(worktree: string, main: string, rel: string): Promise<boolean> {
  const link = path.join(worktree, rel);
  const st = await lstat(link).catch(() => undefined);
  if (!st?.isSymbolicLink()) return false;
  const same = path.join(main, rel);
  const target = await readlink(link).catch(() => undefined);
  if (target !== undefined && path.resolve(path.dirname(link), target) === same) return true;
  const [a, b] = await Promise.all([
    realpath(link).catch(() => undefined),
    realpath(same).catch(() => undefined),
  ]);
  return a !== undefined && a === b;
}

const status = (git: SafeGit, untracked: "normal" | "all", pathspec: string[] = []) =>
  gitOk(git, ["status", "--porcelain=v1", "-z", `--untracked-files=${untracked}`, ...pathspec]);

/** An untracked directory (`?? dir/`) that holds nothing but links to the main worktree. */
async function onlyLinksToMain(git: SafeGit, entry: WorktreeEntry, dir: string) {
  const lines = parseStatus(await status(git, "all", ["--", `:(literal)${dir}`]));
  for (const line of lines) {
    if (line.xy !== "??" || !(await linksToMain(entry.path, entry.repo, line.path))) return false;
  }
  return lines.length > 0;
}

/**
 * Uncommitted changes (tracked and untracked) in a worktree, as `git status --porcelain` lines.
 * wm's own files are not among them: the prompt file lies outside the worktree (prompt-file.ts),
 * and an untracked link to the main worktree's same path is a `files.symlink` link.
 */
export async function uncommitted(svc: WorktreeService, entry: WorktreeEntry): Promise<string[]> {
  const git = svc.worktreeGit(entry);
  const lines: string[] = [];
  for (const line of parseStatus(await status(git, "normal"))) {
    if (line.xy === "??") {
      const ours = line.path.endsWith("/")
        ? await onlyLinksToMain(git, entry, line.path)
        : await linksToMain(entry.path, entry.repo, line.path);
      if (ours) continue;
    }
    lines.push(`${line.xy} ${shown(line.path)}`);
  }
  return lines;
}
