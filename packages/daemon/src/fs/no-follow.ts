import { randomBytes } from "node:crypto";
import { constants, existsSync } from "node:fs";
import {
  copyFile,
  type FileHandle,
  lchown,
  lstat,
  mkdir,
  open,
  rename,
  symlink,
  unlink,
} from "node:fs/promises";
import path from "node:path";

/**
 * Writes under a trusted root directory (a worktree) whose contents are not trusted: an agent
 * may have planted a symbolic link for any path component, or the file itself, pointing
 * anywhere on the host. Nothing here follows one.
 *
 * Each directory component is opened with O_DIRECTORY|O_NOFOLLOW (created when missing; mkdir
 * never follows an existing link) and kept open; the next component, and finally the file, are
 * named through that descriptor. On Linux that name is `/proc/self/fd/<fd>/<name>`: the magic
 * link resolves to the opened directory itself, so renaming or replacing a path component after
 * it was opened cannot redirect the write. The file is created under a temporary name with
 * O_CREAT|O_EXCL|O_NOFOLLOW, owned and moded through its descriptor, and renamed over the final
 * name within the same directory; rename replaces a symlink found there instead of following it.
 *
 * Without /proc (macOS) the same steps run on plain paths: each component is still opened with
 * O_NOFOLLOW and a symlink is refused, but a component swapped for a link between that check and
 * a later step is not noticed. This fallback narrows the window; it does not close it.
 */

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const PROC_FD = process.platform === "linux" && existsSync("/proc/self/fd");

export interface Owner {
  uid: number;
  gid: number;
}

export type Refusal = "symlink" | "not-directory" | "directory";

/** A path component in the worktree that a write would have to go through (or replace). */
export class PlantedPathError extends Error {
  constructor(
    /** The offending path, relative to the root. */
    readonly rel: string,
    readonly kind: Refusal,
  ) {
    super(
      kind === "symlink"
        ? `refusing to write through a symbolic link planted in the worktree: ${rel}`
        : kind === "not-directory"
          ? `refusing to write under ${rel} in the worktree: it is not a directory`
          : `refusing to replace ${rel} in the worktree: it is a directory`,
    );
    this.name = "PlantedPathError";
  }
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** chown through a descriptor; EPERM (a non-root daemon giving a file away) is not an error. */
async function own(handle: FileHandle, owner: Owner | undefined): Promise<void> {
  if (!owner) return;
  await handle.chown(owner.uid, owner.gid).catch((err) => {
    if (codeOf(err) !== "EPERM") throw err;
  });
}

function checkName(name: string): void {
  if (!name || name === "." || name === ".." || name.includes("/") || name.includes("\0"))
    throw new Error(`"${name}" is not a single path component`);
}

/** The components of a relative path; absolute paths and ".." are refused. */
export function components(rel: string): string[] {
  if (path.isAbsolute(rel)) throw new Error(`${rel} is not a relative path`);
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new Error(`${rel} leaves its root ("..")`);
  return parts;
}

/** A directory under the root, held open; entries are named through its descriptor. */
export class PinnedDir {
  private constructor(
    private readonly handle: FileHandle,
    /** This directory relative to the root ("" for the root itself). */
    readonly rel: string,
    /** Its path, used only where /proc is missing. */
    private readonly dirPath: string,
    private readonly owner: Owner | undefined,
  ) {}

  /** Opens the trusted root itself (it may be reached through symlinks; its contents may not). */
  static async openRoot(root: string, owner?: Owner): Promise<PinnedDir> {
    return new PinnedDir(await open(root, O_RDONLY | O_DIRECTORY), "", root, owner);
  }

  /** A path naming `name` inside this directory that no later path swap can redirect (Linux). */
  at(name: string): string {
    checkName(name);
    return PROC_FD ? `/proc/self/fd/${this.handle.fd}/${name}` : path.join(this.dirPath, name);
  }

  /** `name` relative to the root, for messages. */
  relOf(name: string): string {
    return this.rel ? `${this.rel}/${name}` : name;
  }

  /** Why `name` could not be opened as a directory: a planted link or a non-directory, else `err`. */
  private async refusal(name: string, err: unknown): Promise<unknown> {
    if (codeOf(err) !== "ENOTDIR" && codeOf(err) !== "ELOOP") return err;
    const st = await lstat(this.at(name)).catch(() => undefined);
    if (!st) return err;
    return new PlantedPathError(
      this.relOf(name),
      st.isSymbolicLink() ? "symlink" : "not-directory",
    );
  }

  /**
   * The subdirectory `name`, opened without following a link; with `create`, made (with `mode`,
   * owned by the owner) when missing. A link or a non-directory there is a PlantedPathError.
   */
  async dir(name: string, opts: { create?: boolean; mode?: number } = {}): Promise<PinnedDir> {
    const target = this.at(name);
    const child = (handle: FileHandle) =>
      new PinnedDir(handle, this.relOf(name), path.join(this.dirPath, name), this.owner);
    try {
      return child(await open(target, DIR_FLAGS));
    } catch (err) {
      if (codeOf(err) !== "ENOENT" || !opts.create) throw await this.refusal(name, err);
    }
    let created = true;
    await mkdir(target, { mode: opts.mode ?? 0o755 }).catch((err) => {
      if (codeOf(err) !== "EEXIST") throw err;
      created = false;
    });
    let handle: FileHandle;
    try {
      handle = await open(target, DIR_FLAGS);
    } catch (err) {
      throw await this.refusal(name, err);
    }
    try {
      if (created) await own(handle, this.owner);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return child(handle);
  }

  /**
   * Creates something under a fresh temporary name in this directory, then renames it over
   * `name` (a file or link there is replaced, never followed; a directory there is refused).
   */
  private async place(name: string, create: (tmp: string) => Promise<void>): Promise<void> {
    const final = this.at(name);
    const tmp = this.at(`.wm-${randomBytes(8).toString("hex")}.tmp`);
    try {
      await create(tmp);
    } catch (err) {
      if (codeOf(err) !== "EEXIST") await unlink(tmp).catch(() => undefined);
      throw err;
    }
    try {
      await rename(tmp, final);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      const code = codeOf(err);
      if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST")
        throw new PlantedPathError(this.relOf(name), "directory");
      throw err;
    }
  }

  /** Writes `data` as the regular file `name` (mode `mode`, owned by the owner). */
  async writeFile(name: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    await this.place(name, async (tmp) => {
      const handle = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        await handle.writeFile(data);
        await handle.chmod(mode);
        await own(handle, this.owner);
      } finally {
        await handle.close();
      }
    });
  }

  /** Copies the regular file `source` (a trusted path) to `name`, keeping its mode. */
  async copyFile(name: string, source: string): Promise<void> {
    await this.place(name, async (tmp) => {
      // COPYFILE_EXCL creates the copy with O_CREAT|O_EXCL, which never follows a link.
      await copyFile(source, tmp, constants.COPYFILE_EXCL);
      const handle = await open(tmp, O_RDONLY | O_NOFOLLOW);
      try {
        await own(handle, this.owner);
      } finally {
        await handle.close();
      }
    });
  }

  /** Creates the symbolic link `name` → `target`. */
  async symlink(name: string, target: string): Promise<void> {
    await this.place(name, async (tmp) => {
      await symlink(target, tmp);
      if (this.owner)
        await lchown(tmp, this.owner.uid, this.owner.gid).catch((err) => {
          if (codeOf(err) !== "EPERM") throw err;
        });
    });
  }

  /** The content of the regular file `name`; undefined when absent. A link there is refused. */
  async readFile(name: string): Promise<string | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.at(name), O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      if (codeOf(err) === "ENOENT") return undefined;
      if (codeOf(err) === "ELOOP") throw new PlantedPathError(this.relOf(name), "symlink");
      throw err;
    }
    try {
      return await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  }

  /** The mode bits of `name` (not following a link); undefined when absent. */
  async modeOf(name: string): Promise<number | undefined> {
    const st = await lstat(this.at(name)).catch(() => undefined);
    return st && st.mode & 0o7777;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Opens `relDir` under `root` component by component without following links; with `create`,
 * missing directories are made (mode `mode`, owned by `owner`). The caller closes the result.
 */
export async function openDirUnder(
  root: string,
  relDir: string,
  opts: { create?: boolean; mode?: number; owner?: Owner | undefined } = {},
): Promise<PinnedDir> {
  let dir = await PinnedDir.openRoot(root, opts.owner);
  try {
    for (const part of components(relDir)) {
      const next = await dir.dir(part, opts);
      await dir.close();
      dir = next;
    }
  } catch (err) {
    await dir.close();
    throw err;
  }
  return dir;
}

/** Runs `fn` with `relDir` under `root` opened as by openDirUnder, and closes it. */
export async function withDirUnder<T>(
  root: string,
  relDir: string,
  opts: { create?: boolean; mode?: number; owner?: Owner | undefined },
  fn: (dir: PinnedDir) => Promise<T>,
): Promise<T> {
  const dir = await openDirUnder(root, relDir, opts);
  try {
    return await fn(dir);
  } finally {
    await dir.close();
  }
}

function splitFile(rel: string): { dir: string; name: string } {
  const parts = components(rel);
  const name = parts.pop();
  if (!name) throw new Error(`${rel} names no file`);
  return { dir: parts.join("/"), name };
}

/**
 * Writes `data` to `root/rel` as a regular file, creating missing parent directories, never
 * following a symbolic link on the way: a link (or non-directory) among the parents is a
 * PlantedPathError; a link or file at `rel` itself is replaced. Returns the file's path.
 */
export async function writeFileUnder(
  root: string,
  rel: string,
  data: string | Uint8Array,
  opts: { mode?: number; dirMode?: number; owner?: Owner | undefined } = {},
): Promise<string> {
  const { dir, name } = splitFile(rel);
  await withDirUnder(root, dir, { create: true, mode: opts.dirMode, owner: opts.owner }, (d) =>
    d.writeFile(name, data, opts.mode),
  );
  return path.join(root, ...components(rel));
}

/** Reads `root/rel` without following a link anywhere below `root`; undefined when absent. */
export async function readFileUnder(root: string, rel: string): Promise<string | undefined> {
  const { dir, name } = splitFile(rel);
  try {
    return await withDirUnder(root, dir, {}, (d) => d.readFile(name));
  } catch (err) {
    if (codeOf(err) === "ENOENT") return undefined;
    throw err;
  }
}
