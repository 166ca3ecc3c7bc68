import { createHash } from "node:crypto";
import { type BigIntStats, constants, promises as fs } from "node:fs";
import path from "node:path";
import { atomicWrite } from "../fs/atomic-write.ts";
import type { WorktreeRecord } from "./git-layout.ts";

type Owner = { uid: number; gid: number };

/**
 * A worktree's private git area, kept in the daemon's state directory. A sandbox writes refs,
 * reflogs and objects here instead of into the shared repository, so host git never writes into
 * a directory an agent could have filled with symlinks, and the agent moves no branch but its
 * own (the daemon carries that one over, see branch-sync.ts). See docs/decisions/0006.
 */
export interface GitShadow {
  /** Daemon-owned; never mounted as a whole. */
  dir: string;
  /** Mounted at `<common>/refs`: a copy of the repository's loose refs, the agent's to change. */
  refs: string;
  /** Mounted at `<common>/logs`: the sandbox's own reflogs. */
  logs: string;
  /** Mounted at `<common>/objects`: new objects; the repository's own are an alternate. */
  objects: string;
  /** Mounted read-only at `<common>/objects/info`: holds the alternates file. */
  objectsInfo: string;
  /** On the host a symlink to `<common>/objects`; in the sandbox a read-only mount of it. */
  mainObjects: string;
  /** Mounted at `<admin>/logs` and `<admin>/refs`: the worktree's own reflogs and refs. */
  adminLogs: string;
  adminRefs: string;
  /** Daemon-owned: the branch value last carried into the repository. */
  syncedFile: string;
}

/**
 * The directory holding the shadows of one repository's worktrees: a VM serving that project
 * exports it whole, and nothing of another project's.
 */
export function gitShadowRoot(stateDir: string, commonDir: string): string {
  const id = createHash("sha256").update(commonDir).digest("hex").slice(0, 16);
  return path.join(stateDir, "git", `p-${id}`);
}

export function gitShadowFor(stateDir: string, record: WorktreeRecord): GitShadow {
  const id = createHash("sha256").update(record.adminDir).digest("hex").slice(0, 16);
  const dir = path.join(gitShadowRoot(stateDir, record.commonDir), id);
  return {
    dir,
    refs: path.join(dir, "refs"),
    logs: path.join(dir, "logs"),
    objects: path.join(dir, "objects"),
    objectsInfo: path.join(dir, "objects", "info"),
    mainObjects: path.join(dir, "main-objects"),
    adminLogs: path.join(dir, "admin-logs"),
    adminRefs: path.join(dir, "admin-refs"),
    syncedFile: path.join(dir, "synced"),
  };
}

/** What `git fetch` (run by the daemon) reads when it takes the agent's commits from the shadow. */
const SHADOW_CONFIG = [
  "[core]",
  "\trepositoryformatversion = 0",
  "\tbare = true",
  "\tlogAllRefUpdates = false",
  "[uploadpack]",
  "\tallowAnySHA1InWant = true",
  "",
].join("\n");

/**
 * Creates the shadow (idempotent). With `reseed`, its refs are replaced by a fresh copy of the
 * repository's loose refs: only call it when no sandbox of the worktree runs, after the agent's
 * branch has been carried over.
 */
export async function prepareGitShadow(
  shadow: GitShadow,
  record: WorktreeRecord,
  owner: Owner,
  opts: { reseed: boolean; branch: string | null },
): Promise<void> {
  await fs.mkdir(shadow.dir, { recursive: true, mode: 0o700 });
  await writeIfChanged(path.join(shadow.dir, "config"), SHADOW_CONFIG);
  const head = opts.branch ? `ref: refs/heads/${opts.branch}\n` : "ref: refs/heads/main\n";
  await writeIfChanged(path.join(shadow.dir, "HEAD"), head);
  await replaceSymlink(path.join(record.commonDir, "objects"), shadow.mainObjects);

  if (opts.reseed) await emptyDir(shadow.refs);
  for (const dir of [shadow.refs, shadow.logs, shadow.objects, shadow.adminLogs, shadow.adminRefs])
    await ownedDir(dir, owner);
  await ownedDir(path.join(shadow.objects, "pack"), owner);
  await fs.mkdir(shadow.objectsInfo, { recursive: true, mode: 0o755 });
  await writeIfChanged(path.join(shadow.objectsInfo, "alternates"), `${shadow.mainObjects}\n`);
  if (opts.reseed) await copyRefs(path.join(record.commonDir, "refs"), shadow.refs, owner);
  if (opts.branch) {
    let dir = path.join(shadow.refs, "heads");
    for (const part of opts.branch.split("/").slice(0, -1)) {
      dir = path.join(dir, part);
      await ownedDir(dir, owner);
    }
  }

  // Mount points, made by the daemon so the engine never creates them inside a read-only
  // mount, and refused when something other than a directory stands there.
  const { commonDir, adminDir } = record;
  for (const p of [
    path.join(commonDir, "logs"),
    path.join(commonDir, "objects", "info"),
    path.join(adminDir, "logs"),
    path.join(adminDir, "refs"),
  ]) {
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) await fs.mkdir(p, { mode: 0o755 });
    else if (!st.isDirectory()) {
      throw new Error(`${p} is not a plain directory; refusing to sandbox this worktree`);
    }
  }
}

/** Daemon-owned files of the shadow are rewritten (atomically) only when their content differs. */
export async function writeIfChanged(file: string, content: string): Promise<void> {
  const current = await readRegular(file);
  if (current?.toString("utf8") !== content) await atomicWrite(file, content, 0o644);
}

/**
 * Removes what `dir` holds but keeps the directory: a sandbox started ahead (a prepared one) has
 * it mounted already. Anything but a directory standing at `dir` is removed; nothing is followed.
 */
async function emptyDir(dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) return fs.rm(dir, { force: true });
  for (const name of await fs.readdir(dir))
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
}

/** A directory owned by the sandbox's user; whatever else stood at `dir` is removed, not followed. */
async function ownedDir(dir: string, owner: Owner): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) await fs.rm(dir, { force: true });
  if (!st?.isDirectory()) await fs.mkdir(dir, { mode: 0o755 });
  await fs.lchown(dir, owner.uid, owner.gid).catch(() => undefined);
}

async function replaceSymlink(target: string, link: string): Promise<void> {
  const current = await fs.readlink(link).catch(() => undefined);
  if (current === target) return;
  await fs.rm(link, { force: true, recursive: true });
  await fs.symlink(target, link);
}

/** Copies loose refs (regular files and directories only; symlinks are skipped, never followed). */
async function copyRefs(from: string, to: string, owner: Owner, depth = 0): Promise<void> {
  if (depth > 32) return;
  const entries = await fs.readdir(from, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const src = path.join(from, entry.name);
    const dest = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await ownedDir(dest, owner);
      await copyRefs(src, dest, owner, depth + 1);
    } else if (entry.isFile()) {
      const data = await readRegular(src);
      if (data === undefined) continue;
      const handle = await fs.open(
        dest,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
      try {
        await handle.writeFile(data);
        await handle.chown(owner.uid, owner.gid).catch(() => undefined);
      } finally {
        await handle.close();
      }
    }
  }
}

/** A regular file's bytes, read without following a symlink; undefined for anything else. */
export async function readRegular(file: string): Promise<Buffer | undefined> {
  return (await readRegularStat(file))?.data;
}

/**
 * {@link readRegular}, with the `fstat` of the very file whose bytes were read (taken before
 * reading them).
 */
export async function readRegularStat(
  file: string,
): Promise<{ data: Buffer; stat: BigIntStats } | undefined> {
  const handle = await fs
    .open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    .catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile() || stat.size > 4096n) return undefined;
    return { data: await handle.readFile(), stat };
  } finally {
    await handle.close();
  }
}
