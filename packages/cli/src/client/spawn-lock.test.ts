import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { takeSpawnLock } from "./spawn-lock.ts";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-spawn-lock-"));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe("the spawn lock", () => {
  it("is held by one client; the next is told who holds it, and takes it once released", async () => {
    const file = path.join(dir, "daemon.lock.spawn");
    const first = await takeSpawnLock(file);
    expect("heldBy" in first).toBe(false);
    expect(await takeSpawnLock(file)).toEqual({ heldBy: process.pid });
    if (!("heldBy" in first)) await first.release();
    const second = await takeSpawnLock(file);
    expect("heldBy" in second).toBe(false);
  });

  it("is taken over from a holder that died, or from a file that names no process", async () => {
    const file = path.join(dir, "daemon.lock.spawn");
    await fs.writeFile(file, "2147483646\n");
    expect("heldBy" in (await takeSpawnLock(file))).toBe(false);
    await fs.writeFile(file, "garbage\n");
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(file, old, old);
    expect("heldBy" in (await takeSpawnLock(file))).toBe(false);
  });

  it("waits for a holder that has created the file but not yet written its pid", async () => {
    const file = path.join(dir, "daemon.lock.spawn");
    await fs.writeFile(file, "");
    const taking = takeSpawnLock(file);
    await fs.writeFile(file, `${process.pid}\n`);
    expect(await taking).toEqual({ heldBy: process.pid });
  });

  it("makes the runtime directory on a first start, owner-only, so racing clients share it", async () => {
    const file = path.join(dir, "run", "wm", "daemon.lock.spawn");
    const lock = await takeSpawnLock(file);
    expect("heldBy" in lock).toBe(false);
    expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await takeSpawnLock(file)).toEqual({ heldBy: process.pid });
  });
});
