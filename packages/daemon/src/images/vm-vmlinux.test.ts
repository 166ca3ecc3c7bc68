import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractPvhKernel } from "./vm-vmlinux.ts";

let dir: string;
const elf = Buffer.concat([Buffer.from("\x7fELF", "latin1"), Buffer.alloc(4096, 7)]);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-vmlinux-"));
  // A bzImage stand-in: setup code, the xz payload, then trailing data.
  const payload = execFileSync("xz", ["-c", "--check=crc32"], { input: elf });
  await writeFile(
    path.join(dir, "vmlinuz"),
    Buffer.concat([Buffer.alloc(20_000, 1), payload, Buffer.alloc(64, 2)]),
  );
  await writeFile(path.join(dir, "config-pvh"), "CONFIG_PVH=y\nCONFIG_KERNEL_XZ=y\n");
  await writeFile(path.join(dir, "config-nopvh"), "# CONFIG_PVH is not set\nCONFIG_KERNEL_XZ=y\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("extractPvhKernel", () => {
  it("cuts the ELF kernel out of an xz bzImage whose kernel has a PVH entry", async () => {
    const out = await extractPvhKernel(
      path.join(dir, "vmlinuz"),
      path.join(dir, "config-pvh"),
      process.env,
    );
    expect(out?.equals(elf)).toBe(true);
  });

  it("leaves other kernels to boot as bzImage", async () => {
    expect(
      await extractPvhKernel(
        path.join(dir, "vmlinuz"),
        path.join(dir, "config-nopvh"),
        process.env,
      ),
    ).toBeUndefined();
  });
});
