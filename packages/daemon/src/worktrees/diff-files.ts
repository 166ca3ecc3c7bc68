import { RpcError, type WorktreeDiffFile } from "@wm/protocol";
import type { SafeGit } from "../git/safe-git.ts";
import { mainBranch } from "./git-info.ts";
import { gitOk, mainGit } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

/** The largest patch returned, in bytes of UTF-8; longer ones are cut and flagged. */
export const MAX_PATCH_BYTES = 256 * 1024;
/** Untracked files whose lines are counted; the rest are listed without counts. */
const MAX_COUNTED_UNTRACKED = 50;

const STATUS: Readonly<Record<string, WorktreeDiffFile["status"]>> = {
  A: "added",
  M: "modified",
  T: "modified",
  D: "deleted",
  R: "renamed",
  C: "added",
};

type Counts = Map<string, { additions: number | null; deletions: number | null }>;

/** `git diff --name-status -z -M`: status letter, then one path (two for a rename or copy). */
export function parseNameStatus(
  out: string,
): Array<Omit<WorktreeDiffFile, "additions" | "deletions" | "committed" | "uncommitted">> {
  const fields = out.split("\0");
  const files = [];
  for (let i = 0; i < fields.length - 1; ) {
    const letter = (fields[i] ?? "").charAt(0);
    const two = letter === "R" || letter === "C";
    const first = fields[i + 1] ?? "";
    const second = two ? (fields[i + 2] ?? "") : undefined;
    i += two ? 3 : 2;
    const status = STATUS[letter];
    if (!status) continue;
    files.push(
      second === undefined
        ? { path: first, oldPath: null, status }
        : { path: second, oldPath: letter === "R" ? first : null, status },
    );
  }
  return files;
}

/** `git diff --numstat -z -M`: counts by the file's current path; `-` counts (binary) are null. */
export function parseNumstat(out: string): Counts {
  const counts: Counts = new Map();
  const fields = out.split("\0");
  for (let i = 0; i < fields.length - 1; ) {
    const [added = "", deleted = "", inline = ""] = (fields[i] ?? "").split("\t");
    let current = inline;
    i += 1;
    if (inline === "") {
      current = fields[i + 1] ?? "";
      i += 2;
    }
    counts.set(current, {
      additions: added === "-" ? null : Number(added),
      deletions: deleted === "-" ? null : Number(deleted),
    });
  }
  return counts;
}

const changedPaths = async (git: SafeGit, range: string[]) =>
  new Set(
    parseNameStatus(await gitOk(git, ["diff", "--name-status", "-z", "-M", ...range, "--"])).map(
      (f) => f.path,
    ),
  );

const untrackedFiles = async (git: SafeGit) =>
  (await gitOk(git, ["ls-files", "--others", "--exclude-standard", "-z"]))
    .split("\0")
    .filter(Boolean);

/** `git diff --no-index` of a new file: git exits 1 when the files differ. */
async function untrackedDiff(git: SafeGit, file: string, extra: string[]): Promise<string> {
  const res = await git.run(["diff", "--no-index", ...extra, "--", "/dev/null", file]);
  if (res.code > 1)
    throw new RpcError("InternalError", `git diff of ${file} failed: ${res.stderr.trim()}`);
  return res.stdout;
}

export interface WorktreeChanges {
  base: string;
  mergeBase: string;
  files: WorktreeDiffFile[];
}

/**
 * What a worktree changed since its merge base with the main branch: committed on its branch and
 * not yet committed (tracked changes and untracked files), one row per file with line counts.
 */
export async function worktreeChanges(
  svc: WorktreeService,
  entry: WorktreeEntry,
): Promise<WorktreeChanges> {
  const repo = { root: entry.repo, commonDir: entry.commonDir };
  const configured = await svc
    .config(repo)
    .then((c) => c.main_branch)
    .catch(() => undefined);
  const base = await mainBranch(mainGit(repo, svc.daemon.env), configured);
  const git = svc.worktreeGit(entry);
  const res = await git.run(["merge-base", `refs/heads/${base}`, "HEAD"]);
  if (res.code !== 0) {
    throw new RpcError(
      "Conflict",
      `${entry.handle} has no merge base with ${base}: the main branch is missing or the histories are unrelated; set main_branch in the config if ${base} is not the main branch`,
      { worktree: entry.path, base },
    );
  }
  const mergeBase = res.stdout.trim();
  const [listed, counts, committed, uncommitted, untracked] = await Promise.all([
    gitOk(git, ["diff", "--name-status", "-z", "-M", mergeBase, "--"]).then(parseNameStatus),
    gitOk(git, ["diff", "--numstat", "-z", "-M", mergeBase, "--"]).then(parseNumstat),
    changedPaths(git, [mergeBase, "HEAD"]),
    changedPaths(git, ["HEAD"]),
    untrackedFiles(git),
  ]);
  const files: WorktreeDiffFile[] = listed.map((f) => ({
    ...f,
    additions: counts.get(f.path)?.additions ?? null,
    deletions: counts.get(f.path)?.deletions ?? null,
    committed: committed.has(f.path) || (f.oldPath !== null && committed.has(f.oldPath)),
    uncommitted: uncommitted.has(f.path),
  }));
  for (const [i, file] of untracked.entries()) {
    const numstat =
      i < MAX_COUNTED_UNTRACKED
        ? parseNumstat(await untrackedDiff(git, file, ["--numstat", "-z"]))
        : undefined;
    const c = numstat ? [...numstat.values()][0] : undefined;
    files.push({
      path: file,
      oldPath: null,
      status: "added",
      additions: c?.additions ?? null,
      deletions: c?.deletions ?? null,
      committed: false,
      uncommitted: true,
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { base, mergeBase, files };
}

/** `text` cut to at most `max` bytes of UTF-8 at a character boundary. */
export function capBytes(text: string, max: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return { text, truncated: false };
  let end = max;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString("utf8"), truncated: true };
}

/** The unified patch of one listed file from the merge base to the worktree, at most 256 KiB. */
export async function filePatch(
  svc: WorktreeService,
  entry: WorktreeEntry,
  changes: WorktreeChanges,
  file: string,
): Promise<{ path: string; text: string; truncated: boolean }> {
  const found = changes.files.find((f) => f.path === file);
  if (!found) {
    throw new RpcError(
      "NotFound",
      `${file} is not among the ${changes.files.length} changed files of ${entry.handle}; call worktree.diff without path to list them`,
      { worktree: entry.path, path: file },
    );
  }
  const git = svc.worktreeGit(entry);
  const text =
    found.uncommitted && !found.committed && found.status === "added" && !found.oldPath
      ? await tracked(git, changes.mergeBase, found)
      : await gitOk(git, ["diff", "-M", changes.mergeBase, "--", ...pathspecs(found)]);
  return { path: found.path, ...capBytes(text, MAX_PATCH_BYTES) };
}

const pathspecs = (f: WorktreeDiffFile) =>
  [f.path, ...(f.oldPath ? [f.oldPath] : [])].map((p) => `:(literal)${p}`);

/** An added, uncommitted file: in the index (git diff shows it) or untracked (diffed to /dev/null). */
async function tracked(git: SafeGit, mergeBase: string, f: WorktreeDiffFile): Promise<string> {
  const patch = await gitOk(git, ["diff", "-M", mergeBase, "--", ...pathspecs(f)]);
  return patch !== "" ? patch : untrackedDiff(git, f.path, []);
}
