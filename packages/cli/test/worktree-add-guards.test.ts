import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

let bench: Workbench;
beforeAll(async () => {
  bench = await makeWorkbench();
  expect((await bench.wm(["daemon", "start"])).code).toBe(0);
});
afterAll(async () => {
  await bench.cleanup();
});

const trees = () => path.join(path.dirname(bench.repo), "proj__worktrees");
const gitWorktrees = () =>
  bench
    .git(bench.repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree "));
const listed = async () =>
  (await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"])).worktrees;

async function project(yaml: string | null) {
  const file = path.join(bench.repo, ".workmux.yaml");
  if (yaml === null) await fs.rm(file, { force: true });
  else await fs.writeFile(file, yaml);
}

describe("concurrent wm add of the same worktree", () => {
  it("exactly one wins while the other is still working; the loser gets Conflict and leaves nothing behind", async () => {
    await project('post_create: ["sleep 1"]\n');
    const runs = await Promise.all([0, 1, 2].map(() => bench.wm(["add", "race", "--background"])));
    await project(null);
    const winners = runs.filter((r) => r.code === 0);
    const losers = runs.filter((r) => r.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(2);
    for (const l of losers) {
      expect(l.code).toBe(1);
      expect(l.stderr).toMatch(/another `wm add` of "race" in .* is in progress|already exists/);
    }
    expect(gitWorktrees()).toHaveLength(2);
    expect(await fs.readdir(trees())).toEqual(["race"]);
    expect((await listed()).map((w) => w.handle)).toEqual(["race"]);
    expect(bench.windows().filter((w) => w.name === "wm-race")).toHaveLength(1);
  });

  it("a later add of the same name, or of a branch with the same worktree name, is a clear Conflict", async () => {
    const again = await bench.wm(["add", "race"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('worktree "race" already exists');
    const [a, b] = await Promise.all([
      bench.wm(["add", "x/y", "-b"]),
      bench.wm(["add", "x-y", "-b"]),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    expect((a.code === 0 ? b : a).stderr).toMatch(/x-y/);
    expect((await listed()).map((w) => w.handle).sort()).toEqual(["race", "x-y"]);
    expect(gitWorktrees()).toHaveLength(3);
    const loser = a.code === 0 ? "x-y" : "x/y";
    expect(bench.git(bench.repo, "branch", "--list", loser)).toBe("");
  });
});

describe("branch and worktree names", () => {
  const bad: Array<[string, RegExp]> = [
    ["bad name", /contains a space/],
    ["a..b", /contains "\.\."/],
    ["x~1", /contains "~"/],
    ["what?", /contains "\?"/],
    ["a:b", /contains ":"/],
    ["-x", /starts with "-"/],
    ["feat.lock", /ends with "\.lock"/],
    [".hidden", /starts with "\."/],
    ["a//b", /empty path component/],
    ["/abs", /empty path component/],
    ["tab\tname", /control character/],
    ["HEAD", /reserved/],
    ["a@{1}", /contains "@\{"/],
    ["end.", /ends with "\."/],
  ];
  it.each(bad)("rejects %j with a clear error and creates nothing", async (name, reason) => {
    const res = await bench.wm(["add", "--background", "--", name]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is not a valid branch name/);
    expect(res.stderr).toMatch(reason);
    expect(gitWorktrees()).toHaveLength(3);
  });

  it("refuses a worktree_prefix that would leave the worktree directory", async () => {
    await project('worktree_prefix: "../../escape-"\n');
    const res = await bench.wm(["add", "ok-branch", "-b"]);
    await project(null);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('contains "/"');
    expect(existsSync(path.join(bench.home.root, "escape-ok-branch"))).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "ok-branch")).toBe("");
  });

  it("honours worktree_dir with ~ and {project}, basename naming and a prefix", async () => {
    await project(
      'worktree_dir: "~/trees/{project}"\nworktree_naming: basename\nworktree_prefix: "ag-"\n',
    );
    const res = await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "team/feat", "-b"]);
    await project(null);
    expect(res.worktree.path).toBe(path.join(bench.home.root, "trees", "proj", "ag-feat"));
    expect(res.worktree.handle).toBe("ag-feat");
    expect(res.worktree.window?.name).toBe("wm-ag-feat");
  });

  it("starts a new branch from --base and reuses an existing branch", async () => {
    bench.git(bench.repo, "branch", "old-base");
    await fs.writeFile(path.join(bench.repo, "later.txt"), "later\n");
    bench.git(bench.repo, "add", "later.txt");
    bench.git(bench.repo, "commit", "-q", "-m", "later");
    const based = await bench.wmJson<{ worktree: WorktreeSummary; base: string }>([
      "add",
      "from-old",
      "--base",
      "old-base",
      "-b",
    ]);
    expect(based.base).toBe("old-base");
    expect(existsSync(path.join(based.worktree.path, "later.txt"))).toBe(false);
    const reused = await bench.wmJson<{ branchCreated: boolean; worktree: WorktreeSummary }>([
      "add",
      "old-base",
      "-b",
    ]);
    expect(reused.branchCreated).toBe(false);
    const badBase = await bench.wm(["add", "nope", "--base", "no-such-ref", "-b"]);
    expect(badBase.code).toBe(2);
    expect(badBase.stderr).toContain('base "no-such-ref" is not a commit');
  });

  it("--sandbox wraps the agent pane as wm sandbox run; --no-sandbox overrides sandbox.enabled", async () => {
    // `wm add` checks that the sandbox image exists first: one the test setup has built.
    await project('sandbox: { image: "wm-base:bookworm" }\n');
    const sandboxed = await bench.wmJson<{ worktree: WorktreeSummary; panes: string[] }>([
      "add",
      "sbx",
      "--sandbox",
      "-b",
    ]);
    expect(sandboxed.worktree.sandbox).toBe(true);
    const typed = `sandbox run --worktree ${sandboxed.worktree.path} -- sh -c 'echo agent-started'`;
    await eventually(
      () =>
        bench.tmux("capture-pane", "-p", "-J", "-t", sandboxed.panes[0] as string).includes(typed),
      "wrapped command",
    );
    await project("sandbox: { enabled: true }\n");
    const host = await bench.wmJson<{ worktree: WorktreeSummary; panes: string[] }>([
      "add",
      "plain",
      "--no-sandbox",
      "-b",
    ]);
    await project(null);
    expect(host.worktree.sandbox).toBe(false);
    await eventually(
      () =>
        bench.tmux("capture-pane", "-p", "-t", host.panes[0] as string).includes("\nagent-started"),
      "agent output",
    );
    expect(bench.tmux("capture-pane", "-p", "-J", "-t", host.panes[0] as string)).not.toContain(
      "sandbox run",
    );
  });
});

describe("what a refused add says", () => {
  it("names the bad base, what wm did and what to do, with no notes meant for API clients", async () => {
    const res = await bench.wm(["add", "based", "--base", "nope"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('base "nope" is not a commit in this repository');
    expect(res.stderr).toContain("nothing was created");
    expect(res.stderr).toContain("git branch -a");
    expect(res.stderr).not.toMatch(/error\.data/);
  });
});
