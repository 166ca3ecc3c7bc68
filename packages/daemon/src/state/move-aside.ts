import { promises as fs } from "node:fs";
import type { Logger } from "../log.ts";

/**
 * Renames an unreadable state file to `<file>.unreadable-<ms>` — never deleted, never
 * followed (rename moves a symbolic link itself) — and logs once where it went. Returns the
 * new name. Throws when the rename fails: the caller must not write over a file it could not
 * move out of the way.
 */
export async function moveAside(
  file: string,
  reason: string,
  what: string,
  log: Logger,
): Promise<string> {
  const stamp = `${file}.unreadable-${Date.now()}`;
  let aside = stamp;
  for (let n = 1; await taken(aside); n++) aside = `${stamp}-${n}`;
  await fs.rename(file, aside);
  log.warn({ file, movedTo: aside, reason }, `moved an unreadable ${what} aside`);
  return aside;
}

async function taken(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}
