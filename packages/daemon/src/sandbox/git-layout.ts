import { lstat, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";
import { createSafeGit } from "../git/safe-git.ts";

/** What the daemon stores when it creates a linked worktree; all paths are realpaths. */
export interface WorktreeRecord {
  worktreePath: string;
  /** The main repository's `.git` directory. */
  commonDir: string;
  /** `<commonDir>/worktrees/<name>`. */
  adminDir: string;
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
  const record = {
    worktreePath: worktree,
    commonDir: await realpath(common),
    adminDir: await realpath(dir),
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
 * Still writable, and why that is acceptable:
 * - `objects/`: the agent can add, corrupt or delete objects of the whole repository and write
 *   `objects/info/alternates`, making host git read objects from a path it names. Data, not code.
 * - `refs/`, `logs/`: every branch and tag, not only its own; it can move `main` or add
 *   `refs/replace/*` (safe-git ignores replace refs, a user's own git does not). `packed-refs`
 *   stays read-only, so deleting a packed ref fails inside.
 * - `worktrees/<name>/`: its own HEAD, index and reflogs. The files in it that steer host git are
 *   pinned read-only on top: `commondir` (host git run in this worktree would take its config
 *   and hooks from wherever it points), `gitdir` (what `git worktree remove/prune` act on) and
 *   `config.worktree` (read when the read-only common config sets extensions.worktreeConfig).
 * Readable but not writable: the common config (remote URLs with embedded credentials leak),
 * hooks, `info/`, and the other worktrees' admin dirs (their HEAD and index).
 */
export async function gitLayoutMounts(record: WorktreeRecord): Promise<MountSpec[]> {
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
  await mkdir(path.join(commonDir, "logs")).catch(ignoreExists);
  await writeFile(path.join(adminDir, "config.worktree"), "", { flag: "wx" }).catch(ignoreExists);

  const rw = (p: string): MountSpec => ({ source: p, target: p, readOnly: false });
  const ro = (p: string): MountSpec => ({ source: p, target: p, readOnly: true });
  const sub = async (dir: string, name: string, kind: "dir" | "file") => {
    const p = path.join(dir, name);
    await expectKind(p, kind);
    return p;
  };
  return [
    rw(worktree),
    ro(await sub(worktree, ".git", "file")),
    ro(commonDir),
    rw(await sub(commonDir, "objects", "dir")),
    rw(await sub(commonDir, "refs", "dir")),
    rw(await sub(commonDir, "logs", "dir")),
    rw(adminDir),
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
