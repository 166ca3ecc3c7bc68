import { lstat, readFile, realpath, writeFile } from "node:fs/promises";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";
import { createSafeGit } from "../git/safe-git.ts";
import type { GitShadow } from "./git-shadow.ts";

/** What the daemon stores when it creates a linked worktree; all paths are realpaths. */
export interface WorktreeRecord {
  worktreePath: string;
  /** The main repository's `.git` directory. */
  commonDir: string;
  /** `<commonDir>/worktrees/<name>`. */
  adminDir: string;
  /**
   * The branch checked out when wm recorded the worktree: the only one its sandbox may move.
   * Null for a detached HEAD; absent in records older than this field (nothing is carried over).
   */
  branch?: string | null;
}

export class GitLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitLayoutError";
  }
}

/**
 * Reads a linked worktree's git dirs, once, right after `git worktree add` and before any
 * sandbox has run in it: this is the only time the worktree's `.git` file is trusted.
 */
export async function recordWorktree(
  worktreePath: string,
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<WorktreeRecord> {
  const worktree = await realpath(worktreePath);
  const gitDir = await realpath(path.resolve(worktree, await readPointer(worktree)));
  const git = createSafeGit({ gitDir, workTree: worktree, env: opts.env });
  const res = await git.run([
    "rev-parse",
    "--path-format=absolute",
    "--git-common-dir",
    "--git-dir",
  ]);
  const [common, dir] = res.stdout.split("\n");
  if (res.code !== 0 || !common || !dir) {
    throw new GitLayoutError(`${worktree} is not a git worktree: ${res.stderr.trim()}`);
  }
  const head = await git.run(["symbolic-ref", "--quiet", "HEAD"]);
  const ref = head.code === 0 ? head.stdout.trim() : "";
  const record: WorktreeRecord = {
    worktreePath: worktree,
    commonDir: await realpath(common),
    adminDir: await realpath(dir),
    branch: ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null,
  };
  checkNesting(record);
  await expectFileNaming(
    path.join(record.adminDir, "gitdir"),
    path.join(worktree, ".git"),
    record.adminDir,
  );
  return record;
}

/**
 * Mounts giving a sandbox its worktree and only the git metadata it needs (SECURITY.md §1).
 * Paths come from `record`; the worktree's files are only checked against it, never followed.
 *
 * The repository's `.git` is read-only. What git inside must write goes to the worktree's
 * shadow (git-shadow.ts), mounted over the shared paths: `refs/` (a copy of the repository's
 * loose refs), `logs/`, `objects/` (new objects; the repository's own are a read-only
 * alternate) and the admin dir's `logs/` and `refs/`. Host git therefore never writes into a
 * directory the agent can fill with symlinks, and the agent's ref updates reach the repository
 * only for its own branch, carried over by the daemon (branch-sync.ts).
 *
 * Still shared and writable: the admin dir `worktrees/<name>/` (HEAD, index, ORIG_HEAD, …),
 * which host git in this worktree must agree on; the daemon checks it for symlinks before it
 * runs git there. Pinned read-only on top: `commondir` (host git run in this worktree would take
 * its config and hooks from wherever it points), `gitdir` (what `git worktree remove/prune` act
 * on) and `config.worktree` (read when the common config sets extensions.worktreeConfig).
 * Readable but not writable: the common config (remote URLs with embedded credentials leak),
 * hooks, `info/`, `packed-refs` and the other worktrees' admin dirs.
 */
export async function gitLayoutMounts(
  record: WorktreeRecord,
  shadow: GitShadow,
): Promise<MountSpec[]> {
  const worktree = await realDir(record.worktreePath, "worktree");
  const commonDir = await realDir(record.commonDir, "common git dir");
  const adminDir = await realDir(record.adminDir, "worktree admin dir");
  checkNesting({ worktreePath: worktree, commonDir, adminDir });

  const pointer = await realpath(path.resolve(worktree, await readPointer(worktree))).catch(
    () => "",
  );
  if (pointer !== adminDir) {
    throw new GitLayoutError(
      `${worktree}/.git no longer points at ${adminDir}; refusing to mount anything for it`,
    );
  }
  await expectFileNaming(path.join(adminDir, "commondir"), commonDir, adminDir);
  await expectFileNaming(path.join(adminDir, "gitdir"), path.join(worktree, ".git"), adminDir);
  await writeFile(path.join(adminDir, "config.worktree"), "", { flag: "wx" }).catch(ignoreExists);

  const rw = (source: string, target = source): MountSpec => ({ source, target, readOnly: false });
  const ro = (source: string, target = source): MountSpec => ({ source, target, readOnly: true });
  const sub = async (dir: string, name: string, kind: "dir" | "file") => {
    const p = path.join(dir, name);
    await expectKind(p, kind);
    return p;
  };
  return [
    rw(worktree),
    ro(await sub(worktree, ".git", "file")),
    ro(commonDir),
    rw(shadow.refs, await sub(commonDir, "refs", "dir")),
    rw(shadow.logs, path.join(commonDir, "logs")),
    rw(shadow.objects, await sub(commonDir, "objects", "dir")),
    ro(shadow.objectsInfo, path.join(commonDir, "objects", "info")),
    ro(path.join(commonDir, "objects"), shadow.mainObjects),
    rw(adminDir),
    rw(shadow.adminLogs, await sub(adminDir, "logs", "dir")),
    rw(shadow.adminRefs, await sub(adminDir, "refs", "dir")),
    ro(await sub(adminDir, "commondir", "file")),
    ro(await sub(adminDir, "gitdir", "file")),
    ro(await sub(adminDir, "config.worktree", "file")),
  ];
}

function checkNesting(r: WorktreeRecord): void {
  if (path.dirname(r.adminDir) !== path.join(r.commonDir, "worktrees")) {
    throw new GitLayoutError(
      `${r.worktreePath} is not a linked worktree of ${r.commonDir}: its git dir is ${r.adminDir}`,
    );
  }
  const rel = path.relative(r.commonDir, r.worktreePath);
  if (rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))) {
    throw new GitLayoutError(`worktree ${r.worktreePath} lies inside the git dir ${r.commonDir}`);
  }
}

async function readPointer(worktree: string): Promise<string> {
  const file = path.join(worktree, ".git");
  await expectKind(file, "file");
  const match = /^gitdir: (.+)\n?$/.exec(await readFile(file, "utf8"));
  if (!match?.[1]) throw new GitLayoutError(`${file} is not a "gitdir: <path>" pointer`);
  return match[1];
}

async function expectFileNaming(file: string, expected: string, base: string): Promise<void> {
  await expectKind(file, "file");
  const named = (await readFile(file, "utf8")).trim();
  const resolved = await realpath(path.resolve(base, named)).catch(() => named);
  if (resolved !== expected) {
    throw new GitLayoutError(
      `${file} names ${named}, not ${expected}; refusing a rewritten git dir`,
    );
  }
}

async function realDir(p: string, what: string): Promise<string> {
  if (!path.isAbsolute(p)) throw new GitLayoutError(`${what} path ${p} is not absolute`);
  const real = await realpath(p).catch(() => {
    throw new GitLayoutError(`${what} ${p} does not exist`);
  });
  await expectKind(real, "dir");
  return real;
}

async function expectKind(p: string, kind: "dir" | "file"): Promise<void> {
  const st = await lstat(p).catch(() => undefined);
  const ok = kind === "dir" ? st?.isDirectory() : st?.isFile();
  if (!ok) {
    const found =
      st === undefined ? "missing" : st.isSymbolicLink() ? "a symbolic link" : "of another kind";
    throw new GitLayoutError(
      `${p} must be a ${kind === "dir" ? "directory" : "regular file"}, but it is ${found}`,
    );
  }
}

function ignoreExists(err: NodeJS.ErrnoException): void {
  if (err.code !== "EEXIST") throw err;
}
