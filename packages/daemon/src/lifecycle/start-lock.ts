import { constants, promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive } from "./process-alive.ts";

/** A lock older than this belongs to a start that hung or died; starting never takes this long. */
const STALE_AFTER_MS = 30_000;

export class StartLockBusyError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `another wm daemon${holderPid ? ` (pid ${holderPid})` : ""} is starting and holds ${lockFile}`,
    );
    this.name = "StartLockBusyError";
  }
}

export interface StartLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number | undefined;
  ageMs: number;
}

async function readHolder(lockFile: string): Promise<Holder | undefined> {
  try {
    const [text, st] = await Promise.all([fs.readFile(lockFile, "utf8"), fs.lstat(lockFile)]);
    const pid = Number.parseInt(text.trim(), 10);
    return { pid: Number.isFinite(pid) ? pid : undefined, ageMs: Date.now() - st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Exclusive-create lock held while a daemon checks for a live peer, cleans a stale socket
 * and starts listening. A lock whose holder died (or that is older than any start can
 * take) is removed; a live holder is waited for up to `waitMs`.
 */
export async function acquireStartLock(
  lockFile: string,
  { waitMs = 10_000, pid = process.pid } = {},
): Promise<StartLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const flags =
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const handle = await fs.open(lockFile, flags, 0o600);
      await handle.writeFile(`${pid}\n`);
      await handle.close();
      return {
        async release() {
          const holder = await readHolder(lockFile);
          if (holder?.pid === pid) await fs.rm(lockFile, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = await readHolder(lockFile);
    if (holder === undefined) continue;
    const dead = holder.pid !== undefined ? !processAlive(holder.pid) : holder.ageMs > 1000;
    if (dead || holder.ageMs > STALE_AFTER_MS) {
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new StartLockBusyError(lockFile, holder.pid);
    await sleep(25);
  }
}
