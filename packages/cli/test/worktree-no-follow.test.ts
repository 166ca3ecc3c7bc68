import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

// A branch an agent wrote plants symbolic links where a prompt file is commonly written
// (workmux's `.workmux/PROMPT-<name>.md`): `feat` commits `.workmux/PROMPT-x1.md` → a file
// outside the worktree, `feat-dir` commits `.workmux` → a directory outside. `wm add -p` writes
// nothing there: its prompt goes to the worktree's git admin dir (prompt-file.test.ts covers the
// no-follow write there), so the links stay as the branch has them and nothing outside changes.
// The controls write to the same planted links the way a plain writer would (mkdir -p +
// writeFile) and show the victim does change. Host-side writes into the new worktree never
// follow such links either: `files.copy` / `files.symlink`, and `wm setup claude` run inside.

let bench: Workbench;
let victim: string;
let outsideDir: string;
let claudeDir: string;

beforeAll(async () => {
  bench = await makeWorkbench({
    global: [
      'agent: "echo agent-started"',
      "files:",
      '  copy: [".env", "conf/app.json"]',
      '  symlink: ["shared"]',
      "",
    ].join("\n"),
  });
  const { repo, git } = bench;
  victim = path.join(bench.home.root, "victim");
  outsideDir = path.join(bench.home.root, "outside");
  claudeDir = path.join(bench.home.root, "claude-outside");
  await fs.writeFile(victim, "original\n");
  await fs.mkdir(outsideDir);
  await fs.mkdir(claudeDir);

  git(repo, "checkout", "-q", "-b", "feat");
  await fs.mkdir(path.join(repo, ".workmux"));
  await fs.symlink(victim, path.join(repo, ".workmux", "PROMPT-x1.md"));
  await fs.symlink(victim, path.join(repo, ".workmux", "PROMPT-control.md"));
  git(repo, "add", ".workmux");
  git(repo, "commit", "-q", "-m", "plant a prompt-file link");

  git(repo, "checkout", "-q", "main");
  git(repo, "checkout", "-q", "-b", "feat-dir");
  await fs.symlink(outsideDir, path.join(repo, ".workmux"));
  await fs.symlink(claudeDir, path.join(repo, ".claude"));
  git(repo, "add", ".workmux", ".claude");
  git(repo, "commit", "-q", "-m", "plant .workmux and .claude directory links");

  git(repo, "checkout", "-q", "main");
  git(repo, "checkout", "-q", "-b", "feat-files");
  await fs.symlink(victim, path.join(repo, ".env"));
  await fs.symlink(outsideDir, path.join(repo, "conf"));
  await fs.symlink(victim, path.join(repo, "shared"));
  git(repo, "add", ".env", "conf", "shared");
  git(repo, "commit", "-q", "-m", "plant links where files.copy and files.symlink write");
  git(repo, "checkout", "-q", "main");

  // What files.copy / files.symlink take from the main worktree (untracked there).
  await fs.writeFile(path.join(repo, ".env"), "TOKEN=local\n");
  await fs.mkdir(path.join(repo, "conf"));
  await fs.writeFile(path.join(repo, "conf", "app.json"), "{}\n");
  await fs.mkdir(path.join(repo, "shared"));
}, 60_000);

afterAll(async () => {
  await bench.cleanup();
});

type Added = {
  worktree: WorktreeSummary;
  files: { copied: string[]; symlinked: string[]; skipped: { path: string; reason: string }[] };
};

describe("wm add -p never writes the prompt through a planted symbolic link", () => {
  it("control: a plain write to the planted prompt link lands in the victim", async () => {
    const wt = path.join(bench.home.root, "control-file");
    bench.git(bench.repo, "worktree", "add", "-q", "--detach", wt, "feat");
    expect((await fs.lstat(path.join(wt, ".workmux", "PROMPT-control.md"))).isSymbolicLink()).toBe(
      true,
    );
    await fs.mkdir(path.join(wt, ".workmux"), { recursive: true });
    await fs.writeFile(path.join(wt, ".workmux", "PROMPT-control.md"), "PAYLOAD\n");
    expect(await fs.readFile(victim, "utf8")).toBe("PAYLOAD\n");
    await fs.writeFile(victim, "original\n");
  });

  it("the prompt goes to the git admin dir; the planted link stays untouched and the victim unchanged", async () => {
    const res = await bench.wmJson<Added>(["add", "x1", "--base", "feat", "-p", "PAYLOAD", "-b"]);
    const planted = path.join(res.worktree.path, ".workmux", "PROMPT-x1.md");
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect((await fs.lstat(planted)).isSymbolicLink()).toBe(true);
    const prompt = path.join(bench.repo, ".git", "worktrees", "x1", "wm-prompt.md");
    expect((await fs.lstat(prompt)).isFile()).toBe(true);
    expect(await fs.readFile(prompt, "utf8")).toBe("PAYLOAD\n");
  });

  it("control: a plain mkdir -p + write through the planted .workmux lands outside", async () => {
    const wt = path.join(bench.home.root, "control-dir");
    bench.git(bench.repo, "worktree", "add", "-q", "--detach", wt, "feat-dir");
    expect((await fs.lstat(path.join(wt, ".workmux"))).isSymbolicLink()).toBe(true);
    await fs.mkdir(path.join(wt, ".workmux"), { recursive: true });
    await fs.writeFile(path.join(wt, ".workmux", "PROMPT-control.md"), "PAYLOAD\n");
    expect(await fs.readdir(outsideDir)).toEqual(["PROMPT-control.md"]);
    await fs.rm(path.join(outsideDir, "PROMPT-control.md"));
  });

  it("a linked .workmux directory changes nothing: wm add -p goes through and nothing lands outside", async () => {
    const res = await bench.wm(["add", "x2", "--base", "feat-dir", "-p", "PAYLOAD", "-b"]);
    expect(res.code, res.stderr).toBe(0);
    expect(await fs.readdir(outsideDir)).toEqual([]);
    expect(existsSync(path.join(outsideDir, "PROMPT-x2.md"))).toBe(false);
    const prompt = path.join(bench.repo, ".git", "worktrees", "x2", "wm-prompt.md");
    expect(await fs.readFile(prompt, "utf8")).toBe("PAYLOAD\n");
  });
});

describe("files.copy and files.symlink replace planted links instead of writing through them", () => {
  it("control: a plain copy onto the planted .env link lands in the victim", async () => {
    const wt = path.join(bench.home.root, "control-files");
    bench.git(bench.repo, "worktree", "add", "-q", "--detach", wt, "feat-files");
    await fs.copyFile(path.join(bench.repo, ".env"), path.join(wt, ".env"));
    expect(await fs.readFile(victim, "utf8")).toBe("TOKEN=local\n");
    await fs.writeFile(victim, "original\n");
  });

  it("wm add copies over a link, links over a link, and skips a linked parent", async () => {
    const res = await bench.wmJson<Added>(["add", "x3", "--base", "feat-files", "-b"]);
    const wt = res.worktree.path;
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect(res.files.copied).toEqual([".env"]);
    expect((await fs.lstat(path.join(wt, ".env"))).isFile()).toBe(true);
    expect(await fs.readFile(path.join(wt, ".env"), "utf8")).toBe("TOKEN=local\n");
    expect(res.files.skipped).toEqual([
      { path: "conf/app.json", reason: "conf in the worktree is not a plain directory" },
    ]);
    expect(await fs.readdir(outsideDir)).toEqual([]);
    expect(res.files.symlinked).toEqual(["shared"]);
    expect(await fs.readlink(path.join(wt, "shared"))).toBe(path.join(bench.repo, "shared"));
  });
});

describe("wm setup claude in a worktree never writes through a planted .claude link", () => {
  it("control: a plain mkdir -p + write of .claude/settings.json lands outside", async () => {
    const wt = path.join(bench.home.root, "control-dir");
    await fs.mkdir(path.join(wt, ".claude"), { recursive: true });
    await fs.writeFile(path.join(wt, ".claude", "settings.json"), "{}\n");
    expect(await fs.readdir(claudeDir)).toEqual(["settings.json"]);
    await fs.rm(path.join(claudeDir, "settings.json"));
  });

  it("refuses, naming the link, and changes nothing outside", async () => {
    const wt = path.join(bench.home.root, "control-dir");
    const res = await bench.wm(["setup", "claude"], { cwd: wt });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "refusing to write through a symbolic link planted in the worktree: .claude",
    );
    expect(await fs.readdir(claudeDir)).toEqual([]);
  });
});
