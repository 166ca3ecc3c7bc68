import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adoptVm, startVm } from "./qemu.ts";
import { vmPaths } from "./qemu-args.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function vmDir(): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-qemu-"));
  return dir;
}

describe("adoptVm guards", () => {
  it("reports a VM without a pidfile as stopped", async () => {
    expect(await adoptVm(await vmDir())).toEqual({ state: "stopped", reason: "no pidfile" });
  });

  it("does not adopt a process that is not this VM's QEMU (a reused pid)", async () => {
    const d = await vmDir();
    await writeFile(vmPaths(d).pidfile, `${process.pid}\n`);
    expect(await adoptVm(d)).toEqual({
      state: "stopped",
      reason: `process ${process.pid} is not this VM's QEMU`,
    });
  });

  it("reports a pidfile whose process is gone as stopped", async () => {
    const d = await vmDir();
    const child = spawn("true");
    await new Promise((r) => child.on("exit", r));
    await writeFile(vmPaths(d).pidfile, `${child.pid}\n`);
    expect(await adoptVm(d)).toEqual({ state: "stopped", reason: `process ${child.pid} is gone` });
  });
});

describe("startVm", () => {
  it("says how to install QEMU when it is missing", async () => {
    const d = await vmDir();
    const spec = {
      dir: d,
      name: "x",
      cpus: 1,
      memoryMiB: 128,
      kernel: "/k",
      initrd: "/i",
      disk: "/d",
      shares: [],
      command: "true",
    };
    await expect(startVm(spec, "tcg", { PATH: "/nonexistent" })).rejects.toThrow(
      "qemu-system-x86_64 is not installed; run scripts/install-deps.sh --with-qemu",
    );
  });
});
