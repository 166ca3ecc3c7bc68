import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findBaseTarball, vmCacheDir } from "./vm-disk.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the VM disk's inputs", () => {
  it("says to run build-base-image.sh when no root file system tarball is cached", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wm-vmdisk-"));
    await expect(findBaseTarball({ XDG_CACHE_HOME: dir })).rejects.toThrow(
      `no cached Debian root file system (${dir}/wm/base-bookworm-amd64-v1-*.tar); run: sudo bash scripts/build-base-image.sh`,
    );
  });

  it("takes the newest cached tarball and keeps VM files under the wm cache", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wm-vmdisk-"));
    await mkdir(path.join(dir, "wm"));
    const old = path.join(dir, "wm", "base-bookworm-amd64-v1-aaaa.tar");
    const recent = path.join(dir, "wm", "base-bookworm-amd64-v1-bbbb.tar");
    await writeFile(old, "x");
    await writeFile(recent, "y");
    await utimes(old, new Date(1000), new Date(1000));
    expect(await findBaseTarball({ XDG_CACHE_HOME: dir })).toBe(recent);
    expect(vmCacheDir({ XDG_CACHE_HOME: dir })).toBe(path.join(dir, "wm", "vm"));
    expect(vmCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/wm/vm");
  });
});
