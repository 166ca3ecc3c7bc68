import { promises as fs } from "node:fs";
import path from "node:path";

export class PlantedLinkError extends Error {
  constructor(readonly link: string) {
    super(
      `${link} is a symbolic link in git metadata a sandbox can write; git never makes one there, so wm runs no git on this worktree until it is removed`,
    );
    this.name = "PlantedLinkError";
  }
}

/** Directory → the mtime and inode at which it last held no symlink, and its subdirectories. */
const clean = new Map<string, { stamp: string; subdirs: string[] }>();

/**
 * Throws {@link PlantedLinkError} when `dir` or a directory below it holds a symlink. A directory
 * whose mtime and inode are unchanged since it was last found clean is not read again (adding,
 * removing or renaming an entry changes its directory's mtime); its subdirectories still are.
 */
export async function assertNoPlantedLinks(dir: string, depth = 0): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st) return;
  if (st.isSymbolicLink()) throw new PlantedLinkError(dir);
  if (!st.isDirectory() || depth > 16) return;
  const stamp = `${st.mtimeMs}:${st.ino}`;
  let known = clean.get(dir);
  if (known?.stamp !== stamp) {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    const link = entries.find((e) => e.isSymbolicLink());
    if (link) throw new PlantedLinkError(path.join(dir, link.name));
    known = { stamp, subdirs: entries.filter((e) => e.isDirectory()).map((e) => e.name) };
  }
  for (const sub of known.subdirs) await assertNoPlantedLinks(path.join(dir, sub), depth + 1);
  clean.set(dir, known);
}
