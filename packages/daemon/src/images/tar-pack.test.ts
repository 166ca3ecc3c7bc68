import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { packContext, tarHeader } from "./tar-pack.ts";

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("packContext", () => {
  it("writes a tar that tar(1) extracts byte for byte, modes included", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wm-tar-"));
    dirs.push(dir);
    const big = Buffer.alloc(700_001, 7);
    await writeFile(path.join(dir, "big.bin"), big);
    const archive = path.join(dir, "ctx.tar");
    await pipeline(
      packContext([
        { name: "Dockerfile", mode: 0o644, data: "FROM scratch\n" },
        { name: "tool", mode: 0o755, path: path.join(dir, "big.bin") },
        { name: "empty", mode: 0o600, data: "" },
      ]),
      createWriteStream(archive),
    );
    const out = path.join(dir, "out");
    await run("mkdir", [out]);
    await run("tar", ["-xf", archive, "-C", out]);
    expect(await readFile(path.join(out, "Dockerfile"), "utf8")).toBe("FROM scratch\n");
    expect((await readFile(path.join(out, "tool"))).equals(big)).toBe(true);
    expect((await stat(path.join(out, "tool"))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(out, "empty"))).size).toBe(0);
    expect((await stat(archive)).size % 512).toBe(0);
  });

  it("refuses names ustar cannot hold", () => {
    expect(() => tarHeader("/abs", 0o644, 1)).toThrow("relative");
    expect(() => tarHeader("x".repeat(101), 0o644, 1)).toThrow("100 bytes");
  });
});
