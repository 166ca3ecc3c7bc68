import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** How long a lock file without a pid in it is taken to be one being written. */
const UNWRITTEN_GRACE_MS = 2000;

/**
 * Held by the one client that spawns a daemon, so that clients which lost their daemon
 * together (a crash with many sandboxes attached) start one daemon, not one each that then
 * loses the daemon's own start race. The file holds the spawning client's pid.
 */
export interface SpawnLock {
  release(): Promise<void>;
}

/** Takes the lock, or returns the pid of the live client that holds it. */
export async function takeSpawnLock(file: string): Promise<SpawnLock | { heldBy: number }> {
  for (;;) {
    try {
      const flags =
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const handle = await fs.open(file, flags, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => fs.rm(file, { force: true }) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        // A first start: make the runtime directory as the daemon would (owner-only; the
        // daemon still checks it), so that the racing clients share one lock in it.
        const made = await fs
          .mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
          .then(() => true)
          .catch(() => false);
        if (made) continue;
        return { release: async () => undefined };
      }
      if (code !== "EEXIST") throw err;
    }
    const holder = await holderOf(file);
    if (holder !== undefined && alive(holder)) return { heldBy: holder };
    // No pid yet may be a holder between creating the file and writing its pid.
    if (holder === undefined && (await ageMs(file)) < UNWRITTEN_GRACE_MS) {
      await sleep(10);
      continue;
    }
    // Its holder died, or it never named one: the lock is stale.
    await fs.rm(file, { force: true });
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return undefined;
  try {
    const pid = Number.parseInt((await handle.readFile("utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } finally {
    await handle.close();
  }
}

async function ageMs(file: string): Promise<number> {
  const st = await fs.lstat(file).catch(() => undefined);
  return st ? Date.now() - st.mtimeMs : Number.POSITIVE_INFINITY;
}
