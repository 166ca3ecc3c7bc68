import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { processAlive } from "../lifecycle/process-alive.ts";

const held = new Set<string>();

async function holderAlive(file: string): Promise<boolean> {
  const pid = Number.parseInt(await fs.readFile(file, "utf8").catch(() => ""), 10);
  return Number.isFinite(pid) && processAlive(pid);
}

async function createLock(file: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const flags =
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const handle = await fs.open(file, flags, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await holderAlive(file)) return false;
      await fs.rm(file, { force: true });
    }
  }
  return false;
}

/**
 * Runs `fn` holding the exclusive lock named `parts` (e.g. repository + worktree name), or
 * fails at once with Conflict: a second caller never waits and never builds on a half-made
 * worktree. The lock is a file in `<stateDir>/locks` (created exclusively, holder's pid inside),
 * so a daemon that died holding it does not block the next one.
 */
export async function withExclusiveLock<T>(
  stateDir: string,
  parts: readonly string[],
  busy: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
  if (held.has(key)) throw new RpcError("Conflict", busy);
  held.add(key);
  try {
    const dir = path.join(stateDir, "locks");
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${key}.lock`);
    if (!(await createLock(file))) throw new RpcError("Conflict", busy);
    try {
      return await fn();
    } finally {
      await fs.rm(file, { force: true });
    }
  } finally {
    held.delete(key);
  }
}
