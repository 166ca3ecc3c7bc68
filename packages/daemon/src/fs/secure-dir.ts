import { promises as fs } from "node:fs";

export class InsecureDirectoryError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`refusing to use ${dir}: ${reason}`);
    this.name = "InsecureDirectoryError";
  }
}

export interface SecureDirOptions {
  uid: number;
  /** Create the directory (mode 0700, parents as needed) when it does not exist. */
  create?: boolean;
  /**
   * Tighten the mode of a directory we own instead of refusing it. For private state
   * directories only; the socket directory is always refused.
   */
  tightenMode?: boolean;
}

/**
 * Make sure `dir` is a real directory (not a symlink) owned by `uid` with no access for
 * group or others. Checks with lstat and never fixes a directory it did not create:
 * one that someone else made, or that is too open, is refused.
 */
export async function ensureOwnerOnlyDir(dir: string, opts: SecureDirOptions): Promise<void> {
  let created = false;
  if (opts.create !== false) {
    try {
      await fs.mkdir(dir, { recursive: false, mode: 0o700 });
      created = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        created = true;
      } else if (code !== "EEXIST") {
        throw err;
      }
    }
  }
  const st = await fs.lstat(dir);
  if (st.isSymbolicLink()) throw new InsecureDirectoryError(dir, "it is a symbolic link");
  if (!st.isDirectory()) throw new InsecureDirectoryError(dir, "it is not a directory");
  if (st.uid !== opts.uid) {
    throw new InsecureDirectoryError(
      dir,
      `it is owned by uid ${st.uid}, not ${opts.uid}; remove it or set WM_RUNTIME_DIR to a directory you own`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    if (created || opts.tightenMode) {
      await fs.chmod(dir, 0o700);
      return;
    }
    throw new InsecureDirectoryError(
      dir,
      `its mode is ${(st.mode & 0o777).toString(8).padStart(4, "0")}, but it must not be accessible to group or others; run: chmod 700 ${dir}`,
    );
  }
}
