import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  makeWorkbench,
  sandboxedScriptConfig,
  type Workbench,
} from "./worktree-fixture.ts";

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench();
});
afterAll(async () => {
  await bench.cleanup();
});

type Added = { worktree: WorktreeSummary };
const add = async (name: string) =>
  (await bench.wmJson<Added>(["add", "--background", name])).worktree;
const handles = async () =>
  (await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["ls"])).worktrees.map((w) => w.handle);

describe("wm rm --gone", () => {
  it("removes the worktrees whose upstream is gone, keeps unmerged ones unless -f", async () => {
    const remote = path.join(bench.home.root, "remote.git");
    bench.git(bench.home.root, "init", "-q", "--bare", remote);
    bench.git(bench.repo, "remote", "add", "origin", remote);
    bench.git(bench.repo, "push", "-q", "-u", "origin", "main");
    const gone = await add("gone-clean");
    const dirty = await add("gone-unmerged");
    const kept = await add("still-there");
    await fs.writeFile(path.join(dirty.path, "work.txt"), "work\n");
    bench.git(dirty.path, "add", "work.txt");
    bench.git(dirty.path, "commit", "-q", "-m", "unmerged work");
    for (const w of [gone, dirty, kept]) bench.git(w.path, "push", "-q", "-u", "origin", w.branch);
    // Deleted on the remote (a merged pull request), then pruned here.
    bench.git(remote, "branch", "-D", gone.branch, dirty.branch);
    bench.git(bench.repo, "fetch", "-q", "--prune");

    const first = await bench.wm(["rm", "--gone"]);
    expect(first.code, first.stderr).toBe(6);
    expect(first.stdout).toContain(`removed ${gone.path}`);
    expect(first.stdout).toMatch(/not removed gone-unmerged: .*not merged into main/);
    expect(existsSync(gone.path)).toBe(false);
    expect(existsSync(dirty.path)).toBe(true);
    expect(await handles()).toEqual(expect.arrayContaining(["gone-unmerged", "still-there"]));

    const forced = await bench.wmJson<{ removed: Array<{ path: string }>; failed: unknown[] }>([
      "rm",
      "--gone",
      "-f",
    ]);
    expect(forced.removed.map((r) => r.path)).toEqual([dirty.path]);
    expect(forced.failed).toEqual([]);
    const left = await handles();
    expect(left).toContain("still-there");
    expect(left).not.toContain("gone-unmerged");

    const none = await bench.wm(["rm", "--gone"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("no worktree has a branch whose upstream is gone");
  });
});

describe("wm rm --all", () => {
  it("refuses without a terminal unless -f, then removes every worktree", async () => {
    const a = await add("all-one");
    const b = await add("all-two");
    const refused = await bench.wm(["rm", "--all"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("pass -f");
    expect(refused.stderr).toContain("all-one");
    expect(existsSync(a.path) && existsSync(b.path)).toBe(true);

    const usage = await bench.wm(["rm", "--all", "all-one"]);
    expect(usage.code).toBe(2);

    const res = await bench.wm(["rm", "--all", "-f"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`removed ${a.path}`);
    expect(res.stdout).toContain(`removed ${b.path}`);
    expect(await handles()).toEqual([]);
  });
});

describe("wm merge --into a branch not checked out", () => {
  it("merges without touching the main worktree's checkout, and refuses a dirty checkout of it", async () => {
    bench.git(bench.repo, "branch", "release", "main");
    const mainHead = bench.git(bench.repo, "rev-parse", "HEAD");
    const w = await add("into-one");
    await fs.writeFile(path.join(w.path, "feature.txt"), "feature\n");
    bench.git(w.path, "add", "feature.txt");
    bench.git(w.path, "commit", "-q", "-m", "feature");

    const res = await bench.wm(["merge", "into-one", "--into", "release"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("merged into-one into release");
    expect(bench.git(bench.repo, "show", "release:feature.txt")).toBe("feature");
    // The main worktree still has main checked out, unchanged and clean; no worktree is left over.
    expect(bench.git(bench.repo, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(bench.git(bench.repo, "rev-parse", "HEAD")).toBe(mainHead);
    expect(bench.git(bench.repo, "status", "--porcelain")).toBe("");
    expect(existsSync(path.join(bench.repo, "feature.txt"))).toBe(false);
    expect(bench.git(bench.repo, "worktree", "list", "--porcelain")).not.toContain("wm-merge-");

    // The target checked out in another worktree with uncommitted changes: refused, named.
    const busy = await add("busy");
    await fs.writeFile(path.join(busy.path, "README.md"), "edited\n");
    const other = await add("into-two");
    await fs.writeFile(path.join(other.path, "two.txt"), "two\n");
    bench.git(other.path, "add", "two.txt");
    bench.git(other.path, "commit", "-q", "-m", "two");
    const busyHead = bench.git(busy.path, "rev-parse", "HEAD");
    const refused = await bench.wm(["merge", "into-two", "--into", "busy"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`busy is checked out in the worktree ${busy.path}`);
    expect(refused.stderr).toContain("uncommitted changes");
    expect(bench.git(busy.path, "rev-parse", "HEAD")).toBe(busyHead);

    // Once clean, the merge runs in that worktree, whose files follow the branch.
    bench.git(busy.path, "checkout", "--", "README.md");
    const merged = await bench.wm(["merge", "into-two", "--into", "busy"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(await fs.readFile(path.join(busy.path, "two.txt"), "utf8")).toBe("two\n");
    expect(bench.git(busy.path, "status", "--porcelain")).toBe("");
  });
});

describe("wm run", () => {
  it("runs the command in a new pane of the window, on the host for an unsandboxed agent", async () => {
    const w = await add("run-one");
    const before = bench.tmux("list-panes", "-a", "-F", "#{pane_id}").split("\n");
    const res = await bench.wm([
      "run",
      "run-one",
      "--",
      "sh",
      "-c",
      "echo ran-$((40+2)) > out.txt",
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^running in run-one \(pane %\d+\) on the host: sh -c /);
    const pane = /pane (%\d+)/.exec(res.stdout)?.[1] ?? "";
    expect(before).not.toContain(pane);
    expect(bench.tmux("display-message", "-p", "-t", pane, "#{pane_current_path}")).toBe(w.path);
    const out = path.join(w.path, "out.txt");
    await eventually(
      async () => existsSync(out) && (await fs.readFile(out, "utf8")) === "ran-42\n",
      "out.txt",
    );

    const none = await bench.wm(["run", "run-one"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no command given");
  });
});

describe("wm run with a sandboxed agent", () => {
  let sb: Workbench;
  beforeAll(async () => {
    sb = await makeWorkbench({ global: sandboxedScriptConfig("sleep 300") });
    const built = await sb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
  }, 320_000);
  afterAll(async () => {
    await sb.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
    await sb.cleanup();
  });

  it("runs the command in the worktree's sandbox, never on the host", async () => {
    const { worktree } = await sb.wmJson<Added>(["add", "--background", "sb-one"]);
    expect(worktree.sandbox).toBe(true);
    const res = await sb.wm([
      "run",
      "sb-one",
      "--",
      "sh",
      "-c",
      "if [ -e /run/.containerenv ] || [ -e /.dockerenv ]; then echo inside; else echo host; fi > where.txt",
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^running in sb-one \(pane %\d+\) in its sandbox: /);
    const out = path.join(worktree.path, "where.txt");
    const text = await eventually(
      async () => (await fs.readFile(out, "utf8").catch(() => "")) || undefined,
      "where.txt",
      120_000,
    );
    expect(text).toBe("inside\n");
  }, 180_000);
});

describe("wm sync-files", () => {
  let fb: Workbench;
  beforeAll(async () => {
    fb = await makeWorkbench({ project: "files:\n  copy: [.env]\n  symlink: [shared]\n" });
  });
  afterAll(async () => {
    await fb.cleanup();
  });

  it("applies files.copy and files.symlink again to one worktree or all, never through a link", async () => {
    const one = (await fb.wmJson<Added>(["add", "--background", "sync-one"])).worktree;
    const two = (await fb.wmJson<Added>(["add", "--background", "sync-two"])).worktree;
    // Made after the worktrees: wm add had nothing to copy.
    await fs.writeFile(path.join(fb.repo, ".env"), "A=1\n");
    await fs.mkdir(path.join(fb.repo, "shared"));
    expect(existsSync(path.join(one.path, ".env"))).toBe(false);

    const res = await fb.wm(["sync-files", "sync-one"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("sync-one: copied 1, symlinked 1");
    expect(await fs.readFile(path.join(one.path, ".env"), "utf8")).toBe("A=1\n");
    expect(await fs.readlink(path.join(one.path, "shared"))).toBe(
      await fs.realpath(path.join(fb.repo, "shared")),
    );
    expect(existsSync(path.join(two.path, ".env"))).toBe(false);

    // A link planted where the copy goes is replaced, its target is not written.
    const outside = path.join(fb.home.root, "outside.txt");
    await fs.writeFile(outside, "untouched\n");
    await fs.rm(path.join(one.path, ".env"));
    await fs.symlink(outside, path.join(one.path, ".env"));
    await fs.writeFile(path.join(fb.repo, ".env"), "A=2\n");
    const all = await fb.wmJson<{ worktrees: Array<{ handle: string }> }>(["sync-files", "--all"]);
    expect(all.worktrees.map((w) => w.handle).sort()).toEqual(["sync-one", "sync-two"]);
    for (const w of [one, two]) {
      expect((await fs.lstat(path.join(w.path, ".env"))).isFile()).toBe(true);
      expect(await fs.readFile(path.join(w.path, ".env"), "utf8")).toBe("A=2\n");
    }
    expect(await fs.readFile(outside, "utf8")).toBe("untouched\n");
  });
});

describe("wm config reference", () => {
  it("prints every key with its type, default and description, as text and --json", async () => {
    const text = await bench.wm(["config", "reference"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^merge_strategy {2}\(merge \| rebase \| squash; default: merge\)\n {4}\S/m,
    );
    expect(text.stdout).toMatch(/^sandbox\.container\.pids_limit {2}\(.*; default: 512\)$/m);
    const json = await bench.wmJson<{ keys: Array<{ key: string; default: string }> }>([
      "config",
      "reference",
    ]);
    expect(json.keys.find((k) => k.key === "daemon.idle_timeout")?.default).toContain("1800");
    expect(json.keys.length).toBeGreaterThan(100);
  });
});
