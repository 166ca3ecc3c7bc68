import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentCacheDir, claudePackageName, fetchClaudePackage } from "./claude-package.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("claude package", () => {
  it("picks the package for the engine's CPU", () => {
    expect(claudePackageName("x64")).toBe("@anthropic-ai/claude-code-linux-x64");
    expect(claudePackageName("amd64")).toBe("@anthropic-ai/claude-code-linux-x64");
    expect(claudePackageName("arm64")).toBe("@anthropic-ai/claude-code-linux-arm64");
    expect(() => claudePackageName("s390x")).toThrow("no Linux build for the s390x");
  });

  it("caches under XDG_CACHE_HOME/wm/agents", () => {
    expect(agentCacheDir({ XDG_CACHE_HOME: "/c" }, "/home/u")).toBe("/c/wm/agents");
    expect(agentCacheDir({}, "/home/u")).toBe("/home/u/.cache/wm/agents");
  });

  it("reuses the newest cached tarball without asking the registry", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wm-agents-"));
    dirs.push(dir);
    for (const v of ["2.1.9", "2.1.10", "2.0.99"]) {
      await writeFile(path.join(dir, `anthropic-ai-claude-code-linux-x64-${v}.tgz`), "");
    }
    const lines: string[] = [];
    const env = { PATH: "/nonexistent" };
    const newest = await fetchClaudePackage({
      cacheDir: dir,
      arch: "x64",
      env,
      onLine: (l) => lines.push(l),
    });
    expect(newest).toMatchObject({ version: "2.1.10", fetched: false });
    expect(lines[0]).toContain("using cached");
    const pinned = await fetchClaudePackage({ cacheDir: dir, arch: "x64", env, version: "2.0.99" });
    expect(pinned.tarball).toBe(path.join(dir, "anthropic-ai-claude-code-linux-x64-2.0.99.tgz"));
    await expect(
      fetchClaudePackage({ cacheDir: dir, arch: "x64", env, version: "9.9.9" }),
    ).rejects.toThrow("npm is needed");
  });
});
