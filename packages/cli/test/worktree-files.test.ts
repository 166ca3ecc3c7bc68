import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const GLOBAL = `agent: "echo agent-started"
files:
  copy: [".env", "config/*.json", "outside-link", "inside-link", "drop/payload.txt", "../escape", "/etc/passwd"]
  symlink: ["node_modules", "outside-link"]
`;

let bench: Workbench;
let secretDir: string;
let victimDir: string;

beforeAll(async () => {
  bench = await makeWorkbench({ global: GLOBAL });
  const { repo, git } = bench;
  secretDir = path.join(bench.home.root, "secret");
  victimDir = path.join(bench.home.root, "victim");
  await fs.mkdir(secretDir);
  await fs.writeFile(path.join(secretDir, "key"), "PRIVATE\n");
  await fs.mkdir(victimDir);
  git(repo, "checkout", "-q", "-b", "trap");
  await fs.symlink(victimDir, path.join(repo, "drop"));
  git(repo, "add", "drop");
  git(repo, "commit", "-q", "-m", "a symlink where main has a directory");
  git(repo, "checkout", "-q", "main");
  await fs.writeFile(path.join(repo, ".env"), "TOKEN=local\n");
  await fs.mkdir(path.join(repo, "config"));
  await fs.writeFile(path.join(repo, "config", "app.local.json"), "{}\n");
  await fs.writeFile(path.join(repo, "config", "notes.txt"), "not matched\n");
  await fs.mkdir(path.join(repo, "node_modules", "dep"), { recursive: true });
  await fs.writeFile(path.join(repo, "node_modules", "dep", "index.js"), "//\n");
  await fs.symlink(secretDir, path.join(repo, "outside-link"));
  await fs.symlink(".env", path.join(repo, "inside-link"));
  await fs.mkdir(path.join(repo, "drop"));
  await fs.writeFile(path.join(repo, "drop", "payload.txt"), "payload\n");
});
afterAll(async () => {
  await bench.cleanup();
});

type Added = {
  worktree: WorktreeSummary;
  files: { copied: string[]; symlinked: string[]; skipped: { path: string; reason: string }[] };
};

describe("files.copy and files.symlink", () => {
  let res: Added;
  const skipped = (p: string) => res.files.skipped.filter((s) => s.path === p).map((s) => s.reason);

  it("copies and links what the globs match in the main worktree", async () => {
    res = await bench.wmJson<Added>(["add", "trap", "-b"]);
    const wt = res.worktree.path;
    expect(res.files.copied).toEqual([".env", "config/app.local.json", "inside-link"]);
    expect(await fs.readFile(path.join(wt, ".env"), "utf8")).toBe("TOKEN=local\n");
    expect(existsSync(path.join(wt, "config", "notes.txt"))).toBe(false);
    expect(await fs.readFile(path.join(wt, "inside-link"), "utf8")).toBe("TOKEN=local\n");
    expect((await fs.lstat(path.join(wt, "inside-link"))).isFile()).toBe(true);
    expect(res.files.symlinked).toEqual(["node_modules"]);
    expect(await fs.readlink(path.join(wt, "node_modules"))).toBe(
      path.join(bench.repo, "node_modules"),
    );
  });

  it("never follows a symlink out of the repository, when copying or linking", () => {
    const wt = res.worktree.path;
    expect(skipped("outside-link")).toEqual([
      "resolves outside the repository (symlink); not followed",
      "resolves outside the repository (symlink); not followed",
    ]);
    expect(existsSync(path.join(wt, "outside-link"))).toBe(false);
    expect(existsSync(path.join(wt, "key"))).toBe(false);
  });

  it("never writes through a symlink the branch planted in the new worktree", async () => {
    expect(skipped("drop/payload.txt")).toEqual(["drop in the worktree is not a plain directory"]);
    expect(await fs.readdir(victimDir)).toEqual([]);
  });

  it("refuses patterns that leave the repository", () => {
    expect(skipped("../escape")).toEqual(['".." is not allowed']);
    expect(skipped("/etc/passwd")[0]).toContain("absolute patterns are not allowed");
  });
});
