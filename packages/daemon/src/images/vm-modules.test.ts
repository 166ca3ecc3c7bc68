import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexModules, moduleDeps, resolveModules } from "./vm-modules.ts";

let dir: string;

/** A stand-in .ko: only its .modinfo strings matter to the resolver. */
async function ko(rel: string, ...info: string[]): Promise<void> {
  const file = path.join(dir, "kernel", rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, Buffer.from(`\x7fELF\0${info.map((i) => `${i}\0`).join("")}`, "latin1"));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-mods-"));
  await ko("fs/ext4/ext4.ko", "depends=jbd2,mbcache", "softdep=pre: crc32c");
  await ko("fs/jbd2/jbd2.ko", "depends=");
  await ko("fs/mbcache.ko", "depends=");
  await ko("crypto/crc32c.ko", "depends=");
  await ko("fs/9p/9p.ko", "depends=9pnet,netfs", "softdep=pre: not-in-this-kernel");
  await ko("net/9p/9pnet.ko", "depends=");
  await ko("fs/netfs/netfs.ko", "depends=");
  await ko("drivers/broken.ko", "depends=gone");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("module resolution", () => {
  it("reads depends and soft pre-dependencies from modinfo", () => {
    expect(moduleDeps(Buffer.from("a\0depends=x,y-z\0softdep=pre: p1 p2 post: q\0"))).toEqual([
      "x",
      "y_z",
      "p1",
      "p2",
    ]);
  });

  it("orders dependencies first, skips built-ins and soft dependencies the kernel lacks", async () => {
    const order = await resolveModules(
      await indexModules(dir),
      ["ext4", "9p"],
      new Set(["mbcache"]),
    );
    expect(order.map((m) => m.name)).toEqual(["jbd2", "crc32c", "ext4", "9pnet", "netfs", "9p"]);
  });

  it("names a missing hard dependency", async () => {
    await expect(resolveModules(await indexModules(dir), ["broken"], new Set())).rejects.toThrow(
      "kernel module gone is not in the kernel package",
    );
  });
});
